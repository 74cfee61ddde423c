extends TestCase
## Engine objects from Lua: classes, properties, methods, static methods, constants, enums,
## singletons, autoloads, utility functions, object lifetimes and the errors of wrong use.


func after_each() -> void:
	LuaRuntime.set_var("v", null)
	LuaRuntime.exec("made = nil")
	super()


func test_classes_create_objects_with_properties_and_methods() -> void:
	var made: Node2D = LuaRuntime.eval("local n = Node2D:new(); n.position = Vector2(1, 2); n.name = 'Made'; return n")
	check(made is Node2D, "Node2D:new() makes a Node2D")
	check_eq(made.position, Vector2(1, 2), "property set from Lua")
	check_eq(String(made.name), "Made", "name set from Lua")
	made.free()
	check_eq(LuaRuntime.eval("local t = Timer.new(); t.wait_time = 2.5; t.one_shot = true; local w, o = t.wait_time, t.one_shot; t:free(); return w .. ' ' .. tostring(o)"), "2.5 true", "Timer.new() with its properties")
	check_eq(LuaRuntime.eval("local r = Resource:new(); r.resource_name = 'res'; return r.resource_name"), "res", "Resource")
	check_eq(LuaRuntime.eval("local n = Node:new(); local c = n:get_child_count(); n:free(); return c"), 0, "method call")


func test_methods_with_default_and_variadic_arguments() -> void:
	var parent := Node.new()
	parent.name = "Parent"
	add_child(parent)
	LuaRuntime.set_var("v", parent)
	LuaRuntime.exec("local c = Node:new(); c.name = 'Child'; v:add_child(c)")
	check_eq(parent.get_child_count(), 1, "add_child with its defaults")
	check_eq(LuaRuntime.eval("v:get_node_or_null('Child').name"), "Child", "get_node_or_null")
	check_eq(LuaRuntime.eval("v:call('get_child_count')"), 1, "variadic call()")
	check_eq(LuaRuntime.eval("v:get_child(0, false).name"), "Child", "explicit default argument")
	var children: Variant = LuaRuntime.eval("local cs = v:get_children(); return #cs .. ' ' .. cs[1].name")
	check_eq(children, "1 Child", "an Array-returning method gives an array Lua can index")
	parent.queue_free()


func test_static_methods_constants_and_enums() -> void:
	check_eq(LuaRuntime.eval("FileAccess.file_exists('res://project.godot')"), true, "static method with '.'")
	check_eq(LuaRuntime.eval("FileAccess:file_exists('res://nope.txt')"), false, "static method with ':'")
	check_eq(LuaRuntime.eval("Node.PROCESS_MODE_ALWAYS"), Node.PROCESS_MODE_ALWAYS, "class constant")
	check_eq(LuaRuntime.eval("Node.ProcessMode.ALWAYS"), Node.PROCESS_MODE_ALWAYS, "enum by its short name")
	check_eq(LuaRuntime.eval("Node.ProcessMode.PROCESS_MODE_DISABLED"), Node.PROCESS_MODE_DISABLED, "enum by its full name")
	check_eq(LuaRuntime.eval("Node2D.NOTIFICATION_READY"), Node.NOTIFICATION_READY, "inherited constant")
	check_eq(LuaRuntime.eval("KEY_SPACE"), KEY_SPACE, "global enum")
	check_eq(LuaRuntime.eval("MOUSE_BUTTON_LEFT"), MOUSE_BUTTON_LEFT, "global enum")
	check_eq(LuaRuntime.eval("OK"), OK, "Error.OK")
	check_eq(LuaRuntime.eval("ERR_FILE_NOT_FOUND"), ERR_FILE_NOT_FOUND, "Error")
	check_eq(LuaRuntime.eval("TYPE_VECTOR2"), TYPE_VECTOR2, "Variant.Type")
	check_eq(LuaRuntime.eval("KEY_MASK_SHIFT"), KEY_MASK_SHIFT, "bitfield")
	check_eq(LuaRuntime.eval("tostring(Node)"), "Node", "tostring of a class")


