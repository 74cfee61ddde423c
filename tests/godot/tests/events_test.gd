extends TestCase
## The `events` library: order, off, node exit, error isolation, GDScript both ways.

var seen: Array = []


func before_each() -> void:
	super()
	seen.clear()
	LuaRuntime.exec("got = {}")


func after_each() -> void:
	LuaRuntime.exec("for _, e in ipairs({'t_order', 't_err', 't_gd', 't_loop', 'ping'}) do for _, f in ipairs(handlers or {}) do events.off(e, f) end end; handlers = nil; got = nil")
	super()


func test_handlers_run_in_subscription_order_with_the_arguments() -> void:
	LuaRuntime.exec("""
		handlers = {}
		for i = 1, 3 do
		  handlers[i] = events.on('t_order', function(a, b) got[#got + 1] = i .. ':' .. a .. b end)
		end""")
	check_eq(LuaRuntime.eval("events.emit('t_order', 'x', 'y')"), 3, "emit returns how many handlers ran")
	check_eq(LuaRuntime.eval("table.concat(got, ' ')"), "1:xy 2:xy 3:xy", "in subscription order, with the arguments")
	check_eq(LuaRuntime.eval("events.off('t_order', handlers[2])"), 1, "off removes that handler")
	LuaRuntime.exec("got = {}; events.emit('t_order', 'a', 'b')")
	check_eq(LuaRuntime.eval("table.concat(got, ' ')"), "1:ab 3:ab", "the others keep their order")
	check_eq(LuaRuntime.eval("events.emit('t_nobody')"), 0, "an event nobody listens to is fine")
	check_eq(LuaRuntime.get_stats()["events"]["by_name"]["t_order"], 2, "subscriptions per event in get_stats()")


func test_a_handler_removed_during_an_emit_is_not_called() -> void:
	LuaRuntime.exec("""
		handlers = {}
		handlers[1] = events.on('t_order', function() got[#got + 1] = 'first'; events.off('t_order', handlers[2]) end)
		handlers[2] = events.on('t_order', function() got[#got + 1] = 'second' end)
		events.emit('t_order')""")
	check_eq(LuaRuntime.eval("table.concat(got, ' ')"), "first", "the removed handler did not run")


func test_a_node_leaving_the_tree_drops_its_subscriptions() -> void:
	var node := add_lua("res://scripts/listener.lua")
	var other := add_lua("res://scripts/listener.lua")
	var before: int = LuaRuntime.get_stats()["events"]["subscriptions"]
	LuaRuntime.exec("events.emit('ping', 2)")
	check_eq([node.lua_get("pings"), other.lua_get("pings")], [2, 2], "both nodes got the event")
	remove_child(node)
	check_eq(LuaRuntime.get_stats()["events"]["subscriptions"], before - 1, "the node's subscription went with it")
	LuaRuntime.emit_event("ping", [5])
	check_eq([node.lua_get("pings"), other.lua_get("pings")], [2, 7], "only the node in the tree gets it")
	node.free()
	other.queue_free()
	await frames(1)


func test_an_error_in_one_handler_does_not_stop_the_others() -> void:
	LuaRuntime.exec("""
		handlers = {}
		handlers[1] = events.on('t_err', function() got[#got + 1] = 'before' end)
		handlers[2] = events.on('t_err', function()
		  local broken = nil
		  return broken.field
		end)
		handlers[3] = events.on('t_err', function() got[#got + 1] = 'after' end)""")
	var before: int = LuaRuntime.get_stats()["events"]["errors"]
	check_eq(LuaRuntime.eval("events.emit('t_err')"), 3, "every handler ran")
	check_eq(LuaRuntime.eval("table.concat(got, ' ')"), "before after", "the handlers around the error did their work")
	check(_last_message().contains("attempt to index local 'broken'"), _last_message())
	# Line 6 of the chunk: its text starts with a line break.
	check_eq(errors[-1]["line"], 6, "the error names the handler's line")
	check_eq(LuaRuntime.get_stats()["events"]["errors"], before + 1, "counted in get_stats()")


func test_gdscript_emits_to_lua_and_hears_lua() -> void:
	LuaRuntime.exec("handlers = { events.on('t_gd', function(a, b) got[#got + 1] = a + b end) }")
	check_eq(LuaRuntime.emit_event("t_gd", [2, 3]), 1, "emit_event returns how many Lua handlers ran")
	check_eq(LuaRuntime.eval("got[1]"), 5, "the Lua handler got GDScript's arguments")
	var listener := func(event: String, args: Array) -> void: seen.append([event, args])
	LuaRuntime.event_emitted.connect(listener)
	LuaRuntime.exec("events.emit('t_gd', 10, 20)")
	LuaRuntime.emit_event("t_gd", ["a", "b"])
	LuaRuntime.event_emitted.disconnect(listener)
	check_eq(seen, [["t_gd", [10, 20]], ["t_gd", ["a", "b"]]], "event_emitted carries Lua's and GDScript's events")
	check_eq(LuaRuntime.eval("got[2]"), 30, "Lua still got its own event")


func test_events_emitting_each_other_forever_is_an_error() -> void:
	LuaRuntime.exec("handlers = { events.on('t_loop', function() events.emit('t_loop') end) }")
	LuaRuntime.exec("events.emit('t_loop')")
	check(_last_message().contains("nested more than 32 deep"), _last_message())


func test_bad_arguments_are_clear_errors() -> void:
	LuaRuntime.exec("events.on('x', 5)")
	check(_last_message().contains("events.on: argument #2: expected a function, got number"), _last_message())
	LuaRuntime.exec("events.emit('')")
	check(_last_message().contains("events.emit: argument #1: expected an event name, got an empty string"), _last_message())
