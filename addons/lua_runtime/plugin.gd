@tool
extends EditorPlugin
## Editor side of Lua Runtime. The runtime itself is the GDExtension in bin/; this plugin
## checks that it loaded and hosts the editor tools: the export plugin (ships bytecode) and
## the script follower (keeps nodes pointing at .lua files moved in the FileSystem dock).

const ExportPlugin := preload("export_plugin.gd")
const ScriptFollower := preload("script_follower.gd")

var _export_plugin: EditorExportPlugin = null
var _follower: ScriptFollower = null


func _enter_tree() -> void:
	if not Engine.has_singleton("LuaRuntime"):
		push_error("Lua Runtime: the extension library is not loaded. Build it (tools/build.sh) " +
				"so that addons/lua_runtime/bin/ holds the library for this platform.")
		return
	_export_plugin = ExportPlugin.new()
	add_export_plugin(_export_plugin)
	_follower = ScriptFollower.new(get_undo_redo())
	_follower.connect_editor()
	var stats: Dictionary = Engine.get_singleton("LuaRuntime").get_stats()
	print_verbose("Lua Runtime: %s ready in the editor" % stats.get("lua", {}).get("flavour", "Lua"))


func _exit_tree() -> void:
	# Undo exactly what _enter_tree did, in reverse.
	if _follower != null:
		_follower.disconnect_editor()
		_follower = null
	if _export_plugin != null:
		remove_export_plugin(_export_plugin)
		_export_plugin = null
