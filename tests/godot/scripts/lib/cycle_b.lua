local a = require("res://scripts/lib/cycle_a.lua")
return { a = a }
