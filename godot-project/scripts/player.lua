-- Reacts to input: arrow keys move the square, space gives it a new colour.
local SPEED = 300
local colours = { Color(0.4, 0.8, 1), Color(0.6, 1, 0.5), Color(1, 0.5, 0.8), Color.WHITE }

return {
  _ready = function(self)
    self.colour_index = #colours
    self.direction = Vector2.ZERO
  end,

  _input = function(self, event)
    if event:get_class() ~= "InputEventKey" then return end
    local held = event.pressed and 1 or 0
    local key = event.keycode
    if key == 32 and event.pressed then -- KEY_SPACE
      self.colour_index = self.colour_index % #colours + 1
      self.target.modulate = colours[self.colour_index]
      print("player: new colour " .. tostring(self.target.modulate))
    elseif key == 4194321 then self.direction.x = held    -- KEY_RIGHT
    elseif key == 4194319 then self.direction.x = -held   -- KEY_LEFT
    elseif key == 4194322 then self.direction.y = held    -- KEY_DOWN
    elseif key == 4194320 then self.direction.y = -held   -- KEY_UP
    end
  end,

  _process = function(self, delta)
    self.target.position = self.target.position + self.direction * (SPEED * delta)
  end,
}
