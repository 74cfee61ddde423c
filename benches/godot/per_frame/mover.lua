-- Moves its target by a fixed velocity: the per-frame work the benchmark compares.
return {
  _ready = function(self)
    self.velocity = Vector2(10, 5)
  end,

  _process = function(self, delta)
    local target = self.target
    target.position = target.position + self.velocity * delta
  end,
}
