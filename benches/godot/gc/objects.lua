-- Gets engine objects every frame, as scripts that look around them do: its target's parent,
-- the parent's first child, and the object a signal carries.
return {
  _ready = function(self)
    self.seen = 0
    self.target.renamed:connect(function() end)
    self.target.child_entered_tree:connect(function(node)
      self.seen = self.seen + 1
    end)
  end,

  _process = function(self)
    local target = self.target
    local parent = target:get_parent()
    local first = parent:get_child(0)
    self.same = rawequal(first, target)
    target:emit_signal("child_entered_tree", parent)
  end,
}
