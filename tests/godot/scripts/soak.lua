-- What a long game does every frame, for the soak test and the long soak benchmark: garbage,
-- builtin maths, events, a child node made and freed, a signal handled in Lua, an await, a
-- query and a library.
local util = require("scripts.lib.util")

return {
  _ready = function(self)
    self.frames, self.pings, self.entered, self.awaited = 0, 0, 0, 0
    events.on("soak_ping", function(n)
      self.pings = self.pings + n
    end)
    self.target.child_entered_tree:connect(function()
      self.entered = self.entered + 1
    end)
  end,

  _process = function(self, delta)
    self.frames = self.frames + 1
    local parts = {}
    for i = 1, 20 do
      parts[i] = tostring(i * self.frames)
    end
    self.text = table.concat(parts, ",")
    local v = Vector2(self.frames, util.double(delta)) * 2 + Vector2(1, 1)
    self.length = v:length()
    events.emit("soak_ping", 1)
    self.found = #query.group("soak")
    if self.frames % 10 == 0 then
      local child = Node:new()
      self.target:add_child(child)
      child:queue_free()
    end
    -- Off the frames the test measures at, so no await is pending then.
    if self.frames % 50 == 25 then
      coroutine.wrap(function()
        await(self.target:get_tree().process_frame)
        self.awaited = self.awaited + 1
      end)()
    end
  end,

  _on_reload = function(self)
    self.reloads = (rawget(self, "reloads") or 0) + 1
  end,
}
