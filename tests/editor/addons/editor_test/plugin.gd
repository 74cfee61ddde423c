@tool
extends EditorPlugin
## Runs once the editor has started: opens a scene of LuaScriptNodes, then moves, renames and
## deletes their scripts the way the FileSystem dock does (the file operation, then the dock's
## signal), and checks that the nodes follow. Prints PASS/FAIL lines and quits with the
## number of failures.

const SCENE := "res://scenes/level.tscn"
const Highlighter := preload("res://addons/lua_runtime/editor/lua_highlighter.gd")
const NewScriptMenu := preload("res://addons/lua_runtime/editor/new_script_menu.gd")
const ScriptLocation := preload("res://addons/lua_runtime/editor/script_location.gd")

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
	await _the_panel_shows_the_editors_runtime()
	await _the_panel_shows_the_running_game()
	await _lua_files_open_in_the_script_editor_highlighted()
	await _the_create_menu_makes_a_lua_script(file_system)
	await _class_docs_show_in_the_help()
	_disabling_the_plugin_disconnects_it()
	await _disabling_and_enabling_leaves_one_panel()
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


func _lua_docks() -> Array:
	return EditorInterface.get_base_control().find_children("*", "EditorDock", true, false) \
			.filter(func(d): return d.get("title") == "Lua")


func _panel() -> Node:
	var docks := _lua_docks()
	return docks[0].get_child(0) if docks.size() == 1 else null


func _wait(seconds: float) -> void:
	await get_tree().create_timer(seconds).timeout


func _the_panel_shows_the_editors_runtime() -> void:
	_check(_lua_docks().size() == 1, "one Lua tab in the bottom panel")
	var panel := _panel()
	if panel == null:
		return
	var runtime := Engine.get_singleton("LuaRuntime")
	_lua_docks()[0].make_visible()
	await _wait(0.1)
	_check(panel.is_processing(), "the visible panel refreshes")
	runtime.exec("error('panel sees this')")
	runtime.load_script("res://scripts/highlight.lua")
	runtime.exec("for i = 1, 3 do query.group('panel_group') end")
	await _wait(0.6)
	var stats: Dictionary = runtime.get_stats()
	_check(not panel.is_showing_game() and panel.shown_source == "editor", "it shows the editor")
	_check(panel.value_text("Lua", "Script errors").begins_with(str(stats.errors.total) + " "),
			"the error count is get_stats()'s (%s)" % panel.value_text("Lua", "Script errors"))
	_check(panel.value_text("Lua", "Scripts / nodes") == "%d / %d" % [stats.scripts.modules,
			stats.scripts.instances], "scripts and nodes are get_stats()'s")
	var errors: ItemList = panel.find_child("Errors", true, false)
	_check(errors.item_count > 0 and errors.get_item_text(0).contains("panel sees this"),
			"the newest error is listed first")
	var scripts: Tree = panel.find_child("Scripts", true, false)
	var listed := []
	for item in scripts.get_root().get_children():
		listed.append(item.get_text(0))
	_check(listed.has("res://scripts/highlight.lua"), "loaded scripts are listed with their heap")
	var queries: Tree = panel.find_child("Queries", true, false)
	var asked := []
	for item in queries.get_root().get_children():
		asked.append([item.get_text(0), item.get_text(1), item.get_text(2)])
	_check(asked.has(["group(\"panel_group\")", "3", "66.7 %"]),
			"the queries tab lists each query with its counts (%s)" % [asked])
	_check(panel.value_text("Queries", "Hit rate").ends_with(" of %d" % stats.queries.queries),
			"the query hit rate is get_stats()'s (%s)" % panel.value_text("Queries", "Hit rate"))
	# Buttons act on the editor's runtime.
	runtime.warm_cache()
	runtime.flush_cache()
	panel.find_child("ClearCaches", true, false).pressed.emit()
	_check(runtime.get_stats().bytecode.entries_memory == 0, "Clear caches empties the cache")
	var cycles: int = runtime.get_stats().lua.gc_cycles
	panel.find_child("CollectGarbage", true, false).pressed.emit()
	_check(runtime.get_stats().lua.gc_cycles > cycles, "Collect garbage runs a collection")
	# Hidden, it does no work.
	_lua_docks()[0].close()
	await _wait(0.1)
	_check(not panel.is_processing(), "a hidden panel does no work")
	_lua_docks()[0].make_visible()


