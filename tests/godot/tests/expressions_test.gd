extends TestCase
## SEXP expressions in the engine: evaluation, every invalidation mechanism, user
## operators from Lua and GDScript, the bound releasing connections, and a differential
## run of random edits where each cached result must equal a fresh evaluation.


class Ship extends Node2D:
	signal health_changed
	signal hit
	var health := 100:
		set(v):
			health = v
			health_changed.emit()
	var ammo := 10
	var shield := 5


class Crate extends Node:
	signal changed
	var weight := 1


var world: Node


func before_each() -> void:
	super()
	LuaRuntime.clear_caches()
	world = Node.new()
	world.name = "World"
	add_child(world)


func after_each() -> void:
	world.free()
	LuaRuntime.clear_caches()
	super()


func ship(ship_name: String, parent: Node = null) -> Ship:
	var s := Ship.new()
	s.name = ship_name
	(parent if parent != null else world).add_child(s)
	return s


func stats() -> Dictionary:
	return LuaRuntime.get_stats()["expressions"]


func test_operators_and_values() -> void:
	check_eq(LuaRuntime.evaluate("(+ 1 2 (* 2 3))", null), 9, "integers stay integers")
	check_eq(LuaRuntime.evaluate("(/ 7 2.0)", null), 3.5, "a float makes a float")
	check_eq(LuaRuntime.evaluate("(and (> 3 2) (not false))", null), true, "booleans")
	check_eq(LuaRuntime.evaluate("(concat \"hp: \" (str 5))", null), "hp: 5", "strings")
	check_eq(LuaRuntime.evaluate("(if (< 1 0) 1)", null), null, "if without else is null")
	var s := ship("Player")
	s.position = Vector2(3, 4)
	check_eq(LuaRuntime.evaluate("(prop \"Player\" \"position\")", world), Vector2(3, 4), "engine values come back as they are")
	check_eq(LuaRuntime.evaluate("(prop \"Player\" \"position:y\")", world), 4.0, "property paths with ':'")
	check_eq(LuaRuntime.evaluate("(= (prop \"Player\" \"position\") (prop \"Player\" \"position\"))", world), true, "engine values compare")
	check_eq(LuaRuntime.evaluate("(has-node \"Player\")", world), true, "has-node")
	check_eq(LuaRuntime.evaluate("(has-node \"../World/Player\")", world), true, "has-node through ..")
	var absolute := "(has-node \"%s\")" % str(s.get_path())
	check_eq(LuaRuntime.evaluate(absolute, null), true, "absolute paths need no context")
	var t: Variant = LuaRuntime.evaluate("(time)", null)
	check(t is float and t > 0.0, "time is seconds since start")
	check(errors.is_empty(), "no errors: %s" % [errors])


func test_errors_name_the_problem_and_where() -> void:
	check_eq(LuaRuntime.evaluate("(and (> 1 0)", null), null, "a syntax error gives null")
	check_eq(_last_message(), "expected ')' at 1:13 in (and (> 1 0)", "with line and column")
	check_eq(errors[-1]["line"], 1, "and the line in script_error")
	check(LuaRuntime.compile_expression("(frob 1)") == null, "an unknown operator does not compile")
	check_eq(_last_message(), "unknown operator 'frob' at 1:2 in (frob 1)", "named")
	LuaRuntime.compile_expression("(not 1 2)")
	check_eq(_last_message(), "'not' takes 1 argument, got 2 at 1:1 in (not 1 2)", "arity")
	LuaRuntime.evaluate("(prop \"Nobody\" \"health\")", world)
	check_eq(_last_message(), "no node at 'Nobody' at 1:1 in (prop \"Nobody\" \"health\")", "missing node")
	ship("Player")
	LuaRuntime.evaluate("(prop \"Player\" \"armour\")", world)
	check(_last_message().begins_with("node 'Player' (Node2D) has no property 'armour'"), _last_message())
	LuaRuntime.evaluate("(prop \"Player\" \"ammo\" :on \"boom\")", world)
	check(_last_message().begins_with("node 'Player' (Node2D) has no signal 'boom'"), _last_message())
	LuaRuntime.evaluate("(distance \"Player\" \"..\")", world)
	check(_last_message().contains("is a Node, not a Node2D or Node3D"), _last_message())
	LuaRuntime.evaluate("(has-node \"Player\")", null)
	check_eq(_last_message(), "no context node: a relative path needs one at 1:1 in (has-node \"Player\")", "no context")


