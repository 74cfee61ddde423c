@tool
extends EditorPlugin
## Used by tools/screenshot.sh on a copy of the demo project: opens the main scene, shows the
## "Lua" tab of the bottom panel, runs the game from the editor and, once the panel shows the
## game's numbers, writes the file named by $SHOT_READY. Stops the game and quits when the file
## named by $SHOT_TAKEN appears.


func _enter_tree() -> void:
	_run.call_deferred()


func _run() -> void:
	var fs := EditorInterface.get_resource_filesystem()
	for i in 30:
		await get_tree().process_frame
	while fs.is_scanning():
		await get_tree().process_frame
	EditorInterface.open_scene_from_path("res://main.tscn")
	EditorInterface.set_main_screen_editor("2D")
	var dock := _lua_dock()
	if dock == null:
		printerr("screenshot: no Lua dock")
		get_tree().quit(1)
		return
	# Run the game in a window of its own (it stays behind the editor here), and keep the
	# Output panel from taking the bottom panel when it starts. (Editor settings of the
	# throwaway tree, not the user's.)
	var settings := EditorInterface.get_editor_settings()
	settings.set_setting("run/window_placement/game_embed_mode", -1)
	settings.set_setting("run/output/always_open_output_on_play", false)
	EditorInterface.play_main_scene()
	await get_tree().create_timer(2.0).timeout
	dock.call("make_visible")
	EditorInterface.set_main_screen_editor("2D")
	# A taller bottom panel than the default, as a user would drag it.
	dock.custom_minimum_size.y = 290
	var panel: Node = dock.get_child(0)
	var waited := 0.0
	while not panel.is_showing_game() and waited < 60.0:
		await get_tree().create_timer(0.5).timeout
		waited += 0.5
	# Let the plots gather some history.
	await get_tree().create_timer(float(OS.get_environment("SHOT_SECONDS"))).timeout
	print("screenshot: panel shows the game: ", panel.is_showing_game())
	FileAccess.open(OS.get_environment("SHOT_READY"), FileAccess.WRITE).store_string("ready")
	while not FileAccess.file_exists(OS.get_environment("SHOT_TAKEN")):
		await get_tree().create_timer(0.2).timeout
	EditorInterface.stop_playing_scene()
	await get_tree().create_timer(0.5).timeout
	get_tree().quit(0)


func _lua_dock() -> Node:
	for dock in EditorInterface.get_base_control().find_children("*", "EditorDock", true, false):
		if dock.get("title") == "Lua":
			return dock
	return null
