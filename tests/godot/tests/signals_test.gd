extends TestCase
## Signals and callables between Lua and GDScript, `await`, and `require`.

signal fired(a: int, b: String)

var received: Array = []


func before_each() -> void:
	super()
	received.clear()
	LuaRuntime.set_var("the_test", self)
	LuaRuntime.exec("got = {}")


func after_each() -> void:
	LuaRuntime.exec("the_test = nil; got = nil; handler = nil")
	super()


func _on_lua_signal(value: Variant) -> void:
	received.append(value)


func test_lua_connects_to_a_signal_gdscript_emits() -> void:
	LuaRuntime.exec("handler = function(a, b) got[#got + 1] = a .. b end; the_test.fired:connect(handler)")
	fired.emit(1, "x")
	fired.emit(2, "y")
	check_eq(LuaRuntime.eval("table.concat(got, ',')"), "1x,2y", "the Lua handler ran with the arguments")
	check_eq(LuaRuntime.eval("the_test.fired:is_connected(handler)"), true, "is_connected finds the Lua function")
	LuaRuntime.exec("the_test.fired:disconnect(handler)")
	fired.emit(3, "z")
	check_eq(LuaRuntime.eval("#got"), 2, "no call after disconnect")
	check_eq(fired.get_connections().size(), 0, "disconnect removed the connection")


func test_lua_emits_and_gdscript_receives() -> void:
	fired.connect(func(a: int, b: String) -> void: received.append([a, b]))
	LuaRuntime.exec("the_test.fired:emit(7, 'seven')")
	check_eq(received, [[7, "seven"]], "GDScript handler got Lua's arguments")
	LuaRuntime.exec("the_test:emit_signal('fired', 8, 'eight')")
	check_eq(received.size(), 2, "emit_signal works too")
	for c in fired.get_connections():
		fired.disconnect(c["callable"])


func test_gdscript_connects_a_lua_function() -> void:
	var callable: Callable = LuaRuntime.eval("function(a, b) got[#got + 1] = b return a * 2 end")
	check(callable.is_valid(), "a Lua function arrives as a valid Callable")
	fired.connect(callable)
	fired.emit(21, "from GDScript")
	check_eq(LuaRuntime.eval("got[1]"), "from GDScript", "the Lua function ran")
	check_eq(callable.call(5, "direct"), 10, "calling it returns its result")
	fired.disconnect(callable)


func test_lua_functions_work_where_godot_wants_a_callable() -> void:
	var sorted: Variant = LuaRuntime.eval("local a = Array{3, 1, 2}; a:sort_custom(function(x, y) return x > y end); return a")
	check_eq(sorted, [3, 2, 1], "Array.sort_custom with a Lua function")
	LuaRuntime.exec("""
		ticks = 0
		timer = Timer:new()
		timer.wait_time = 0.01
		timer.timeout:connect(function() ticks = ticks + 1 end)
		the_test:add_child(timer)
		timer:start()
		tween = the_test:create_tween()
		tween:tween_callback(function() tweened = true end):set_delay(0.01)
	""")
	await get_tree().create_timer(0.2).timeout
	check(LuaRuntime.eval("ticks") >= 2, "Timer.timeout called the Lua function (%s)" % LuaRuntime.eval("ticks"))
	check_eq(LuaRuntime.eval("tweened"), true, "tween_callback called the Lua function")
	LuaRuntime.exec("timer:queue_free(); timer = nil; tween = nil; tweened = nil; ticks = nil")
	LuaRuntime.exec("the_test:call_deferred('_on_lua_signal', 'deferred')")
	await get_tree().process_frame
	check_eq(received, ["deferred"], "call_deferred from Lua")


