extends SceneTree
## The per-frame path, Lua against GDScript in one run: N Node2D moved each frame by a
## LuaScriptNode child running per_frame/mover.lua, then N Node2D moved by per_frame/mover.gd
## attached to each; the same with an empty `_process` (pure call overhead). The time measured
## is the scripts' `_process` calls of a frame (a marker node runs before them and one after),
## median of the frames. Then the memory one LuaScriptNode costs at 10,000 nodes.
##
## Arguments after `--`: `--sizes=1000,10000` to pick N, `--kinds=mover` to pick the scripts,
## `--frames=600` to measure longer (for a profiler), `--unbatched` to turn batching off,
## `--budget-ms=0` to set the time budget (`lua_runtime/limits/callback_budget_ms`; 0: none),
## `--gc-budget-us=0` the collector's frame budget (`lua_runtime/performance/gc_frame_budget_us`),
## `--memory-only` to measure only the memory (in a fresh process, before any run),
## `--lua-only` to skip the GDScript runs (for a profiler), `--rounds=3` how many times Lua
## and GDScript alternate (the ratio printed is the median of the rounds'), `--side-by-side`
## to run the side-by-side measure below instead of the rounds.
## Prints `BENCH` lines with microseconds per node per frame and the Lua/GDScript ratio.
##
## Side by side (`BENCH-SIDE` lines): the N Lua nodes and the N GDScript nodes in one scene,
## timed separately within each frame (each group between two markers), the ratio taken frame
## by frame. The machine's speed drifts over seconds, by up to 2x; two measures a few
## milliseconds apart see the same speed, where rounds a second apart may not. The groups
## swap places each round (which runs first), and the ratio printed is the median over all
## frames of all rounds. `benches/engine.sh per-frame` runs it in a process of its own: after
## the rounds' worlds of up to 50,000 nodes, the collector and the allocator are not where a
## game's would be.

const WARMUP := 10
var frames := 60
const MEMORY_NODES := 10000

var sizes: Array[int] = [1000, 10000, 50000]
var kinds: Array[String] = ["mover", "empty"]
var lua_only := false
var side_by_side_only := false
## Lua and GDScript run alternately this many times; the ratio reported is the median of
## the rounds' ratios (single runs on a busy 2-core machine move by up to 2x).
var rounds := 3
var started := 0
var samples: Array[float] = []
var elapsed := 0.0


class Marker extends Node:
	var on_process: Callable

	func _process(delta: float) -> void:
		on_process.call(delta)


func _initialize() -> void:
	_start.call_deferred()


func _start() -> void:
	for arg in OS.get_cmdline_user_args():
		if arg.begins_with("--sizes="):
			sizes.clear()
			for size in arg.trim_prefix("--sizes=").split(","):
				sizes.append(int(size))
		elif arg == "--unbatched":
			ProjectSettings.set_setting("lua_runtime/performance/batch_callbacks", false)
		elif arg.begins_with("--budget-ms="):
			ProjectSettings.set_setting("lua_runtime/limits/callback_budget_ms", int(arg.trim_prefix("--budget-ms=")))
		elif arg.begins_with("--gc-budget-us="):
			ProjectSettings.set_setting("lua_runtime/performance/gc_frame_budget_us", int(arg.trim_prefix("--gc-budget-us=")))
		elif arg.begins_with("--rounds="):
			rounds = maxi(1, int(arg.trim_prefix("--rounds=")))
		elif arg == "--memory-only":
			kinds.clear()
		elif arg == "--lua-only":
			lua_only = true
		elif arg == "--side-by-side":
			side_by_side_only = true
		elif arg.begins_with("--frames="):
			frames = int(arg.trim_prefix("--frames="))
		elif arg.begins_with("--kinds="):
			kinds.assign(arg.trim_prefix("--kinds=").split(","))
	await process_frame
	await process_frame
	print("BENCH per_frame sizes=%s kinds=%s frames=%d flavour=%s batched=%s budget_ms=%d" % [
		sizes, kinds, frames, LuaRuntime.get_stats()["lua"]["flavour"],
		LuaRuntime.get_stats()["frame"]["batching"],
		LuaRuntime.get_stats()["limits"]["callback_budget_ms"]])
	_run_all()


