extends SceneTree
## The long soak: NODES LuaScriptNodes run soak/soak.lua, the soak test's script (garbage,
## builtin maths, events, a child node made and freed, a signal handled in Lua, an await, a
## query, a library) for FRAMES frames, and the library is reloaded every RELOAD_EVERY frames (so every node
## reloads too). Every SAMPLE_EVERY frames: the Lua heap after a full collection, the
## engine's object count and the collector's figures. Prints `BENCH` lines: the heap curve
## and its drift after warm-up.
##
## Arguments after `--`: `--frames=100000` (default), `--nodes=20`.

var frames := 100000
var nodes := 20
const RELOAD_EVERY := 100
const SAMPLE_EVERY := 5000
const WARM_UP := 1000


func _initialize() -> void:
	_start.call_deferred()


func _start() -> void:
	for arg in OS.get_cmdline_user_args():
		if arg.begins_with("--frames="):
			frames = int(arg.trim_prefix("--frames="))
		elif arg.begins_with("--nodes="):
			nodes = int(arg.trim_prefix("--nodes="))
	var host := Node2D.new()
	host.add_to_group("soak")
	root.add_child(host)
	for i in nodes:
		var node := LuaScriptNode.new()
		node.script_path = "res://soak/soak.lua"
		host.add_child(node)
	print("BENCH soak frames=%d nodes=%d reload_every=%d flavour=%s gc_frame_budget_us=%d" % [
		frames, nodes, RELOAD_EVERY, LuaRuntime.get_stats()["lua"]["flavour"],
		LuaRuntime.get_stats()["gc"]["frame_budget_us"]])
	var started := Time.get_ticks_msec()
	var warm := 0
	var allocated := 0
	var step_us := 0
	for frame in range(1, frames + 1):
		await process_frame
		var gc: Dictionary = LuaRuntime.get_stats()["gc"] if frame % 100 == 50 else {}
		if not gc.is_empty():
			allocated += int(gc["allocated_last_frame"])
			step_us += int(gc["step_us_last"])
		if frame % RELOAD_EVERY == 0 and LuaRuntime.reload_script("res://scripts/lib/util.lua") != OK:
			printerr("BENCH-ERROR reload failed at frame %d" % frame)
		if frame == WARM_UP + 1 or frame % SAMPLE_EVERY == 1:
			LuaRuntime.collect_garbage()
			LuaRuntime.collect_garbage()
			var stats: Dictionary = LuaRuntime.get_stats()
			var heap: int = stats["lua"]["memory_bytes"]
			if frame == WARM_UP + 1:
				warm = heap
			print("BENCH soak-sample frame=%d heap_bytes=%d objects=%d gc_cycles=%d overruns=%d step_us_max=%d elapsed_s=%.1f" % [
				frame, heap, Performance.get_monitor(Performance.OBJECT_COUNT),
				stats["gc"]["cycles"], stats["gc"]["overruns"], stats["gc"]["step_us_max"],
				(Time.get_ticks_msec() - started) / 1000.0])
	LuaRuntime.collect_garbage()
	LuaRuntime.collect_garbage()
	var stats: Dictionary = LuaRuntime.get_stats()
	var heap: int = stats["lua"]["memory_bytes"]
	var samples := frames / 100
	print("BENCH soak-end frames=%d heap_bytes=%d warm_up_heap_bytes=%d drift=%.2f%% reloads=%d errors=%d allocated_per_frame=%d gc_step_us_mean=%.1f" % [
		frames, heap, warm, (heap - warm) * 100.0 / warm, stats["reload"]["reloads"],
		stats["errors"]["reported"], allocated / max(samples, 1), step_us / float(max(samples, 1))])
	quit()