func test_a_compiled_expression_takes_a_node_or_null_as_its_context() -> void:
	ship("Player")
	var expr := LuaRuntime.compile_expression("(has-node \"Player\")")
	check_eq(expr.evaluate(world), true, "a node")
	var typed_null: Node = null
	var absolute := LuaRuntime.compile_expression("(+ 1 2)")
	check_eq(absolute.evaluate(null), 3, "null")
	check_eq(absolute.evaluate(typed_null), 3, "a typed null")
	check_eq(absolute.evaluate(world.get_node_or_null("Nobody")), 3, "the null object the engine returns")
	check(errors.is_empty(), "no errors: %s" % [errors])
	check_eq(expr.evaluate(42), null, "an int is no context")
	check_eq(_last_message(), "the context must be a Node or null, not int at 1:1 in (has-node \"Player\")", "named")
	var resource := Resource.new()
	check_eq(expr.evaluate(resource), null, "nor is a Resource")
	check_eq(_last_message(), "the context must be a Node or null, not Resource at 1:1 in (has-node \"Player\")", "its class named")
	var gone := Node.new()
	world.add_child(gone)
	check_eq(expr.evaluate_uncached(gone), false, "a node without a Player child")
	gone.free()
	check_eq(expr.evaluate(gone), null, "a freed node is no context")
	check_eq(_last_message(), "the context node was freed at 1:1 in (has-node \"Player\")", "said so")
	check_eq(absolute.evaluate(gone), null, "also by an expression that follows no path")
	check_eq(_last_message(), "the context node was freed at 1:1 in (+ 1 2)", "before evaluating")
	check_eq(expr.evaluate(world), true, "the expression still works")
	check_eq(LuaRuntime.evaluate("(+ 1 2)", "World"), null, "LuaRuntime.evaluate takes a node too")
	check_eq(_last_message(), "the context must be a Node or null, not String at 1:1 in (+ 1 2)", "the same error")


func test_a_changed_signal_invalidates_and_hits_are_counted() -> void:
	var player := ship("Player")
	var expr := LuaRuntime.compile_expression("(> (prop \"Player\" \"health\") 50)")
	check_eq(expr.evaluate(world), true, "computed")
	for i in 5:
		expr.evaluate(world)
	check_eq(expr.get_stats()["hits"], 5, "then answered from the cache")
	check_eq(player.get_signal_connection_list("health_changed").size(), 1, "health_changed connected")
	player.health = 10
	check_eq(expr.evaluate(world), false, "health_changed dropped the result")
	check_eq(expr.get_stats()["invalidations"], 1, "one invalidation")
	check_eq(expr.get_stats()["misses"], 2, "two computations")


func test_a_property_without_a_signal_is_checked_at_each_evaluation() -> void:
	var player := ship("Player")
	var expr := LuaRuntime.compile_expression("(prop \"Player\" \"ammo\")")
	check_eq(expr.evaluate(world), 10, "computed")
	check_eq(expr.evaluate(world), 10, "unchanged: a hit")
	player.ammo = 3
	check_eq(expr.evaluate(world), 3, "the changed value is seen")
	check_eq(expr.get_stats()["hits"], 1, "one hit")
	var moving := LuaRuntime.compile_expression("(< (distance \"Player\" \"Goal\") 5)")
	var goal := ship("Goal")
	check_eq(moving.evaluate(world), true, "close")
	goal.position = Vector2(10, 0)
	check_eq(moving.evaluate(world), false, "positions are checked")


func test_a_signal_named_with_on_and_a_changed_signal() -> void:
	var player := ship("Player")
	var expr := LuaRuntime.compile_expression("(prop \"Player\" \"shield\" :on \"hit\")")
	check_eq(expr.evaluate(world), 5, "computed")
	player.shield = 0
	check_eq(expr.evaluate(world), 5, "trusted until the named signal")
	player.hit.emit()
	check_eq(expr.evaluate(world), 0, "hit dropped the result")
	var crate := Crate.new()
	crate.name = "Crate"
	world.add_child(crate)
	var weight := LuaRuntime.compile_expression("(prop \"Crate\" \"weight\")")
	check_eq(weight.evaluate(world), 1, "computed")
	crate.weight = 4
	crate.changed.emit()
	check_eq(weight.evaluate(world), 4, "a `changed` signal drops it")


