local M = {}
M.value = 1
return M
