-- Asks the query cache how many enemies there are.
return {
  _process = function(self)
    self.seen = #query.group("enemies")
  end,
}
