extends TestCase
## LuaRuntime: eval round trips, variables, statistics, the sandbox.


func test_eval_round_trips_basic_types() -> void:
	check_eq(LuaRuntime.eval("40 + 2"), 42, "int stays int")
	check_eq(LuaRuntime.eval("1.5 * 3"), 4.5, "float stays float")
	check_eq(LuaRuntime.eval("not false"), true, "bool")
	check_eq(LuaRuntime.eval("'lua' .. 'jit'"), "luajit", "String")
	check_eq(LuaRuntime.eval("Vector2(1, 2) + Vector2(0.5, 0.5)"), Vector2(1.5, 2.5), "Vector2")
	check_eq(LuaRuntime.eval("Vector3(1, 2, 3)"), Vector3(1, 2, 3), "Vector3")
	check_eq(LuaRuntime.eval("Color(1, 0, 0)"), Color(1, 0, 0), "Color")
	check_eq(LuaRuntime.eval("nil"), null, "nil")
	check_eq(LuaRuntime.eval("local t = {} for i = 1, 3 do t[i] = i * i end return t"), [1, 4, 9], "a sequence is an Array")
	check_eq(LuaRuntime.eval("{ speed = 3 }"), {"speed": 3}, "a table is a Dictionary")


func test_whole_floats_follow_the_flavour() -> void:
	# LuaJIT has one number type, so a whole float comes back as an int there; Lua 5.4 keeps
	# the float subtype. Godot converts int to float wherever a float is expected.
	var whole: Variant = LuaRuntime.eval("1.5 * 2")
	if LuaRuntime.get_stats()["lua"]["flavour"] == "LuaJIT":
		check_eq(whole, 3, "LuaJIT: 3.0 arrives as 3")
	else:
		check_eq(whole, 3.0, "Lua 5.4: 3.0 stays a float")
	var node := Node2D.new()
	add_child(node)
	LuaRuntime.set_var("moved", node)
	LuaRuntime.exec("moved.rotation = 2")
	check_eq(node.rotation, 2.0, "a whole number sets a float property")
	LuaRuntime.set_var("moved", null)


func test_values_round_trip_through_lua_variables() -> void:
	var values := [7, 2.25, true, "text", Vector2(3, 4), Vector3(1, 0, 1), Color(0, 0, 1), [1, "a"], {"k": 1}, NodePath("a/b"), Rect2(1, 2, 3, 4)]
	for value in values:
		LuaRuntime.set_var("round_trip", value)
		check_eq(LuaRuntime.get_var("round_trip"), value, "round trip of %s" % type_string(typeof(value)))
	LuaRuntime.set_var("round_trip", null)


func test_objects_pass_both_ways() -> void:
	LuaRuntime.set_var("the_test", self)
	check_eq(LuaRuntime.eval("the_test.name"), String(name), "read a property through Lua")
	check(LuaRuntime.get_var("the_test") == self, "the same object comes back")
	LuaRuntime.set_var("the_test", null)


func test_sandbox_has_no_io_or_os_execute() -> void:
	check_eq(LuaRuntime.eval("type(io)"), "nil", "no io")
	check_eq(LuaRuntime.eval("type(os.execute)"), "nil", "no os.execute")
	check_eq(LuaRuntime.eval("type(debug)"), "nil", "no debug")
	check_eq(LuaRuntime.eval("type(ffi)"), "nil", "no ffi")
	check_eq(LuaRuntime.eval("type(loadfile)"), "nil", "no loadfile")
	check_eq(LuaRuntime.eval("type(os.clock)"), "function", "os.clock stays")


func test_stats_count_scripts_and_memory() -> void:
	var stats: Dictionary = LuaRuntime.get_stats()
	check(stats["lua"]["memory_bytes"] > 0, "Lua memory is reported")
	check(stats["lua"]["flavour"] in ["LuaJIT", "Lua 5.4"], "flavour: %s" % stats["lua"]["flavour"])
	var loaded: int = stats["scripts"]["loaded"]
	var seen_paths: Array = []
	LuaRuntime.script_loaded.connect(func(p: String) -> void: seen_paths.append(p))
	check_eq(LuaRuntime.load_script("res://scripts/counter.lua"), OK, "load_script returns OK")
	check_eq(LuaRuntime.get_stats()["scripts"]["loaded"], loaded + 1, "loaded count went up")
	check_eq(seen_paths, ["res://scripts/counter.lua"], "script_loaded was emitted")
	check_eq(LuaRuntime.load_script("res://scripts/nope.lua"), ERR_FILE_NOT_FOUND, "missing file")
	check_eq(LuaRuntime.load_script("res://runner.gd"), ERR_INVALID_PARAMETER, "not a .lua path")


