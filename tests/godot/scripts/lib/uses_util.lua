-- A node script that uses a library through a dotted name.
local util = require("scripts.lib.util")

return {
  doubled = function(self, x)
    return util.double(x)
  end,
}
