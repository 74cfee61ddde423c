-- The library the soak script requires, reloaded every 100 frames.
local util = {}

function util.double(x)
  return x * 2
end

return util