func test_stats_list_recent_errors_gc_cycles_and_heap_per_script() -> void:
	LuaRuntime.exec("local x = nil\nlocal y = x.field")
	var recent: Array = LuaRuntime.get_stats()["errors"]["recent"]
	check(recent.size() > 0, "recent errors are listed")
	check_eq([recent[0]["path"], recent[0]["line"], recent[0]["count"]], ["(inline)", 2, 1],
			"newest first, with its path, line and count")
	check(String(recent[0]["message"]).contains("attempt to index local 'x'"),
			"and its message: %s" % recent[0]["message"])
	var cycles: int = LuaRuntime.get_stats()["lua"]["gc_cycles"]
	LuaRuntime.collect_garbage()
	check(LuaRuntime.get_stats()["lua"]["gc_cycles"] > cycles, "a collection counts a GC cycle")
	LuaRuntime.load_script("res://scripts/counter.lua")
	var by_script: Dictionary = LuaRuntime.get_stats()["lua"]["memory_by_script"]
	check(by_script.get("res://scripts/counter.lua", 0) > 0, "heap per script: %s" % by_script)


## LuaJIT's trace compiler in the stats: compiled loops count, and code it gave up on for
## good (blacklisted) is counted and named, so a loop that stopped being compiled shows.
func test_stats_show_what_the_jit_compiled() -> void:
	var jit: Dictionary = LuaRuntime.get_stats()["lua"]["jit"]
	for key in ["enabled", "traces", "aborts", "aborts_blacklisted", "last_abort"]:
		check(jit.has(key), "lua.jit has %s" % key)
	if LuaRuntime.get_stats()["lua"]["flavour"] != "LuaJIT":
		check(not jit["enabled"], "no compiler under Lua 5.4")
		return
	check(jit["enabled"], "the compiler is on")
	LuaRuntime.exec("local s = 0 for i = 1, 10000 do s = s + i end")
	check(LuaRuntime.get_stats()["lua"]["jit"]["traces"] > jit["traces"], "a loop compiled")
	# A helper ending in a tail call to a builtin cannot start a trace: called often from
	# code that never compiles, it is blacklisted, and the loop calling it stays interpreted.
	LuaRuntime.exec("""local sqrt = math.sqrt
local function helper(x) return sqrt(x) end
for i = 1, 200000 do local f = function() end; helper(i) end
local s = 0
for i = 1, 10000 do s = s + helper(i) end""")
	var after: Dictionary = LuaRuntime.get_stats()["lua"]["jit"]
	check(after["aborts"] > jit["aborts"], "aborts count")
	check(after["aborts_blacklisted"] > jit["aborts_blacklisted"], "so do blacklisted ones")
	check(String(after["last_abort"]).begins_with("(inline):")
			and String(after["last_abort"]).ends_with("blacklisted"),
			"the last names its place and reason: %s" % after["last_abort"])


func test_performance_monitors_show_lua_figures() -> void:
	for id in ["LuaRuntime/Lua memory (MB)", "LuaRuntime/Bytecode hit rate (%)",
			"LuaRuntime/Reloads", "LuaRuntime/Script errors", "LuaRuntime/Running scripts"]:
		check(Performance.has_custom_monitor(id), "monitor %s is registered" % id)
	var mb: float = Performance.get_custom_monitor("LuaRuntime/Lua memory (MB)")
	var expected: float = LuaRuntime.get_stats()["lua"]["memory_bytes"] / 1048576.0
	check(absf(mb - expected) < 0.5, "Lua memory monitor reads the heap (%.2f vs %.2f MB)" % [mb, expected])


func test_print_goes_to_godot_output() -> void:
	check_eq(LuaRuntime.exec("print('from lua', 1, true, Vector2(1, 2))"), OK, "print runs")


func test_collect_garbage_frees_memory() -> void:
	var before: int = LuaRuntime.get_stats()["lua"]["memory_bytes"]
	LuaRuntime.exec("junk = {} for i = 1, 50000 do junk[i] = { i } end")
	var full: int = LuaRuntime.get_stats()["lua"]["memory_bytes"]
	LuaRuntime.exec("junk = nil")
	LuaRuntime.collect_garbage()
	var after: int = LuaRuntime.get_stats()["lua"]["memory_bytes"]
	check(full - after >= full - before, "a full collection freed at least the junk (%d -> %d -> %d bytes)" % [before, full, after])


func test_connections_left_on_the_runtime_are_safe_at_exit() -> void:
	# Deliberately never disconnected, as autoloads commonly do. The runtime drops these at
	# shutdown; before it did, the process corrupted its heap on exit, which fails the run
	# (tools/engine-tests.sh checks Godot's exit code).
	LuaRuntime.script_error.connect(func(_p: String, _l: int, _m: String) -> void: pass)
	LuaRuntime.script_loaded.connect(func(_p: String) -> void: pass)
	check(LuaRuntime.script_loaded.get_connections().size() >= 1, "the lambda is connected")
