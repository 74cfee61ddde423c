-- Functions the bridge tests call through LuaScriptNode.lua_call.
local M = {}

function M.node_name(self) return self.name end
function M.target_child_count(self) return self.target:get_child_count() end
function M.set_target_name(self, name) self.target.name = name end
function M.read_unknown(self) return self.target.no_such_property end
function M.set_unknown(self) self.target.no_such_property = 1 end
function M.set_wrong_type(self) self.target.position = "left" end
function M.call_unknown(self) return self.target:no_such_method() end
function M.call_wrong_args(self) return self.target:get_child(1, 2, 3, 4) end
function M.own_property(self) return self.execution_order end
function M.disable_self(self) self.enabled = false end
function M.helper(self) return "helper:" .. self:other_helper() end
function M.other_helper(self) return "ok" end
function M.vector_math(self)
  local a, b = Vector2(1, 2), Vector2(3, 4)
  local c = (a + b) * 2 - Vector2.ONE
  return string.format("%g %g %.4f %s %s", c.x, c.y, (a - b):length(), tostring(-a == Vector2(-1, -2)), tostring(Vector2.UP))
end
function M.color_math(self)
  local c = Color(1, 0, 0) * 0.5
  return string.format("%g %g %g %s", c.r, c.a, Color("#00ff00").g, tostring(Color.WHITE == Color(1, 1, 1, 1)))
end
function M.vector3_math(self)
  local v = Vector3(1, 2, 2)
  return string.format("%g %g %g", v:length(), (v * 2).z, Vector3.UP.y)
end
function M.freed_object(self)
  local n = self.target:get_child(0)
  n:free()
  return n.name
end
function M.target_name(self) return self.target and tostring(self.target.name) end

return M
