extends TestCase
## The `query` library: each kind before and after each kind of tree change, against the
## engine's own answer; a differential run over random edits; statistics and errors.

var world: Node


func before_each() -> void:
	super()
	world = Node.new()
	world.name = "World"
	add_child(world)
	LuaRuntime.set_var("world", world)


func after_each() -> void:
	LuaRuntime.exec("world = nil; kept = nil")
	world.free()
	super()


func _add(parent: Node, node_name: String, node: Node = null) -> Node:
	var n := node if node != null else Node2D.new()
	n.name = node_name
	parent.add_child(n)
	return n


## The Lua answer to `call` (Lua source of a query call) as node names.
func _names(call: String) -> Array:
	var out: Array = []
	var nodes: Array = LuaRuntime.eval(call)
	for n in nodes:
		out.append(String(n.name))
	return out


func _names_of(nodes: Array) -> Array:
	var out: Array = []
	for n in nodes:
		out.append(String(n.name))
	return out


func test_group_answers_follow_adds_removes_swaps_and_frees() -> void:
	var a := _add(world, "A")
	var b := _add(world, "B")
	var c := _add(world, "C")
	a.add_to_group("q_foes")
	b.add_to_group("q_foes")
	var q := "query.group('q_foes')"
	check_eq(_names(q), ["A", "B"], "the group's nodes, in tree order")
	check_eq(LuaRuntime.eval("%s == %s" % [q, q]), true, "a second ask hands out the same table")
	c.add_to_group("q_foes")
	check_eq(_names(q), ["A", "B", "C"], "a node GDScript adds to the group is seen")
	b.remove_from_group("q_foes")
	check_eq(_names(q), ["A", "C"], "a node GDScript removes is gone")
	# Same size, different members: one out, one in, between two asks.
	a.remove_from_group("q_foes")
	b.add_to_group("q_foes")
	check_eq(_names(q), ["B", "C"], "a swap that keeps the size is seen")
	LuaRuntime.exec("world:get_node('A'):add_to_group('q_foes')")
	check_eq(_names(q), ["A", "B", "C"], "a node Lua adds is seen")
	world.remove_child(b)
	check_eq(_names(q), ["A", "C"], "a node leaving the tree is gone")
	world.add_child(b)
	check_eq(_names(q), ["A", "C", "B"], "and back when it returns, at its new place")
	c.free()
	check_eq(_names(q), ["A", "B"], "a freed node is gone")
	world.move_child(b, 0)
	check_eq(_names(q), ["B", "A"], "moving a child reorders the answer")
	check_eq(LuaRuntime.eval("#query.group('q_nobody')"), 0, "an empty group is an empty list")


func test_children_answers_follow_names_and_order() -> void:
	var e1 := _add(world, "Enemy1")
	_add(world, "Pickup")
	var e2 := _add(world, "Enemy2")
	var q := "query.children(world, 'Enemy*')"
	check_eq(_names(q), ["Enemy1", "Enemy2"], "children whose name matches")
	check_eq(_names("query.children(world)"), ["Enemy1", "Pickup", "Enemy2"], "no pattern: every child")
	_add(world, "Enemy3")
	check_eq(_names(q), ["Enemy1", "Enemy2", "Enemy3"], "an added child is seen")
	e1.name = "Friend"
	check_eq(_names(q), ["Enemy2", "Enemy3"], "a child renamed away is gone")
	world.get_node("Pickup").name = "EnemyP"
	check_eq(_names(q), ["EnemyP", "Enemy2", "Enemy3"], "a child renamed into the pattern is seen")
	world.move_child(e2, 0)
	check_eq(_names(q), ["Enemy2", "EnemyP", "Enemy3"], "a moved child moves in the answer")
	_add(e2, "EnemyGrandchild")
	check_eq(_names(q), ["Enemy2", "EnemyP", "Enemy3"], "grandchildren are not children")
	e2.queue_free()
	await frames(1)
	check_eq(_names(q), ["EnemyP", "Enemy3"], "a freed child is gone")
	check_eq(_names("query.children(world, 'Enemy?')"), ["EnemyP", "Enemy3"], "? is one character")


