extends TestCase
## Batched `_process`/`_physics_process` (nodes sharing a script run in one Lua call) against
## unbatched: the same calls in the same order, with mixed execution_order, nodes added and
## removed mid-frame and a failing node; and scenes with more nodes than LuaJIT has handle
## slots.

const EngineErrorLog := preload("res://engine_error_log.gd")

const SETTING := "lua_runtime/performance/batch_callbacks"
const FRAMES := 8


func after_each() -> void:
	ProjectSettings.set_setting(SETTING, true)
	LuaRuntime.exec("batch_log = nil")
	super()


## Builds the scene, runs FRAMES frames (and as many physics steps as Godot makes) with
## batching on or off, and returns what the scripts logged.
func _run_scene(batched: bool) -> Dictionary:
	ProjectSettings.set_setting(SETTING, batched)
	await frames(1)
	check_eq(LuaRuntime.get_stats()["frame"]["batching"], batched, "the setting applies while running")
	var parent := Node.new()
	add_child(parent)
	var layout := [
		["A1", "a", 0], ["A2", "a", 0], ["B1", "b", 0], ["A3", "a", 0], ["Bad", "a", 0],
		["A4", "a", 0], ["Editor", "editor", 0], ["B2", "b", 0], ["A5", "a", 0], ["A6", "a", 0],
		["Early1", "a", -1], ["Late1", "b", 3], ["Early2", "a", -1], ["Late2", "b", 3],
	]
	for entry in layout:
		var script := "res://scripts/batch_editor.lua" if entry[1] == "editor" else "res://scripts/batched_%s.lua" % entry[1]
		add_lua(script, parent, entry[2], entry[0])
	await frames(1)
	LuaRuntime.exec("batch_log = {}")
	var batched_nodes := 0
	for i in FRAMES:
		await frames(1)
		batched_nodes += int(LuaRuntime.get_stats()["frame"]["batched_nodes"])
	var log: Array = LuaRuntime.get_var("batch_log")
	LuaRuntime.exec("batch_log = nil")
	parent.free()
	var process := log.filter(func(line: String) -> bool: return not line.begins_with("p:"))
	var physics := log.filter(func(line: String) -> bool: return line.begins_with("p:"))
	return {"process": process, "physics": physics, "batched_nodes": batched_nodes}


## The distinct orders of the steps in a log: a step ends where a name comes again.
func _step_orders(log: Array) -> Array:
	var orders := []
	var step := []
	for line in log:
		if step.has(line):
			if not orders.has(step):
				orders.append(step)
			step = []
		step.append(line)
	if not step.is_empty() and not orders.has(step):
		orders.append(step)
	orders.sort()
	return orders


func test_batched_runs_the_same_calls_in_the_same_order_as_unbatched() -> void:
	var errors_before := errors_for("res://scripts/batched_a.lua").size()
	var batched: Dictionary = await _run_scene(true)
	var unbatched: Dictionary = await _run_scene(false)
	check(batched["batched_nodes"] > 0, "nodes ran in batches when batching is on")
	check_eq(unbatched["batched_nodes"], 0, "and none when it is off")
	check(batched["process"].size() > FRAMES * 10, "every node logged every frame")
	check_eq(batched["process"], unbatched["process"], "the same _process calls in the same order")
	# Physics steps per frame follow the clock, so the runs may differ in how many there were;
	# each step's order must be the same.
	check(not batched["physics"].is_empty(), "physics callbacks ran")
	check_eq(_step_orders(batched["physics"]), _step_orders(unbatched["physics"]), "the same _physics_process order in each step")
	var first_frame: Array = batched["process"].slice(0, batched["process"].find("e:1") + 1)
	check_eq(first_frame.slice(0, 3), ["a:Early1", "a:Early2", "a:A1"], "lower execution_order first, then tree order")
	check(batched["process"].has("a:New") and batched["process"].has("b:First"), "nodes added mid-frame run from the next frame")
	var after_removal: Array = batched["process"].slice(batched["process"].find("e:3") + 1)
	check(not after_removal.has("a:A5"), "a node removed mid-frame does not run after its removal")
	check(after_removal.has("a:A6"), "the node after it in the same batch still runs")
	check_eq(after_removal.count("a:Bad"), after_removal.count("a:A4"), "a failing node does not stop the ones after it")
	check(errors_for("res://scripts/batched_a.lua").size() > errors_before or _last_message().contains("bad node"),
		"the failure is reported against its script")


