@tool
extends EditorPlugin
## Editor side of Lua Runtime. The runtime itself is the GDExtension in bin/; this plugin
## checks that it loaded and hosts the editor tools:
## - the "Lua" tab of the bottom panel (panel/), with the running game's numbers through the
##   debugger link;
## - .lua files in the FileSystem dock and the script editor (Lua highlighting, a Create New
##   entry with a template);
## - the export plugin (ships bytecode) and the script follower (keeps nodes pointing at
##   .lua files moved in the FileSystem dock).
## _exit_tree undoes everything _enter_tree did, in reverse.

const ExportPlugin := preload("export_plugin.gd")
const ScriptFollower := preload("script_follower.gd")
const DebuggerLink := preload("editor/debugger_link.gd")
const LuaHighlighter := preload("editor/lua_highlighter.gd")
const NewScriptMenu := preload("editor/new_script_menu.gd")
const PanelScene := preload("panel/lua_panel.tscn")

const TEXTFILE_SETTING := "docks/filesystem/textfile_extensions"

var panel: Control = null
var debugger_link: DebuggerLink = null

var _export_plugin: EditorExportPlugin = null
var _follower: ScriptFollower = null
var _dock: Control = null  # the EditorDock holding the panel (Godot 4.6+)
var _highlighter: EditorSyntaxHighlighter = null
var _new_script_menu: NewScriptMenu = null
var _added_textfile_extension := false


func _enter_tree() -> void:
	if not Engine.has_singleton("LuaRuntime"):
		push_error("Lua Runtime: the extension library is not loaded. Build it (tools/build.sh) " +
				"so that addons/lua_runtime/bin/ holds the library for this platform.")
		return
	_export_plugin = ExportPlugin.new()
	add_export_plugin(_export_plugin)
	_follower = ScriptFollower.new(get_undo_redo())
	_follower.connect_editor()
	_show_lua_files()
	_add_panel()
	var stats: Dictionary = Engine.get_singleton("LuaRuntime").get_stats()
	print_verbose("Lua Runtime: %s ready in the editor" % stats.get("lua", {}).get("flavour", "Lua"))


func _exit_tree() -> void:
	_remove_panel()
	_hide_lua_files()
	if _follower != null:
		_follower.disconnect_editor()
		_follower = null
	if _export_plugin != null:
		remove_export_plugin(_export_plugin)
		_export_plugin = null


## The bottom panel: an EditorDock in the bottom slot where Godot has docks (4.6+), else a
## bottom-panel control.
func _add_panel() -> void:
	panel = PanelScene.instantiate()
	if ClassDB.class_exists("EditorDock"):
		_dock = ClassDB.instantiate("EditorDock")
		_dock.name = "Lua"
		_dock.set("title", "Lua")
		_dock.set("layout_key", "lua_runtime")
		_dock.set("icon_name", "Script")
		_dock.set("default_slot", 8)  # EditorDock.DOCK_SLOT_BOTTOM
		_dock.set("available_layouts", 2 | 4)  # horizontal, floating
		_dock.add_child(panel)
		call("add_dock", _dock)
	else:
		add_control_to_bottom_panel(panel, "Lua")
	debugger_link = DebuggerLink.new()
	debugger_link.game_stats_received.connect(panel.receive_game_stats)
	debugger_link.game_stopped.connect(panel.game_stopped)
	add_debugger_plugin(debugger_link)
	panel.action_requested.connect(_on_action_requested)


func _remove_panel() -> void:
	if debugger_link != null:
		remove_debugger_plugin(debugger_link)
		debugger_link = null
	if panel == null:
		return
	if _dock != null:
		call("remove_dock", _dock)
		_dock.queue_free()
		_dock = null
	else:
		remove_control_from_bottom_panel(panel)
		panel.queue_free()
	panel = null


## Runs a panel button on the side the panel shows: the running game, or the editor.
func _on_action_requested(command: String) -> void:
	if panel.is_showing_game() and debugger_link.send_command(command):
		return
	var runtime := Engine.get_singleton("LuaRuntime")
	match command:
		"clear_caches":
			runtime.clear_caches()
		"warm_cache":
			runtime.warm_cache()
		"collect_garbage":
			runtime.collect_garbage()
	panel.refresh()


## .lua files listed in the FileSystem dock and opened in the script editor as text, with
## Lua highlighting and a Create New entry.
func _show_lua_files() -> void:
	var settings := EditorInterface.get_editor_settings()
	var extensions := String(settings.get_setting(TEXTFILE_SETTING)).split(",", false)
	if not extensions.has("lua"):
		extensions.append("lua")
		settings.set_setting(TEXTFILE_SETTING, ",".join(extensions))
		_added_textfile_extension = true
	_highlighter = LuaHighlighter.new()
	EditorInterface.get_script_editor().register_syntax_highlighter(_highlighter)
	_new_script_menu = NewScriptMenu.new()
	add_context_menu_plugin(EditorContextMenuPlugin.CONTEXT_SLOT_FILESYSTEM_CREATE, _new_script_menu)


func _hide_lua_files() -> void:
	if _new_script_menu != null:
		remove_context_menu_plugin(_new_script_menu)
		_new_script_menu.close()
		_new_script_menu = null
	if _highlighter != null:
		EditorInterface.get_script_editor().unregister_syntax_highlighter(_highlighter)
		_highlighter = null
	if _added_textfile_extension:
		var settings := EditorInterface.get_editor_settings()
		var extensions := String(settings.get_setting(TEXTFILE_SETTING)).split(",", false)
		extensions.erase("lua")
		settings.set_setting(TEXTFILE_SETTING, ",".join(extensions))
		_added_textfile_extension = false
