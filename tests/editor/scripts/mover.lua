return {
	_process = function(self, delta) end,
}
