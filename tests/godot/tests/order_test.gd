extends TestCase
## Call order within a frame: execution_order ascending, then tree order.


func _names_last_frame() -> Array:
	LuaRuntime.exec("order_log = {}")
	await frames(1)
	return LuaRuntime.get_var("order_log")


func test_order_follows_execution_order_then_tree_order() -> void:
	add_lua("res://scripts/order.lua", null, 2, "A")
	add_lua("res://scripts/order.lua", null, -1, "B")
	add_lua("res://scripts/order.lua", null, 2, "C")
	add_lua("res://scripts/order.lua", null, 0, "D")
	add_lua("res://scripts/order.lua", null, -1, "E")
	await frames(1)
	var first: Array = await _names_last_frame()
	check_eq(first, ["B", "E", "D", "A", "C"], "order in the first frame")
	var second: Array = await _names_last_frame()
	check_eq(second, first, "the same order every frame")
	LuaRuntime.exec("order_log = nil")


func test_changing_execution_order_applies_next_frame() -> void:
	var a := add_lua("res://scripts/order.lua", null, 0, "A")
	add_lua("res://scripts/order.lua", null, 1, "B")
	await frames(1)
	check_eq(await _names_last_frame(), ["A", "B"], "before the change")
	a.execution_order = 5
	check_eq(await _names_last_frame(), ["B", "A"], "after the change")
	LuaRuntime.exec("order_log = nil")


const LOGGER := """
extends Node
func _process(_delta: float) -> void:
	LuaRuntime.exec("if order_log then order_log[#order_log + 1] = 'gd:%s' end" % name)
"""


## A GDScript node that logs its `_process` calls next to the Lua nodes'.
func _gdscript_logger(node_name: String) -> Node:
	var script := GDScript.new()
	script.source_code = LOGGER
	script.reload()
	var node := Node.new()
	node.set_script(script)
	node.name = node_name
	add_child(node)
	return node


func test_a_batch_runs_where_godot_would_call_its_first_node() -> void:
	_gdscript_logger("Before")
	add_lua("res://scripts/order.lua", null, 0, "A")
	add_lua("res://scripts/order.lua", null, 0, "B")
	_gdscript_logger("Between")
	add_lua("res://scripts/order.lua", null, 0, "C")
	_gdscript_logger("After")
	await frames(2)
	check_eq(await _names_last_frame(), ["gd:Before", "A", "B", "C", "gd:Between", "gd:After"],
		"the three Lua nodes run as one batch, at the first one's place among the GDScript nodes")
	LuaRuntime.exec("order_log = nil")
