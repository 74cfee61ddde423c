extends TestCase
## Errors name file and line, reach script_error, repeat quietly, and never stop the game.


func test_runtime_error_reports_file_and_line() -> void:
	add_lua("res://scripts/runtime_error.lua")
	await frames(2)
	var seen := errors_for("res://scripts/runtime_error.lua")
	check(seen.size() >= 1, "script_error was emitted")
	if seen.size() >= 1:
		check_eq(seen[0]["line"], 6, "the error is on line 6")
		check(seen[0]["message"].contains("attempt to index"), "message says what failed: %s" % seen[0]["message"])


func test_the_game_keeps_running_after_an_error() -> void:
	var bad := add_lua("res://scripts/runtime_error.lua")
	var good := add_lua("res://scripts/counter.lua")
	await frames(10)
	check(good.lua_get("count") >= 10, "other scripts keep running (%s)" % good.lua_get("count"))
	check(bad.lua_get("attempts") >= 10, "the failing script is still called every frame")


func test_a_repeating_error_is_reported_once() -> void:
	var before: int = LuaRuntime.get_stats()["errors"]["suppressed"]
	add_lua("res://scripts/repeating_error.lua")
	await frames(30)
	var seen := errors_for("res://scripts/repeating_error.lua")
	check_eq(seen.size(), 1, "one report for 30 failing frames")
	if seen.size() == 1:
		check_eq(seen[0]["line"], 4, "line of error()")
		check_eq(seen[0]["message"], "the same failure every frame", "message")
	var stats: Dictionary = LuaRuntime.get_stats()["errors"]
	check(stats["suppressed"] - before >= 29, "the repeats are counted (%s)" % stats)


func test_syntax_error_reports_its_line() -> void:
	var node := add_lua("res://scripts/syntax_error.lua")
	var seen := errors_for("res://scripts/syntax_error.lua")
	check_eq(seen.size(), 1, "one script_error")
	if seen.size() == 1:
		check_eq(seen[0]["line"], 4, "syntax error on line 4")
	check_eq(node.is_running(), false, "a script that does not load does not run")


func test_missing_file_names_the_path() -> void:
	var node := add_lua("res://scripts/does_not_exist.lua")
	var seen := errors_for("res://scripts/does_not_exist.lua")
	check_eq(seen.size(), 1, "one script_error")
	if seen.size() == 1:
		check_eq(seen[0]["line"], 0, "no line for a missing file")
		check_eq(seen[0]["message"], "script file not found", "message")
	check_eq(node.is_running(), false, "nothing runs")


func test_a_script_that_returns_no_table_is_rejected() -> void:
	add_lua("res://scripts/not_a_table.lua")
	var seen := errors_for("res://scripts/not_a_table.lua")
	check_eq(seen.size(), 1, "one script_error")
	if seen.size() == 1:
		check(seen[0]["message"].contains("must return a table"), seen[0]["message"])


func test_exec_error_is_located_in_inline_code() -> void:
	var result := LuaRuntime.exec("local x = 1\nerror('custom failure')")
	check_eq(result, ERR_SCRIPT_FAILED, "exec returns an error code")
	var seen := errors_for("(inline)")
	check_eq(seen.size(), 1, "one script_error")
	if seen.size() == 1:
		check_eq(seen[0]["line"], 2, "line 2")
		check_eq(seen[0]["message"], "custom failure", "message")
