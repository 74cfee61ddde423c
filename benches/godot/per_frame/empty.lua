-- An empty `_process`: what calling a script costs by itself.
return {
  _process = function(self, delta) end,
}