func test_renames_removals_frees_and_additions() -> void:
	var player := ship("Player")
	var expr := LuaRuntime.compile_expression("(if (has-node \"Player\") (prop \"Player\" \"health\") -1)")
	check_eq(expr.evaluate(world), 100, "found")
	player.name = "Hero"
	check_eq(expr.evaluate(world), -1, "renamed away")
	var other := ship("Player")
	other.health = 7
	check_eq(expr.evaluate(world), 7, "a new node at the path")
	world.remove_child(other)
	check_eq(expr.evaluate(world), -1, "removed from the tree")
	world.add_child(other)
	check_eq(expr.evaluate(world), 7, "added back")
	other.free()
	check_eq(expr.evaluate(world), -1, "freed")
	var parent := Node.new()
	parent.name = "Fleet"
	world.add_child(parent)
	var deep := LuaRuntime.compile_expression("(has-node \"Fleet/Leader\")")
	check_eq(deep.evaluate(world), false, "nothing there")
	player.reparent(parent)
	player.name = "Leader"
	check_eq(deep.evaluate(world), true, "moved and renamed into place")
	parent.name = "Navy"
	check_eq(deep.evaluate(world), false, "a renamed node along the path")
	var outside := Node.new()
	check_eq(LuaRuntime.evaluate("(has-node \"X\")", outside), false, "a context outside the tree works")
	var before: int = stats()["uncached"]
	LuaRuntime.evaluate("(has-node \"X\")", outside)
	check_eq(stats()["uncached"], before + 1, "but is not cached: nothing tells of its changes")
	outside.free()


func test_a_swapped_script_is_followed() -> void:
	var plain := GDScript.new()
	plain.source_code = "extends Node\nvar hp := 1\n"
	plain.reload()
	var signalled := GDScript.new()
	signalled.source_code = "extends Node\nsignal hp_changed\nvar hp := 1:\n\tset(v):\n\t\thp = v\n\t\thp_changed.emit()\n"
	signalled.reload()
	var node := Node.new()
	node.name = "Swapped"
	node.set_script(signalled)
	world.add_child(node)
	var expr := LuaRuntime.compile_expression("(prop \"Swapped\" \"hp\")")
	check_eq(expr.evaluate(world), 1, "read")
	check_eq(node.get_signal_connection_list("hp_changed").size(), 1, "its change signal is watched")
	node.set_script(plain)
	node.set("hp", 7)
	check_eq(expr.evaluate(world), 7, "after a swap to a script with no signal, the value is read again")
	node.set("hp", 8)
	check_eq(expr.evaluate(world), 8, "and checked at each evaluation")
	node.set_script(signalled)
	check_eq(expr.evaluate(world), 1, "swapped back")
	node.set("hp", 4)
	check_eq(expr.evaluate(world), 4, "the signal tells of the change")
	var before: int = stats()["hits"]
	check_eq(expr.evaluate(world), 4, "then a hit")
	check_eq(stats()["hits"], before + 1, "answered from the cache, trusting the signal again")


func test_variables_from_gdscript_and_lua() -> void:
	var expr := LuaRuntime.compile_expression("(+ (var score) 1)")
	LuaRuntime.set_var("score", 1)
	check_eq(expr.evaluate(null), 2, "set_var")
	LuaRuntime.set_var("score", 5)
	check_eq(expr.evaluate(null), 6, "set_var dropped the result")
	LuaRuntime.exec("sexp.set_var('score', 10)")
	check_eq(expr.evaluate(null), 11, "sexp.set_var too")
	check_eq(LuaRuntime.eval("sexp.get_var('score')"), 10, "sexp.get_var")
	var invalidations: int = expr.get_stats()["invalidations"]
	LuaRuntime.set_var("score", 10)
	expr.evaluate(null)
	check_eq(expr.get_stats()["invalidations"], invalidations, "the same value again drops nothing")


