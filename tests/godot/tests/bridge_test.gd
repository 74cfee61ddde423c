extends TestCase
## What scripts reach through `self` and `self.target`, and the errors of wrong use.

var target: Node2D
var node: LuaScriptNode


func before_each() -> void:
	super()
	target = Node2D.new()
	target.name = "Target"
	add_child(target)
	node = add_lua("res://scripts/bridge.lua", target, 3, "Script")


func test_self_reads_node_properties_and_own_functions() -> void:
	check_eq(node.lua_call("node_name", []), "Script", "self.name")
	check_eq(node.lua_call("own_property", []), 3, "self.execution_order")
	check_eq(node.lua_call("helper", []), "helper:ok", "self:function() calls the script's own functions")


func test_target_methods_and_properties() -> void:
	check_eq(node.lua_call("target_child_count", []), 1, "self.target:get_child_count()")
	node.lua_call("set_target_name", ["Renamed"])
	check_eq(String(target.name), "Renamed", "self.target.name = ...")


func test_vector_and_color_operators() -> void:
	check_eq(node.lua_call("vector_math", []), "7 11 2.8284 true (0.0, -1.0)", "Vector2")
	check_eq(node.lua_call("vector3_math", []), "3 4 1", "Vector3")
	check_eq(node.lua_call("color_math", []), "0.5 0.5 1 true", "Color")


func test_unknown_property_read_is_an_error_naming_the_class() -> void:
	check_eq(node.lua_call("read_unknown", []), null, "returns null")
	check(_last_message().contains("Node2D has no property, method or signal named 'no_such_property'"), _last_message())


func test_unknown_property_write_is_an_error() -> void:
	node.lua_call("set_unknown", [])
	check(_last_message().contains("Node2D has no property named 'no_such_property'"), _last_message())


func test_wrong_type_write_is_an_error() -> void:
	node.lua_call("set_wrong_type", [])
	check(_last_message().contains("cannot set Node2D.position"), _last_message())
	check_eq(target.position, Vector2.ZERO, "the property is unchanged")


func test_unknown_method_and_bad_arguments_are_errors() -> void:
	node.lua_call("call_unknown", [])
	check(_last_message().contains("no_such_method"), _last_message())
	node.lua_call("call_wrong_args", [])
	check(_last_message().contains("Node2D.get_child()"), _last_message())
	check_eq(errors[-1]["path"], "res://scripts/bridge.lua", "the error names the script")


func test_a_freed_object_is_an_error_not_a_crash() -> void:
	var child := Node.new()
	target.add_child(child)
	target.move_child(child, 0)
	check_eq(node.lua_call("freed_object", []), null, "returns null")
	check(_last_message().contains("freed object"), _last_message())
