-- One of thousands of nodes: each holds a Lua closure connected to a signal, an event
-- subscription and a coroutine waiting in `await`. Used by batch_test.gd.
return {
  _ready = function(self)
    self.heard = 0
    self.frames = 0
    self.waited = false
    events.on("crowd", function() self.heard = self.heard + 1 end)
    self.target.renamed:connect(function() self.heard = self.heard + 10 end)
    await(0)
    self.waited = true
  end,

  _process = function(self)
    self.frames = self.frames + 1
  end,
}
