-- A mission's triggers, written as SEXP conditions the way FreeSpace 2 missions write their
-- events. Each is checked every frame; a result is recomputed only when something it reads
-- changes, so the checks cost almost nothing. A trigger that becomes true fires once.
local TRIGGERS = {
  { name = "repainted", says = "the player changed colour",
    when = '(!= (prop "Player" "modulate") (prop "Player" "self_modulate"))' },
  { name = "east_beacon", says = "the player reached the east beacon",
    when = '(< (distance "Player" "BeaconEast") 120)' },
  { name = "holding_on", says = "two seconds have passed",
    when = '(> (var seconds) 2)' },
}

return {
  _ready = function(self)
    self.started = Time:get_ticks_msec()
    self.fired = 0
    self.triggers = {}
    sexp.set_var("seconds", 0)
    for _, t in ipairs(TRIGGERS) do
      self.triggers[#self.triggers + 1] = { name = t.name, says = t.says, expr = sexp.compile(t.when) }
    end
  end,

  _process = function(self, _delta)
    sexp.set_var("seconds", math.floor((Time:get_ticks_msec() - self.started) / 1000))
    for _, t in ipairs(self.triggers) do
      if not t.done and t.expr:evaluate(self.target) then
        t.done = true
        self.fired = self.fired + 1
        print("mission: " .. t.says)
        events.emit("mission_event", t.name)
      end
    end
  end,
}
