return {
  _ready = function(self)
    local ok = 1
    local broken = = 2
  end,
}
