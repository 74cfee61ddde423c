@tool
extends EditorContextMenuPlugin
## "Lua Script..." in the FileSystem dock's Create New menu: asks for a file name and makes
## a .lua file from a template, then opens it.

const ScriptLocation := preload("script_location.gd")

const TEMPLATE := """-- %s: runs on a LuaScriptNode whose script_path points at this file.
-- Each callback gets `self`, this node's own state (`self.speed = 3`); `self.target` is
-- the node at target_path (the parent by default); other names reach the LuaScriptNode.
-- Reference: docs/lua-api.md in the Lua Runtime repository.

return {
  _ready = function(self)
  end,

  _process = function(self, delta)
  end,
}
"""

var _dialog: ConfirmationDialog = null
var _name_edit: LineEdit = null
var _folder := "res://"


func _popup_menu(_paths: PackedStringArray) -> void:
	var icon := EditorInterface.get_editor_theme().get_icon("Script", "EditorIcons")
	add_context_menu_item("Lua Script...", _ask_name, icon)


## Makes `file_name` (".lua" added if missing) in `folder` from the template. Returns its path,
## or "" (after saying why) when the name is bad or taken.
static func create_script(folder: String, file_name: String) -> String:
	file_name = file_name.strip_edges()
	if not file_name.ends_with(".lua"):
		file_name += ".lua"
	if not file_name.get_basename().is_valid_filename() or file_name.get_basename().is_empty():
		push_error("Lua Runtime: '%s' is not a valid file name" % file_name)
		return ""
	var path := folder.path_join(file_name)
	if FileAccess.file_exists(path):
		push_error("Lua Runtime: %s already exists" % path)
		return ""
	var file := FileAccess.open(path, FileAccess.WRITE)
	if file == null:
		push_error("Lua Runtime: cannot write %s (%s)" % [path, error_string(FileAccess.get_open_error())])
		return ""
	file.store_string(TEMPLATE % file_name)
	file.close()
	EditorInterface.get_resource_filesystem().update_file(path)
	EditorInterface.get_resource_filesystem().scan()
	return path


func close() -> void:
	if _dialog != null:
		_dialog.queue_free()
		_dialog = null


func _ask_name(paths: PackedStringArray) -> void:
	_folder = _folder_of(paths)
	if _dialog == null:
		_dialog = ConfirmationDialog.new()
		_dialog.title = "New Lua Script"
		_name_edit = LineEdit.new()
		_name_edit.custom_minimum_size.x = 320
		_dialog.add_child(_name_edit)
		_dialog.register_text_enter(_name_edit)
		_dialog.confirmed.connect(_on_confirmed)
		EditorInterface.get_base_control().add_child(_dialog)
	_dialog.dialog_text = "File name, in %s:" % _folder
	_name_edit.text = "new_script.lua"
	_dialog.popup_centered()
	_name_edit.grab_focus()
	_name_edit.select(0, "new_script".length())


func _on_confirmed() -> void:
	var path := create_script(_folder, _name_edit.text)
	if path.is_empty():
		return
	await EditorInterface.get_resource_filesystem().filesystem_changed
	ScriptLocation.open(path, 7)


static func _folder_of(paths: PackedStringArray) -> String:
	if paths.is_empty():
		return "res://"
	var path := paths[0]
	return path if DirAccess.dir_exists_absolute(path) else path.get_base_dir()
