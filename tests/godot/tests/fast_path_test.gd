extends TestCase
## Hot properties (`n.position`, `n.rotation`, ...) read and written through LuaJIT's FFI:
## the same values and errors as the general path, no garbage, and never a script or signal
## handler run from inside the fast call.

const EngineErrorLog := preload("res://engine_error_log.gd")
const JIT := "lua_runtime/performance/jit"


func after_each() -> void:
	LuaRuntime.set_var("v", null)
	super()


## Shared by every test: the runtime reports an error repeating at the same line once.
static var _error_line := 0


## Runs `code` and checks the script error it reports contains `text`. Each on its own
## line, so that repeated messages are not taken for one error repeating.
func check_lua_error(code: String, text: String) -> void:
	var before := errors.size()
	_error_line += 1
	LuaRuntime.exec("\n".repeat(_error_line) + code)
	check(errors.size() > before and _last_message().contains(text),
		"`%s` fails with \"%s\" (got \"%s\")" % [code, text, _last_message()])


func _node2d() -> Node2D:
	var node := Node2D.new()
	add_child(node)
	LuaRuntime.set_var("v", node)
	return node


## A Node3D in the tree, as Lua's `w` (`after_each` does not clear it).
func _node3d() -> Node3D:
	var node := Node3D.new()
	add_child(node)
	LuaRuntime.set_var("w", node)
	return node


func test_reads_give_what_the_engine_has() -> void:
	var node := _node2d()
	node.position = Vector2(1.5, -2)
	node.rotation = 0.75
	node.scale = Vector2(2, 3)
	node.z_index = 7
	node.visible = false
	node.modulate = Color(0.25, 0.5, 0.75, 1)
	check_eq(LuaRuntime.eval("return v.position"), Vector2(1.5, -2), "a Vector2 property")
	check_eq(LuaRuntime.eval("return v.rotation"), 0.75, "a float property")
	check_eq(LuaRuntime.eval("return v.scale"), Vector2(2, 3), "scale")
	check_eq(LuaRuntime.eval("return v.z_index"), 7, "an int property")
	check_eq(LuaRuntime.eval("return v.visible"), false, "a bool property")
	check_eq(LuaRuntime.eval("return v.modulate"), Color(0.25, 0.5, 0.75, 1), "a Color property")
	check_eq(LuaRuntime.eval("return type(v.position)"), "table", "vectors are Lua tables")
	check_eq(LuaRuntime.eval("return v.position == v:get('position')"), true,
		"the same value as the general path")
	check_eq(LuaRuntime.eval("return tostring(v.position)"), "(1.5, -2.0)", "Godot's text")
	node.queue_free()
	# Properties read through their getters, and ones whose getter takes an index
	# (`offset_left` is `get_offset(SIDE_LEFT)`), which are read by name.
	var control := Control.new()
	add_child(control)
	control.offset_left = 12
	control.anchor_right = 0.5
	control.z_index = -3
	LuaRuntime.set_var("c", control)
	check_eq(LuaRuntime.eval("return c.offset_left"), 12, "offset_left")
	check_eq(LuaRuntime.eval("return c.anchor_right"), 0.5, "anchor_right")
	check_eq(LuaRuntime.eval("local s = 0 for i = 1, 300 do s = s + c.z_index end return s"), -900,
		"an int property read 300 times in a loop the compiler takes")
	LuaRuntime.set_var("c", null)
	control.queue_free()


func test_writes_change_the_node() -> void:
	var node := _node2d()
	LuaRuntime.exec("v.position = Vector2(3, 4); v.rotation = 1.25; v.scale = Vector2(2, 2)")
	check_eq(node.position, Vector2(3, 4), "position")
	check_eq(node.rotation, 1.25, "rotation")
	check_eq(node.scale, Vector2(2, 2), "scale")
	LuaRuntime.exec("for i = 1, 200 do v.position = v.position + Vector2(1, 0) * 0.5 end")
	check_eq(node.position, Vector2(103, 4), "200 moves in a loop the compiler takes")
	LuaRuntime.exec("v.position = Vector2(0.1, 0.2)")
	check_eq(LuaRuntime.eval("return v.position == Vector2(0.1, 0.2)"), true,
		"equal after the engine's float32 rounding, as in GDScript")
	LuaRuntime.exec("v.global_position = Vector2(10, 20)")
	check_eq(node.global_position, Vector2(10, 20), "global_position")
	var node3d := _node3d()
	LuaRuntime.exec("w.position = w.position + Vector3(1, 2, 3)")
	check_eq(node3d.position, Vector3(1, 2, 3), "a Node3D's position")
	LuaRuntime.set_var("w", null)
	node.queue_free()
	node3d.queue_free()


