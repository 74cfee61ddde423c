-- Run by the game the editor tests start from the editor: it runs, and makes some garbage.
return {
  _process = function(self, delta)
    local t = {}
    for i = 1, 100 do t[i] = { i } end
  end,
}