## `count` nodes named N0, N1, ... running batched_a.lua under `parent`, past their first
## frames.
func _logging_nodes(parent: Node, count: int) -> Array[LuaScriptNode]:
	var nodes: Array[LuaScriptNode] = []
	for i in count:
		nodes.append(add_lua("res://scripts/batched_a.lua", parent, 0, "N%d" % i))
	await frames(2)
	return nodes


## What the scripts log over the next frame.
func _next_frame_log() -> Array:
	LuaRuntime.exec("batch_log = {}")
	await frames(1)
	return LuaRuntime.get_var("batch_log")


func test_a_disabled_node_is_skipped_in_its_batch() -> void:
	var parent := Node.new()
	add_child(parent)
	var nodes: Array[LuaScriptNode] = await _logging_nodes(parent, 4)
	nodes[1].enabled = false
	nodes[2].set_process(false)
	check_eq(await _next_frame_log(), ["a:N0", "a:N3"], "disabled and non-processing nodes did not run")
	nodes[1].enabled = true
	nodes[2].set_process(true)
	await frames(2)
	check_eq(await _next_frame_log(), ["a:N0", "a:N1", "a:N2", "a:N3"], "back in their places once enabled")
	parent.free()


## Godot calls the runners, not each node: the first node of a batch can stop, pause, move
## or go, and the rest of its batch still runs, in tree order; the runners stay out of sight.
func test_the_first_node_of_a_batch_can_stop_pause_move_or_go() -> void:
	var parent := Node.new()
	add_child(parent)
	var nodes: Array[LuaScriptNode] = await _logging_nodes(parent, 5)
	check_eq(parent.get_child_count(), 5, "no runner shows among the children")
	check_eq(nodes[0].get_child_count(), 0, "nor under the first node")
	check(nodes[0].is_processing(), "each node reports processing as Godot would")
	nodes[0].set_process(false)
	check_eq(await _next_frame_log(), ["a:N1", "a:N2", "a:N3", "a:N4"], "the first node stopped, the rest ran")
	nodes[0].set_process(true)
	nodes[0].process_mode = Node.PROCESS_MODE_PAUSABLE
	nodes[2].process_mode = Node.PROCESS_MODE_ALWAYS
	get_tree().paused = true
	var paused: Array = await _next_frame_log()
	get_tree().paused = false
	check_eq(paused, ["a:N2"], "while the tree is paused only the node that always processes ran")
	parent.remove_child(nodes[3])
	parent.add_child(nodes[3])
	parent.move_child(nodes[3], 0)
	check_eq(await _next_frame_log(), ["a:N3", "a:N0", "a:N1", "a:N2", "a:N4"], "a node put back first in the tree runs first")
	nodes[3].free()
	check_eq(await _next_frame_log(), ["a:N0", "a:N1", "a:N2", "a:N4"], "the first node freed: the rest run")
	check_eq(await _next_frame_log(), ["a:N0", "a:N1", "a:N2", "a:N4"], "and so on")
	check_eq(int(LuaRuntime.get_stats()["frame"]["batched_nodes"]), 4, "in one batch")
	parent.free()


## A batch's first node freeing its own parent from `_process` frees it (and the node) at
## once, as any other node of the batch could: the runner Godot was calling for the batch
## steps out of the way first, quietly, and the rest of the batch goes on.
func test_the_first_node_of_a_batch_can_free_its_parent_from_process() -> void:
	var world := Node.new()
	add_child(world)
	var holders: Array[Node2D] = []
	for i in 4:
		var holder := Node2D.new()
		holder.name = "W%d" % i
		world.add_child(holder)
		add_lua("res://scripts/freer.lua", holder)
		holders.append(holder)
	await frames(2)
	var log := EngineErrorLog.new()
	OS.add_logger(log)
	var orphans := Performance.get_monitor(Performance.OBJECT_ORPHAN_NODE_COUNT)
	LuaRuntime.exec("freer_log = {}; free_from = 'W0'")
	await frames(1)
	check(not is_instance_valid(holders[0]), "the first node's parent is freed")
	check_eq(LuaRuntime.get_var("freer_log"), ["W0", "W1", "W2", "W3"], "the rest of its batch ran that frame")
	LuaRuntime.exec("freer_log = {}")
	await frames(2)
	check_eq(LuaRuntime.get_var("freer_log"), ["W1", "W2", "W3", "W1", "W2", "W3"], "and runs on")
	OS.remove_logger(log)
	check_eq(log.reports, [] as Array[String], "the engine reported nothing")
	check_eq(Performance.get_monitor(Performance.OBJECT_ORPHAN_NODE_COUNT), orphans, "nothing left out of the tree")
	LuaRuntime.exec("freer_log = nil")
	world.free()


