-- Waits in `_ready` for the target's signal, then for a timer, recording each step.
return {
  _ready = function(self)
    self.steps = "started"
    local a, b = await(self.target.go)
    self.steps = self.steps .. " go(" .. tostring(a) .. "," .. tostring(b) .. ")"
    await(0.05)
    self.steps = self.steps .. " timer"
    self.target.set_meta(self.target, "finished", true)
  end,

  wait_forever = function(self)
    await(self.target.go)
    -- Never reached when the node is freed first.
    self.target:set_meta("after_free", true)
  end,
}
