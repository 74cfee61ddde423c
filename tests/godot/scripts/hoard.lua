-- Holds about 2 MiB at its top level and requires a library holding more: what the runtime
-- releases when nothing uses the script any more.
local lib = require("scripts.lib.hoard_lib")

local names = {}
for i = 1, 40000 do
  names[i] = "entry number " .. i
end

return {
  _ready = function(self)
    self.ready = true
    self.size = #names + lib.size()
  end,
}
