@tool
extends RefCounted
## Keeps LuaScriptNodes pointing at their scripts when .lua files move in the FileSystem
## dock, and the editor's own Lua runtime up to date when files change.
##
## A move or rename updates `script_path` on the nodes of every open scene through the
## editor's undo history (so the scene is marked modified, and Ctrl+Z undoes it) and tells
## the runtime, whose caches follow the file. A deleted script leaves its nodes with a
## "Script missing" warning in the Scene dock.

var _undo_redo: EditorUndoRedoManager
var _runtime: Object


func _init(undo_redo: EditorUndoRedoManager) -> void:
	_undo_redo = undo_redo
	_runtime = Engine.get_singleton("LuaRuntime")


## Connects to the editor's file system and FileSystem dock.
func connect_editor() -> void:
	var file_system := EditorInterface.get_resource_filesystem()
	file_system.filesystem_changed.connect(_on_filesystem_changed)
	file_system.resources_reimported.connect(_on_resources_reimported)
	var dock := EditorInterface.get_file_system_dock()
	dock.files_moved.connect(_on_files_moved)
	dock.file_removed.connect(_on_file_removed)
	dock.folder_moved.connect(_on_folder_moved)


## Undoes connect_editor().
func disconnect_editor() -> void:
	var file_system := EditorInterface.get_resource_filesystem()
	if file_system.filesystem_changed.is_connected(_on_filesystem_changed):
		file_system.filesystem_changed.disconnect(_on_filesystem_changed)
		file_system.resources_reimported.disconnect(_on_resources_reimported)
	var dock := EditorInterface.get_file_system_dock()
	if dock.files_moved.is_connected(_on_files_moved):
		dock.files_moved.disconnect(_on_files_moved)
		dock.file_removed.disconnect(_on_file_removed)
		dock.folder_moved.disconnect(_on_folder_moved)


func _on_filesystem_changed() -> void:
	# A script saved in the editor (or changed outside it) runs its new code in the editor too.
	_runtime.reload_changed()


func _on_resources_reimported(_resources: PackedStringArray) -> void:
	_runtime.reload_changed()


func _on_files_moved(old_file: String, new_file: String) -> void:
	if old_file.get_extension() == "lua":
		retarget(func(path: String) -> String: return new_file if path == old_file else "")


func _on_folder_moved(old_folder: String, new_folder: String) -> void:
	var old_prefix := old_folder.trim_suffix("/") + "/"
	var new_prefix := new_folder.trim_suffix("/") + "/"
	retarget(func(path: String) -> String:
		return new_prefix + path.substr(old_prefix.length()) if path.begins_with(old_prefix) else "")


func _on_file_removed(file: String) -> void:
	if file.get_extension() != "lua":
		return
	for node in lua_nodes():
		if node.script_path == file:
			node.update_configuration_warnings()


## Every LuaScriptNode in the scenes open in the editor.
func lua_nodes() -> Array[Node]:
	var found: Array[Node] = []
	for root in EditorInterface.get_open_scene_roots():
		_collect(root, found)
	return found


func _collect(node: Node, found: Array[Node]) -> void:
	if node.is_class("LuaScriptNode"):
		found.append(node)
	for child in node.get_children():
		_collect(child, found)


## Points every LuaScriptNode whose script `moved` (old path -> new path, or "" when it did
## not move) at the new path, one undoable action per scene. Returns how many nodes changed.
func retarget(moved: Callable) -> int:
	var changed := 0
	for root in EditorInterface.get_open_scene_roots():
		var nodes: Array[Node] = []
		_collect(root, nodes)
		var moves: Array[Array] = []
		for node in nodes:
			var new_path: String = moved.call(node.script_path)
			if new_path != "":
				moves.append([node, node.script_path, new_path])
		if moves.is_empty():
			continue
		_undo_redo.create_action("Follow moved Lua script", UndoRedo.MERGE_DISABLE, root)
		for move in moves:
			_undo_redo.add_do_property(move[0], "script_path", move[2])
			_undo_redo.add_undo_property(move[0], "script_path", move[1])
		_undo_redo.commit_action()
		for move in moves:
			_runtime.script_moved(move[1], move[2])
			move[0].update_configuration_warnings()
		changed += moves.size()
	return changed