func test_singletons_and_autoloads() -> void:
	check_eq(LuaRuntime.eval("OS:get_name()"), OS.get_name(), "OS")
	check_eq(LuaRuntime.eval("Engine:get_physics_ticks_per_second()"), Engine.get_physics_ticks_per_second(), "Engine")
	check_eq(LuaRuntime.eval("ProjectSettings:get_setting('application/config/name')"), ProjectSettings.get_setting("application/config/name"), "ProjectSettings")
	check_eq(LuaRuntime.eval("Input.MOUSE_MODE_CAPTURED"), Input.MOUSE_MODE_CAPTURED, "a constant through a singleton")
	check_eq(LuaRuntime.eval("Input:is_action_pressed('ui_accept')"), false, "Input")
	check_eq(LuaRuntime.eval("TestGlobals.greeting"), "hello from an autoload", "autoload by name")


func test_utility_functions() -> void:
	check_eq(LuaRuntime.eval("lerp(0, 10, 0.25)"), 2.5, "lerp of numbers")
	check_eq(LuaRuntime.eval("lerp(Vector2(0, 0), Vector2(10, 20), 0.5)"), Vector2(5, 10), "lerp of vectors")
	check_eq(LuaRuntime.eval("clamp(15, 0, 10)"), 10, "clamp")
	check_eq(LuaRuntime.eval("clampf(-1.5, 0, 1)"), 0, "clampf")
	check_eq(LuaRuntime.eval("max(1, 7, 3)"), 7, "max with varargs")
	check_eq(LuaRuntime.eval("str(1, 'a', Vector2i(1, 2))"), "1a(1, 2)", "str")
	check_eq(LuaRuntime.eval("move_toward(0, 10, 3)"), 3, "move_toward")
	check_eq(LuaRuntime.eval("deg_to_rad(180) > 3.14"), true, "deg_to_rad")
	check_eq(LuaRuntime.eval("local x = randf() return x >= 0 and x < 1"), true, "randf")
	check_eq(LuaRuntime.eval("local x = randi_range(3, 5) return x >= 3 and x <= 5"), true, "randi_range")
	check_eq(LuaRuntime.eval("typeof({})"), TYPE_ARRAY, "typeof a table: an Array")
	var node := Node.new()
	add_child(node)
	var id := node.get_instance_id()
	LuaRuntime.set_var("v", node)
	check_eq(LuaRuntime.eval("is_instance_valid(v)"), true, "is_instance_valid")
	check_eq(LuaRuntime.eval("instance_from_id(%d) == v" % id), true, "instance_from_id")
	check_eq(LuaRuntime.eval("instance_from_id(v:get_instance_id()) == v"), true, "instance_from_id of an id from Lua")
	node.free()
	check_eq(LuaRuntime.eval("is_instance_valid(v)"), false, "is_instance_valid after free")
	check_eq(LuaRuntime.eval("instance_from_id(%d)" % id), null, "instance_from_id after free")
	check_eq(LuaRuntime.eval("local r = RefCounted:new(); return instance_from_id(r:get_instance_id()) == r"), true, "a RefCounted's 64-bit id keeps every digit")


func test_a_refcounted_made_in_lua_lives_as_long_as_it_is_referenced() -> void:
	var id: int = LuaRuntime.eval("made = RefCounted:new(); return made:get_instance_id()")
	LuaRuntime.collect_garbage()
	check(is_instance_id_valid(id), "alive while Lua holds it")
	var kept: RefCounted = LuaRuntime.get_var("made")
	LuaRuntime.exec("made = nil")
	LuaRuntime.collect_garbage()
	check(is_instance_id_valid(id), "alive while GDScript holds it")
	kept = null
	check(not is_instance_id_valid(id), "freed once nobody holds it")
	var dropped_id: int = LuaRuntime.eval("local r = RefCounted:new(); return r:get_instance_id()")
	LuaRuntime.collect_garbage()
	check(not is_instance_id_valid(dropped_id), "a dropped RefCounted is freed by the collector")


