local b = require("scripts.lib.cycle_b")
return { b = b }