func _run_all() -> void:
	for kind in kinds:
		for size in sizes:
			if side_by_side_only:
				if not lua_only:
					await _side_by_side(kind, size)
				continue
			var lua_times: Array[float] = []
			var gd_times: Array[float] = []
			var ratios: Array[float] = []
			for round in rounds:
				var lua := await _run(kind, size, true)
				var gd := lua if lua_only else await _run(kind, size, false)
				lua_times.append(lua / size)
				gd_times.append(gd / size)
				ratios.append(lua / gd)
			ratios.sort()
			print("BENCH %s n=%d lua_us_per_node=%.3f gdscript_us_per_node=%.3f lua/gdscript=%.2fx rounds=%d ratio_range=%.2f-%.2fx" % [
				kind, size, _median(lua_times), _median(gd_times), _median(ratios), rounds,
				ratios[0], ratios[-1]])
	await _memory()
	quit()


## Lua and GDScript nodes in one scene, each group timed within every frame; the ratio of
## the two in a frame, median over the frames of `rounds` rounds (the groups swap places
## from one round to the next).
func _side_by_side(kind: String, size: int) -> void:
	var ratios: Array[float] = []
	var lua_times: Array[float] = []
	var gd_times: Array[float] = []
	for round in rounds:
		var lua_first := round % 2 == 0
		await process_frame
		var world := Node2D.new()
		root.add_child(world)
		var marks: Array[int] = [0, 0, 0]
		for at in 3:
			# Lua nodes run at priority 0 (their execution_order), GDScript nodes at 2 or -2.
			_marker(world, [-1000, 1 if lua_first else -1, 1000][at],
				func(_delta: float) -> void: marks[at] = Time.get_ticks_usec())
		var script: GDScript = load("res://per_frame/%s.gd" % kind)
		var movers: Array[Node2D] = []
		for i in size:
			var lua_mover := _mover(kind, true, script)
			world.add_child(lua_mover)
			var gd_mover := _mover(kind, false, script)
			gd_mover.process_priority = 2 if lua_first else -2
			world.add_child(gd_mover)
			movers.append_array([lua_mover, gd_mover])
		for i in WARMUP + frames:
			await process_frame
			if i < WARMUP:
				continue
			var first := float(marks[1] - marks[0])
			var second := float(marks[2] - marks[1])
			var lua := first if lua_first else second
			var gd := second if lua_first else first
			lua_times.append(lua / size)
			gd_times.append(gd / size)
			if gd > 0.0:
				ratios.append(lua / gd)
		var frame: Dictionary = LuaRuntime.get_stats()["frame"]
		print("BENCH-SIDE-FRAME %s n=%d lua_first=%s batched_nodes=%d lua_calls=%d lua_us=%.0f" % [
			kind, size, lua_first, frame["batched_nodes"], frame["lua_calls"], frame["lua_us"]])
		_check_same(kind, movers)
		world.free()
	ratios.sort()
	if _median(lua_times) == 0.0:
		printerr("BENCH-ERROR %s side by side: the Lua nodes ran outside their markers" % kind)
	print("BENCH-SIDE %s n=%d lua_us_per_node=%.3f gdscript_us_per_node=%.3f lua/gdscript=%.2fx frames=%d rounds=%d ratio_quartiles=%.2f-%.2fx" % [
		kind, size, _median(lua_times), _median(gd_times), _median(ratios), ratios.size(), rounds,
		ratios[ratios.size() / 4], ratios[ratios.size() * 3 / 4]])


## Side by side, both languages moved their nodes the same.
func _check_same(kind: String, movers: Array[Node2D]) -> void:
	for i in range(0, movers.size(), 2):
		var lua := movers[i].position
		var gd := movers[i + 1].position
		if kind == "mover" and (lua == Vector2.ZERO or not lua.is_equal_approx(gd)):
			printerr("BENCH-ERROR %s side by side: Lua moved to %s, GDScript to %s" % [kind, lua, gd])
			return


## A Marker in `parent` that calls `on_process` each frame at process priority `priority`.
func _marker(parent: Node, priority: int, on_process: Callable) -> Marker:
	var marker := Marker.new()
	marker.process_priority = priority
	marker.on_process = on_process
	parent.add_child(marker)
	return marker


## A Node2D moved by a LuaScriptNode child running `per_frame/<kind>.lua`, or by `script`.
func _mover(kind: String, lua: bool, script: GDScript) -> Node2D:
	var mover := Node2D.new()
	if lua:
		var node := LuaScriptNode.new()
		node.script_path = "res://per_frame/%s.lua" % kind
		mover.add_child(node)
	else:
		mover.set_script(script)
	return mover


