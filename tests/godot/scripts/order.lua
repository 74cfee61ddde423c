-- Appends this node's name to the shared global `order_log` every frame.
return {
  _process = function(self)
    if order_log then
      order_log[#order_log + 1] = self.name
    end
  end,
}