func test_user_operators_from_lua_and_gdscript() -> void:
	var node := add_lua("res://scripts/sexp_user.lua")
	var player := ship("Player")
	player.health = 20
	var expr := LuaRuntime.compile_expression("(low-health (prop \"Player\" \"health\"))")
	check_eq(expr.evaluate(world), true, "a Lua operator")
	expr.evaluate(world)
	check_eq(LuaRuntime.get_var("calls"), 1, "pure: the cached result is reused")
	player.health = 90
	check_eq(expr.evaluate(world), false, "recomputed when its input changes")
	check_eq(LuaRuntime.evaluate("(lua-dice)", null), 3, "an impure Lua operator")
	check_eq(LuaRuntime.evaluate("(lua-dice)", null), 4, "runs every time")
	var calls := [0]
	var twice := func(x: int) -> int:
		calls[0] += 1
		return x * 2
	check_eq(LuaRuntime.define_operator("twice", twice, true), OK, "defined from GDScript")
	check_eq(LuaRuntime.evaluate("(twice (prop \"Player\" \"ammo\"))", world), 20, "a GDScript operator")
	LuaRuntime.evaluate("(twice (prop \"Player\" \"ammo\"))", world)
	check_eq(calls[0], 1, "pure: cached")
	var thrice := func(x: int) -> int: return x * 3
	LuaRuntime.define_operator("twice", thrice, true)
	check_eq(LuaRuntime.evaluate("(twice (prop \"Player\" \"ammo\"))", world), 30, "redefining drops its results")
	check_eq(LuaRuntime.define_operator("and", twice, true), ERR_INVALID_PARAMETER, "built-ins cannot be redefined")
	var refused: String = LuaRuntime.eval("tostring(select(2, pcall(sexp.define, 'or', function() end)))")
	check(refused.contains("sexp.define: 'or' cannot name an operator: it is built in, or not a symbol"), "from Lua neither: " + refused)
	check_eq(LuaRuntime.eval("sexp.eval('(twice 4)')"), 12, "sexp.eval")
	check_eq(LuaRuntime.eval("sexp.compile('(low-health 3 2)'):evaluate(nil)"), false, "sexp.compile")
	check_eq(LuaRuntime.eval("sexp.compile('(+ 1 2)'):evaluate(42)"), null, "a bad context from Lua: nil")
	check_eq(_last_message(), "the context must be a Node or null, not int at 1:1 in (+ 1 2)", "and the error reported")
	var failed: String = LuaRuntime.eval("tostring(select(2, pcall(sexp.eval, '(twice')))")
	check(failed.contains("sexp.eval: expected ')' at 1:7 in (twice"), "errors are Lua errors: " + failed)
	node.queue_free()
	await frames(1)


func test_the_bound_evicts_results_and_releases_connections() -> void:
	ProjectSettings.set_setting("lua_runtime/expressions/max_cached_results", 4)
	await frames(1)
	check_eq(stats()["capacity"], 4, "the setting applies at once")
	var ships: Array[Ship] = []
	for i in 10:
		ships.append(ship("S%d" % i))
	for i in 10:
		LuaRuntime.evaluate("(prop \"S%d\" \"health\")" % i, world)
	var connected := 0
	for s in ships:
		connected += s.get_signal_connection_list("health_changed").size()
	check_eq(connected, 4, "only the 4 results kept hold connections")
	check_eq(stats()["connections"], 4, "as get_stats() says")
	check_eq(stats()["evictions"], 6, "6 evicted")
	for s in ships.slice(0, 6):
		s.health = 1
	check_eq(LuaRuntime.evaluate("(prop \"S0\" \"health\")", world), 1, "an evicted result is computed again")
	LuaRuntime.clear_caches()
	connected = 0
	for s in ships:
		connected += s.get_signal_connection_list("health_changed").size()
	check_eq(connected, 0, "clear_caches disconnects everything")
	ProjectSettings.set_setting("lua_runtime/expressions/max_cached_results", 16384)
	await frames(1)


