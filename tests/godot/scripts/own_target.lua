-- A script whose module defines `target`: `self.target` is its own, wherever the node is.
return {
  target = "mine",
  read_target = function(self) return self.target end,
}
