extends TestCase
## Resources from Lua: load, load_async and instantiate, including missing paths.


func test_load_returns_the_resource_and_keeps_lua_text_loading() -> void:
	check_eq(LuaRuntime.eval("load('res://fixtures/thing.tres').resource_name"), "the thing", "a resource by path")
	check_eq(LuaRuntime.eval("load('return 6 * 7')()"), 42, "Lua text still compiles")
	check_eq(LuaRuntime.eval("load('res://fixtures/thing.tres') == load('res://fixtures/thing.tres')"), true,
			"Godot's resource cache gives the same object")
	LuaRuntime.exec("load('res://fixtures/missing.tres')")
	check(_last_message().contains("load: no resource at 'res://fixtures/missing.tres'"), _last_message())


func test_instantiate_makes_a_scene_instance() -> void:
	var node: Node = LuaRuntime.eval("instantiate('res://fixtures/small.tscn')")
	check(node is Node2D and node.get_child(0).name == &"Inside", "a new instance of the scene")
	check(not node.is_inside_tree(), "not yet in the tree")
	node.free()
	LuaRuntime.exec("instantiate('res://fixtures/nope.tscn')")
	check(_last_message().contains("instantiate: no resource at 'res://fixtures/nope.tscn'"), _last_message())
	LuaRuntime.exec("instantiate('res://fixtures/thing.tres')")
	check(_last_message().contains("is a Resource, not a scene"), _last_message())


func test_callbacks_load_in_the_background_with_await() -> void:
	var node := add_lua("res://scripts/loader.lua")
	check_eq(node.lua_get("sync_name"), "the thing", "load in _ready")
	check_eq(node.lua_get("scene_child"), "Inside", "instantiate in _ready")
	check_eq(node.lua_get("done"), null, "_ready waits for the background load")
	for i in 120:
		if node.lua_get("done"):
			break
		await frames(1)
	check_eq(node.lua_get("async_name"), "the thing", "await(load_async(path)) gives the resource")
	check_eq(node.lua_get("async_error"), null, "and no error")
	node.queue_free()
	await frames(1)


func test_load_async_of_a_missing_path_is_an_error() -> void:
	LuaRuntime.exec("load_async('res://fixtures/missing.tres')")
	check(_last_message().contains("load_async: no resource at 'res://fixtures/missing.tres'"), _last_message())
	LuaRuntime.exec("load_async(12)")
	check(_last_message().contains("load_async: argument #1: expected a resource path, got number"), _last_message())