func test_every_transform_property_matches_the_engine() -> void:
	# Transform properties are read and written by calling the node's own methods: each
	# one, on a Node2D subclass and on a Node3D, gives what GDScript and `v:get()` see.
	var parent := Node2D.new()
	parent.position = Vector2(5, 7)
	parent.rotation = 0.5
	parent.scale = Vector2(2, 2)
	add_child(parent)
	var sprite := Sprite2D.new()
	parent.add_child(sprite)
	_check_transforms(sprite, {
		"position": Vector2(1, 2), "rotation": 0.25, "rotation_degrees": 30.0,
		"scale": Vector2(3, 4), "skew": 0.125, "global_position": Vector2(-8, 9),
		"global_rotation": 1.5, "global_rotation_degrees": -45.0,
		"global_scale": Vector2(0.5, 0.25), "global_skew": 0.0625,
	})
	var holder := Node3D.new()
	holder.position = Vector3(1, 1, 1)
	add_child(holder)
	var body := Node3D.new()
	holder.add_child(body)
	_check_transforms(body, {
		"position": Vector3(1, 2, 3), "rotation": Vector3(0.1, 0.2, 0.3),
		"rotation_degrees": Vector3(10, 20, 30), "scale": Vector3(2, 3, 4),
		"global_position": Vector3(-4, 5, 6), "global_rotation": Vector3(0.3, 0.2, 0.1),
		"global_rotation_degrees": Vector3(5, 15, 25),
	})
	check_lua_error("v.skew = 1", "Node3D has no property named 'skew'")
	LuaRuntime.set_var("value", null)
	parent.queue_free()
	holder.queue_free()


## Sets each property of `node` from Lua, then checks the engine has it and Lua reads back
## what the engine and the general path (`v:get()`) have.
func _check_transforms(node: Node, values: Dictionary) -> void:
	LuaRuntime.set_var("v", node)
	var label := node.get_class()
	for property in values:
		LuaRuntime.set_var("value", values[property])
		LuaRuntime.exec("v.%s = value" % property)
		var engine: Variant = node.get(property)
		check(_approx_equal(engine, values[property]),
			"%s.%s set to %s (engine has %s)" % [label, property, values[property], engine])
		var read: Variant = LuaRuntime.eval("return v.%s" % property)
		# Under LuaJIT a whole float comes back as an int (docs/lua-api.md, "Values").
		check(_approx_equal(float(read) if read is int else read, engine),
			"%s.%s read back: %s, engine %s" % [label, property, read, engine])
		check_eq(LuaRuntime.eval("return v.%s == v:get('%s')" % [property, property]), true,
			"%s.%s as the general path reads it" % [label, property])


func _approx_equal(a: Variant, b: Variant) -> bool:
	if typeof(a) != typeof(b):
		return false
	match typeof(a):
		TYPE_FLOAT:
			return absf(a - b) < 1e-4
		TYPE_VECTOR2, TYPE_VECTOR3:
			return (a - b).length() < 1e-3
	return a == b


