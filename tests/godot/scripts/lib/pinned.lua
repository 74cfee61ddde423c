-- A library required by LuaRuntime.exec, not by a script: it stays loaded.
return { pinned = true }
