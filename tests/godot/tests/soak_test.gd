extends TestCase
## A short soak: 5,000 frames of scripts doing what games do, reloaded every 100 frames. After
## warm-up the Lua heap (after a full collection) and the engine's objects must stay flat.

const SOAK := "res://scripts/soak.lua"
const UTIL := "res://scripts/lib/util.lua"
const GRACE := "lua_runtime/memory/unload_unused_after_s"
const NODES := 20
const FRAMES := 5000
const WARM_UP := 1000
const RELOAD_EVERY := 100


func _measure() -> Dictionary:
	LuaRuntime.collect_garbage()
	LuaRuntime.collect_garbage()
	var stats: Dictionary = LuaRuntime.get_stats()
	return {
		"heap": int(stats["lua"]["memory_bytes"]),
		"objects": int(Performance.get_monitor(Performance.OBJECT_COUNT)),
		"subscriptions": int(stats["events"]["subscriptions"]),
		"waiting": int(stats["tasks"]["waiting"]),
		"instances": int(stats["scripts"]["instances"]),
		"names": int(stats["names"]["interned"]),
	}


func test_heap_and_objects_stay_flat_over_5000_frames_with_reloads() -> void:
	# Scripts of earlier tests unloading mid-run would shrink the heap: keep them.
	ProjectSettings.set_setting(GRACE, 0.0)
	var host := Node2D.new()
	host.add_to_group("soak")
	add_child(host)
	var nodes: Array[LuaScriptNode] = []
	for i in NODES:
		nodes.append(add_lua(SOAK, host))
	var warm := {}
	var curve: Array[int] = []
	for frame in range(1, FRAMES + 1):
		await get_tree().process_frame
		if frame % RELOAD_EVERY == 0:
			check_eq(LuaRuntime.reload_script(UTIL), OK, "reload at frame %d" % frame)
		if frame == WARM_UP + 1:
			warm = _measure()
		if frame % 1000 == 1:
			curve.append(_measure()["heap"])
	var done := _measure()
	print("    soak: heap every 1,000 frames %s; warm-up %s, after %d frames %s" % [curve, warm, FRAMES, done])
	var drift := absf(done["heap"] - warm["heap"]) / float(warm["heap"])
	check(drift <= 0.02, "the Lua heap stays within 2%% of its warm-up value (%d -> %d bytes, %.2f %%)" % [warm["heap"], done["heap"], drift * 100.0])
	for key in ["objects", "subscriptions", "waiting", "instances", "names"]:
		check_eq(done[key], warm[key], "no %s leak" % key)
	var first := nodes[0]
	check(int(first.lua_get("frames")) >= FRAMES - 2, "the scripts ran every frame")
	check_eq(first.lua_get("reloads"), FRAMES / RELOAD_EVERY, "reloaded every %d frames, state kept" % RELOAD_EVERY)
	check_eq(first.lua_get("pings"), int(first.lua_get("frames")) * NODES, "every event reached every node")
	check(int(first.lua_get("awaited")) >= FRAMES / 50 - 1, "awaits resumed")
	check_eq(first.lua_get("found"), 1, "queries answered")
	check_eq(errors.size(), 0, "no script errors: %s" % [errors])
	host.queue_free()
	ProjectSettings.set_setting(GRACE, 30.0)
	await frames(2)