## Bytes the Lua heap grows by per iteration of `run(v)`, a Lua function `define` makes that
## loops 1,000 times, once it is compiled. The collector must not run meanwhile, or it would
## hide garbage: a full collection first leaves it stopped until the frame ends (the tests'
## project has a frame budget for it).
##
## The loop is compiled afresh (a new chunk, new bytecode addresses) up to three times and the
## least garbage counts; each retry prints LuaJIT's counts. Where LuaJIT's traces start
## differs between processes, and a loop that takes a side exit on every iteration makes its
## vectors there. A runtime function compiled so that loops cannot take it in (see
## `test_reading_new_names_first_keeps_later_loops_whole`), or a fast path that allocates,
## still makes every attempt allocate.
func _garbage_per_iteration(define: String) -> float:
	var least := INF
	for attempt in 3:
		LuaRuntime.collect_garbage()
		check_eq(LuaRuntime.get_stats()["gc"]["automatic"], false, "the collector waits for the frame's end")
		var bytes: float = LuaRuntime.eval(define + """
			for i = 1, 20 do run(v) end
			local before = collectgarbage('count')
			for i = 1, 10 do run(v) end
			return (collectgarbage('count') - before) * 1024 / 10000
		""")
		least = minf(least, bytes)
		if least < 8:
			break
		print("fast_path_test: compiled afresh after %.1f bytes an iteration (%s)" % [bytes, _jit_note()])
	return least


## What LuaJIT's compiler reports, for a failure message: how much compiled, whether anything
## was blacklisted, and the latest abort's place and reason.
func _jit_note() -> String:
	var jit: Dictionary = LuaRuntime.get_stats()["lua"]["jit"]
	return "LuaJIT: %d traces, %d aborts, %d blacklisted; last abort: %s" % [
		jit["traces"], jit["aborts"], jit["aborts_blacklisted"], jit["last_abort"]]


const MOVE := """
	local step = Vector2(1, 0)
	local function run(n) for i = 1, 1000 do n.position = n.position + step * 0.5 end end
"""


func test_moving_a_node_makes_no_garbage() -> void:
	if LuaRuntime.eval("return jit ~= nil") != true:
		return # Lua 5.4 has no FFI: the general path, measured by the benchmarks.
	var node := _node2d()
	var per_move := _garbage_per_iteration(MOVE)
	check(per_move < 8, "a move allocates nothing once compiled (%.1f bytes a move; %s)" % [
		per_move, _jit_note()])
	# 15,000 per attempt at compiling the loop.
	check(node.position.y == 0 and node.position.x >= 15000 and fmod(node.position.x, 15000.0) == 0,
		"every move happened (%s)" % node.position)
	node.queue_free()


## LuaJIT gives up on compiling a function that fails to compile as a trace's start about ten
## times, and from then on cannot compile any code that calls it. The runtime's own functions
## (property access, methods, vector operators, constructors and methods, `pairs`) are called
## from every script, so code that runs in the interpreter, like this loop (a loop that makes a
## closure is never compiled), makes them hot again and again: they must compile as a start,
## or every script loses compiled code for good.
func test_code_that_never_compiles_leaves_the_fast_path_on() -> void:
	if LuaRuntime.eval("return jit ~= nil") != true:
		return
	var node := _node2d()
	for round in 80:
		LuaRuntime.exec("""
			local step, t, s = Vector2(0, 1), { 1 }, 0
			for i = 1, 2500 do
				local never_compiled = function() end
				v.position = v.position + step * 0.5 - Vector2(0, 0.5)
				v:get_position()
				local c = Color(1, 1, 1) * 0.5
				for _, x in pairs(t) do s = s + x end
				s = s + step:length() + Vector3(1, 2, 2):length()
			end
		""")
	check_eq(node.position, Vector2.ZERO, "the loops ran")
	var per_move := _garbage_per_iteration(MOVE)
	check(per_move < 8, "a move still allocates nothing once compiled (%.1f bytes a move; %s)" % [
		per_move, _jit_note()])
	var per_use := _garbage_per_iteration("""
		local t, step = { 1 }, Vector2(3, 4)
		local function run(n)
			local s = 0
			for i = 1, 1000 do
				local f, st = pairs(t)
				local _, x = f(st)
				s = s + x + step:length() + Vector3(i, 2, 2):length() + (Color(i, 1, 1) * 0.5).r
			end
			return s
		end
	""")
	check(per_use < 8, "nor do pairs, vector methods and constructors (%.1f bytes a use; %s)" % [
		per_use, _jit_note()])
	node.queue_free()


