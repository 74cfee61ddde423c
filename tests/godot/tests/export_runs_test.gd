extends TestCase
## An exported game compiles nothing: tools/engine-tests.sh exports this project as a pack
## (the addon's export plugin adds bytecode for every script) and runs this file with
## `--pack=<file>`. Mounting the pack puts its files under res://, as in the exported game.


func pack_path() -> String:
	for arg in OS.get_cmdline_user_args():
		if arg.begins_with("--pack="):
			return arg.substr(7)
	return ""


func test_exported_scripts_load_without_compiling() -> void:
	var pack := pack_path()
	check(pack != "" and FileAccess.file_exists(pack), "run with --pack=<exported .pck> (%s)" % pack)
	if failures.size() > 0:
		return
	check(ProjectSettings.load_resource_pack(pack), "the exported pack mounts")
	var scripts := ["res://scripts/counter.lua", "res://scripts/mover.lua", "res://scripts/lifecycle.lua"]
	for script in scripts:
		check(FileAccess.file_exists(LuaRuntime.bytecode_export_path(script)),
			"the pack carries bytecode for %s" % script)
	LuaRuntime.clear_caches()
	var before: Dictionary = LuaRuntime.get_stats()["bytecode"]
	for script in scripts:
		check_eq(LuaRuntime.load_script(script), OK, "%s loads" % script)
	var after: Dictionary = LuaRuntime.get_stats()["bytecode"]
	check_eq(after["hits_shipped"] - before["hits_shipped"], scripts.size(), "every load used shipped bytecode")
	check_eq(after["compiles"] - before["compiles"], 0, "nothing was compiled")
	check_eq(after["misses"] - before["misses"], 0, "nothing was missed")
