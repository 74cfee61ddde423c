extends TestCase
## The bytecode cache inside the engine: compile once, hit memory, never run stale code,
## remember compile failures, warm the project, run shipped bytecode.

const DIR := "user://bytecode_test"


func before_each() -> void:
	super()
	DirAccess.make_dir_recursive_absolute(DIR)


func after_each() -> void:
	for file in DirAccess.get_files_at(DIR):
		DirAccess.remove_absolute(DIR.path_join(file))
	super()


func bytecode() -> Dictionary:
	return LuaRuntime.get_stats()["bytecode"]


## Writes a script that sets the global `name` to `value` when loaded.
func write_probe(path: String, name: String, value: int) -> void:
	var file := FileAccess.open(path, FileAccess.WRITE)
	file.store_string("%s = %d\nlocal M = {}\nfunction M.double(x) return x * 2 end\nreturn M\n" % [name, value])
	file.close()


func test_stats_have_a_bytecode_section() -> void:
	var stats := bytecode()
	for key in ["enabled", "hits_memory", "hits_disk", "misses", "compiles", "compile_failures",
			"rejected", "rejected_reasons", "evictions", "bytes_memory", "bytes_disk",
			"entries_memory", "entries_disk", "compile_time_us", "load_time_us", "hit_rate"]:
		check(stats.has(key), "bytecode stats have '%s'" % key)
	check_eq(stats["enabled"], true, "the cache is on by default")
	check(String(stats["disk_directory"]).ends_with("lua_bytecode"), "on disk under user://: %s" % stats["disk_directory"])


func test_a_script_compiles_once_then_hits_memory() -> void:
	var path := DIR.path_join("once.lua")
	write_probe(path, "once_value", 11)
	var before := bytecode()
	check_eq(LuaRuntime.load_script(path), OK, "first load")
	var after_first := bytecode()
	check_eq(after_first["misses"] - before["misses"], 1, "the first load is a miss")
	check_eq(after_first["compiles"] - before["compiles"], 1, "and compiles")
	check_eq(LuaRuntime.load_script(path), OK, "second load")
	var after_second := bytecode()
	check_eq(after_second["hits_memory"] - after_first["hits_memory"], 1, "the second load is a memory hit")
	check_eq(after_second["compiles"], after_first["compiles"], "and compiles nothing")
	check_eq(LuaRuntime.get_var("once_value"), 11, "the script ran")


func test_an_edit_of_the_same_size_runs_the_new_code() -> void:
	var path := DIR.path_join("edit.lua")
	write_probe(path, "edit_value", 1)
	check_eq(LuaRuntime.load_script(path), OK, "first version")
	check_eq(LuaRuntime.get_var("edit_value"), 1, "first version ran")
	var size := FileAccess.get_file_as_bytes(path).size()
	write_probe(path, "edit_value", 2)
	check_eq(FileAccess.get_file_as_bytes(path).size(), size, "the edit kept the size")
	check_eq(LuaRuntime.load_script(path), OK, "second version")
	check_eq(LuaRuntime.get_var("edit_value"), 2, "the edited code ran, not the cached one")


func test_a_compile_failure_is_remembered_with_its_line() -> void:
	var path := DIR.path_join("broken.lua")
	var file := FileAccess.open(path, FileAccess.WRITE)
	file.store_string("local M = {}\n\nM.x = = 3\nreturn M\n")
	file.close()
	var before := bytecode()
	check_eq(LuaRuntime.load_script(path), ERR_SCRIPT_FAILED, "a syntax error")
	check_eq(LuaRuntime.load_script(path), ERR_SCRIPT_FAILED, "the same syntax error again")
	var after := bytecode()
	check_eq(after["compile_failures"] - before["compile_failures"], 1, "compiled once")
	check_eq(after["failure_hits"] - before["failure_hits"], 1, "then answered from memory")
	var reported := errors_for(path)
	check(reported.size() >= 1, "the error was reported")
	if reported.size() >= 1:
		check_eq(reported[0]["line"], 3, "with its line")
	write_probe(path, "fixed_value", 5)
	check_eq(LuaRuntime.load_script(path), OK, "a fix clears the remembered failure")
	check_eq(LuaRuntime.get_var("fixed_value"), 5, "and runs")


