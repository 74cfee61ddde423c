-- Fails on line 6 every frame, after counting the attempt.
return {
  _ready = function(self) self.attempts = 0 end,
  _process = function(self)
    self.attempts = self.attempts + 1
    local missing = nil; return missing.field
  end,
}
