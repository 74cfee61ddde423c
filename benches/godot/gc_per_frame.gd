extends SceneTree
## Bytes the Lua collector gets per frame, in one run, for two workloads, with pooled values on
## and off and the heap cap on and off:
## - demo: 240 sprites moved by the demo's own bouncer.lua (res://demo is the demo's scripts);
## - objects: 240 nodes whose script gets engine objects every frame (gc/objects.lua).
## The figure is `get_stats().gc.allocated_last_frame` (with collection paced by frames, the
## bytes allocated in the frame), the mean of FRAMES frames after WARMUP.
## Prints `BENCH` lines.

const NODES := 240
const WARMUP := 30
const FRAMES := 300
const POOL := "lua_runtime/performance/pool_values"
const CAP := "lua_runtime/limits/memory_mb"


func _initialize() -> void:
	_start.call_deferred()


func _start() -> void:
	await process_frame
	print("BENCH gc_per_frame nodes=%d frames=%d flavour=%s" % [
		NODES, FRAMES, LuaRuntime.get_stats()["lua"]["flavour"]])
	for workload in ["demo", "objects"]:
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
		lua.script_path = "res://demo/bouncer.lua" if workload == "demo" else "res://gc/objects.lua"
		sprite.add_child(lua)
		world.add_child(sprite)
	var total := 0.0
	for frame in WARMUP + FRAMES:
		await process_frame
		if frame >= WARMUP:
			total += LuaRuntime.get_stats()["gc"]["allocated_last_frame"]
	world.free()
	return total / FRAMES
