extends TestCase
## Each callback is called with the right arguments; enabled and removal behave.


func test_ready_gets_self_as_a_table() -> void:
	var node := add_lua("res://scripts/lifecycle.lua")
	check(node.is_running(), "the script runs")
	check_eq(node.lua_get("calls"), ["ready:table"], "_ready(self) was called once with a table")


func test_process_gets_delta_every_frame() -> void:
	var node := add_lua("res://scripts/lifecycle.lua")
	await frames(5)
	check(node.lua_get("process_count") >= 5, "_process ran every frame (%s)" % node.lua_get("process_count"))
	check_eq(node.lua_get("last_delta_type"), "number", "delta is a number")
	check(node.lua_get("last_delta") > 0.0, "delta is positive")


func test_physics_process_gets_the_physics_step() -> void:
	var node := add_lua("res://scripts/lifecycle.lua")
	await physics_frames(3)
	check(node.lua_get("physics_count") >= 2, "_physics_process ran (%s)" % node.lua_get("physics_count"))
	var step := 1.0 / Engine.physics_ticks_per_second
	check(is_equal_approx(node.lua_get("last_physics_delta"), step), "physics delta is the fixed step")


func test_input_gets_the_event_object() -> void:
	var node := add_lua("res://scripts/lifecycle.lua")
	var event := InputEventKey.new()
	event.keycode = KEY_SPACE
	event.pressed = true
	get_viewport().push_input(event)
	check_eq(node.lua_get("last_event"), "InputEventKey", "_input(self, event) got the event")
	check_eq(node.lua_get("last_event_pressed"), true, "the event's properties are readable")


func test_disabled_node_gets_no_calls() -> void:
	var node := add_lua("res://scripts/counter.lua")
	await frames(2)
	node.enabled = false
	var frozen: int = node.lua_get("count")
	await frames(5)
	check_eq(node.lua_get("count"), frozen, "no _process while disabled")
	node.enabled = true
	await frames(2)
	check(node.lua_get("count") > frozen, "calls resume when enabled again")


func test_a_script_can_disable_its_own_node() -> void:
	var node := add_lua("res://scripts/bridge.lua")
	node.lua_call("disable_self", [])
	check_eq(node.enabled, false, "self.enabled = false sets the node property")


func test_removing_a_node_calls_exit_tree_and_frees_its_state() -> void:
	var parent := Node.new()
	add_child(parent)
	await frames(1)
	var before: int = LuaRuntime.get_stats()["scripts"]["instances"]
	var node := add_lua("res://scripts/lifecycle.lua", parent)
	check_eq(LuaRuntime.get_stats()["scripts"]["instances"], before + 1, "one more running instance")
	node.queue_free()
	await frames(1)
	check_eq(parent.get_meta("exit_tree_called", false), true, "_exit_tree(self) was called")
	check_eq(LuaRuntime.get_stats()["scripts"]["instances"], before, "the instance state was freed")
	parent.free()


func test_each_node_has_its_own_state() -> void:
	var a := add_lua("res://scripts/counter.lua")
	await frames(3)
	var b := add_lua("res://scripts/counter.lua")
	await frames(1)
	check(a.lua_get("count") > b.lua_get("count"), "two nodes on one script count separately")
	b.lua_set("count", 100)
	check(a.lua_get("count") < 100, "setting one node's state leaves the other alone")


func test_target_follows_moves_and_target_path_changes() -> void:
	var first := _named_child("First")
	var second := _named_child("Second")
	var node := add_lua("res://scripts/bridge.lua", first)
	check_eq(node.lua_call("target_name", []), "First", "the parent")
	check_eq(node.lua_call("target_name", []), "First", "asked again")
	node.reparent(second)
	check_eq(node.lua_call("target_name", []), "Second", "the new parent after a move")
	var child := Node.new()
	child.name = "Child"
	node.add_child(child)
	node.target_path = NodePath("Child")
	check_eq(node.lua_call("target_name", []), "Child", "the node at a new target_path")
	child.name = "Renamed"
	check_eq(node.lua_call("target_name", []), null, "a renamed target is no longer at the path")
	node.target_path = NodePath("../..")
	check_eq(node.lua_call("target_name", []), String(name), "an ancestor further up")
	second.remove_child(node)
	node.target_path = NodePath("..")
	first.add_child(node)
	check_eq(node.lua_call("target_name", []), "First", "the parent it joined after a path set outside the tree")
	first.free()
	second.free()


func test_a_target_the_script_assigns_stays_after_a_move() -> void:
	var first := _named_child("First")
	var second := _named_child("Second")
	var chosen := _named_child("Chosen")
	var node := add_lua("res://scripts/bridge.lua", first)
	node.lua_set("target", chosen)
	check_eq(node.lua_call("target_name", []), "Chosen", "the script's own choice")
	node.reparent(second)
	check_eq(node.lua_call("target_name", []), "Chosen", "kept after the node moved")
	node.lua_set("target", null)
	check_eq(node.lua_call("target_name", []), "Second", "the parent again once the script lets go")
	var own := add_lua("res://scripts/own_target.lua", first)
	check_eq(own.lua_call("read_target", []), "mine", "a module's own target comes first")
	own.reparent(second)
	check_eq(own.lua_call("read_target", []), "mine", "also after a move")
	for n in [first, second, chosen]:
		n.free()


## A plain Node named `node_name`, added to the test.
func _named_child(node_name: String) -> Node:
	var node := Node.new()
	node.name = node_name
	add_child(node)
	return node


func test_target_is_the_parent_by_default() -> void:
	var body := Node2D.new()
	body.position = Vector2(5, 5)
	add_child(body)
	var node := add_lua("res://scripts/mover.lua", body)
	await frames(10)
	check(body.position.x > 5.0 and body.position.y < 5.0, "the script moved its parent (%s)" % body.position)
	check(node.lua_call("distance_moved", []) > 0.0, "methods on Vector2 work")