func test_wrong_values_give_the_general_paths_errors() -> void:
	var node := _node2d()
	check_lua_error("v.position = 5", "cannot set Node2D.position: expected Vector2, got number")
	check_lua_error("v.rotation = Vector2(1, 2)", "cannot set Node2D.rotation: expected float, got Vector2")
	check_lua_error("v.nope = 1", "Node2D has no property named 'nope'")
	check_eq(node.position, Vector2.ZERO, "nothing was set")
	node.free()
	check_lua_error("return v.position", "attempt to use a freed object")
	check_lua_error("v.position = Vector2(1, 1)", "attempt to use a freed object")


## The fast path learns of a free from the engine (the object's destructor), not by asking:
## a node freed inside a compiled loop, or held by a wrapper made after an earlier one was
## collected, is never touched again.
func test_a_freed_node_is_never_touched() -> void:
	var node := _node2d()
	check_lua_error("""
		for i = 1, 300 do
			if i == 200 then v:free() end
			v.position = Vector2(i, 0)
		end""", "attempt to use a freed object")
	check(not is_instance_valid(node), "Lua freed the node")
	check_lua_error("return v.rotation", "attempt to use a freed object")
	# A second wrapper of one node shares what the first learnt of it.
	var other := _node2d()
	LuaRuntime.exec("for i = 1, 300 do v.position = Vector2(i, 0) end")
	LuaRuntime.set_var("v", null)
	LuaRuntime.collect_garbage()
	LuaRuntime.set_var("v", other)
	LuaRuntime.exec("for i = 1, 300 do v.position = v.position + Vector2(1, 0) end")
	check_eq(other.position, Vector2(600, 0), "the new wrapper moves the node")
	other.free()
	check_lua_error("return v.position", "attempt to use a freed object")


## The freed-flags are shared out again to new objects, but only once no wrapper holds one: a
## wrapper kept while thousands of nodes come and go (each taking and giving back a flag)
## still reports its node freed, and every new node is moved.
func test_a_freed_nodes_wrapper_stays_freed_while_other_nodes_come_and_go() -> void:
	var node := _node2d()
	LuaRuntime.exec("kept = v; kept.position = Vector2(1, 1)")
	node.free()
	# Read through pcall: the same error repeating at one line is reported once.
	const READ := """(function()
		local ok, e = pcall(function() return kept.position end)
		return not ok and tostring(e):find("attempt to use a freed object", 1, true) ~= nil
	end)()"""
	check_eq(LuaRuntime.eval(READ), true, "freed at once")
	var moved := 0
	for round in 3:
		var batch: Array[Node2D] = []
		for i in 1500:
			var other := Node2D.new()
			add_child(other)
			batch.append(other)
		LuaRuntime.set_var("batch", batch)
		LuaRuntime.exec("for i = 1, #batch do local n = batch[i]; n.position = n.position + Vector2(i, 0) end")
		for i in batch.size():
			if batch[i].position == Vector2(i + 1, 0):
				moved += 1
		check_eq(LuaRuntime.eval(READ), true, "still freed while new nodes live")
		LuaRuntime.set_var("batch", null)
		for other in batch:
			other.free()
		LuaRuntime.collect_garbage()
		check_eq(LuaRuntime.eval(READ), true, "still freed after a collection")
	check_eq(moved, 4500, "every new node moved")
	LuaRuntime.exec("kept = nil")


## Engine singletons go through the fast path too. They are freed after the library is
## unloaded, so the runtime takes its free-watch off them at shutdown: without that, the test
## run itself crashes at exit.
func test_engine_singletons_are_read_like_other_objects() -> void:
	check_eq(LuaRuntime.eval("Engine.physics_ticks_per_second"), Engine.physics_ticks_per_second,
		"a singleton's property")
	check_eq(LuaRuntime.eval("Engine:get_physics_frames() >= 0"), true, "a singleton's method")
	check_eq(LuaRuntime.eval("Input:is_action_pressed('ui_accept')"), false, "Input's")
	check_eq(LuaRuntime.eval("Time:get_ticks_msec() > 0"), true, "Time's")
	check_eq(LuaRuntime.eval("OS:get_processor_count()"), OS.get_processor_count(), "OS's")