func test_await_a_signal_then_a_timer_in_a_callback() -> void:
	var target := Node.new()
	target.add_user_signal("go", [{"name": "a"}, {"name": "b"}])
	add_child(target)
	var node := add_lua("res://scripts/awaiter.lua", target)
	await frames(2)
	check_eq(node.lua_get("steps"), "started", "suspended at the await")
	check_eq(LuaRuntime.get_stats()["tasks"]["waiting"], 1, "one coroutine waits")
	target.emit_signal("go", 4, "four")
	check_eq(node.lua_get("steps"), "started go(4,four)", "resumed with the signal's arguments")
	await get_tree().create_timer(0.2).timeout
	check_eq(node.lua_get("steps"), "started go(4,four) timer", "resumed after await(seconds)")
	check_eq(target.get_meta("finished", false), true, "ran to the end")
	check_eq(LuaRuntime.get_stats()["tasks"]["waiting"], 0, "nothing waits any more")
	target.queue_free()


func test_a_node_freed_while_waiting_drops_its_coroutine() -> void:
	var target := Node.new()
	target.add_user_signal("go")
	add_child(target)
	var node := add_lua("res://scripts/awaiter.lua", target)
	await frames(1)
	target.emit_signal("go", 1, 2)
	node.lua_call("wait_forever", [])
	var stats: Dictionary = LuaRuntime.get_stats()["tasks"]
	check(stats["waiting"] >= 1, "waiting before the free")
	var dropped_before: int = stats["dropped"]
	node.free()
	stats = LuaRuntime.get_stats()["tasks"]
	check_eq(stats["waiting"], 0, "the coroutines went with the node")
	check(stats["dropped"] > dropped_before, "counted as dropped")
	target.emit_signal("go", 1, 2)
	await frames(1)
	check_eq(target.get_meta("after_free", false), false, "code after the await never ran")
	check_eq(errors.size(), 0, "no error: %s" % str(errors))
	target.queue_free()


func test_await_in_a_coroutine_and_its_errors() -> void:
	LuaRuntime.exec("coroutine.wrap(function() local a, b = await(the_test.fired); got.value = a .. b end)()")
	check_eq(LuaRuntime.eval("got.value"), null, "the coroutine waits")
	fired.emit(5, "five")
	check_eq(LuaRuntime.eval("got.value"), "5five", "resumed by the signal")
	LuaRuntime.exec("await(the_test.fired)")
	check(_last_message().contains("await() must be called inside a callback or a coroutine"), _last_message())
	LuaRuntime.exec("coroutine.wrap(function() await('soon') end)()")
	check(_last_message().contains("await() takes a signal"), _last_message())
	LuaRuntime.exec("coroutine.wrap(function() await(the_test, 'no_such_signal') end)()")
	check(_last_message().contains("has no signal named 'no_such_signal'"), _last_message())


func test_require_loads_a_module_once() -> void:
	check_eq(LuaRuntime.eval("require('res://scripts/lib/util.lua').double(21)"), 42, "require by path")
	check_eq(LuaRuntime.eval("require('scripts.lib.util') == require('res://scripts/lib/util.lua')"), true, "dotted name, same module")
	check_eq(LuaRuntime.eval("util_loads"), 1, "the module ran once")
	var node := add_lua("res://scripts/lib/uses_util.lua")
	check_eq(node.lua_call("doubled", [4]), 8, "a node script uses the library")
	check(LuaRuntime.get_stats()["scripts"]["required"] >= 1, "required modules are counted")
	node.queue_free()


func test_require_errors_name_the_problem() -> void:
	LuaRuntime.exec("require('scripts.lib.cycle_a')")
	check(_last_message().contains("require cycle: res://scripts/lib/cycle_a.lua -> res://scripts/lib/cycle_b.lua -> res://scripts/lib/cycle_a.lua"), _last_message())
	LuaRuntime.exec("require('scripts.lib.missing')")
	check(_last_message().contains("res://scripts/lib/missing.lua: script file not found"), _last_message())
	LuaRuntime.exec("require('../outside')")
	check(_last_message().contains("not a module name"), _last_message())
