extends SceneTree
## Hot reload, engine side: 200 scripts running on 200 LuaScriptNodes, 100 reloads of one of
## them at a time, with frames capped at 60 fps as in a game. Latency is measured from just before the file write to the node running
## the new code (checked every frame), and as `script_reloaded` reports it (file event to new
## code active). Then the process's CPU time over 10 s of idle frames with the watcher on and
## off, and the watcher threads' own CPU time. Prints `BENCH key=value` lines.

const DIR := "res://generated/reload"
const SCRIPTS := 200
const RELOADS := 100
const IDLE_SEC := 10.0
## Linux's clock tick for /proc CPU times.
const TICKS_PER_SEC := 100.0

var nodes: Array[LuaScriptNode] = []
var reported: Array[float] = []


func _initialize() -> void:
	Engine.max_fps = 60
	DirAccess.make_dir_recursive_absolute(DIR)
	for i in SCRIPTS:
		_write(i, 0)
	var holder := Node.new()
	root.add_child(holder)
	for i in SCRIPTS:
		var node := LuaScriptNode.new()
		node.script_path = _path(i)
		holder.add_child(node)
		nodes.append(node)
	# Let the events of the initial writes arrive and be handled before measuring.
	await create_timer(0.5).timeout
	LuaRuntime.script_reloaded.connect(func(_path: String, msec: float) -> void: reported.append(msec))
	var latencies: Array[float] = []
	for k in RELOADS:
		var i := (k * 37) % SCRIPTS
		var started := Time.get_ticks_usec()
		_write(i, k + 1)
		while nodes[i].lua_call("version", []) != k + 1:
			await process_frame
			if Time.get_ticks_usec() - started > 5_000_000:
				printerr("reload %d never arrived" % k)
				quit(1)
				return
		latencies.append((Time.get_ticks_usec() - started) / 1000.0)
	print("BENCH reload scripts=%d reloads=%d write_to_running_p50_ms=%.1f write_to_running_p95_ms=%.1f event_to_active_p50_ms=%.1f event_to_active_p95_ms=%.1f reported=%d" % [
		SCRIPTS, RELOADS, _percentile(latencies, 0.5), _percentile(latencies, 0.95),
		_percentile(reported, 0.5), _percentile(reported, 0.95), reported.size()])
	var debounce: int = ProjectSettings.get_setting("lua_runtime/hot_reload/debounce_ms")
	print("BENCH reload debounce_ms=%d max_fps=%d" % [debounce, Engine.max_fps])

	var on := await _idle_cpu()
	LuaRuntime.set_hot_reload_enabled(false)
	var off := await _idle_cpu()
	print("BENCH idle seconds=%d process_cpu_ms_watcher_on=%d process_cpu_ms_watcher_off=%d watcher_threads=%d watcher_threads_cpu_ms=%d" % [
		IDLE_SEC, on[0], off[0], on[2], on[1]])
	quit()


func _path(i: int) -> String:
	return DIR.path_join("s%d.lua" % i)


## A script of about 100 lines whose `version` function returns `version`.
func _write(i: int, version: int) -> void:
	var text := "local M = {}\n"
	for j in 48:
		text += "function M.f%d(x)\n\treturn x * %d + %d\nend\n" % [j, j, i]
	text += "function M.version(self) return %d end\nreturn M\n" % version
	var file := FileAccess.open(_path(i), FileAccess.WRITE)
	file.store_string(text)
	file.close()


func _percentile(values: Array[float], fraction: float) -> float:
	if values.is_empty():
		return -1.0
	var sorted := values.duplicate()
	sorted.sort()
	return sorted[clampi(ceili(fraction * sorted.size()) - 1, 0, sorted.size() - 1)]


## [process CPU ms, watcher threads' CPU ms, watcher threads found] over IDLE_SEC seconds.
func _idle_cpu() -> Array[int]:
	var process_before := _cpu_ticks("/proc/self/stat")
	var threads_before := _watcher_ticks()
	await create_timer(IDLE_SEC).timeout
	var process_ticks := _cpu_ticks("/proc/self/stat") - process_before
	var thread_ticks := _watcher_ticks() - threads_before
	return [int(process_ticks * 1000.0 / TICKS_PER_SEC), int(thread_ticks * 1000.0 / TICKS_PER_SEC),
			_watcher_threads().size()]


## utime + stime of a /proc stat file, in clock ticks.
func _cpu_ticks(stat_path: String) -> int:
	var text := _first_line(stat_path)
	var fields := text.substr(text.rfind(")") + 2).split(" ")
	return int(fields[11]) + int(fields[12])


## CPU ticks of the hot reload threads (the debouncer and notify's event loop).
func _watcher_ticks() -> int:
	var total := 0
	for base in _watcher_threads():
		total += _cpu_ticks(base + "stat")
	return total


## The /proc folders of the hot reload threads.
func _watcher_threads() -> Array[String]:
	var found: Array[String] = []
	for tid in DirAccess.get_directories_at("/proc/self/task"):
		var base := "/proc/self/task/%s/" % tid
		var comm := _first_line(base + "comm").strip_edges()
		if comm.begins_with("lua-reload") or comm.begins_with("notify"):
			found.append(base)
	return found


## /proc files report a length of 0, so they are read by line.
func _first_line(path: String) -> String:
	var file := FileAccess.open(path, FileAccess.READ)
	return file.get_line() if file != null else ""