## A Node2D script whose `_set` records each `position` written in `seen`.
func _position_watcher() -> GDScript:
	var script := GDScript.new()
	script.source_code = """extends Node2D
var seen: Array = []
func _set(property: StringName, value: Variant) -> bool:
	if property == &"position":
		seen.append(value)
	return false
"""
	script.reload()
	return script


func test_a_script_on_the_node_sees_every_access() -> void:
	var script := _position_watcher()
	var node := Node2D.new()
	node.set_script(script)
	add_child(node)
	LuaRuntime.set_var("v", node)
	LuaRuntime.exec("v.position = Vector2(7, 8)")
	check_eq(node.get("seen"), [Vector2(7, 8)], "the script's _set ran")
	check_eq(node.position, Vector2(7, 8), "and the position changed")
	node.queue_free()


## The fast path asks a node for its script at every access: a script attached after Lua
## moved the node sees the next access, and once it is taken off the node is moved again
## without it.
func test_a_script_attached_later_sees_every_access_from_then_on() -> void:
	var script := _position_watcher()
	var node := _node2d()
	LuaRuntime.exec("for i = 1, 300 do v.position = Vector2(i, 0) end")
	node.set_script(script)
	LuaRuntime.exec("for i = 1, 300 do v.position = Vector2(i, 1) end")
	check_eq(node.get("seen").size(), 300, "the script's _set saw every write once attached")
	check_eq(node.position, Vector2(300, 1), "and the node moved")
	node.set_script(null)
	LuaRuntime.exec("for i = 1, 300 do v.position = v.position + Vector2(0, 1) end")
	check_eq(node.position, Vector2(300, 301), "moved again once the script is gone")
	node.queue_free()


func test_a_script_attached_in_the_middle_of_a_loop_sees_the_rest() -> void:
	# The fast path remembers that an object has no script until the object says its script
	# changed: a script attached by engine code the loop itself calls must see the writes
	# after it, and a script taken off must stop seeing them.
	var script := _position_watcher()
	var node := _node2d()
	LuaRuntime.set_var("attach", func() -> void: node.set_script(script))
	LuaRuntime.set_var("detach", func() -> void: node.set_script(null))
	LuaRuntime.exec("""
		for i = 1, 300 do
			v.position = Vector2(i, 0)
			if i == 100 then attach:call() end
		end""")
	check_eq(node.get("seen").size(), 200, "the script's _set saw the 200 writes after it came")
	check_eq(node.position, Vector2(300, 0), "and the node moved")
	var seen: Array = node.get("seen")
	LuaRuntime.exec("""
		for i = 1, 300 do
			if i == 100 then detach:call() end
			v.position = Vector2(i, 2)
		end""")
	check_eq(seen.size(), 299, "the script saw the writes before it left, none after")
	check_eq(node.position, Vector2(300, 2), "and the node moved on")
	LuaRuntime.set_var("attach", null)
	LuaRuntime.set_var("detach", null)
	node.queue_free()


func test_a_node_lua_moves_often_is_followed_only_while_lua_holds_it() -> void:
	# The fast path follows `script_changed` of the objects it touches often, instead of
	# asking each time, and lets go of the connection once Lua no longer holds the object.
	var node := _node2d()
	LuaRuntime.exec("v.position = Vector2(1, 1)")
	check_eq(node.script_changed.get_connections().size(), 0, "touched once: not followed")
	LuaRuntime.exec("for i = 1, 50 do v.position = Vector2(i, 0) end")
	check_eq(node.script_changed.get_connections().size(), 1, "touched often: followed")
	LuaRuntime.set_var("v", null)
	LuaRuntime.collect_garbage()
	LuaRuntime.collect_garbage()
	check_eq(node.script_changed.get_connections().size(), 0, "let go with Lua's last hold on it")
	check_eq(node.position, Vector2(50, 0), "and it moved")
	node.queue_free()


