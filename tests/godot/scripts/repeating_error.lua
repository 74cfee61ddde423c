-- Fails every frame with the same error (used only by the throttling test).
return {
  _process = function(self)
    error("the same failure every frame")
  end,
}
