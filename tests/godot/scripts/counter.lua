-- Counts frames; the test reads self.count.
return {
  _ready = function(self) self.count = 0 end,
  _process = function(self) self.count = self.count + 1 end,
}
