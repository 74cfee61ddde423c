extends SceneTree
## Cached queries against asking the SceneTree, in one run: 100 LuaScriptNodes each ask for
## the group "enemies" (1,000 nodes) every frame while 1% of the tree changes per frame
## (5 enemies freed, 5 added). Each mode runs the same frames; the time measured is the
## scripts' `_process` calls per frame (a marker node before them and one after), median of
## the frames. Modes: walk the answer with ipairs, or only take its length; the cached ones
## also with `lua_runtime/queries/check_group_members` off (`_size_check`). Prints `BENCH`
## lines with microseconds per frame and the ratio.

const ENEMIES := 1000
const SCRIPTS := 100
const CHANGES := 5
const WARMUP := 20
const FRAMES := 200

var world: Node2D
var scripts: Node
var serial := 0
var started := 0
var samples: Array[float] = []


class Marker extends Node:
	var on_process: Callable

	func _process(_delta: float) -> void:
		on_process.call()


func _initialize() -> void:
	world = Node2D.new()
	root.add_child(world)
	for i in ENEMIES:
		_spawn()
	print("BENCH queries enemies=%d scripts=%d changes_per_frame=%d frames=%d flavour=%s" % [
		ENEMIES, SCRIPTS, CHANGES * 2, FRAMES, LuaRuntime.get_stats()["lua"]["flavour"]])
	_run_all.call_deferred()


func _spawn() -> void:
	var enemy := Node2D.new()
	serial += 1
	enemy.name = "Enemy%d" % serial
	enemy.add_to_group("enemies")
	world.add_child(enemy)


func _run_all() -> void:
	var results := {}
	for mode in ["uncached", "cached", "cached_size_check", "uncached_count", "cached_count", "cached_count_size_check"]:
		results[mode] = await _run(mode)
	for pair in [["cached", "uncached"], ["cached_size_check", "uncached"],
			["cached_count", "uncached_count"], ["cached_count_size_check", "uncached_count"]]:
		var fast: Dictionary = results[pair[0]]
		var slow: Dictionary = results[pair[1]]
		print("BENCH %s frame_us=%.1f %s_frame_us=%.1f speedup=%.1fx per_call_us=%.2f uncached_per_call_us=%.2f" % [
			pair[0], fast["frame_us"], pair[1], slow["frame_us"], slow["frame_us"] / fast["frame_us"],
			fast["frame_us"] / SCRIPTS, slow["frame_us"] / SCRIPTS])
	var stats: Dictionary = LuaRuntime.get_stats()["queries"]
	print("BENCH query_stats queries=%d hits=%d hit_rate=%.3f invalidations=%d" % [
		stats["queries"], stats["hits"], stats["hit_rate"], stats["invalidations"]])
	quit()


## Runs `mode` for WARMUP + FRAMES frames; the median frame time of its scripts.
func _run(mode: String) -> Dictionary:
	var size_check := mode.ends_with("_size_check")
	ProjectSettings.set_setting("lua_runtime/queries/check_group_members", not size_check)
	await process_frame
	scripts = Node.new()
	root.add_child(scripts)
	var before := Marker.new()
	before.process_priority = -1000
	before.on_process = func() -> void:
		for i in CHANGES:
			world.get_child(0).free()
			_spawn()
		started = Time.get_ticks_usec()
	scripts.add_child(before)
	var nodes: Array[LuaScriptNode] = []
	for i in SCRIPTS:
		var node := LuaScriptNode.new()
		node.script_path = "res://queries/%s.lua" % mode.trim_suffix("_size_check")
		scripts.add_child(node)
		nodes.append(node)
	var after := Marker.new()
	after.process_priority = 1000
	after.on_process = func() -> void:
		samples.append(Time.get_ticks_usec() - started)
	scripts.add_child(after)
	samples.clear()
	for i in WARMUP + FRAMES:
		await process_frame
	var frames := samples.slice(WARMUP)
	frames.sort()
	for node in nodes:
		if node.lua_get("seen") != ENEMIES:
			printerr("BENCH-ERROR %s saw %s enemies, not %d" % [mode, node.lua_get("seen"), ENEMIES])
	scripts.free()
	return {"frame_us": frames[frames.size() / 2]}
