extends SceneTree
## A mission's triggers, in one run: 1,000 SEXP triggers over 100 ships, checked every
## frame, against Godot's `Expression` doing the same checks (each parsed once, executed
## every frame). The inputs are 500 values: each ship's `health` and `shield` (setters that
## emit `<name>_changed`), its `ammo` and `fuel` (plain properties, no signal) and 100
## runtime variables; each is read by two triggers with different thresholds. Every frame
## 5% of the inputs (25) change. Times are the median over the frames of checking all
## 1,000 triggers: (a) one `LuaExpressionSet.evaluate()` call, (b) `Expression.execute` per
## trigger, (c) `LuaExpression.evaluate` called per trigger from GDScript. Both answers are
## compared every frame. Prints `BENCH` lines. `--changes=N` changes N inputs a frame instead
## (`--changes=0`: what checking costs when nothing changes); `--scale=0.2` makes the mission
## that much smaller (or larger), everything in proportion. `--changes` after `--scale` wins.
## `--frames=N` measures longer (for a profiler).

var ship_count := 100
const PROPS := ["health", "shield", "ammo", "fuel"]
var var_count := 100
var trigger_count := 1000
var changes := 25
const WARMUP := 30
var frame_count := 300


class Ship extends Node2D:
	signal health_changed
	signal shield_changed
	var health := 50:
		set(v):
			health = v
			health_changed.emit()
	var shield := 50:
		set(v):
			shield = v
			shield_changed.emit()
	var ammo := 50
	var fuel := 50


var ships: Array[Ship] = []
var vars: Array[int] = []
var rng := RandomNumberGenerator.new()


func _initialize() -> void:
	# Nodes enter the tree only after _initialize returns.
	_run.call_deferred()


func _run() -> void:
	rng.seed = 7
	for arg in OS.get_cmdline_user_args():
		if arg.begins_with("--changes="):
			changes = int(arg.trim_prefix("--changes="))
		elif arg.begins_with("--frames="):
			frame_count = int(arg.trim_prefix("--frames="))
		elif arg.begins_with("--scale="):
			# A smaller or larger mission of the same shape: ships, variables, triggers and
			# changes a frame all scaled.
			var scale := float(arg.trim_prefix("--scale="))
			ship_count = maxi(1, roundi(ship_count * scale))
			var_count = maxi(1, roundi(var_count * scale))
			trigger_count = maxi(1, roundi(trigger_count * scale))
			changes = roundi(changes * scale)
	var mission := Node.new()
	mission.name = "Mission"
	root.add_child(mission)
	for i in ship_count:
		var s := Ship.new()
		s.name = "S%d" % i
		mission.add_child(s)
		ships.append(s)
	for k in var_count:
		vars.append(50)
		LuaRuntime.set_var("v%d" % k, 50)
	var sexps: Array = []
	var set := LuaExpressionSet.new()
	var expressions: Array[Expression] = []
	var inputs: Array = []  # per trigger: [ship index or -1, var index]
	for t in trigger_count:
		var input := t % (ship_count * PROPS.size() + var_count)
		var threshold := 30 if t < trigger_count / 2 else 60
		var e := Expression.new()
		if input < ship_count * PROPS.size():
			var ship := input % ship_count
			var prop: String = PROPS[input / ship_count]
			sexps.append(LuaRuntime.compile_expression("(< (prop \"S%d\" \"%s\") %d)" % [ship, prop, threshold]))
			e.parse("n.%s < %d" % [prop, threshold], ["n"])
			inputs.append([ship, -1])
		else:
			var k := input - ship_count * PROPS.size()
			sexps.append(LuaRuntime.compile_expression("(< (var v%d) %d)" % [k, threshold]))
			e.parse("v < %d" % threshold, ["v"])
			inputs.append([-1, k])
		expressions.append(e)
	for sexp in sexps:
		set.add(sexp, mission)
	print("BENCH expressions triggers=%d ships=%d inputs=%d changes_per_frame=%d frames=%d flavour=%s" % [
		trigger_count, ship_count, ship_count * PROPS.size() + var_count, changes, frame_count, LuaRuntime.get_stats()["lua"]["flavour"]])

	var batch_us: Array[float] = []
	var expression_us: Array[float] = []
	var single_us: Array[float] = []
	var stats_before: Dictionary = {}
	for frame in WARMUP + frame_count:
		if frame == WARMUP:
			stats_before = LuaRuntime.get_stats()["expressions"]
		_change_inputs()
		var t0 := Time.get_ticks_usec()
		var answers: Array = set.evaluate()
		var t1 := Time.get_ticks_usec()
		var expected := 0
		for t in trigger_count:
			var input: Array = inputs[t]
			var value: Variant
			if input[0] >= 0:
				value = expressions[t].execute([ships[input[0]]])
			else:
				value = expressions[t].execute([vars[input[1]]])
			if value:
				expected += 1
		var t2 := Time.get_ticks_usec()
		var single := 0
		for t in trigger_count:
			if sexps[t].evaluate(mission):
				single += 1
		var t3 := Time.get_ticks_usec()
		if answers.count(true) != expected or single != expected:
			printerr("BENCH-ERROR frame %d: SEXP %d true, individually %d, Expression %d" % [
				frame, answers.count(true), single, expected])
		if frame >= WARMUP:
			batch_us.append(t1 - t0)
			expression_us.append(t2 - t1)
			single_us.append(t3 - t2)
	var after: Dictionary = LuaRuntime.get_stats()["expressions"]
	var evaluations: int = after["evaluations"] - stats_before["evaluations"]
	var hits: int = after["hits"] - stats_before["hits"]
	var a := _median(batch_us)
	var b := _median(expression_us)
	var c := _median(single_us)
	print("BENCH triggers_batch frame_us=%.1f expression_frame_us=%.1f ratio=%.3f per_trigger_ns=%.0f" % [
		a, b, a / b, a * 1000.0 / trigger_count])
	print("BENCH triggers_each frame_us=%.1f expression_frame_us=%.1f ratio=%.3f per_trigger_ns=%.0f" % [
		c, b, c / b, c * 1000.0 / trigger_count])
	print("BENCH expression_stats evaluations=%d hits=%d hit_rate=%.4f invalidations=%d connections=%d" % [
		evaluations, hits, float(hits) / evaluations, after["invalidations"] - stats_before["invalidations"],
		after["connections"]])
	quit()


## Changes `changes` inputs (5% by default), each to a different value.
func _change_inputs() -> void:
	for i in changes:
		var input := rng.randi() % (ship_count * PROPS.size() + var_count)
		var value := rng.randi_range(0, 100)
		if input < ship_count * PROPS.size():
			var ship := ships[input % ship_count]
			var prop: String = PROPS[input / ship_count]
			if ship.get(prop) == value:
				value += 1
			ship.set(prop, value)
		else:
			var k := input - ship_count * PROPS.size()
			if vars[k] == value:
				value += 1
			vars[k] = value
			LuaRuntime.set_var("v%d" % k, value)


func _median(values: Array[float]) -> float:
	var sorted := values.duplicate()
	sorted.sort()
	return sorted[sorted.size() / 2]
