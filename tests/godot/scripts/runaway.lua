-- Spins when the test asks: self.spin = "loop" (or "other loop") runs a loop forever (LuaJIT compiles it after a
-- few dozen iterations), self.busy_ms = N keeps busy for N ms (wall clock) and returns.
local M = {}

function M._ready(self)
  self.frames = 0
  self.finished = 0
end

function M._process(self, delta)
  self.frames = self.frames + 1
  local busy_ms = rawget(self, "busy_ms")
  if busy_ms then
    local until_time = Time:get_ticks_usec() + busy_ms * 1000
    while Time:get_ticks_usec() < until_time do end
    self.finished = self.finished + 1
  end
  local spin = rawget(self, "spin")
  self.spin = nil
  if spin == "loop" then
    local x, i = 0, 0
    while true do i = i + 1 x = (x + i * 3) % 1000003 end
  elseif spin == "other loop" then
    local x, i = 0, 0
    while true do i = i + 1 x = (x + i * 7) % 1000003 end
  end
end

return M
