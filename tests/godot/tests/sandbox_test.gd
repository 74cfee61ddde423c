extends TestCase
## The sandbox: each rule tried from a script, and the error it gives.


## Runs `code` and returns the error message it raised, or "" when it did not raise.
func _raised(code: String) -> String:
	var message: Variant = LuaRuntime.eval("(function() local ok, e = pcall(function() %s end) if ok then return '' end return tostring(e) end)()" % code)
	return "" if message == null else str(message)


func _refused(code: String, expected: String) -> void:
	var message := _raised(code)
	check(message.contains(expected), "%s: expected an error containing '%s', got '%s'" % [code, expected, message])


func test_no_io_os_ffi_debug_or_package() -> void:
	for library in ["io", "debug", "ffi", "package", "dofile", "loadfile"]:
		check_eq(LuaRuntime.eval("type(%s)" % library), "nil", library)
	for f in ["execute", "exit", "remove", "rename", "getenv", "tmpname"]:
		check_eq(LuaRuntime.eval("type(os.%s)" % f), "nil", "os." + f)
	for f in ["time", "clock", "date"]:
		check_eq(LuaRuntime.eval("type(os.%s)" % f), "function", "os.%s stays" % f)
	_refused("return package.loadlib('libc.so.6', 'system')", "attempt to index global 'package'")


func test_require_loads_only_lua_files_under_res_and_user() -> void:
	_refused("require('socket.core')", "res://socket/core.lua: script file not found")
	_refused("require('/etc/passwd')", "not a module name")
	check(_raised("require('res://../outside')") != "", "climbing out is refused")


func test_binary_chunks_and_string_dump() -> void:
	check_eq(LuaRuntime.eval("type(string.dump)"), "nil", "no string.dump")
	check_eq(LuaRuntime.eval("select(2, load('\\27LJ\\2 fake'))"), "binary chunks are not allowed", "load refuses bytecode")
	check_eq(LuaRuntime.eval("select(2, loadstring('\\27LJ\\2 fake'))") if LuaRuntime.eval("loadstring ~= nil") else "binary chunks are not allowed", "binary chunks are not allowed", "loadstring too")
	check_eq(LuaRuntime.eval("load('return 40 + 2')()"), 42, "text still loads")


func test_environments_of_functions_not_the_scripts_own() -> void:
	if LuaRuntime.get_stats()["lua"]["flavour"] != "LuaJIT":
		return
	_refused("getfenv(print)", "not a script's own")
	_refused("setfenv(tostring, {})", "not a script's own")
	_refused("getfenv(2)", "take a function or level 1")
	check_eq(LuaRuntime.eval("(function() local f = function() return x end setfenv(f, {x = 5}) return f() end)()"), 5, "own functions are fine")


func test_collectgarbage_only_counts_and_steps() -> void:
	check_eq(LuaRuntime.eval("type(collectgarbage('count'))"), "number", "count")
	_refused("collectgarbage()", "is not allowed in scripts")
	_refused("collectgarbage('stop')", "is not allowed in scripts")


func test_jit_control_is_out_of_reach() -> void:
	if LuaRuntime.get_stats()["lua"]["flavour"] != "LuaJIT":
		return
	check_eq(LuaRuntime.eval("type(jit.version)"), "string", "jit.version stays")
	check_eq(LuaRuntime.eval("type(jit.off)"), "nil", "jit.off is gone")


func test_files_only_under_res_and_user() -> void:
	_refused("FileAccess.open('/etc/hostname', FileAccess.READ)", "only under res:// and user://")
	_refused("FileAccess.get_file_as_string('../../etc/hostname')", "only under res:// and user://")
	_refused("FileAccess.open('res://../outside.txt', FileAccess.READ)", "only under res:// and user://")
	_refused("DirAccess.open('/')", "only under res:// and user://")
	_refused("DirAccess.open('user://'):change_dir('/tmp')", "only under res:// and user://")
	_refused("ResourceLoader:load('/tmp/x.tres')", "only under res:// and user://")
	# load() of a path outside res:// and user:// is Lua's load: it reads no file.
	check_eq(LuaRuntime.eval("type((load('/tmp/x.png')))"), "nil", "load() does not read /tmp")
	_refused("Image.load_from_file('/etc/x.png')", "only under res:// and user://")
	# Inside them, files work.
	check_eq(LuaRuntime.eval("local f = FileAccess.open('user://sandbox_test.txt', FileAccess.WRITE) f:store_string('ok') f:close() return FileAccess.get_file_as_string('user://sandbox_test.txt')"), "ok", "user:// files work")
	check(LuaRuntime.eval("FileAccess.file_exists('res://project.godot')"), "res:// files are readable")
	DirAccess.remove_absolute("user://sandbox_test.txt")


func test_resources_from_user_cannot_carry_scripts() -> void:
	_refused("load('user://mod.tres')", "can carry scripts")
	_refused("ResourceLoader:load('user://level.tscn')", "can carry scripts")
	_refused("instantiate('user://level.tscn')", "can carry scripts")


func test_no_processes_urls_or_native_code() -> void:
	for call in ["OS:execute('ls', {})", "OS:create_process('ls', {})", "OS:kill(1)", "OS:shell_open('https://example.com')", "OS:create_instance({})", "OS:set_environment('X', '1')", "GDExtensionManager:load_extension('res://x.gdextension')"]:
		_refused(call, "not available to scripts")
	_refused("OS:call('execute', 'ls', {})", "not available to scripts")
	_refused("OS:callv('execute', Array{'ls', Array{}})", "not available to scripts")
	_refused("Callable(OS, 'execute')", "not available to scripts")
	check_eq(LuaRuntime.eval("OS:get_name()"), OS.get_name(), "harmless OS methods still work")


func test_no_way_round_the_checks_through_callables_callv_or_classdb() -> void:
	_refused("Callable.create(OS, 'execute')", "not available to scripts")
	_refused("Callable(ResourceLoader, 'load')", "not available to scripts")
	_refused("ResourceLoader:callv('load', Array{'user://x.tscn'})", "not available to scripts")
	_refused("DirAccess.open('user://'):callv('change_dir', Array{'/'})", "not available to scripts")
	_refused("ClassDB:class_call_static('DirAccess', 'open', '/')", "only under res:// and user://")
	_refused("ClassDB:class_call_static('OS', 'execute', 'ls', {})", "not available to scripts")
	_refused("ClassDB:instantiate('GDScript')", "not available to scripts")
	check_eq(LuaRuntime.eval("Callable(OS, 'get_name'):call()"), OS.get_name(), "a harmless method's Callable still works")


func test_no_engine_code_from_text() -> void:
	_refused("GDScript:new()", "not available to scripts")
	_refused("Expression:new()", "not available to scripts")
	_refused("local s = load('res://tests/runtime_test.gd') s.source_code = 'extends Node'", "not available to scripts")
	_refused("local s = load('res://tests/runtime_test.gd') s:set('source_code', 'x')", "not available to scripts")
