-- Asks the SceneTree directly which nodes are enemies, then walks the answer.
return {
  _ready = function(self)
    self.tree = self:get_tree()
  end,
  _process = function(self)
    local n = 0
    for _, enemy in ipairs(self.tree:get_nodes_in_group("enemies")) do
      n = n + 1
    end
    self.seen = n
  end,
}
