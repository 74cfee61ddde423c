-- Asks the query cache which nodes are enemies, then walks the answer.
return {
  _process = function(self)
    local n = 0
    for _, enemy in ipairs(query.group("enemies")) do
      n = n + 1
    end
    self.seen = n
  end,
}
