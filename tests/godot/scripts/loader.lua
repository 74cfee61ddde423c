-- Loads resources from its callbacks: synchronously, in the background, and a scene.
return {
  _ready = function(self)
    self.sync_name = load("res://fixtures/thing.tres").resource_name
    local scene = instantiate("res://fixtures/small.tscn")
    self.scene_child = scene:get_child(0).name
    scene:free()
    local thing, err = await(load_async("res://fixtures/thing.tres"))
    self.async_name = thing and thing.resource_name
    self.async_error = err
    self.done = true
  end,
}
