extends TestCase
## The bytecode cache across two runs of the engine (tools/engine-tests.sh runs this file
## twice, with `--cache-run=1` and then `--cache-run=2`). Run 1 compiles five scripts, then
## damages four of their cache files the way disks and crashes do; run 2 must take the intact
## one from disk and reject, rebuild and correctly run the other four.

const DIR := "user://cache_runs"
const DAMAGES := ["intact", "truncated", "checksum", "bad_magic", "empty"]


func run_number() -> int:
	for arg in OS.get_cmdline_user_args():
		if arg.begins_with("--cache-run="):
			return int(arg.substr(12))
	return 0


func probe_path(i: int) -> String:
	return DIR.path_join("probe_%d.lua" % i)


func cache_file(script_path: String) -> String:
	var dir: String = LuaRuntime.get_stats()["bytecode"]["disk_directory"]
	return dir.path_join(LuaRuntime.bytecode_export_path(script_path).get_file())


func damage(path: String, how: String) -> void:
	var bytes := FileAccess.get_file_as_bytes(path)
	match how:
		"truncated":
			bytes = bytes.slice(0, bytes.size() / 2)
		"checksum":
			bytes[bytes.size() - 20] ^= 0x10
		"bad_magic":
			bytes[0] = 0x1b
		"empty":
			bytes = PackedByteArray()
	var file := FileAccess.open(path, FileAccess.WRITE)
	file.store_buffer(bytes)
	file.close()


func test_cache_across_runs() -> void:
	match run_number():
		1:
			await first_run()
		2:
			second_run()
		_:
			check(false, "run with --cache-run=1 or --cache-run=2")


func first_run() -> void:
	LuaRuntime.clear_caches()
	DirAccess.make_dir_recursive_absolute(DIR)
	for i in DAMAGES.size():
		var file := FileAccess.open(probe_path(i), FileAccess.WRITE)
		file.store_string("probe_%d = %d\nreturn { kind = '%s' }\n" % [i, i * 10, DAMAGES[i]])
		file.close()
		check_eq(LuaRuntime.load_script(probe_path(i)), OK, "run 1 loads probe %d" % i)
	var stats: Dictionary = LuaRuntime.get_stats()["bytecode"]
	check_eq(stats["compiles"], DAMAGES.size(), "run 1 compiles every probe")
	LuaRuntime.flush_cache()
	for i in DAMAGES.size():
		var path := cache_file(probe_path(i))
		check(FileAccess.file_exists(path), "run 1 wrote %s" % path)
		if DAMAGES[i] != "intact":
			damage(path, DAMAGES[i])


func second_run() -> void:
	for i in DAMAGES.size():
		check_eq(LuaRuntime.load_script(probe_path(i)), OK, "run 2 loads probe %d" % i)
		check_eq(LuaRuntime.get_var("probe_%d" % i), i * 10, "probe %d ran the right code" % i)
	var stats: Dictionary = LuaRuntime.get_stats()["bytecode"]
	check_eq(stats["hits_disk"], 1, "the intact entry is a disk hit in the second run")
	check_eq(stats["rejected"], DAMAGES.size() - 1, "every damaged entry is rejected")
	for reason in DAMAGES.slice(1):
		check_eq(stats["rejected_reasons"].get(reason, 0), 1, "rejected as %s" % reason)
	check_eq(stats["compiles"], DAMAGES.size() - 1, "and rebuilt")
	LuaRuntime.flush_cache()
	for i in DAMAGES.size():
		var entry := FileAccess.get_file_as_bytes(cache_file(probe_path(i)))
		check(entry.size() > 16 and entry.slice(0, 4).get_string_from_ascii() == "GLRB",
			"probe %d has a good entry again" % i)
	LuaRuntime.clear_caches()
	for i in DAMAGES.size():
		DirAccess.remove_absolute(probe_path(i))
