extends TestCase
## The export plugin's file list: bytecode for every script, sources unless stripped.

const BytecodeExport := preload("res://addons/lua_runtime/bytecode_export.gd")
const DIR := "res://export_fixtures"


func shipped_paths(files: Array) -> PackedStringArray:
	var paths := PackedStringArray()
	for entry in files:
		paths.append(entry[0])
	return paths


func test_every_script_ships_bytecode_and_source() -> void:
	var scripts := BytecodeExport.find_scripts(DIR)
	scripts.sort()
	check_eq(scripts, PackedStringArray([DIR + "/broken.lua", DIR + "/ok.lua", DIR + "/sub/nested.lua"]),
		"finds every script, in subfolders too")
	var paths := shipped_paths(BytecodeExport.files_to_ship(false, DIR))
	for script in scripts:
		check(paths.has(script), "ships the source of %s" % script)
	check(paths.has(LuaRuntime.bytecode_export_path(DIR + "/ok.lua")), "ships bytecode of ok.lua")
	check(paths.has(LuaRuntime.bytecode_export_path(DIR + "/sub/nested.lua")), "and of sub/nested.lua")
	check(not paths.has(LuaRuntime.bytecode_export_path(DIR + "/broken.lua")),
		"a script that does not compile ships no bytecode")
	check_eq(errors_for(DIR + "/broken.lua").size(), 1, "and its error is reported")


func test_stripping_leaves_sources_out_except_broken_ones() -> void:
	var paths := shipped_paths(BytecodeExport.files_to_ship(true, DIR))
	check(not paths.has(DIR + "/ok.lua"), "no source for a compiled script")
	check(paths.has(LuaRuntime.bytecode_export_path(DIR + "/ok.lua")), "its bytecode instead")
	check(paths.has(DIR + "/broken.lua"), "a broken script keeps its source")
