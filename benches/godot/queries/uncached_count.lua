-- Asks the SceneTree how many enemies there are, through the same group list.
return {
  _ready = function(self)
    self.tree = self:get_tree()
  end,
  _process = function(self)
    self.seen = #self.tree:get_nodes_in_group("enemies")
  end,
}
