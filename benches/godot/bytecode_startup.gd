extends SceneTree
## Bytecode cache, engine side. Run twice by benches/engine.sh:
##   --run=cold   empties the cache, loads 500 generated scripts (every one compiles), then
##                empties it again and warms all 500 in the background while frames run,
##                recording every frame's time;
##   --run=warm   a new engine run: loads the same 500 scripts from the disk cache.
## Main-thread time is measured around the loads; frame times while warming are compared with
## frames after it. Prints `BENCH key=value` lines.

const DIR := "res://generated"
const COUNT := 500
## About 2 ms of work per frame that makes no garbage, so the frame times show the cache's
## effect and not the Lua collector's.
const WORK := "local s = 0 for i = 1, 200000 do s = s + math.sin(i) end return s"


func _initialize() -> void:
	OS.low_processor_usage_mode_sleep_usec = 0
	var run := ""
	for arg in OS.get_cmdline_user_args():
		if arg.begins_with("--run="):
			run = arg.substr(6)
	match run:
		"cold":
			_generate()
			await _cold()
		"warm":
			_warm_start()
		_:
			printerr("usage: --run=cold|warm")
	quit()


## Scripts of 50 to 2,000 lines (skewed to small, mean about 700), as benches/script_corpus.rs.
func _generate() -> void:
	DirAccess.make_dir_recursive_absolute(DIR)
	var seed := 0x2545F4914F6CDD1D
	for i in COUNT:
		seed = (seed * 6364136223846793005 + 1442695040888963407)
		var u := float((seed >> 11) & 0xFFFFFFFFFFFFF) / float(0x10000000000000)
		var lines := 50 + int(1950.0 * u * u)
		var path := DIR.path_join("s%d.lua" % i)
		var file := FileAccess.open(path, FileAccess.WRITE)
		file.store_string(_script(i, lines))
		file.close()


func _script(index: int, lines: int) -> String:
	var parts := PackedStringArray()
	parts.append("local M = {}\nlocal floor, sqrt, max = math.floor, math.sqrt, math.max\n")
	parts.append("local CONFIG = { speed = %d, name = \"unit_%d\", tags = { \"a\", \"b\" } }\n" % [100 + index % 50, index])
	var written := 3
	var block := 0
	while written + 16 < lines:
		parts.append(("\nfunction M.update_%d(self, delta)\n  local total, names = 0, {}\n" +
			"  for i = 1, %d do\n    total = total + floor(i * delta * CONFIG.speed)\n" +
			"    names[#names + 1] = CONFIG.name .. \"_\" .. i\n  end\n" +
			"  if total > %d and self.hp ~= nil then\n    self.state = \"running\"\n" +
			"    self.speed = max(self.speed or 0, sqrt(total))\n  elseif #names > 3 then\n" +
			"    self.state = (\"idle_\" .. %d)\n  end\n" +
			"  local on_done = function(x) return x + total end\n" +
			"  return on_done(total), table.concat(names, \",\")\nend\n") % [block, 5 + block % 7, 1000 + block * 13, block])
		written += 16
		block += 1
	while written + 1 < lines:
		parts.append("M.k%d = %d\n" % [written, written])
		written += 1
	parts.append("return M\n")
	return "".join(parts)


func _load_all() -> int:
	var start := Time.get_ticks_usec()
	for i in COUNT:
		if LuaRuntime.load_script(DIR.path_join("s%d.lua" % i)) != OK:
			printerr("load failed: s%d.lua" % i)
	return Time.get_ticks_usec() - start


func _cold() -> void:
	LuaRuntime.clear_caches()
	var cold_us := _load_all()
	var stats: Dictionary = LuaRuntime.get_stats()["bytecode"]
	print("BENCH cold_load_ms=%.1f compiles=%d misses=%d" % [cold_us / 1000.0, stats["compiles"], stats["misses"]])

	# Frames while the compiler thread warms every script.
	LuaRuntime.clear_caches()
	var baseline := await _frame_times(300, false)
	LuaRuntime.warm_cache()
	var during := await _frame_times(100000, true)
	var after := await _frame_times(300, false)
	stats = LuaRuntime.get_stats()["bytecode"]
	print("BENCH warming: frames=%d median_us=%d p99_us=%d max_us=%d over_2x_median=%d warmed=%d" % [
		during.size(), _median(during), _percentile(during, 0.99), _max(during),
		_count_over(during, 2 * _median(during)), stats["warm_done"]])
	var slow := []
	for i in during.size():
		if during[i] > 2 * _median(during):
			slow.append("#%d: %d us" % [i, during[i]])
	print("BENCH warming: frames over 2x the median: %s" % [", ".join(slow) if slow else "none"])
	print("BENCH no warming: frames=%d median_us=%d p99_us=%d max_us=%d (before), median_us=%d p99_us=%d max_us=%d (after)" % [
		baseline.size(), _median(baseline), _percentile(baseline, 0.99), _max(baseline),
		_median(after), _percentile(after, 0.99), _max(after)])
	LuaRuntime.flush_cache()


## Frame times in microseconds: `count` frames, or (when `until_warm`) until warming is done
## (checked every 30th frame). Each frame does about 2 ms of Lua work, so it is a game frame,
## not an idle loop.
func _frame_times(count: int, until_warm: bool) -> Array[int]:
	var times: Array[int] = []
	var last := Time.get_ticks_usec()
	for i in count:
		await process_frame
		var now := Time.get_ticks_usec()
		times.append(now - last)
		last = now
		LuaRuntime.eval(WORK)
		if until_warm and i % 30 == 29:
			var stats: Dictionary = LuaRuntime.get_stats()["bytecode"]
			if stats["warm_queued"] > 0 and stats["warm_done"] >= stats["warm_queued"]:
				break
	return times


func _warm_start() -> void:
	var warm_us := _load_all()
	var stats: Dictionary = LuaRuntime.get_stats()["bytecode"]
	print("BENCH warm_load_ms=%.1f hits_disk=%d compiles=%d" % [warm_us / 1000.0, stats["hits_disk"], stats["compiles"]])


func _median(values: Array[int]) -> int:
	if values.is_empty():
		return 0
	var sorted := values.duplicate()
	sorted.sort()
	return sorted[sorted.size() / 2]


func _percentile(values: Array[int], p: float) -> int:
	if values.is_empty():
		return 0
	var sorted := values.duplicate()
	sorted.sort()
	return sorted[mini(sorted.size() - 1, int(sorted.size() * p))]


func _count_over(values: Array[int], limit: int) -> int:
	var n := 0
	for v in values:
		if v > limit:
			n += 1
	return n


func _max(values: Array[int]) -> int:
	var best := 0
	for v in values:
		best = max(best, v)
	return best
