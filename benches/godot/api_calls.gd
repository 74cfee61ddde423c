extends SceneTree
## Engine API calls from Lua against GDScript doing the same calls, in one run: a property
## get, a property set and a method call on a Node2D, plus a builtin method on a Vector2i.
## `get` keeps the last vector read after the loop (in Lua the vector is then a table that
## must be allocated); `get_used` adds each read's `x` to a sum, as code that uses what it
## reads does (LuaJIT then allocates no table).
## Each figure is the median of several rounds of N calls, in ns per call, with the cost of
## an empty loop of the same length subtracted. GDScript is measured both with a typed
## variable (what most code writes; the compiler then calls the engine directly) and an
## untyped one (dynamic dispatch, like Lua's). Prints `BENCH key=value` lines.

const N := 200_000
const ROUNDS := 7

var node: Node2D


func _initialize() -> void:
	node = Node2D.new()
	root.add_child(node)
	node.add_child(Node.new())
	LuaRuntime.set_var("node", node)
	LuaRuntime.exec("v2i = Vector2i(3, 4); unit = Vector2(1, 0)")
	print("BENCH api_calls_per_round=%d rounds=%d flavour=%s" % [N, ROUNDS, LuaRuntime.get_stats()["lua"]["flavour"]])
	for case in ["get", "get_used", "set", "method", "builtin_method"]:
		var typed := _median(func() -> float: return _gdscript_typed(case))
		var untyped := _median(func() -> float: return _gdscript_untyped(case))
		_define_lua(case)
		var lua := _median(func() -> float: return _lua(case))
		print("BENCH %s gdscript_typed_ns=%.1f gdscript_untyped_ns=%.1f lua_ns=%.1f lua_over_typed=%.2f lua_over_untyped=%.2f" % [
			case, typed, untyped, lua, lua / typed, lua / untyped])
	LuaRuntime.set_var("node", null)
	node.queue_free()
	quit()


func _median(measure: Callable) -> float:
	var times: Array[float] = []
	for i in ROUNDS:
		times.append(measure.call())
	times.sort()
	return times[ROUNDS / 2]


func _gdscript_typed(case: String) -> float:
	var n: Node2D = node
	var v := Vector2(1, 2)
	var w := Vector2i(3, 4)
	var sink: Variant
	var sum := 0.0
	var start := Time.get_ticks_usec()
	match case:
		"get":
			for i in N:
				sink = n.position
		"get_used":
			for i in N:
				sum += n.position.x
		"set":
			for i in N:
				n.position = v
		"method":
			for i in N:
				sink = n.get_child_count()
		"builtin_method":
			for i in N:
				sink = w.length()
	var spent := Time.get_ticks_usec() - start
	start = Time.get_ticks_usec()
	for i in N:
		sink = v
	var empty := Time.get_ticks_usec() - start
	return (spent - empty) * 1000.0 / N


func _gdscript_untyped(case: String) -> float:
	var n = node
	var v = Vector2(1, 2)
	var w = Vector2i(3, 4)
	var sink
	var sum = 0.0
	var start := Time.get_ticks_usec()
	match case:
		"get":
			for i in N:
				sink = n.position
		"get_used":
			for i in N:
				sum += n.position.x
		"set":
			for i in N:
				n.position = v
		"method":
			for i in N:
				sink = n.get_child_count()
		"builtin_method":
			for i in N:
				sink = w.length()
	var spent := Time.get_ticks_usec() - start
	start = Time.get_ticks_usec()
	for i in N:
		sink = v
	var empty := Time.get_ticks_usec() - start
	return (spent - empty) * 1000.0 / N


## Defines the Lua loops for `case` once, as game code is: LuaJIT compiles each loop in its
## first round, which the median leaves out, as GDScript compiles its functions when the
## script loads.
func _define_lua(case: String) -> void:
	var body: String = {
		"get": "sink = n.position",
		"get_used": "sum = sum + n.position.x",
		"set": "n.position = v",
		"method": "sink = n:get_child_count()",
		"builtin_method": "sink = w:length()",
	}[case]
	var loop := "function() local n, v, w, sink, sum = node, Vector2(1, 2), v2i, nil, 0 for i = 1, %d do %s end end"
	LuaRuntime.exec("timed_%s = %s" % [case, loop % [N, body]])
	LuaRuntime.exec("empty_%s = %s" % [case, loop % [N, "sink = v"]])


func _lua(case: String) -> float:
	var start := Time.get_ticks_usec()
	LuaRuntime.exec("timed_%s()" % case)
	var spent := Time.get_ticks_usec() - start
	start = Time.get_ticks_usec()
	LuaRuntime.exec("empty_%s()" % case)
	var empty := Time.get_ticks_usec() - start
	return (spent - empty) * 1000.0 / N
