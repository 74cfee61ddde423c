@tool
extends EditorExportPlugin
## Puts precompiled Lua bytecode (and, unless stripped, the sources) into exported games.

const BytecodeExport := preload("bytecode_export.gd")


func _get_name() -> String:
	return "LuaRuntimeBytecode"


func _export_begin(_features: PackedStringArray, _is_debug: bool, _path: String, _flags: int) -> void:
	if not Engine.has_singleton("LuaRuntime"):
		push_error("Lua Runtime: the extension is not loaded; Lua scripts are exported without bytecode.")
		return
	for entry in BytecodeExport.files_to_ship(BytecodeExport.strips_source()):
		add_file(entry[0], entry[1], false)


func _export_file(path: String, _type: String, _features: PackedStringArray) -> void:
	# Added by _export_begin already (or left out on purpose when sources are stripped).
	if path.get_extension() == "lua":
		skip()
