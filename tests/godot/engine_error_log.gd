extends Logger
## Collects the engine's error reports while it is installed (`OS.add_logger(log)`).

var reports: Array[String] = []


func _log_error(_function: String, _file: String, _line: int, code: String,
		rationale: String, _editor_notify: bool, _error_type: int,
		_script_backtraces: Array[ScriptBacktrace]) -> void:
	reports.append("%s %s" % [code, rationale])
