-- Records every callback with the type of its arguments, so the test can check them.
local M = {}

function M._ready(self)
  self.calls = { "ready:" .. type(self) }
  self.process_count = 0
  self.physics_count = 0
end

function M._process(self, delta)
  self.process_count = self.process_count + 1
  self.last_delta_type = type(delta)
  self.last_delta = delta
end

function M._physics_process(self, delta)
  self.physics_count = self.physics_count + 1
  self.last_physics_delta = delta
end

function M._input(self, event)
  self.last_event = event:get_class()
  self.last_event_pressed = event.pressed
end

function M._exit_tree(self)
  -- The state goes away with the node: leave a mark on the target instead.
  self.target:set_meta("exit_tree_called", true)
end

return M
