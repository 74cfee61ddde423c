@tool
extends EditorDebuggerPlugin
## The editor's end of the running game's statistics: the game sends `lua_runtime:stats`
## with its `get_stats()` Dictionary about twice a second; the panel's buttons go back as
## `lua_runtime:<command>`.

signal game_stats_received(stats: Dictionary)
signal game_stopped

const CAPTURE := "lua_runtime"
const STATS := "lua_runtime:stats"

var _session_id := -1


func _has_capture(capture: String) -> bool:
	return capture == CAPTURE


func _capture(message: String, data: Array, session_id: int) -> bool:
	if message != STATS:
		return false
	if data.size() != 1 or not (data[0] is Dictionary):
		push_warning("Lua Runtime: unexpected %s message from the game" % message)
		return true
	_session_id = session_id
	game_stats_received.emit(data[0])
	return true


func _setup_session(session_id: int) -> void:
	var session := get_session(session_id)
	session.stopped.connect(_on_session_stopped.bind(session_id))


## Asks the game shown in the panel to act ("clear_caches", "warm_cache", "collect_garbage",
## "send_stats"). False when no game is attached.
func send_command(command: String) -> bool:
	if _session_id < 0:
		return false
	var session := get_session(_session_id)
	if session == null or not session.is_active():
		return false
	session.send_message(CAPTURE + ":" + command, [])
	return true


func _on_session_stopped(session_id: int) -> void:
	if session_id == _session_id:
		_session_id = -1
		game_stopped.emit()
