-- Shows error reporting: after one second this script fails every frame. The error names
-- this file and line, is reported once (with a repeat count later), and the game goes on.
return {
  _ready = function(self) self.elapsed = 0 end,

  _process = function(self, delta)
    self.elapsed = self.elapsed + delta
    if self.elapsed > 1 then
      local enemy = nil
      enemy.health = enemy.health - 1 -- line 10: enemy is nil
    end
  end,
}
