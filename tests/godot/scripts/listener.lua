-- Subscribes to "ping" while its node is in the tree; counts the pings it gets.
return {
  _ready = function(self)
    self.pings = 0
    events.on("ping", function(n)
      self.pings = self.pings + (n or 1)
    end)
  end,
}