func test_setters_that_emit_signals_run_lua_handlers() -> void:
	# `visible` emits `visibility_changed` and a Control's `position` emits
	# `item_rect_changed` at once: these writes take the general path, so the Lua handler
	# runs inside the write safely.
	var node := _node2d()
	var control := Control.new()
	add_child(control)
	LuaRuntime.set_var("c", control)
	LuaRuntime.exec("""
		heard = 0
		v.visibility_changed:connect(function() heard = heard + 1 end)
		c.item_rect_changed:connect(function() heard = heard + 10 end)
		for i = 1, 100 do v.visible = (i % 2 == 0) end
		for i = 1, 100 do c.position = Vector2(i, 0) end
	""")
	check_eq(LuaRuntime.eval("return heard"), 1100, "every handler ran")
	check_eq(control.position, Vector2(100, 0), "the control moved")
	LuaRuntime.set_var("c", null)
	control.queue_free()
	node.queue_free()


func test_methods_give_what_the_general_path_gives() -> void:
	# `const` methods and the transform methods of Node2D and Node3D are called through the
	# FFI; each answers as the engine does, whether the call site is compiled or not.
	var node := _node2d()
	node.position = Vector2(3, 4)
	node.add_child(Node.new())
	node.add_child(Node.new())
	node.add_child(Node.new(), false, Node.INTERNAL_MODE_FRONT)
	check_eq(LuaRuntime.eval("return v:get_child_count()"), 2, "a default argument left out")
	check_eq(LuaRuntime.eval("return v:get_child_count(true)"), 3, "a bool argument")
	check_eq(LuaRuntime.eval("return v:is_inside_tree()"), true, "a bool result")
	check_eq(LuaRuntime.eval("return v:to_global(Vector2(1, 2))"), node.to_global(Vector2(1, 2)),
		"a Vector2 argument and result")
	check_eq(LuaRuntime.eval("local s = 0 for i = 1, 300 do s = s + v:get_child_count() end return s"),
		600, "300 calls in a loop the compiler takes")
	check_eq(LuaRuntime.eval("return select('#', v:rotate(0.5))"), 1,
		"a method that returns nothing gives nil, as on the general path")
	check(absf(node.rotation - 0.5) < 1e-6, "rotate() turned the node (%f)" % node.rotation)
	LuaRuntime.exec("for i = 1, 300 do v:translate(Vector2(1, 0)) end")
	check_eq(node.position, Vector2(303, 4), "300 translate() calls moved it")
	var body := _node3d()
	LuaRuntime.exec("w:rotate_y(0.25); w:translate(Vector3(1, 2, 3))")
	check(absf(body.rotation.y - 0.25) < 1e-6, "Node3D.rotate_y() (%s)" % body.rotation)
	check(body.position.distance_to(Basis(Vector3.UP, 0.25) * Vector3(1, 2, 3)) < 1e-5,
		"Node3D.translate() moves along the node's own axes (%s)" % body.position)
	var shape := RefCounted.new()
	LuaRuntime.set_var("r", shape)
	check_eq(LuaRuntime.eval("return r:get_instance_id()"), shape.get_instance_id(),
		"an int too large for a Lua number still arrives whole")
	LuaRuntime.set_var("r", null)
	LuaRuntime.set_var("w", null)
	body.queue_free()
	node.queue_free()


func test_string_arguments_reach_stringname_parameters() -> void:
	# Input's action queries take StringNames: Lua strings are passed as interned names.
	Input.action_press("ui_right", 0.75)
	check_eq(LuaRuntime.eval("return Input:is_action_pressed('ui_right')"), true, "pressed")
	check_eq(LuaRuntime.eval("return Input:is_action_pressed('ui_left')"), false, "not pressed")
	check_eq(LuaRuntime.eval("return Input:get_action_strength('ui_right')"), 0.75, "strength")
	check_eq(LuaRuntime.eval("return Input:get_vector('ui_left', 'ui_right', 'ui_up', 'ui_down')"),
		Input.get_vector("ui_left", "ui_right", "ui_up", "ui_down"), "four StringNames in")
	check_eq(LuaRuntime.eval(
		"local n = 0 for i = 1, 300 do if Input:is_action_pressed('ui_right') then n = n + 1 end end return n"),
		300, "300 calls in a loop the compiler takes")
	Input.action_release("ui_right")
	check_eq(LuaRuntime.eval("return Input:is_action_pressed('ui_right')"), false, "released")
	check_lua_error("Input:is_action_pressed(5)",
		"Input.is_action_pressed(): argument #1: expected StringName, got number")


