-- Logs each `_process` call to the global `batch_log` when the test sets one; the node named
-- "Bad" then fails. Used by batch_test.gd.
return {
  _process = function(self)
    if batch_log then
      batch_log[#batch_log + 1] = "a:" .. self.name
      if self.name == "Bad" then
        error("bad node")
      end
    end
  end,
}