func test_class_answers_follow_the_branch() -> void:
	var holder := _add(world, "Holder", Node.new())
	_add(holder, "S1", Sprite2D.new())
	_add(world, "Plain", Node.new())
	_add(world, "S2", Sprite2D.new())
	var flat := "query.by_class(world, 'Sprite2D')"
	var deep := "query.by_class(world, 'Sprite2D', true)"
	var any2d := "query.by_class(world, 'Node2D', true)"
	check_eq(_names(flat), ["S2"], "children only by default")
	check_eq(_names(deep), ["S1", "S2"], "the whole branch when recursive, in tree order")
	check_eq(_names(any2d), ["S1", "S2"], "subclasses count")
	var s3 := _add(holder, "S3", Sprite2D.new())
	check_eq(_names(deep), ["S1", "S3", "S2"], "a grandchild added is seen by the recursive query")
	check_eq(_names(flat), ["S2"], "but not by the flat one")
	s3.reparent(world)
	check_eq(_names(flat), ["S2", "S3"], "a node reparented in is seen")
	check_eq(_names(deep), ["S1", "S2", "S3"], "and has moved in the recursive answer")
	holder.free()
	check_eq(_names(deep), ["S2", "S3"], "a freed branch is gone")


func test_script_answers_follow_script_nodes() -> void:
	var t1 := _add(world, "T1")
	var t2 := _add(world, "T2")
	add_lua("res://scripts/tagged.lua", t1)
	var s2 := add_lua("res://scripts/tagged.lua", t2)
	var q := "query.by_script('res://scripts/tagged.lua')"
	check_eq(_names(q), ["T1", "T2"], "the nodes the scripts drive")
	var t3 := _add(world, "T3")
	add_lua("res://scripts/tagged.lua", t3)
	check_eq(_names(q), ["T1", "T2", "T3"], "a new script node is seen")
	t2.remove_child(s2)
	check_eq(_names(q), ["T1", "T3"], "a script node leaving the tree is gone")
	s2.target_path = NodePath("../T1")
	t3.add_child(s2)
	check_eq(_names(q), ["T1", "T3"], "a node driven twice is listed once")
	s2.target_path = NodePath("..")
	check_eq(_names(q), ["T1", "T3"], "target_path changes are seen")
	t3.free()
	check_eq(_names(q), ["T1"], "freeing a branch removes its scripts' nodes")
	check_eq(LuaRuntime.eval("#query.by_script('res://scripts/none.lua')"), 0, "no node runs it")


func test_answers_rooted_outside_the_tree_are_computed_every_time() -> void:
	var loose := Node.new()
	_add(loose, "Enemy1")
	LuaRuntime.set_var("loose", loose)
	var before: int = LuaRuntime.get_stats()["queries"]["uncached"]
	check_eq(_names("query.children(loose, 'Enemy*')"), ["Enemy1"], "a loose branch is answered")
	_add(loose, "Enemy2")
	check_eq(_names("query.children(loose, 'Enemy*')"), ["Enemy1", "Enemy2"], "and never stale")
	check_eq(LuaRuntime.get_stats()["queries"]["uncached"], before + 2, "counted as uncached")
	LuaRuntime.set_var("loose", null)
	loose.free()


func test_stats_count_queries_hits_and_invalidations() -> void:
	_add(world, "A").add_to_group("q_counted")
	var before: Dictionary = LuaRuntime.get_stats()["queries"]
	LuaRuntime.exec("for i = 1, 10 do query.group('q_counted') end")
	_add(world, "B").add_to_group("q_counted")
	LuaRuntime.exec("query.group('q_counted')")
	var after: Dictionary = LuaRuntime.get_stats()["queries"]
	check_eq(after["queries"] - before["queries"], 11, "every ask counts")
	check_eq(after["hits"] - before["hits"], 9, "the first ask and the one after the change miss")
	check(after["invalidations"] > before["invalidations"], "the change invalidated the answer")
	var mine: Dictionary = {}
	for entry in after["top"]:
		if entry["signature"] == "group(\"q_counted\")":
			mine = entry
	check_eq([mine.get("kind"), mine.get("queries"), mine.get("hits")], ["group", 11, 9],
			"per-signature counts: %s" % [after["top"]])
	check(after["hit_rate"] > 0.0 and after["hit_rate"] <= 1.0, "a hit rate")
	LuaRuntime.clear_caches()
	check_eq(LuaRuntime.get_stats()["queries"]["entries"], 0, "clear_caches empties the query cache")


