extends Node
## Runs every `test_*` method of every res://tests/*_test.gd in the real engine, prints one
## line per test and a closing "N passed, N failed" line, and quits with the number of
## failures. `--only=<substring>` after `--` narrows the run. Files named `*_runs_test.gd`
## hold tests that span several engine runs; they run only when `--only` names them.

const TEST_DIR := "res://tests"
const TIMEOUT_SEC := 300.0

var passed := 0
var failed := 0


func _ready() -> void:
	var watchdog := get_tree().create_timer(TIMEOUT_SEC)
	watchdog.timeout.connect(func() -> void:
		printerr("TIMEOUT: engine tests did not finish in %d s" % TIMEOUT_SEC)
		get_tree().quit(100))
	await _run_all()
	print("%d passed, %d failed" % [passed, failed])
	get_tree().quit(failed)


func _run_all() -> void:
	var only := ""
	for arg in OS.get_cmdline_user_args():
		if arg.begins_with("--only="):
			only = arg.substr(7)
	var files := DirAccess.get_files_at(TEST_DIR)
	files.sort()
	for file in files:
		if not file.ends_with("_test.gd"):
			continue
		if file.ends_with("_runs_test.gd") and only == "":
			continue
		var script: GDScript = load(TEST_DIR.path_join(file))
		if script == null or not script.can_instantiate():
			failed += 1
			print("FAIL %s: the file does not load (see the parse error above)" % file)
			continue
		for method in script.get_script_method_list():
			var name: String = method["name"]
			if not name.begins_with("test_"):
				continue
			var full_name := "%s::%s" % [file.get_basename(), name]
			if only != "" and not full_name.contains(only):
				continue
			await _run_one(script, name, full_name)


func _run_one(script: GDScript, method: String, full_name: String) -> void:
	var test: TestCase = script.new()
	test.name = method
	add_child(test)
	await test.before_each()
	await test.call(method)
	await test.after_each()
	if test.failures.is_empty():
		passed += 1
		print("PASS %s" % full_name)
	else:
		failed += 1
		print("FAIL %s" % full_name)
		for failure in test.failures:
			print("    %s" % failure)
	remove_child(test)
	test.free()
	# Let queued frees and deferred calls of the test settle before the next one.
	await get_tree().process_frame
