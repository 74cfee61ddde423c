-- Frees its target (the parent, by default) when the global `free_from` names it, from
-- `_process`; logs each call to `freer_log` first. `free_parent()` frees it when called
-- (through LuaScriptNode.lua_call). Used by batch_test.gd.
return {
  _process = function(self)
    if freer_log then
      freer_log[#freer_log + 1] = self.target.name
    end
    if free_from == self.target.name then
      free_from = nil
      self.target:free()
    end
  end,

  free_parent = function(self)
    self.target:free()
    return "freed"
  end,
}