func _median(values: Array[float]) -> float:
	var sorted := values.duplicate()
	sorted.sort()
	return sorted[sorted.size() / 2]


## Runs N scripts of `kind` for WARMUP + frames frames; the median time of their `_process`
## calls in one frame, in microseconds.
func _run(kind: String, size: int, lua: bool) -> float:
	await process_frame
	var world := Node2D.new()
	root.add_child(world)
	var before := _marker(world, -1000, func(delta: float) -> void:
		elapsed += delta
		started = Time.get_ticks_usec())
	var script: GDScript = load("res://per_frame/%s.gd" % kind)
	var movers: Array[Node2D] = []
	for i in size:
		var mover := _mover(kind, lua, script)
		world.add_child(mover)
		movers.append(mover)
	_marker(world, 1000, func(_delta: float) -> void: samples.append(Time.get_ticks_usec() - started))
	samples.clear()
	elapsed = 0.0
	for i in WARMUP + frames:
		await process_frame
	before.process_mode = Node.PROCESS_MODE_DISABLED
	if lua:
		var frame: Dictionary = LuaRuntime.get_stats()["frame"]
		var gc: Dictionary = LuaRuntime.get_stats()["gc"]
		print("BENCH-FRAME %s n=%d batched_nodes=%d lua_calls=%d lua_us=%.0f gc_budget_us=%d gc_cycles=%d overruns=%d allocated_last_frame=%d step_us_last=%d" % [
			kind, size, frame["batched_nodes"], frame["lua_calls"], frame["lua_us"],
			gc["frame_budget_us"], gc["cycles"], gc["overruns"], gc["allocated_last_frame"], gc["step_us_last"]])
	_check(kind, lua, movers)
	var frames := samples.slice(WARMUP)
	frames.sort()
	world.free()
	return frames[frames.size() / 2]


## Every node moved by velocity * the time that passed, in both languages.
func _check(kind: String, lua: bool, movers: Array[Node2D]) -> void:
	var expected := Vector2(10, 5) * elapsed if kind == "mover" else Vector2.ZERO
	for mover in movers:
		if not mover.position.is_equal_approx(expected) and mover.position.distance_to(expected) > 0.01:
			printerr("BENCH-ERROR %s (%s) moved to %s, expected %s" % [
				kind, "lua" if lua else "gdscript", mover.position, expected])
			return


## What one LuaScriptNode costs at 10,000 nodes, over a plain Node in its place: the Lua heap,
## the extension's own heap and Godot's (the node objects), after a full collection.
func _memory() -> void:
	var plain := await _footprint(false)
	var scripted := await _footprint(true)
	var per_node := {}
	for key in scripted:
		per_node[key] = (scripted[key] - plain[key]) / float(MEMORY_NODES)
	print("BENCH memory nodes=%d bytes_per_script_node=%.0f lua_heap=%.0f extension=%.0f godot=%.0f" % [
		MEMORY_NODES, per_node["lua"] + per_node["extension"] + per_node["godot"],
		per_node["lua"], per_node["extension"], per_node["godot"]])


func _footprint(lua: bool) -> Dictionary:
	var before := await _in_use()
	var world := Node2D.new()
	root.add_child(world)
	for i in MEMORY_NODES:
		var mover := Node2D.new()
		var child: Node
		if lua:
			child = LuaScriptNode.new()
			child.script_path = "res://per_frame/mover.lua"
		else:
			child = Node.new()
		mover.add_child(child)
		world.add_child(mover)
	for i in 5:
		await process_frame
	var after := await _in_use()
	world.free()
	await process_frame
	var used := {}
	for key in after:
		used[key] = after[key] - before[key]
	return used


## What is in use once things freed before have settled: a batch plan keeps the nodes it ran
## until a step runs without them, so a world freed this frame still holds Lua memory until
## the frame ends.
func _in_use() -> Dictionary:
	await process_frame
	await process_frame
	LuaRuntime.collect_garbage()
	await process_frame
	var lua: Dictionary = LuaRuntime.get_stats()["lua"]
	return {
		"lua": lua["memory_bytes"],
		"extension": lua["extension_bytes"],
		"godot": OS.get_static_memory_usage(),
	}