func test_method_results_used_in_a_loop_make_no_garbage() -> void:
	if LuaRuntime.eval("return jit ~= nil") != true:
		return # Lua 5.4 has no FFI: every call takes the general path.
	var node := _node2d()
	var per_call := _garbage_per_iteration("""
		local p = Vector2(1, 2)
		local function run(n) local s = 0 for i = 1, 1000 do s = s + n:to_global(p).x end return s end
	""")
	check(per_call < 8, "a call allocates nothing once compiled (%.1f bytes a call; %s)" % [
		per_call, _jit_note()])
	node.queue_free()


func test_wrong_method_calls_give_the_general_paths_errors() -> void:
	var node := _node2d()
	check_lua_error("v:rotate('a')", "Node2D.rotate(): argument #1: expected float, got string")
	check_lua_error("v:get_child_count(1, 2, 3)",
		"Node2D.get_child_count(): expected 0 to 1 arguments, got 3")
	check_lua_error("v:to_global()", "Node2D.to_global(): expected 1 argument, got 0")
	check_eq(node.rotation, 0.0, "nothing was turned")
	LuaRuntime.exec("f = v.get_child_count")
	node.free()
	check_lua_error("return v:get_child_count()", "attempt to use a freed object")
	check_lua_error("v:rotate(1)", "attempt to use a freed object")
	check_lua_error("local n = f(v) return n", "attempt to use a freed object")
	check_eq(errors[-1]["line"], _error_line + 1, "the error names the caller's line")
	LuaRuntime.exec("f = nil")


func test_a_method_called_on_self_or_another_receiver_still_works() -> void:
	# The function `obj.method` gives is not tied to `obj`: called on any receiver, it
	# makes the call there, as the general path's does.
	var a := _node2d()
	var b := Node2D.new()
	add_child(b)
	b.add_child(Node.new())
	LuaRuntime.set_var("b", b)
	check_eq(LuaRuntime.eval("local count = v.get_child_count return count(b)"), 1,
		"another object of the class")
	var c := Control.new()
	add_child(c)
	LuaRuntime.set_var("c", c)
	check_eq(LuaRuntime.eval("local count = v.get_child_count return count(c)"), 0,
		"an object of another class")
	LuaRuntime.set_var("b", null)
	LuaRuntime.set_var("c", null)
	a.queue_free()
	b.queue_free()
	c.queue_free()


func test_the_engine_calling_back_into_lua_during_a_fast_call_is_refused() -> void:
	# A const engine method can reach a GDScript (a container asks its children's
	# `_get_minimum_size`). Lua cannot be entered while compiled Lua code waits on that
	# call: the callback is refused with an error, and the call itself completes.
	if LuaRuntime.eval("return jit ~= nil") != true:
		return # Lua 5.4: the general path, where a callback runs normally.
	var script := GDScript.new()
	script.source_code = """extends Control
func _get_minimum_size() -> Vector2:
	LuaRuntime.exec("called_back = true")
	return Vector2(5, 7)
"""
	script.reload()
	var box := VBoxContainer.new()
	var child := Control.new()
	child.set_script(script)
	box.add_child(child)
	add_child(box)
	LuaRuntime.set_var("box", box)
	LuaRuntime.exec("called_back = false")
	check_eq(LuaRuntime.eval("return box:get_combined_minimum_size()"), Vector2(5, 7),
		"the call completed with the child's answer")
	check_eq(LuaRuntime.eval("return called_back"), false, "the callback into Lua was refused")
	LuaRuntime.set_var("box", null)
	box.queue_free()


