extends TestCase
## Hot reload in a running game: the test rewrites .lua files under res://generated/reload/
## (ignored by git) and the file watcher must bring the new code into the nodes running
## them, keeping their state.

const DIR := "res://generated/reload"
const PATIENCE_MSEC := 1000

var reloaded: Array[Dictionary] = []


func before_each() -> void:
	super.before_each()
	DirAccess.make_dir_recursive_absolute(DIR)
	LuaRuntime.script_reloaded.connect(_on_reloaded)
	check(LuaRuntime.is_hot_reload_enabled(), "the watcher is on in a game run from the editor binary")


func after_each() -> void:
	LuaRuntime.script_reloaded.disconnect(_on_reloaded)
	super.after_each()


func _on_reloaded(path: String, msec: float) -> void:
	reloaded.append({"path": path, "msec": msec})


func path_of(name: String) -> String:
	return DIR.path_join(name + ".lua")


func write(path: String, text: String) -> void:
	var file := FileAccess.open(path, FileAccess.WRITE)
	file.store_string(text)
	file.close()


## Waits until `done` returns true, at most PATIENCE_MSEC; returns how long it took, or -1.
func wait_until(done: Callable) -> int:
	var start := Time.get_ticks_msec()
	while not done.call():
		if Time.get_ticks_msec() - start > PATIENCE_MSEC:
			return -1
		await get_tree().process_frame
	return Time.get_ticks_msec() - start


func reloads_of(path: String) -> int:
	return reloaded.filter(func(r: Dictionary) -> bool: return r["path"] == path).size()


func counter_source(version: int, extra := "") -> String:
	return """return {
	_ready = function(self) self.count = 0 end,
	_process = function(self) self.count = self.count + 1 end,
	version = function(self) return %d end,
	%s
}
""" % [version, extra]


func test_a_saved_script_runs_its_new_code_with_state_kept() -> void:
	var path := path_of("counter")
	write(path, counter_source(1))
	var node := add_lua(path)
	await frames(5)
	check_eq(node.lua_call("version", []), 1, "first version runs")
	var before: int = node.lua_get("count")
	check(before > 0, "_process counted")
	write(path, counter_source(2, "_on_reload = function(self, old) self.from = old.version(self) end,"))
	var took := await wait_until(func() -> bool: return node.lua_call("version", []) == 2)
	check(took >= 0, "the new code runs within %d ms of the save" % PATIENCE_MSEC)
	check(int(node.lua_get("count")) >= before, "self.count kept counting from where it was")
	check_eq(node.lua_get("from"), 1, "_on_reload got the old module")
	check_eq(reloads_of(path), 1, "script_reloaded once %s" % [reloaded])
	if not reloaded.is_empty():
		var msec: float = reloaded[0]["msec"]
		check(msec >= 0.0 and msec < PATIENCE_MSEC, "script_reloaded reports the latency (%s ms)" % msec)
	var stats: Dictionary = LuaRuntime.get_stats()["reload"]
	check(stats["watching"], "stats say the watcher is on")
	check(stats["reloads"] >= 1, "stats count the reload")
	check(stats["recent"][0]["path"] == path, "the reload log names the script")
	node.queue_free()


func test_a_reload_that_defines_target_takes_over_self_target() -> void:
	var path := path_of("targeted")
	var reads := "read = function(self) return type(self.target) == 'string' and self.target or tostring(self.target.name) end,"
	write(path, counter_source(1, reads))
	var parent := Node.new()
	parent.name = "Parent"
	add_child(parent)
	var node := add_lua(path, parent)
	await frames(2)
	check_eq(node.lua_call("read", []), "Parent", "the parent, before")
	write(path, counter_source(2, reads + " target = 'mine',"))
	var took := await wait_until(func() -> bool: return node.lua_call("version", []) == 2)
	check(took >= 0, "the version defining target runs")
	check_eq(node.lua_call("read", []), "mine", "the module's own target comes first")
	write(path, counter_source(3, reads))
	took = await wait_until(func() -> bool: return node.lua_call("version", []) == 3)
	check(took >= 0, "the version without it runs")
	check_eq(node.lua_call("read", []), "Parent", "the parent again")
	parent.free()


func test_a_syntax_error_keeps_the_old_code_and_names_the_line() -> void:
	var path := path_of("typo")
	write(path, counter_source(1))
	var node := add_lua(path)
	await frames(2)
	var failures_before: int = LuaRuntime.get_stats()["reload"]["failures"]
	write(path, "return {\n\tversion = function(self)\n\t\treturn 2 +\n\tend,\n}\n")
	var took := await wait_until(func() -> bool: return not errors_for(path).is_empty())
	check(took >= 0, "script_error arrives")
	if not errors_for(path).is_empty():
		check_eq(errors_for(path)[0]["line"], 4, "the error names the line")
	check_eq(node.lua_call("version", []), 1, "the old code keeps running")
	var count: int = node.lua_get("count")
	await frames(2)
	check(int(node.lua_get("count")) > count, "the old _process keeps running")
	check_eq(LuaRuntime.get_stats()["reload"]["failures"], failures_before + 1, "the failure is counted")
	write(path, counter_source(3))
	took = await wait_until(func() -> bool: return node.lua_call("version", []) == 3)
	check(took >= 0, "fixing the file brings the new code")
	node.queue_free()


