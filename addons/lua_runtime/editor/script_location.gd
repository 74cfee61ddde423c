@tool
extends RefCounted
## Opens a script at a line, where the user edits code: the configured external editor, or
## Godot's script editor (which shows .lua files as text files, highlighted as Lua).


## Opens `path` at `line` (1-based; 0 for no line). Returns false when it could not.
static func open(path: String, line: int) -> bool:
	if not FileAccess.file_exists(path):
		push_warning("Lua Runtime: %s no longer exists" % path)
		return false
	var settings := EditorInterface.get_editor_settings()
	if settings.get_setting("text_editor/external/use_external_editor"):
		return _open_external(settings, path, line)
	if path.get_extension() != "lua" and ResourceLoader.exists(path, "Script"):
		EditorInterface.edit_script(load(path), maxi(line, 1))
		EditorInterface.set_main_screen_editor("Script")
		return true
	return _open_text_file(path, line)


static func _open_external(settings: EditorSettings, path: String, line: int) -> bool:
	var exec: String = settings.get_setting("text_editor/external/exec_path")
	var flags: String = settings.get_setting("text_editor/external/exec_flags")
	if exec.is_empty():
		return false
	var file := ProjectSettings.globalize_path(path)
	var args := PackedStringArray()
	for arg in flags.split(" ", false):
		args.append(arg.replace("{project}", ProjectSettings.globalize_path("res://"))
				.replace("{file}", file).replace("{line}", str(maxi(line, 1)))
				.replace("{col}", "1"))
	if args.is_empty():
		args.append(file)
	return OS.create_process(exec, args) > 0


## Godot opens text files from the FileSystem dock, and offers no call for it: select the
## file there and activate it as a double-click would, then go to the line.
static func _open_text_file(path: String, line: int) -> bool:
	EditorInterface.select_file(path)
	var dock := EditorInterface.get_file_system_dock()
	var opened := false
	for tree: Tree in dock.find_children("*", "Tree", true, false):
		var selected := tree.get_selected()
		if selected != null and str(selected.get_metadata(0)) == path:
			tree.item_activated.emit()
			opened = true
			break
	if not opened:
		push_warning("Lua Runtime: could not open %s in the script editor" % path)
		return false
	EditorInterface.set_main_screen_editor("Script")
	if line > 0:
		EditorInterface.get_script_editor().goto_line(line - 1)
	return true
