-- Does each frame what game scripts do, making nothing itself: turns its target, emits a
-- signal its own handler receives, and counts physics steps.
return {
  _ready = function(self)
    self.heard = 0
    self.steps = 0
    self.target.renamed:connect(function() self.heard = self.heard + 1 end)
  end,
  _process = function(self, delta)
    local target = self.target
    target.rotation = target.rotation + delta
    target:emit_signal("renamed")
  end,
  _physics_process = function(self)
    self.steps = self.steps + 1
  end,
}