func test_wrong_calls_are_clear_errors() -> void:
	var node := Node2D.new()
	add_child(node)
	LuaRuntime.set_var("v", node)
	LuaRuntime.exec("v:no_such_method()")
	check(_last_message().contains("Node2D has no property, method or signal named 'no_such_method'"), _last_message())
	LuaRuntime.exec("v:get_child()")
	check(_last_message().contains("Node2D.get_child(): expected 1 to 2 arguments, got 0"), _last_message())
	LuaRuntime.exec("v:get_child_count(1, 2, 3)")
	check(_last_message().contains("Node2D.get_child_count(): expected 0 to 1 arguments, got 3"), _last_message())
	LuaRuntime.exec("v:add_child(42)")
	check(_last_message().contains("Node2D.add_child(): argument #1: expected Node, got number"), _last_message())
	LuaRuntime.exec("v:set_position('here')")
	check(_last_message().contains("Node2D.set_position(): argument #1: expected Vector2, got string"), _last_message())
	LuaRuntime.exec("v.no_such_property = 1")
	check(_last_message().contains("Node2D has no property named 'no_such_property'"), _last_message())
	LuaRuntime.exec("v.position = 'here'")
	check(_last_message().contains("cannot set Node2D.position: expected Vector2, got string"), _last_message())
	LuaRuntime.exec("local x = Node.NO_SUCH_CONSTANT")
	check(_last_message().contains("Node has no constant, enum or static method named 'NO_SUCH_CONSTANT'"), _last_message())
	LuaRuntime.exec("local y = Object.new(); y:free(); return y.name")
	check(_last_message().contains("attempt to use a freed object"), _last_message())
	LuaRuntime.exec("CanvasItem:new()")
	check(_last_message().contains("CanvasItem cannot be instantiated"), _last_message())
	check_eq(errors[-1]["path"], "(inline)", "errors name the chunk")
	node.queue_free()


func test_names_are_interned_and_counted() -> void:
	var node := Node2D.new()
	add_child(node)
	LuaRuntime.set_var("v", node)
	LuaRuntime.exec("for i = 1, 10 do v.position = v.position + Vector2(1, 0); v:get_name() end")
	var before: Dictionary = LuaRuntime.get_stats()["names"]
	LuaRuntime.exec("for i = 1, 100 do v.position = v.position + Vector2(1, 0); v:get_name() end")
	var after: Dictionary = LuaRuntime.get_stats()["names"]
	check_eq(after["interned"], before["interned"], "no new names for repeated access")
	# `position` takes the fast path, which keeps the name's id on the Lua side (as it does
	# for methods like `get_index()`); `get_name()` returns a StringName, so its lookup goes
	# through the name cache.
	check(after["hits"] >= before["hits"] + 100, "each method lookup is a cache hit (%d -> %d)" % [before["hits"], after["hits"]])
	check(after["interned"] > 0, "names are counted")
	check_eq(node.position, Vector2(110, 0), "the accesses worked")
	node.queue_free()


func test_every_global_the_editor_definitions_declare_exists() -> void:
	# addons/lua_runtime/lua/godot.d.lua tells editors what scripts can use: each top-level
	# name it declares must resolve in the running runtime.
	var text := FileAccess.get_file_as_string("res://addons/lua_runtime/lua/godot.d.lua")
	check(text.length() > 100000, "the definitions file is there")
	var pattern := RegEx.create_from_string("(?m)^(?:function ([A-Za-z_][A-Za-z0-9_]*)\\(|([A-Za-z_][A-Za-z0-9_]*) = )")
	var names := PackedStringArray()
	for m in pattern.search_all(text):
		names.append(m.get_string(1) if m.get_string(1) != "" else m.get_string(2))
	check(names.size() > 1000, "classes, constants and functions are declared (%d)" % names.size())
	LuaRuntime.set_var("v", names)
	var missing: Variant = LuaRuntime.eval("local out = {} for _, n in ipairs(v) do if _G[n] == nil then out[#out + 1] = n end end return table.concat(out, ' ')")
	check_eq(missing, "", "declared but missing at run time")
