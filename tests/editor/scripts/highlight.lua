local speed = 3 -- units per second
--[[ a long
comment ]] local after = "text"
return { speed = speed, after = after }
