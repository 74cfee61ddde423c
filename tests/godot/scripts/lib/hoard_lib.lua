-- A library only hoard.lua requires: unloaded with it.
local held = {}
for i = 1, 20000 do
  held[i] = { i }
end

return {
  size = function() return #held end,
}
