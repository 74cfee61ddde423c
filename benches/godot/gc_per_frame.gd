extends SceneTree
## Bytes the Lua collector gets per frame, in one run, for three workloads, with pooled values
## on and off and the heap cap on and off:
## - demo: the demo scene's scripts as godot-project/main.tscn runs them (res://demo is the
##   demo's scripts): 240 sprites moved by bouncer.lua, the player, the mission's triggers,
##   and the script that fails every frame to show error reporting;
## - demo_no_error: the same without the failing script;
## - objects: 240 nodes whose script gets engine objects every frame (gc/objects.lua).
## The figure is `get_stats().gc.allocated_last_frame` (with collection paced by frames, the
## bytes allocated in the frame), the mean of FRAMES frames after WARMUP.
## Prints `BENCH` lines.

const NODES := 240
## Long enough for the demo's failing script to start failing (after a second).
const WARMUP := 200
const FRAMES := 300
const POOL := "lua_runtime/performance/pool_values"
const CAP := "lua_runtime/limits/memory_mb"


func _initialize() -> void:
	_start.call_deferred()


func _start() -> void:
	await process_frame
	print("BENCH gc_per_frame nodes=%d frames=%d flavour=%s" % [
		NODES, FRAMES, LuaRuntime.get_stats()["lua"]["flavour"]])
	for workload in ["demo", "demo_no_error", "objects"]:
		var figures := {}
		for cap in [1024, 0]:
			for pool in [true, false]:
				figures["%d/%s" % [cap, pool]] = await _run(workload, cap, pool)
		var base: float = figures["1024/false"]
		for key in figures:
			var cap_pool: PackedStringArray = key.split("/")
			print("BENCH %s cap=%s pool=%s bytes_per_frame=%.0f bytes_per_node=%.0f vs_cap_on_pool_off=%.2f" % [
				workload, "on" if cap_pool[0] != "0" else "off", cap_pool[1],
				figures[key], figures[key] / NODES, figures[key] / base])
	quit()


func _run(workload: String, cap: int, pool: bool) -> float:
	ProjectSettings.set_setting(CAP, cap)
	ProjectSettings.set_setting(POOL, pool)
	await process_frame
	await process_frame
	var world := Node2D.new()
	root.add_child(world)
	for i in NODES:
		var sprite := Sprite2D.new()
		sprite.position = Vector2(100 + i, 300)
		var lua := LuaScriptNode.new()
		lua.script_path = "res://gc/objects.lua" if workload == "objects" else "res://demo/bouncer.lua"
		sprite.add_child(lua)
		world.add_child(sprite)
	if workload != "objects":
		_add_demo_scripts(world, workload == "demo")
	var total := 0.0
	for frame in WARMUP + FRAMES:
		await process_frame
		if frame >= WARMUP:
			total += LuaRuntime.get_stats()["gc"]["allocated_last_frame"]
	world.free()
	return total / FRAMES


## The rest of godot-project/main.tscn: the player, the beacon, the mission and (if asked) the
## failing script, named and placed as there, so the mission's triggers read what they read
## in the demo.
func _add_demo_scripts(world: Node2D, failing: bool) -> void:
	var player := Sprite2D.new()
	player.name = "Player"
	player.position = Vector2(576, 324)
	world.add_child(player)
	_add_script(player, "player", 0)
	var beacon := Sprite2D.new()
	beacon.name = "BeaconEast"
	beacon.position = Vector2(700, 324)
	world.add_child(beacon)
	_add_script(world, "mission", 0)
	if failing:
		var broken := Node.new()
		world.add_child(broken)
		_add_script(broken, "broken", 10)


func _add_script(parent: Node, script: String, order: int) -> void:
	var lua := LuaScriptNode.new()
	lua.script_path = "res://demo/%s.lua" % script
	lua.execution_order = order
	parent.add_child(lua)
