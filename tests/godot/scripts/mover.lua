-- Moves the target along self.velocity; exercises properties, Vector2 arithmetic and methods.
return {
  _ready = function(self)
    self.velocity = Vector2(10, -4)
    self.start = self.target.position
  end,
  _process = function(self, delta)
    self.target.position = self.target.position + self.velocity * delta
  end,
  distance_moved = function(self)
    return self.target.position:distance_to(self.start)
  end,
}
