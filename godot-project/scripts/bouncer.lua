-- Moves its target (the parent Sprite2D) and bounces it off the edges of the screen.
local WIDTH, HEIGHT, TOP = 1152, 648, 130

return {
  _ready = function(self)
    local angle = math.random() * 2 * math.pi
    local speed = 60 + math.random() * 140
    self.velocity = Vector2(math.cos(angle), math.sin(angle)) * speed
    self.spin = (math.random() - 0.5) * 4
  end,

  _process = function(self, delta)
    local sprite = self.target
    local p = sprite.position + self.velocity * delta
    if p.x < 0 or p.x > WIDTH then self.velocity.x = -self.velocity.x end
    if p.y < TOP or p.y > HEIGHT then self.velocity.y = -self.velocity.y end
    sprite.position = p
    sprite.rotation = sprite.rotation + self.spin * delta
  end,
}
