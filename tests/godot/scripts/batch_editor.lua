-- Changes the scene in the middle of a frame, from its `_process`: on its 3rd call it takes
-- the sibling "A5" out of the tree and adds a node "New" at the end; on its 5th it adds
-- "First" before every other sibling. Used by batch_test.gd.
return {
  _ready = function(self)
    self.calls = 0
  end,

  _process = function(self)
    if not batch_log then return end
    self.calls = self.calls + 1
    batch_log[#batch_log + 1] = "e:" .. self.calls
    local parent = self:get_parent()
    if self.calls == 3 then
      local gone = parent:get_node("A5")
      parent:remove_child(gone)
      gone:queue_free()
      local node = LuaScriptNode:new()
      node.name = "New"
      node.script_path = "res://scripts/batched_a.lua"
      parent:add_child(node)
    elseif self.calls == 5 then
      local node = LuaScriptNode:new()
      node.name = "First"
      node.script_path = "res://scripts/batched_b.lua"
      parent:add_child(node)
      parent:move_child(node, 0)
    end
  end,
}
