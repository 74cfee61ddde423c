-- Makes garbage every frame: `self.garbage` throwaway tables (2,000 unless set).
return {
  _ready = function(self)
    self.frames = 0
  end,

  _process = function(self)
    local t
    for i = 1, rawget(self, "garbage") or 2000 do
      t = { i, i }
    end
    self.frames = self.frames + 1
  end,
}
