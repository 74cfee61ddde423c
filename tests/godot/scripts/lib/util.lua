-- A library module: loaded once, whatever the number of `require`s.
util_loads = (util_loads or 0) + 1

local util = {}

function util.double(x)
  return x * 2
end

return util
