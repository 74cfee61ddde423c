extends TestCase
## The time budget and the heap cap: a runaway script is stopped with an error naming its file
## and line, and every other script goes on running.

const RUNAWAY := "res://scripts/runaway.lua"
const BUDGET := "lua_runtime/limits/callback_budget_ms"
const MEMORY := "lua_runtime/limits/memory_mb"
const JIT := "lua_runtime/performance/jit"


func _set_setting(name: String, value: Variant) -> void:
	ProjectSettings.set_setting(name, value)
	# The runtime rereads settings on settings_changed, which Godot sends at idle time.
	await frames(2)


## Each run uses its own loop: the same error twice in a row would be reported once.
func _runaway_is_stopped(compiled: bool, spin: String, line: int) -> void:
	await _set_setting(JIT, compiled)
	check_eq(LuaRuntime.get_stats()["limits"]["jit"], compiled and LuaRuntime.get_stats()["lua"]["flavour"] == "LuaJIT", "jit setting applied")
	var spinner := add_lua(RUNAWAY)
	var other := add_lua("res://scripts/counter.lua")
	await frames(2)
	var stopped_before: int = LuaRuntime.get_stats()["limits"]["stopped"]
	var count_before: int = other.lua_get("count")
	spinner.lua_set("spin", spin)
	var started := Time.get_ticks_msec()
	await frames(3)
	var took := Time.get_ticks_msec() - started
	var mine := errors_for(RUNAWAY)
	check_eq(mine.size(), 1, "one error for the runaway loop (jit %s)" % compiled)
	if mine.size() > 0:
		check_eq(mine[0]["line"], line, "the error names the loop's line")
		check(String(mine[0]["message"]).contains("ran longer than 100 ms"), "says why: %s" % mine[0]["message"])
		check(String(mine[0]["message"]).contains(BUDGET), "names the setting: %s" % mine[0]["message"])
	check(took < 2000, "the game went on within a frame or two (%d ms)" % took)
	check_eq(LuaRuntime.get_stats()["limits"]["stopped"], stopped_before + 1, "counted in stats")
	check(int(other.lua_get("count")) >= count_before + 3, "the other script kept running")
	var frames_before: int = spinner.lua_get("frames")
	await frames(2)
	check(int(spinner.lua_get("frames")) > frames_before, "the stopped script runs again next frame")
	spinner.queue_free()
	other.queue_free()
	errors.clear()
	await _set_setting(JIT, true)


func test_a_runaway_loop_is_stopped_interpreted() -> void:
	await _runaway_is_stopped(false, "loop", 22)


func test_a_runaway_loop_compiled_by_luajit_is_stopped() -> void:
	await _runaway_is_stopped(true, "other loop", 25)


func test_each_node_of_a_batch_has_its_own_budget() -> void:
	# Three nodes of one script run in one batch; each is busy 60 ms of a 100 ms budget.
	var nodes: Array[LuaScriptNode] = []
	for i in 3:
		nodes.append(add_lua(RUNAWAY))
	await frames(3)
	for node in nodes:
		node.lua_set("busy_ms", 60)
	await frames(2)
	for node in nodes:
		node.lua_set("busy_ms", null)
	check(LuaRuntime.get_stats()["frame"]["batched_nodes"] >= 0, "stats readable")
	check_eq(errors_for(RUNAWAY).size(), 0, "no node was stopped: %s" % [errors_for(RUNAWAY)])
	for node in nodes:
		check(int(node.lua_get("finished")) >= 1, "every node finished its work")
		node.queue_free()
	# A fourth busy for longer than the budget is stopped; its neighbours are not.
	var slow := add_lua(RUNAWAY)
	var fine := add_lua(RUNAWAY)
	await frames(3)
	slow.lua_set("busy_ms", 150)
	fine.lua_set("busy_ms", 10)
	await frames(1)
	slow.lua_set("busy_ms", null)
	fine.lua_set("busy_ms", null)
	await frames(1)
	check(errors_for(RUNAWAY).size() >= 1, "the slow node was stopped")
	check(int(fine.lua_get("finished")) >= 1, "its neighbour ran")
	slow.queue_free()
	fine.queue_free()
	errors.clear()


func test_eval_and_exec_are_budgeted_too() -> void:
	var started := Time.get_ticks_msec()
	LuaRuntime.exec("local n = 0\nwhile true do n = n + 1 end")
	check(Time.get_ticks_msec() - started < 2000, "exec returned")
	check(errors.size() > 0 and errors[-1]["line"] == 2, "error at line 2: %s" % [errors])
	check_eq(LuaRuntime.eval("1 + 1"), 2, "the runtime goes on")
	errors.clear()


func test_the_budget_setting_applies_at_once() -> void:
	await _set_setting(BUDGET, 20)
	check_eq(LuaRuntime.get_stats()["limits"]["callback_budget_ms"], 20, "20 ms")
	var node := add_lua(RUNAWAY)
	await frames(2)
	node.lua_set("busy_ms", 40)
	await frames(1)
	node.lua_set("busy_ms", null)
	check(errors_for(RUNAWAY).size() >= 1 and String(errors_for(RUNAWAY)[0]["message"]).contains("20 ms"), "stopped after 20 ms: %s" % [errors])
	errors.clear()
	await _set_setting(BUDGET, 0)
	check_eq(LuaRuntime.get_stats()["limits"]["callback_budget_ms"], 0, "0 turns it off")
	node.lua_set("busy_ms", 150)
	await frames(1)
	node.lua_set("busy_ms", null)
	check_eq(errors_for(RUNAWAY).size(), 0, "no limit: not stopped")
	node.queue_free()
	await _set_setting(BUDGET, 100)


func test_the_heap_cap_stops_a_script_and_the_game_goes_on() -> void:
	var used: int = LuaRuntime.get_stats()["lua"]["memory_bytes"]
	var cap_mb := used / 1048576 + 24
	await _set_setting(MEMORY, cap_mb)
	check_eq(LuaRuntime.get_stats()["limits"]["memory_limit_bytes"], cap_mb * 1048576, "cap applied")
	# A megabyte a step: the cap is reached long before the time budget.
	check_eq(LuaRuntime.exec("local s = ('x'):rep(1048576)\nlocal t = {}\nfor i = 1, 1e6 do t[i] = s .. i end"), ERR_SCRIPT_FAILED, "exec failed")
	check(errors.size() > 0, "the hog raised an error")
	if errors.size() > 0:
		check(String(errors[-1]["message"]).contains("out of memory"), "out of memory: %s" % errors[-1]["message"])
		check(String(errors[-1]["message"]).contains(MEMORY), "names the setting: %s" % errors[-1]["message"])
	LuaRuntime.collect_garbage()
	check_eq(LuaRuntime.eval("(function() local t = {} for i = 1, 1000 do t[i] = i end return #t end)()"), 1000, "scripts run after")
	var node := add_lua("res://scripts/counter.lua")
	await frames(3)
	check(int(node.lua_get("count")) >= 2, "nodes run after")
	node.queue_free()
	errors.clear()
	await _set_setting(MEMORY, 1024)
