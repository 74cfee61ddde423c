@tool
extends EditorPlugin
## Runs once the editor has started: opens a scene of LuaScriptNodes, then moves, renames and
## deletes their scripts the way the FileSystem dock does (the file operation, then the dock's
## signal), and checks that the nodes follow. Prints PASS/FAIL lines and quits with the
## number of failures.

const SCENE := "res://scenes/level.tscn"

var failures := 0


func _enter_tree() -> void:
	_run.call_deferred()


func _run() -> void:
	var file_system := EditorInterface.get_resource_filesystem()
	for i in 10:
		await get_tree().process_frame
	while file_system.is_scanning():
		await get_tree().process_frame
	EditorInterface.open_scene_from_path(SCENE)
	await get_tree().process_frame
	var root := EditorInterface.get_edited_scene_root()
	if root == null or root.name != "Level":
		_check(false, "the test scene opens")
		get_tree().quit(1)
		return
	_renaming_a_script_updates_its_nodes(root)
	_moving_a_folder_updates_its_nodes(root)
	_deleting_a_script_warns_on_its_nodes(root)
	await _saving_a_script_reloads_it_in_the_editor(file_system)
	_disabling_the_plugin_disconnects_it()
	print("editor tests: %d failed" % failures)
	get_tree().quit(failures)


func _check(condition: bool, what: String) -> void:
	if condition:
		print("PASS editor_test::%s" % what)
	else:
		failures += 1
		print("FAIL editor_test::%s" % what)


func _history(root: Node) -> UndoRedo:
	var manager := get_undo_redo()
	return manager.get_history_undo_redo(manager.get_object_history_id(root))


func _renaming_a_script_updates_its_nodes(root: Node) -> void:
	var mover := root.get_node("Mover")
	var dock := EditorInterface.get_file_system_dock()
	DirAccess.rename_absolute("res://scripts/mover.lua", "res://scripts/walker.lua")
	dock.files_moved.emit("res://scripts/mover.lua", "res://scripts/walker.lua")
	_check(mover.script_path == "res://scripts/walker.lua",
			"a renamed script is followed by its node (%s)" % mover.script_path)
	var history := _history(root)
	_check(history.has_undo() and history.get_current_action_name() == "Follow moved Lua script",
			"the change is an undoable action of the scene, so the scene is marked modified")
	history.undo()
	_check(mover.script_path == "res://scripts/mover.lua", "undo puts the old path back")
	history.redo()
	_check(mover.script_path == "res://scripts/walker.lua", "redo moves it again")
	_check(mover.script_problem() == "", "the node has no warning")


func _moving_a_folder_updates_its_nodes(root: Node) -> void:
	var brain := root.get_node("Brain")
	DirAccess.rename_absolute("res://scripts/ai", "res://scripts/minds")
	EditorInterface.get_file_system_dock().folder_moved.emit("res://scripts/ai/", "res://scripts/minds/")
	_check(brain.script_path == "res://scripts/minds/brain.lua",
			"a moved folder takes its scripts' nodes along (%s)" % brain.script_path)


func _deleting_a_script_warns_on_its_nodes(root: Node) -> void:
	var doomed := root.get_node("Doomed")
	DirAccess.remove_absolute("res://scripts/doomed.lua")
	EditorInterface.get_file_system_dock().file_removed.emit("res://scripts/doomed.lua")
	_check(doomed.script_path == "res://scripts/doomed.lua", "a deleted script's node keeps its path")
	_check(doomed.script_problem().begins_with("Script missing: res://scripts/doomed.lua"),
			"and says the script is missing (%s)" % doomed.script_problem())


func _saving_a_script_reloads_it_in_the_editor(file_system: EditorFileSystem) -> void:
	var runtime := Engine.get_singleton("LuaRuntime")
	runtime.load_script("res://scripts/tool.lua")
	_check(runtime.get_var("tool_version") == 1, "a tool script runs in the editor")
	var file := FileAccess.open("res://scripts/tool.lua", FileAccess.WRITE)
	file.store_string("tool_version = 2\nreturn {}\n")
	file.close()
	file_system.filesystem_changed.emit()
	_check(runtime.get_var("tool_version") == 2, "a saved script runs its new code in the editor")


func _disabling_the_plugin_disconnects_it() -> void:
	var dock := EditorInterface.get_file_system_dock()
	var connected := dock.files_moved.get_connections().size()
	EditorInterface.set_plugin_enabled("lua_runtime", false)
	_check(dock.files_moved.get_connections().size() == connected - 1,
			"disabling the plugin drops its connections")
	EditorInterface.set_plugin_enabled("lua_runtime", true)
	_check(dock.files_moved.get_connections().size() == connected,
			"enabling it again connects once")