## A LuaScriptNode whose own function is running cannot be freed from it, directly or with an
## ancestor, any more than Godot frees an object in the middle of a call: a script error
## says so and names `queue_free()`, and nothing is freed.
func test_a_node_running_its_own_function_is_not_freed_under_it() -> void:
	var holder := Node2D.new()
	holder.name = "Holder"
	add_child(holder)
	var node := add_lua("res://scripts/freer.lua", holder)
	await frames(1)
	var before := errors.size()
	check_eq(node.lua_call("free_parent", []), null, "the call failed")
	check(is_instance_valid(holder) and is_instance_valid(node), "nothing was freed")
	check(errors.size() > before and _last_message().contains(
		"cannot free `Holder` now: the LuaScriptNode `%s` inside it is running a Lua callback; use queue_free() instead" % node.name),
		"the error says why (got \"%s\")" % _last_message())
	check(errors.size() > before and errors[-1]["path"] == "res://scripts/freer.lua" and errors[-1]["line"] == 16,
		"at the script's line (got %s)" % [errors[-1] if errors.size() > before else null])
	holder.queue_free()
	await frames(1)
	check(not is_instance_valid(holder), "queue_free() frees it")


func test_thousands_of_nodes_each_holding_closures_events_and_waits() -> void:
	# LuaJIT allows about 8,000 handles on Lua values at once: the runtime must not hold one
	# per node, per connection or per waiting coroutine.
	var errors_before: int = LuaRuntime.get_stats()["errors"]["total"]
	# The first crowd sizes the runtime's tables for this many wrappers (weak tables keep the
	# slots of wrappers still being finalised), so the steady state is measured after it.
	var first: Dictionary = await _crowd(9000)
	check_eq(LuaRuntime.get_stats()["errors"]["total"], errors_before, "no errors")
	var second: Dictionary = await _crowd(9000)
	var third: Dictionary = await _crowd(9000)
	var grown: int = third["after"] - second["after"]
	check(grown < (second["running"] - second["after"]) / 10,
		"freed nodes' Lua memory is released: the heap after a third crowd is where the second left it (%s, %s, %s)" % [first, second, third])


## Runs `count` crowd nodes for a few frames, checks each of them, frees them; the Lua heap
## while they ran and after they went (full collections).
func _crowd(count: int) -> Dictionary:
	var parent := Node.new()
	add_child(parent)
	var nodes: Array[LuaScriptNode] = []
	for i in count:
		var holder := Node.new()
		var node := LuaScriptNode.new()
		node.script_path = "res://scripts/crowd.lua"
		holder.add_child(node)
		parent.add_child(holder)
		nodes.append(node)
	await frames(3)
	LuaRuntime.emit_event("crowd", [])
	nodes[0].get_parent().name = "Renamed0"
	nodes[count - 1].get_parent().name = "RenamedLast"
	var running := 0
	var waited := 0
	var heard := 0
	for node in nodes:
		running += int(node.is_running() and node.lua_get("frames") >= 1)
		waited += int(node.lua_get("waited") == true)
		heard += int(node.lua_get("heard"))
	check_eq(running, count, "every node runs its _process")
	check_eq(waited, count, "every node's await resumed")
	check_eq(heard, count + 20, "every event handler ran, and the two renamed nodes' signal handlers")
	LuaRuntime.collect_garbage()
	var heap_running: int = LuaRuntime.get_stats()["lua"]["memory_bytes"]
	parent.free()
	await frames(2)
	LuaRuntime.collect_garbage()
	return {"running": heap_running, "after": LuaRuntime.get_stats()["lua"]["memory_bytes"]}