func test_bad_arguments_and_changes_to_answers_are_clear_errors() -> void:
	LuaRuntime.exec("query.group(5)")
	check(_last_message().contains("query.group: argument #1: expected a group name, got number"), _last_message())
	LuaRuntime.exec("query.children('World')")
	check(_last_message().contains("query.children: argument #1: expected a Node, got string"), _last_message())
	LuaRuntime.exec("query.by_class(world, 'NoSuchClass')")
	check(_last_message().contains("there is no class named 'NoSuchClass'"), _last_message())
	_add(world, "A").add_to_group("q_shared")
	LuaRuntime.exec("local list = query.group('q_shared')\nlist[#list + 1] = 1")
	check(_last_message().contains("query results are shared"), _last_message())
	check_eq(errors[-1]["line"], 2, "the error names the line")
	check_eq(LuaRuntime.eval("local c = query.copy(query.group('q_shared')); c[2] = 1; return #c"), 2,
			"a copy is the caller's own")


## Random tree edits from GDScript and Lua; after each, every cached answer must equal the
## engine's own answer computed afresh.
func test_cached_answers_equal_fresh_ones_over_random_edits() -> void:
	var rng := RandomNumberGenerator.new()
	rng.seed = 20261121
	var steps := 2000
	var checked := 0
	var pool: Array[Node] = [world]
	var classes := [Node, Node2D, Sprite2D]
	for i in steps:
		var op := rng.randi_range(0, 9)
		var live: Array[Node] = []
		for n in pool:
			if is_instance_valid(n) and n.is_inside_tree():
				live.append(n)
		pool = live
		var target: Node = pool[rng.randi_range(0, pool.size() - 1)]
		match op:
			0, 1:
				if pool.size() < 60:
					var n: Node = classes[rng.randi_range(0, 2)].new()
					n.name = ("E" if rng.randf() < 0.5 else "F") + str(i)
					target.add_child(n)
					pool.append(n)
			2:
				if target != world:
					target.free()
			3:
				if target != world:
					target.name = ("E" if rng.randf() < 0.5 else "F") + "r" + str(i)
			4:
				target.add_to_group("q_diff")
			5:
				target.remove_from_group("q_diff")
			6:
				LuaRuntime.set_var("edited", target)
				LuaRuntime.exec("if edited:is_in_group('q_diff') then edited:remove_from_group('q_diff') else edited:add_to_group('q_diff') end")
				LuaRuntime.set_var("edited", null)
			7:
				var parent := target.get_parent()
				if target != world and parent != null and parent.get_child_count() > 1:
					parent.move_child(target, rng.randi_range(0, parent.get_child_count() - 1))
			8:
				var to: Node = pool[rng.randi_range(0, pool.size() - 1)]
				if target != world and to != target and not target.is_ancestor_of(to) and to != target.get_parent():
					target.reparent(to)
			9:
				pass
		# Ask often enough that most answers are cached hits between edits.
		check_eq(_names("query.group('q_diff')"), _names_of(get_tree().get_nodes_in_group("q_diff")), "step %d group" % i)
		check_eq(_names("query.children(world, 'E*')"), _names_of(world.get_children().filter(func(n: Node) -> bool: return String(n.name).match("E*"))), "step %d children" % i)
		check_eq(_names("query.by_class(world, 'Node2D', true)"), _names_of(world.find_children("*", "Node2D", true, false)), "step %d by_class recursive" % i)
		check_eq(_names("query.by_class(world, 'Sprite2D')"), _names_of(world.find_children("*", "Sprite2D", false, false)), "step %d by_class" % i)
		checked += 4
		if failures.size() > 5:
			break
	check_eq(checked, steps * 4, "every step was checked")
	var stats: Dictionary = LuaRuntime.get_stats()["queries"]
	check(stats["hits"] > 0, "the run used cached answers (%d hits)" % stats["hits"])


func test_without_the_member_check_lua_changes_and_size_changes_are_still_seen() -> void:
	var setting := "lua_runtime/queries/check_group_members"
	ProjectSettings.set_setting(setting, false)
	await frames(1)
	var a := _add(world, "A")
	var b := _add(world, "B")
	a.add_to_group("q_trusted")
	var q := "query.group('q_trusted')"
	check_eq(_names(q), ["A"], "the group")
	LuaRuntime.exec("world:get_node('A'):remove_from_group('q_trusted'); world:get_node('B'):add_to_group('q_trusted')")
	check_eq(_names(q), ["B"], "a swap made from Lua is seen")
	a.add_to_group("q_trusted")
	check_eq(_names(q), ["A", "B"], "a change of size made from GDScript is seen")
	ProjectSettings.set_setting(setting, true)
	await frames(1)
	b.remove_from_group("q_trusted")
	_add(world, "C").add_to_group("q_trusted")
	check_eq(_names(q), ["A", "C"], "with the check back on, a GDScript swap is seen")