func test_warming_compiles_the_project_in_the_background() -> void:
	LuaRuntime.clear_caches()
	var before := bytecode()
	check(LuaRuntime.warm_cache(), "warming starts")
	# The main thread keeps running frames while the compiler thread works.
	await frames(2)
	LuaRuntime.flush_cache()
	var warmed := bytecode()
	var queued: int = warmed["warm_queued"] - before["warm_queued"]
	check(queued >= 12, "every res:// script was queued (%d)" % queued)
	check_eq(warmed["warm_done"] - before["warm_done"], queued, "and done")
	check_eq(warmed["pending_jobs"], 0, "nothing left to do")
	check_eq(warmed["compile_failures"] - before["compile_failures"], 2,
		"syntax_error.lua and export_fixtures/broken.lua failed")
	check_eq(warmed["compiles"] - before["compiles"], queued - 2, "the rest compiled")
	check_eq(LuaRuntime.load_script("res://scripts/counter.lua"), OK, "a warmed script loads")
	check_eq(LuaRuntime.load_script("res://scripts/mover.lua"), OK, "another")
	var loaded := bytecode()
	check_eq(loaded["misses"], warmed["misses"], "without a miss")
	check_eq(loaded["compiles"], warmed["compiles"], "or a compile")
	check_eq(loaded["hits_memory"] - warmed["hits_memory"], 2, "both from memory")


func test_shipped_bytecode_runs_without_its_source() -> void:
	var path := "res://shipped_only.lua"
	var file := FileAccess.open(path, FileAccess.WRITE)
	file.store_string("shipped_value = 77\nreturn {}\n")
	file.close()
	var bytes := LuaRuntime.export_bytecode(path)
	check(bytes.size() > 16, "the export entry was made")
	var shipped := LuaRuntime.bytecode_export_path(path)
	check(shipped.begins_with("res://.godot/lua_bytecode/"), "shipped under .godot: %s" % shipped)
	DirAccess.make_dir_recursive_absolute(shipped.get_base_dir())
	var out := FileAccess.open(shipped, FileAccess.WRITE)
	out.store_buffer(bytes)
	out.close()
	DirAccess.remove_absolute(path)
	LuaRuntime.clear_caches()
	var before := bytecode()
	check_eq(LuaRuntime.load_script(path), OK, "the script loads from shipped bytecode alone")
	check_eq(LuaRuntime.get_var("shipped_value"), 77, "and runs")
	check_eq(bytecode()["hits_shipped"] - before["hits_shipped"], 1, "counted as a shipped hit")
	DirAccess.remove_absolute(shipped)
	check_eq(LuaRuntime.load_script(path), ERR_FILE_NOT_FOUND, "with neither source nor bytecode: not found")


func test_a_byte_order_mark_is_skipped_and_non_utf8_is_a_clear_error() -> void:
	var bom := DIR.path_join("bom.lua")
	var file := FileAccess.open(bom, FileAccess.WRITE)
	file.store_buffer(PackedByteArray([0xEF, 0xBB, 0xBF]))
	file.store_string("bom_value = 3\nreturn {}\n")
	file.close()
	check_eq(LuaRuntime.load_script(bom), OK, "a UTF-8 file with a byte-order mark loads")
	check_eq(LuaRuntime.get_var("bom_value"), 3, "and runs")
	var latin1 := DIR.path_join("latin1.lua")
	file = FileAccess.open(latin1, FileAccess.WRITE)
	file.store_buffer("x = '".to_utf8_buffer() + PackedByteArray([0xE9]) + "'\nreturn {}\n".to_utf8_buffer())
	file.close()
	check_eq(LuaRuntime.load_script(latin1), ERR_FILE_CANT_READ, "a file that is not UTF-8 is refused")
	var reported := errors_for(latin1)
	check(reported.size() == 1 and String(reported[0]["message"]).contains("not UTF-8"),
		"with an error that says so: %s" % [reported])
