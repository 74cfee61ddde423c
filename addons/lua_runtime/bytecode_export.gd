@tool
extends RefCounted
## What an exported game carries for its Lua scripts: precompiled bytecode for every `.lua`
## file (so the game compiles nothing at start-up) and, unless the project setting
## `lua_runtime/export/strip_source` is on, the sources too. Used by export_plugin.gd; kept
## apart from it so it can be tested outside the editor.

const STRIP_SOURCE_SETTING := "lua_runtime/export/strip_source"


## Every `.lua` file under `dir`, skipping hidden folders and folders with a `.gdignore`, as
## Godot's own file system does.
static func find_scripts(dir: String = "res://") -> PackedStringArray:
	var found := PackedStringArray()
	if FileAccess.file_exists(dir.path_join(".gdignore")):
		return found
	for file in DirAccess.get_files_at(dir):
		if file.get_extension() == "lua":
			found.append(dir.path_join(file))
	for sub in DirAccess.get_directories_at(dir):
		if not sub.begins_with("."):
			found.append_array(find_scripts(dir.path_join(sub)))
	return found


## The files to add to the export for the scripts under `dir`: an array of `[path, bytes]`
## pairs. A script that does not compile ships as source only (its error is reported now, and
## again when the game loads it).
static func files_to_ship(strip_source: bool, dir: String = "res://") -> Array:
	var out := []
	var runtime := Engine.get_singleton("LuaRuntime")
	for script in find_scripts(dir):
		var bytecode: PackedByteArray = runtime.export_bytecode(script)
		if not bytecode.is_empty():
			out.append([runtime.bytecode_export_path(script), bytecode])
		if bytecode.is_empty() or not strip_source:
			out.append([script, FileAccess.get_file_as_bytes(script)])
	return out


static func strips_source() -> bool:
	return bool(ProjectSettings.get_setting(STRIP_SOURCE_SETTING, false))
