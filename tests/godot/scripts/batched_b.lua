-- The second script of batch_test.gd: logs `_process` and `_physics_process` calls.
return {
  _process = function(self)
    if batch_log then batch_log[#batch_log + 1] = "b:" .. self.name end
  end,

  _physics_process = function(self)
    if batch_log then batch_log[#batch_log + 1] = "p:" .. self.name end
  end,
}