func test_batch_stats_and_hints() -> void:
	var a := ship("A")
	var before := stats()
	var set := LuaExpressionSet.new()
	check_eq(set.add(LuaRuntime.compile_expression("(prop \"A\" \"health\")"), world), 0, "a compiled expression")
	check_eq(set.add("(> (time) 0)", null), 1, "or text")
	check_eq(set.add("(> (time)", null), -1, "text that does not compile is refused")
	check_eq(set.add("(> (time) 0)", 7), -1, "and a context that is not a node")
	check_eq(_last_message(), "the context must be a Node or null, not int at 1:1 in (> (time) 0)", "said so")
	for i in 30:
		var values := set.evaluate()
		check_eq(values, [100, true], "the values in order")
	set.add("(prop \"A\" \"health\")", null)
	check_eq(set.evaluate()[2], null, "a failing member gives null")
	check_eq(_last_message(), "no context node: a relative path needs one at 1:1 in (prop \"A\" \"health\")", "and its error")
	var s := stats()
	var hits: int = s["hits"] - before["hits"]
	check_eq(s["evaluations"] - before["evaluations"], 63, "every evaluation counted")
	check_eq(hits, 30, "the property is answered from the cache, the volatile one never")
	check(s["hit_rate"] > 0.0 and s["hit_rate"] <= 1.0, "overall hit rate: %s" % s["hit_rate"])
	check(s["hints"].has("(> (time) 0): reads 'time', volatile: computed on every evaluation"), str(s["hints"]))
	# The third member is the first one's text: the same compiled expression.
	check_eq(s["top"][0]["source"], "(prop \"A\" \"health\")", "most evaluated first")
	check_eq(s["top"][0]["evaluations"], 32, "per-expression counts in top")
	check_eq(s["top"][0]["hits"], 30, "and hits")
	a.health = 3


## A set recomputes only the members whose inputs changed, yet every value it returns is
## current, and an array it returned earlier stays as it was.
func test_a_set_answers_from_what_changed() -> void:
	var a := ship("A")
	LuaRuntime.set_var("wave", 1)
	var set := LuaExpressionSet.new()
	set.add("(> (prop \"A\" \"health\") 50)", world)
	set.add("(< (prop \"A\" \"ammo\") 5)", world)
	set.add("(> (prop \"A\" \"ammo\") 20)", world)
	set.add("(* (var wave) 2)", world)
	var first := set.evaluate()
	check_eq(first, [true, false, false, 2], "the first values")
	var before := stats()
	check_eq(set.evaluate(), [true, false, false, 2], "nothing changed")
	var after := stats()
	check_eq(after["hits"] - before["hits"], 4, "all four answered without computing")
	check_eq(after["evaluations"] - before["evaluations"], 4, "and counted")
	a.health = 10
	a.ammo = 1
	LuaRuntime.set_var("wave", 4)
	var second := set.evaluate()
	check_eq(second, [false, true, false, 8], "a signal, a plain property and a variable")
	check_eq(first, [true, false, false, 2], "an array returned earlier does not change")
	a.ammo = 30
	var third := set.evaluate()
	check_eq(third, [false, false, true, 8], "both readers of the plain property")
	a.ammo = 2
	check_eq(set.evaluate(), [false, true, false, 8], "and back")
	check_eq([first, second, third], [[true, false, false, 2], [false, true, false, 8], [false, false, true, 8]],
		"every array returned earlier and still held keeps its values")
	third = []
	second = []
	a.ammo = 40
	check_eq(set.evaluate(), [false, false, true, 8], "with the earlier arrays let go")
	a.health = 60
	check_eq(set.evaluate(), [true, false, true, 8], "and again")
	LuaRuntime.clear_caches()
	a.health = 90
	check_eq(set.evaluate(), [true, false, true, 8], "after the caches were emptied")
	a.free()
	check_eq(set.evaluate(), [null, null, null, 8], "members reading a freed node fail")
	check_eq(_last_message(), "no node at 'A' at 1:4 in (> (prop \"A\" \"ammo\") 20)", "each error is reported")
	ship("A").health = 70
	check_eq(set.evaluate(), [true, false, false, 8], "and recover when it is back")


## An operator that evaluates the set being evaluated gets nothing; the outer call completes.
func test_a_set_used_inside_its_own_evaluation_refuses() -> void:
	var set := LuaExpressionSet.new()
	var inner := []
	LuaRuntime.define_operator("peek", func(x): inner.append(set.evaluate()); return x, true)
	set.add("(peek 5)", null)
	check_eq(set.evaluate(), [5], "the outer call completes")
	check_eq(inner, [[]], "the inner call gets an empty array")
	check_eq(set.size(), 1, "and the set is unchanged")