func test_changing_a_module_reloads_what_requires_it() -> void:
	var a := path_of("chain_a")
	var b := path_of("chain_b")
	var c := path_of("chain_c")
	write(c, "return { value = 1 }\n")
	write(b, "local c = require('%s')\nreturn { value = c.value * 10 }\n" % c)
	write(a, "local b = require('%s')\nreturn { value = function(self) return b.value end }\n" % b)
	var node := add_lua(a)
	await frames(2)
	check_eq(node.lua_call("value", []), 10, "A sees C through B")
	write(c, "return { value = 2 }\n")
	var took := await wait_until(func() -> bool: return node.lua_call("value", []) == 20)
	check(took >= 0, "changing C reloads B and A")
	var order: Array = reloaded.map(func(r: Dictionary) -> String: return r["path"])
	check_eq(order, [c, b, a], "reloaded in dependency order, once each")
	node.queue_free()


func test_two_rapid_saves_reload_once() -> void:
	var path := path_of("rapid")
	write(path, counter_source(1))
	var node := add_lua(path)
	await frames(2)
	write(path, counter_source(2))
	write(path, counter_source(3))
	var took := await wait_until(func() -> bool: return node.lua_call("version", []) == 3)
	check(took >= 0, "the last save wins")
	await get_tree().create_timer(0.2).timeout
	check_eq(reloads_of(path), 1, "one reload for two saves")
	write(path, counter_source(3))
	await get_tree().create_timer(0.2).timeout
	check_eq(reloads_of(path), 1, "saving the same text again reloads nothing %s" % [reloaded])
	node.queue_free()


func test_a_node_whose_script_failed_starts_once_fixed() -> void:
	var path := path_of("late")
	write(path, "return {\n\t_ready = function(self) self.ready = true end\n\t_process = nil,\n}\n")
	var node := add_lua(path)
	await frames(1)
	check(not node.is_running(), "a syntax error leaves the node stopped")
	check(node.script_problem().contains("late.lua:3:"), "script_problem names the line: " + node.script_problem())
	write(path, "return {\n\t_ready = function(self) self.ready = true end,\n}\n")
	var took := await wait_until(func() -> bool: return node.is_running())
	check(took >= 0, "the node starts when the script loads")
	check_eq(node.lua_get("ready"), true, "_ready ran")
	check_eq(node.script_problem(), "", "no problem left")
	node.queue_free()


func test_a_deleted_script_keeps_running_and_says_it_is_missing() -> void:
	var path := path_of("deleted")
	write(path, counter_source(1))
	var node := add_lua(path)
	await frames(2)
	DirAccess.remove_absolute(path)
	var took := await wait_until(func() -> bool: return not errors_for(path).is_empty())
	check(took >= 0, "the deletion is reported")
	if not errors_for(path).is_empty():
		check(String(errors_for(path)[0]["message"]).contains("not found"), "as a missing file")
	check_eq(node.lua_call("version", []), 1, "the node keeps its code")
	check(node.script_problem().begins_with("Script missing: " + path), "script_problem: " + node.script_problem())
	node.queue_free()


func test_a_thousand_reloads_leave_the_heap_flat() -> void:
	# Reloads called directly, so the test does not wait on the file system 1,000 times.
	check_eq(LuaRuntime.set_hot_reload_enabled(false), OK, "watcher off for this test")
	var path := path_of("cycled")
	var sources := [
		counter_source(1, "_on_reload = function(self, old) self.reloads = (rawget(self, \"reloads\") or 0) + 1 end,"),
		counter_source(2, "_on_reload = function(self, old) self.reloads = (rawget(self, \"reloads\") or 0) + 1 end,"),
	]
	write(path, sources[0])
	var node := add_lua(path)
	await frames(1)
	# A few rounds first, so one-time allocations (interned names, cache slots) are made.
	for i in 4:
		write(path, sources[(i + 1) % 2])
		LuaRuntime.reload_script(path)
	# Twice: userdata with finalizers are freed by the second full collection.
	LuaRuntime.collect_garbage()
	LuaRuntime.collect_garbage()
	var before: int = LuaRuntime.get_stats()["lua"]["memory_bytes"]
	for i in 1000:
		write(path, sources[i % 2])
		var code := LuaRuntime.reload_script(path)
		if code != OK:
			check_eq(code, OK, "reload %d" % i)
			break
	LuaRuntime.collect_garbage()
	LuaRuntime.collect_garbage()
	var after: int = LuaRuntime.get_stats()["lua"]["memory_bytes"]
	check_eq(node.lua_get("reloads"), 1004, "_on_reload ran on every reload")
	var growth := float(after - before) / before
	print("    heap after 1,000 reloads: %d -> %d bytes (%+.3f%%)" % [before, after, growth * 100.0])
	check(absf(growth) < 0.01, "heap within 1%%: %d -> %d bytes (%.3f%%)" % [before, after, growth * 100.0])
	check_eq(LuaRuntime.set_hot_reload_enabled(true), OK, "watcher back on")
	node.queue_free()
