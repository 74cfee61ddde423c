class_name TestCase
extends Node
## Base of the engine tests: assertion helpers that record failures instead of stopping,
## and helpers to add LuaScriptNodes and wait for frames.

var failures: Array[String] = []
var errors: Array[Dictionary] = []


func before_each() -> void:
	LuaRuntime.script_error.connect(_on_script_error)


func after_each() -> void:
	LuaRuntime.script_error.disconnect(_on_script_error)


func _on_script_error(path: String, line: int, message: String) -> void:
	errors.append({"path": path, "line": line, "message": message})


func check(condition: bool, what: String) -> void:
	if not condition:
		failures.append(what)


func check_eq(actual: Variant, expected: Variant, what: String) -> void:
	if typeof(actual) != typeof(expected) or actual != expected:
		failures.append("%s: expected %s (%s), got %s (%s)" % [
			what, var_to_str(expected), type_string(typeof(expected)),
			var_to_str(actual), type_string(typeof(actual))])


## Adds a LuaScriptNode running `path` under `parent` (default: this test), before it
## enters the tree, so `_ready` sees the properties.
func add_lua(path: String, parent: Node = null, order: int = 0, node_name: String = "") -> LuaScriptNode:
	var node := LuaScriptNode.new()
	node.script_path = path
	node.execution_order = order
	if node_name != "":
		node.name = node_name
	(parent if parent != null else self).add_child(node)
	return node


func frames(count: int) -> void:
	for i in count:
		await get_tree().process_frame


func physics_frames(count: int) -> void:
	for i in count:
		await get_tree().physics_frame


## The message of the latest script error, for assertions and failure messages.
func _last_message() -> String:
	return errors[-1]["message"] if not errors.is_empty() else "<no error>"


func errors_for(path: String) -> Array[Dictionary]:
	var out: Array[Dictionary] = []
	for e in errors:
		if e["path"] == path:
			out.append(e)
	return out