## Random edits of every kind through the real engine; after each, every cached result
## equals a fresh evaluation.
func test_differential_cached_results_are_never_stale() -> void:
	const STEPS := 10000
	var names := ["A", "B", "C", "D", "E", "Sub"]
	var rng := RandomNumberGenerator.new()
	rng.seed = 12345
	var sources := [
		"(if (has-node \"A\") (> (prop \"A\" \"health\") 50) false)",
		"(if (has-node \"B\") (+ (var a) (prop \"B\" \"ammo\")) 0)",
		"(if (has-node \"C\") (prop \"C\" \"health\") -1)",
		"(if (and (has-node \"A\") (has-node \"B\")) (< (distance \"A\" \"B\") 10) nil)",
		"(and (> (var b) 0) (has-node \"D/Sub\") (prop \"D/Sub\" \"health\"))",
		"(or (= (var a) 3) (has-node \"E/Sub\"))",
		"(if (has-node \"A\") (concat (prop \"A\" \"name\") \":\" (str (var c))) \"\")",
		"(if (has-node \"Sub\") (prop \"Sub\" \"ammo\") 0)",
		"(if (has-node \"../B\") (prop \"../B\" \"health\") 0)",
		"(if (and (> (var a) 2) (has-node \"E\")) (prop \"E\" \"shield\" :on \"hit\") (var b))",
		"(if (has-node \"A\") (prop \"A\" \"position:x\") 0.5)",
	]
	for v in ["a", "b", "c"]:
		LuaRuntime.set_var(v, 0)
	var exprs := []
	var set := LuaExpressionSet.new()
	for s in sources:
		exprs.append(LuaRuntime.compile_expression(s))
		set.add(exprs[-1], world)
	for n in names.slice(0, 5):
		ship("Sub", ship(n))
	var mismatches := 0
	for step in STEPS:
		var ships := world.find_children("*", "Node2D", true, false)
		var node: Ship = ships[rng.randi() % ships.size()] if not ships.is_empty() else null
		var value := rng.randi_range(0, 4) * 30
		match rng.randi() % 10:
			0:
				if node: node.health = value
			1:
				if node: node.ammo = value
			2:
				if node: node.position.x = rng.randi_range(0, 20)
			3:
				LuaRuntime.set_var(["a", "b", "c"][rng.randi() % 3], rng.randi_range(0, 4))
			4:
				if node: node.name = names[rng.randi() % names.size()]
			5:
				if node and ships.size() > 4: node.free()
			6:
				var parent: Node = node if node and rng.randi() % 3 == 0 else world
				ship(names[rng.randi() % names.size()], parent)
			7:
				if node:
					node.shield = value
					node.hit.emit()
			8:
				if node and node.get_parent() != world: node.reparent(world)
		var contexts: Array = [world]
		if is_instance_valid(node):
			contexts.append(node)
		for expr in exprs:
			for context in contexts:
				var cached: Variant = expr.evaluate(context)
				var fresh: Variant = expr.evaluate_uncached(context)
				if typeof(cached) != typeof(fresh) or cached != fresh:
					mismatches += 1
					if mismatches < 5:
						check(false, "step %d: %s in %s: cached %s, fresh %s" % [step, expr.get_source(), context.name, cached, fresh])
		var values := set.evaluate()
		for i in exprs.size():
			var fresh: Variant = exprs[i].evaluate_uncached(world)
			if typeof(values[i]) != typeof(fresh) or values[i] != fresh:
				mismatches += 1
				if mismatches < 5:
					check(false, "step %d: %s in a set: %s, fresh %s" % [step, exprs[i].get_source(), values[i], fresh])
	check_eq(mismatches, 0, "no cached result differed from a fresh one")
	check(errors.is_empty(), "no evaluation failed: %s" % [errors.slice(0, 3)])
	var s := stats()
	check(s["hits"] > s["misses"], "the cache answered most evaluations: %s hits, %s misses" % [s["hits"], s["misses"]])
