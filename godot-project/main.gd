extends Node2D
## Spawns sprites, each moved by its own LuaScriptNode running res://scripts/bouncer.lua,
## runs a mission whose triggers are SEXP conditions (res://scripts/mission.lua), and shows
## the runtime's statistics. Headless (no display) it runs a few seconds, prints
## what ran and quits; with a window it runs until closed.

const SPRITES := 240
const HEADLESS_SECONDS := 4.0

@export var dot_texture: Texture2D

var _errors: Array[String] = []
var _mission_events: Array[String] = []
var _start_positions: Array[Vector2] = []
var _sprites: Array[Sprite2D] = []


func _ready() -> void:
	LuaRuntime.script_error.connect(_on_script_error)
	LuaRuntime.event_emitted.connect(_on_event)
	for i in SPRITES:
		var sprite := Sprite2D.new()
		sprite.texture = dot_texture
		sprite.position = Vector2(randf_range(40, 1110), randf_range(140, 600))
		var lua := LuaScriptNode.new()
		lua.script_path = "res://scripts/bouncer.lua"
		sprite.add_child(lua)
		add_child(sprite)
		_sprites.append(sprite)
		_start_positions.append(sprite.position)
	if DisplayServer.get_name() == "headless":
		_run_headless()


func _process(_delta: float) -> void:
	var stats: Dictionary = LuaRuntime.get_stats()
	$Stats.text = "%d Lua-driven sprites  |  %s, %.1f MiB Lua heap  |  %d script errors (%d repeats held back)\nMission: %s  |  trigger checks answered from the cache: %.1f %%\nArrow keys move the square; space changes its colour." % [
		stats["scripts"]["instances"], stats["lua"]["flavour"],
		stats["lua"]["memory_bytes"] / 1048576.0, stats["errors"]["reported"], stats["errors"]["suppressed"],
		", ".join(_mission_events) if not _mission_events.is_empty() else "no trigger fired yet",
		stats["expressions"]["hit_rate"] * 100.0]


func _on_script_error(path: String, line: int, message: String) -> void:
	_errors.append("%s:%d: %s" % [path, line, message])


func _on_event(event_name: String, args: Array) -> void:
	if event_name == "mission_event":
		_mission_events.append(args[0])


func _run_headless() -> void:
	print("Lua Runtime demo (headless): %d sprites, each moved by a LuaScriptNode" % SPRITES)
	# No keyboard here: press space and the right arrow for the player script.
	await get_tree().create_timer(0.5).timeout
	for key in [KEY_SPACE, KEY_RIGHT]:
		_press(key, true)
	await get_tree().create_timer(0.5).timeout
	_press(KEY_RIGHT, false)
	await get_tree().create_timer(HEADLESS_SECONDS).timeout
	var moved := 0
	for i in _sprites.size():
		if _sprites[i].position.distance_to(_start_positions[i]) > 1.0:
			moved += 1
	var stats: Dictionary = LuaRuntime.get_stats()
	print("  sprites moved by Lua: %d of %d" % [moved, SPRITES])
	print("  player: position %s, colour %s (changed by _input: %s)" % [
		$Player.position, $Player.modulate, $Player.modulate != Color.WHITE])
	print("  mission triggers fired: %s (trigger checks answered from the cache: %.1f %%)" % [
		_mission_events, stats["expressions"]["hit_rate"] * 100.0])
	print("  script errors reported while the game kept running: %s" % [_errors])
	print("  stats: %s" % stats)
	var ok := moved == SPRITES and _errors.size() > 0 and _mission_events.size() == 3
	get_tree().quit(0 if ok else 1)


func _press(key: Key, pressed: bool) -> void:
	var event := InputEventKey.new()
	event.keycode = key
	event.pressed = pressed
	Input.parse_input_event(event)