func test_engine_methods_are_found_by_their_signature() -> void:
	# The fast path finds each method's bind by the hash of its signature; a hash the engine
	# does not know makes it report an error. Every const method of these classes that takes
	# no arguments (or only defaulted ones) and returns a number, bool, vector or color is
	# called from Lua: none may be refused, and each answers what GDScript's call does.
	var log := EngineErrorLog.new()
	OS.add_logger(log)
	var checked := 0
	var objects: Array[Object] = [Node2D.new(), Node3D.new(), Sprite2D.new(), Camera2D.new(),
		Control.new(), Label.new(), Timer.new(), CharacterBody2D.new(), MeshInstance3D.new(),
		AnimationPlayer.new(), Resource.new(), Curve.new()]
	for object in objects:
		if object is Node:
			add_child(object)
		LuaRuntime.set_var("o", object)
		for info in ClassDB.class_get_method_list(object.get_class()):
			if not _fast_and_argumentless(info):
				continue
			var name: String = info["name"]
			var before := log.reports.size()
			var expected: Variant = object.call(name)
			if log.reports.size() > before:
				continue # The method reports an error of its own in this state.
			var got: Variant = LuaRuntime.eval("return o:%s()" % name)
			check(log.reports.size() == before,
				"%s.%s() called from Lua without an engine error (%s)" % [
					object.get_class(), name, log.reports.slice(before)])
			check(_same_number(got, expected), "%s.%s(): Lua %s, GDScript %s" % [
				object.get_class(), name, got, expected])
			checked += 1
		LuaRuntime.set_var("o", null)
		if object is Node:
			object.queue_free()
	OS.remove_logger(log)
	check(checked > 300, "many methods checked (%d)" % checked)


func _fast_and_argumentless(info: Dictionary) -> bool:
	var flags: int = info["flags"]
	if flags & METHOD_FLAG_CONST == 0 or flags & (METHOD_FLAG_VIRTUAL | METHOD_FLAG_VARARG) != 0:
		return false
	if info["args"].size() != info["default_args"].size():
		return false
	return info["return"]["type"] in [TYPE_BOOL, TYPE_INT, TYPE_FLOAT, TYPE_VECTOR2,
		TYPE_VECTOR3, TYPE_COLOR]


func _same_number(a: Variant, b: Variant) -> bool:
	if typeof(a) in [TYPE_INT, TYPE_FLOAT] and typeof(b) in [TYPE_INT, TYPE_FLOAT]:
		return is_equal_approx(float(a), float(b)) or a == b
	return a == b


## LuaJIT compiles a runtime function that code it does not compile calls often (here: reads,
## writes and a method call, each with a name never used before) as a trace of its own, and a
## loop compiled later takes that function into its own trace only if that trace returns to
## the interpreter at its end. Interning a new name used to be a C function called from inside
## `__index`, which ended the function's trace in a stitch: from then on, in the whole process,
## every loop reading a property was split at the read and made its vectors for real (336 bytes
## a move). Switching the compiler off and on drops every compiled trace, so that the names
## below are what the runtime's functions are compiled on.
func test_reading_new_names_first_keeps_later_loops_whole() -> void:
	if LuaRuntime.eval("return jit ~= nil") != true:
		return
	var node := _node2d()
	ProjectSettings.set_setting(JIT, false)
	await frames(2)
	ProjectSettings.set_setting(JIT, true)
	await frames(2)
	check_eq(LuaRuntime.get_stats()["lua"]["jit"]["enabled"], true, "the compiler is back on")
	LuaRuntime.exec("""
		for i = 1, 400 do
			local name = "never_seen_" .. i
			pcall(function() local never_compiled = function() end; return v[name] end)
			pcall(function() local never_compiled = function() end; v[name] = 1 end)
			pcall(function() local never_compiled = function() end; return v:is_in_group(name) end)
		end
	""")
	var per_move := _garbage_per_iteration(MOVE)
	check(per_move < 8, "a move allocates nothing once compiled (%.1f bytes a move; %s)" % [
		per_move, _jit_note()])
	var per_call := _garbage_per_iteration("""
		local step = Vector2(1, 2)
		local function run(n)
			local s = 0
			for i = 1, 1000 do s = s + n:to_local(step).x end
			return s
		end
	""")
	check(per_call < 8, "nor does a method call with an argument (%.1f bytes a call; %s)" % [
		per_call, _jit_note()])
	node.queue_free()