func _the_panel_shows_the_running_game() -> void:
	var panel := _panel()
	if panel == null:
		return
	EditorInterface.play_main_scene()
	await get_tree().process_frame
	_lua_docks()[0].make_visible()  # starting a game shows the Output tab; back to Lua
	var waited := 0.0
	while not panel.is_showing_game() and waited < 30.0:
		await _wait(0.25)
		waited += 0.25
	_check(panel.is_showing_game(), "the game's statistics reach the panel (%.1f s)" % waited)
	if not panel.is_showing_game():
		EditorInterface.stop_playing_scene()
		return
	await _wait(0.6)
	_check(panel.shown_source == "game" and int(panel.shown_stats.scripts.instances) == 1,
			"the panel shows the game's numbers (1 node runs there, none in the editor): %s"
			% panel.shown_stats.scripts)
	var cycles := int(panel.shown_stats.lua.gc_cycles)
	# The button goes to the game, whose next message shows the collection.
	panel.find_child("CollectGarbage", true, false).pressed.emit()
	await _wait(0.4)
	_check(int(panel.shown_stats.lua.gc_cycles) > cycles,
			"Collect garbage acts on the game (%d -> %d cycles)" % [cycles, panel.shown_stats.lua.gc_cycles])
	var hit_rate: Control = panel.find_child("HitRatePlot", true, false)
	_check(hit_rate.sample_count() >= 2, "the plots gather the game's samples")
	EditorInterface.stop_playing_scene()
	waited = 0.0
	while panel.is_showing_game() and waited < 10.0:
		await _wait(0.25)
		waited += 0.25
	_check(not panel.is_showing_game() and panel.shown_source == "editor",
			"when the game stops, the panel shows the editor again")


func _lua_files_open_in_the_script_editor_highlighted() -> void:
	var settings := EditorInterface.get_editor_settings()
	_check(String(settings.get_setting("docks/filesystem/textfile_extensions")).split(",").has("lua"),
			".lua files are text files the FileSystem dock lists")
	await _wait(0.5)
	var file_system := EditorInterface.get_resource_filesystem()
	while file_system.is_scanning():
		await get_tree().process_frame
	_check(file_system.get_file_type("res://scripts/highlight.lua") != "",
			"the FileSystem lists .lua files (%s)" % file_system.get_file_type("res://scripts/highlight.lua"))
	var opened := ScriptLocation.open("res://scripts/highlight.lua", 3)
	await get_tree().process_frame
	var editor := EditorInterface.get_script_editor().get_current_editor()
	var code: CodeEdit = editor.get_base_editor() if editor != null else null
	_check(opened and code != null and code.text.begins_with("local speed = 3"),
			"an error's file opens in the script editor")
	if code == null:
		return
	_check(code.get_caret_line() == 2, "at the error's line (caret on line %d)" % (code.get_caret_line() + 1))
	var highlighter := code.syntax_highlighter
	_check(highlighter != null and highlighter.get_script() == Highlighter,
			"with Lua highlighting (%s)" % highlighter)
	if highlighter == null or highlighter.get_script() != Highlighter:
		return
	var colors := "text_editor/theme/highlighting/"
	var keyword: Color = settings.get_setting(colors + "keyword_color")
	var comment: Color = settings.get_setting(colors + "comment_color")
	var string: Color = settings.get_setting(colors + "string_color")
	var line0: Dictionary = highlighter.get_line_syntax_highlighting(0)
	_check(line0.get(0, {}).get("color") == keyword, "`local` is a keyword")
	_check(line0.get(16, {}).get("color") == comment, "`--` starts a comment")
	var line2: Dictionary = highlighter.get_line_syntax_highlighting(2)
	_check(line2.get(0, {}).get("color") == comment, "a long comment goes on over lines")
	_check(line2.get(11, {}).get("color") == keyword and line2.get(25, {}).get("color") == string,
			"code after a long comment's end is highlighted")


func _the_create_menu_makes_a_lua_script(file_system: EditorFileSystem) -> void:
	var path := NewScriptMenu.create_script("res://scripts", "made")
	_check(path == "res://scripts/made.lua" and FileAccess.file_exists(path),
			"Create New > Lua Script makes the file")
	var runtime := Engine.get_singleton("LuaRuntime")
	_check(runtime.load_script(path) == OK, "the template is a working script")
	_check(NewScriptMenu.create_script("res://scripts", "made.lua") == "",
			"an existing file is not overwritten")


func _class_docs_show_in_the_help() -> void:
	EditorInterface.get_script_editor().goto_help("class_name:LuaScriptNode")
	await _wait(0.3)
	var found := false
	for label: RichTextLabel in EditorInterface.get_script_editor().find_children("*", "RichTextLabel", true, false):
		if label.is_visible_in_tree() and label.get_parsed_text().contains("Runs a Lua script"):
			found = true
	_check(found, "LuaScriptNode's class documentation shows in the editor's help")


func _disabling_and_enabling_leaves_one_panel() -> void:
	EditorInterface.set_plugin_enabled("lua_runtime", false)
	await get_tree().process_frame
	_check(_lua_docks().size() == 0, "disabling the plugin removes the Lua tab")
	var settings := EditorInterface.get_editor_settings()
	_check(not String(settings.get_setting("docks/filesystem/textfile_extensions")).split(",").has("lua"),
			"and the .lua text-file setting it added")
	EditorInterface.set_plugin_enabled("lua_runtime", true)
	await get_tree().process_frame
	_check(_lua_docks().size() == 1, "enabling it again shows one Lua tab")
	EditorInterface.set_plugin_enabled("lua_runtime", false)
	EditorInterface.set_plugin_enabled("lua_runtime", true)
	await get_tree().process_frame
	_check(_lua_docks().size() == 1, "still one after another disable and enable")
