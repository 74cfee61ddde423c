extends SceneTree
## Compute kernels (compute/kernels.lua and compute/kernels.gd: n-body, spectral-norm,
## mandelbrot, binary-trees, string building): Lua run by the runtime against GDScript, in this
## one process, one after the other, each checked to give the other's result; and, given the
## figures of a standalone LuaJIT run of the same Lua file (`-- --standalone=name:us,...`, see
## `benches/engine.sh compute`), Lua in Godot against Lua outside it. Each time is the best of
## ROUNDS runs, wall clock, taken around the call, each Lua run starting from a collected heap;
## the LuaJIT trace counts so far follow (trace choices vary between processes, and with them
## the times). `-- --lua-only` skips GDScript (and the check), for repeating the Lua runs in many
## processes. Prints `BENCH` lines; exits 1 if a result differs.

const ROUNDS := 7
const Kernels := preload("res://compute/kernels.gd")
const ORDER := ["nbody", "spectral_norm", "mandelbrot", "binary_trees", "strings"]


func _initialize() -> void:
	_start.call_deferred()


func _start() -> void:
	await process_frame
	var standalone := {}
	var lua_only := false
	for arg in OS.get_cmdline_user_args():
		lua_only = lua_only or arg == "--lua-only"
		if arg.begins_with("--standalone="):
			for pair in arg.trim_prefix("--standalone=").split(",", false):
				var parts := pair.split(":")
				standalone[parts[0]] = float(parts[1])
	print("BENCH compute rounds=%d flavour=%s standalone=%s" % [
		ROUNDS, LuaRuntime.get_stats()["lua"]["flavour"], not standalone.is_empty()])
	var source := FileAccess.get_file_as_string("res://compute/kernels.lua")
	if LuaRuntime.exec("compute_kernels = (function()\n%s\nend)()" % source) != OK:
		print("BENCH compute failed: kernels.lua did not load")
		quit(1)
		return
	var all_equal := true
	for kernel: String in ORDER:
		var gdscript := INF
		var gdscript_result: Variant
		for round in 0 if lua_only else ROUNDS:
			await process_frame
			var started := Time.get_ticks_usec()
			gdscript_result = Kernels.run(kernel)
			gdscript = minf(gdscript, Time.get_ticks_usec() - started)
		var lua := INF
		var lua_result: Variant
		for round in ROUNDS:
			# Each run starts from a collected heap, as in the standalone run, a frame after it.
			LuaRuntime.collect_garbage()
			await process_frame
			var started := Time.get_ticks_usec()
			var run: Variant = LuaRuntime.eval("compute_kernels.time('%s')" % kernel)
			lua = minf(lua, Time.get_ticks_usec() - started)
			lua_result = run["result"] if run is Dictionary else null
		var equal := lua_only or _same(gdscript_result, lua_result)
		all_equal = all_equal and equal
		var line := "BENCH kernel=%s gdscript_us=%.0f lua_us=%.0f gdscript_over_lua=%.1fx equal=%s" % [
			kernel, gdscript, lua, gdscript / lua, equal]
		if standalone.has(kernel):
			line += " standalone_us=%.0f lua_over_standalone=%.2fx" % [
				standalone[kernel], lua / standalone[kernel]]
		var jit: Dictionary = LuaRuntime.get_stats()["lua"]["jit"]
		line += " jit_traces=%d jit_aborts=%d" % [jit.get("traces", 0), jit.get("aborts", 0)]
		print(line)
		if not equal:
			print("BENCH kernel=%s differs: gdscript=%s lua=%s" % [kernel, gdscript_result, lua_result])
	quit(0 if all_equal else 1)


## Equal results: integers exactly, floats to nine significant digits.
static func _same(a: Variant, b: Variant) -> bool:
	if a == null or b == null:
		return false
	if a is float or b is float:
		return absf(float(a) - float(b)) <= 1e-9 * maxf(absf(float(a)), 1.0)
	return int(a) == int(b)
