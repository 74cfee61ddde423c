extends TestCase
## Every Variant type crosses into Lua and back unchanged, and each builtin type family has its
## constructors, methods, members, operators, constants and iteration in Lua.


func after_each() -> void:
	LuaRuntime.set_var("v", null)
	super()


## Lua evaluates `code` with `v` set to `value`.
func lua_with(value: Variant, code: String) -> Variant:
	LuaRuntime.set_var("v", value)
	return LuaRuntime.eval(code)


func test_every_variant_type_round_trips() -> void:
	var node := Node.new()
	add_child(node)
	var typed: Array[int] = [1, 2, 3]
	var values: Array = [
		null, true, 42, 2.5, "text", NodePath("a/b:c"),
		Vector2(1.5, 2), Vector2i(3, 4), Rect2(1, 2, 3, 4), Rect2i(1, 2, 3, 4),
		Vector3(1, 2, 3.5), Vector3i(1, 2, 3), Transform2D(0.5, Vector2(3, 4)),
		Vector4(1, 2, 3, 4), Vector4i(1, 2, 3, 4), Plane(Vector3.UP, 2),
		Quaternion(Vector3.UP, 0.5), AABB(Vector3(1, 2, 3), Vector3(4, 5, 6)),
		Basis(Vector3.UP, 0.25), Transform3D(Basis(Vector3.UP, 0.25), Vector3(1, 2, 3)),
		Projection(Transform3D(Basis(), Vector3(1, 2, 3))), Color(0.25, 0.5, 0.75, 1),
		RID(), node, Callable(node, "get_child_count"), Signal(node, "ready"),
		{"a": 1, 2: [3]}, [1, "two", Vector2.ONE], typed,
		PackedByteArray([1, 2, 255]), PackedInt32Array([1, -2]), PackedInt64Array([1 << 40]),
		PackedFloat32Array([0.5, 1.5]), PackedFloat64Array([0.1, 0.2]),
		PackedStringArray(["a", "b"]), PackedVector2Array([Vector2(1, 2)]),
		PackedVector3Array([Vector3(1, 2, 3)]), PackedColorArray([Color.RED]),
		PackedVector4Array([Vector4(1, 2, 3, 4)]),
	]
	for value in values:
		var back: Variant = lua_with(value, "v")
		check_eq(back, value, "round trip of %s" % type_string(typeof(value)))
		# Through a Lua function too, as an argument and a result.
		var through: Variant = lua_with(value, "(function(x) return x end)(v)")
		check_eq(through, value, "through a function: %s" % type_string(typeof(value)))
	check_eq(lua_with(typed, "v"), typed, "a typed array keeps its type")
	var typed_back: Array = lua_with(typed, "v")
	check(typed_back.is_typed() and typed_back.get_typed_builtin() == TYPE_INT, "still Array[int]")
	# A StringName arrives as a Lua string and compares equal to the name.
	check(lua_with(&"name", "v") == &"name", "StringName compares equal")
	check_eq(lua_with(&"name", "type(v)"), "string", "StringName is a Lua string")
	node.queue_free()


func test_integers_stay_integers_and_floats_stay_floats() -> void:
	check_eq(lua_with(7, "v"), 7, "int")
	check_eq(lua_with(7.25, "v"), 7.25, "float")
	check_eq(lua_with(1 << 40, "v + 1"), (1 << 40) + 1, "large int")


func test_vector_family() -> void:
	check_eq(LuaRuntime.eval("Vector2i(1, 2) + Vector2i(3, 4)"), Vector2i(4, 6), "Vector2i +")
	check_eq(LuaRuntime.eval("Vector2i(4, 6) * 2"), Vector2i(8, 12), "Vector2i * int")
	check_eq(LuaRuntime.eval("-Vector3i(1, 2, 3)"), Vector3i(-1, -2, -3), "unary -")
	check_eq(LuaRuntime.eval("Vector2i.UP"), Vector2i.UP, "constant")
	check_eq(LuaRuntime.eval("local c = Vector2.UP; c.x = 5; return Vector2.UP"), Vector2.UP, "constants are copies")
	check_eq(LuaRuntime.eval("local v = Vector2i(1, 2); v.x = 9; return v"), Vector2i(9, 2), "member set")
	check_eq(LuaRuntime.eval("Vector3i(1, 2, 3).z"), 3, "member get")
	check_eq(LuaRuntime.eval("Vector2(3, 4):length()"), 5, "native method")
	check_eq(LuaRuntime.eval("Vector2(1.26, 2.74):snapped(Vector2(0.5, 0.5))"), Vector2(1.5, 2.5), "engine method on a native vector")
	check_eq(LuaRuntime.eval("Vector3(1, 0, 0):cross(Vector3(0, 1, 0))"), Vector3(0, 0, 1), "Vector3:cross")
	check_eq(LuaRuntime.eval("Vector4(1, 2, 3, 4):dot(Vector4.ONE)"), 10, "Vector4:dot")
	check_eq(LuaRuntime.eval("Vector2(1, 2) < Vector2(1, 3)"), true, "<")
	check_eq(LuaRuntime.eval("Vector2(1, 2) == Vector2(1, 2)"), true, "==")
	check_eq(LuaRuntime.eval("Vector2i(7, 9) % 4"), Vector2i(3, 1), "%")
	check_eq(LuaRuntime.eval("Vector2(Vector2i(2, 3))"), Vector2(2, 3), "conversion constructor")
	check_eq(LuaRuntime.eval("Vector2.from_angle(0)"), Vector2(1, 0), "static method")
	check_eq(LuaRuntime.eval("tostring(Vector2i(1, 2))"), "(1, 2)", "tostring")
	check_eq(LuaRuntime.eval("'at ' .. Vector2i(1, 2)"), "at (1, 2)", "..")
	check_eq(LuaRuntime.eval("typeof(Vector3i(1, 1, 1)) == TYPE_VECTOR3I"), true, "typeof")


func test_rect_and_aabb_family() -> void:
	check_eq(LuaRuntime.eval("Rect2(0, 0, 10, 10):has_point(Vector2(5, 5))"), true, "Rect2:has_point")
	check_eq(LuaRuntime.eval("Rect2(1, 2, 3, 4).size"), Vector2(3, 4), "Rect2.size")
	check_eq(LuaRuntime.eval("local r = Rect2i(0, 0, 2, 2); r.position = Vector2i(5, 5); return r"), Rect2i(5, 5, 2, 2), "Rect2i member set")
	check_eq(LuaRuntime.eval("Rect2i(0, 0, 2, 2):merge(Rect2i(4, 4, 1, 1))"), Rect2i(0, 0, 5, 5), "Rect2i:merge")
	check_eq(LuaRuntime.eval("AABB(Vector3.ZERO, Vector3.ONE):get_volume()"), 1, "AABB:get_volume")
	check_eq(LuaRuntime.eval("AABB(Vector3.ZERO, Vector3.ONE)['end']"), Vector3.ONE, "AABB.end")


func test_transform_family() -> void:
	check_eq(LuaRuntime.eval("Transform2D(0, Vector2(1, 2)) * Vector2(1, 1)"), Vector2(2, 3), "Transform2D * Vector2")
	check_eq(LuaRuntime.eval("Transform2D.IDENTITY.origin"), Vector2.ZERO, "Transform2D constant")
	check_eq(LuaRuntime.eval("Transform3D.IDENTITY:translated(Vector3(1, 2, 3)).origin"), Vector3(1, 2, 3), "Transform3D")
	check_eq(LuaRuntime.eval("Basis.IDENTITY:determinant()"), 1, "Basis")
	check_eq(LuaRuntime.eval("Quaternion.IDENTITY * Vector3(1, 2, 3)"), Vector3(1, 2, 3), "Quaternion * Vector3")
	check_eq(LuaRuntime.eval("Plane(Vector3.UP, 2):distance_to(Vector3(0, 5, 0))"), 3, "Plane")
	check_eq(LuaRuntime.eval("Projection.IDENTITY:determinant()"), 1, "Projection")


func test_color_family() -> void:
	check_eq(LuaRuntime.eval("Color('red')"), Color.RED, "named color")
	check_eq(LuaRuntime.eval("Color('#00ff00')"), Color(0, 1, 0), "html color")
	check_eq(LuaRuntime.eval("Color(Color.RED, 0.5)"), Color(1, 0, 0, 0.5), "color with alpha")
	check_eq(LuaRuntime.eval("Color.BLUE"), Color.BLUE, "constant")
	check_eq(LuaRuntime.eval("Color.from_hsv(0, 1, 1)"), Color.from_hsv(0, 1, 1), "static method")
	check_eq(LuaRuntime.eval("Color(0, 0, 0):lightened(0.5)"), Color(0, 0, 0).lightened(0.5), "engine method")
	check(absf(LuaRuntime.eval("Color.RED.h") - 0.0) < 0.001, "engine member h")


func test_array() -> void:
	check_eq(LuaRuntime.eval("Array{1, 2, 3}"), [1, 2, 3], "Array{...}")
	check_eq(LuaRuntime.eval("#Array{1, 2, 3}"), 3, "#")
	check_eq(LuaRuntime.eval("Array{10, 20}[1]"), 10, "indexing is 1-based like tables")
	check_eq(LuaRuntime.eval("Array{10, 20}[3]"), null, "past the end is nil")
	check_eq(LuaRuntime.eval("local s = 0 for i, x in ipairs(Array{1, 2, 3}) do s = s + i * x end return s"), 14, "ipairs")
	check_eq(LuaRuntime.eval("local s = 0 for i, x in pairs(Array{1, 2, 3}) do s = s + x end return s"), 6, "pairs")
	check_eq(LuaRuntime.eval("local a = Array{1}; a:append(2); a:push_back(3); return a"), [1, 2, 3], "methods")
	check_eq(LuaRuntime.eval("local a = Array{1, 2}; a[2] = 5; a[#a + 1] = 6; return a"), [1, 5, 6], "set and append by index")
	check_eq(LuaRuntime.eval("Array{3, 1, 2}:max()"), 3, "Array:max")
	check_eq(LuaRuntime.eval("Array{1} .. Array{2}"), [1, 2], ".. joins arrays")
	check_eq(LuaRuntime.eval("Array{1, 2} == Array{1, 2}"), true, "==")
	check_eq(LuaRuntime.eval("Array{1, 2}:find(2)"), 1, "methods keep 0-based indices")
	var shared := [1]
	lua_with(shared, "v:append(2)")
	check_eq(shared, [1, 2], "an Array is shared with GDScript, as in GDScript")
	check_eq(LuaRuntime.eval("Array({1, 2}, TYPE_INT, '', nil):is_typed()"), true, "typed Array constructor")


func test_dictionary() -> void:
	check_eq(LuaRuntime.eval("Dictionary{a = 1}"), {"a": 1}, "Dictionary{...}")
	check_eq(LuaRuntime.eval("Dictionary{}"), {}, "empty Dictionary")
	check_eq(LuaRuntime.eval("Dictionary{a = 1}.a"), 1, "d.key")
	check_eq(LuaRuntime.eval("Dictionary{a = 1}['b']"), null, "missing key is nil")
	check_eq(LuaRuntime.eval("#Dictionary{a = 1, b = 2}"), 2, "#")
	check_eq(LuaRuntime.eval("Dictionary{a = 1}:has('a')"), true, "methods")
	check_eq(LuaRuntime.eval("local d = Dictionary{}; d.x = 3; d[1] = 'one'; return d"), {"x": 3, 1: "one"}, "set")
	check_eq(LuaRuntime.eval("local n = 0 for k, x in pairs(Dictionary{a = 1, b = 2}) do n = n + x end return n"), 3, "pairs")
	var shared := {}
	lua_with(shared, "v.key = 'set from Lua'")
	check_eq(shared, {"key": "set from Lua"}, "a Dictionary is shared with GDScript")


func test_packed_arrays() -> void:
	check_eq(LuaRuntime.eval("PackedInt32Array{1, 2, 3}"), PackedInt32Array([1, 2, 3]), "constructor from a table")
	check_eq(LuaRuntime.eval("local p = PackedInt32Array(); p:push_back(4); p:push_back(5); return p"), PackedInt32Array([4, 5]), "mutating methods")
	check_eq(LuaRuntime.eval("local p = PackedFloat32Array{1, 2}; p[1] = 0.5; return p"), PackedFloat32Array([0.5, 2]), "index set")
	check_eq(LuaRuntime.eval("#PackedStringArray{'a', 'b'}"), 2, "#")
	check_eq(LuaRuntime.eval("PackedVector2Array{Vector2(1, 2)}[1]"), Vector2(1, 2), "index get")
	check_eq(LuaRuntime.eval("PackedByteArray{104, 105}:get_string_from_utf8()"), "hi", "method")
	check_eq(LuaRuntime.eval("local s = '' for _, x in ipairs(PackedStringArray{'a', 'b'}) do s = s .. x end return s"), "ab", "ipairs")


func test_node_path_rid_callable_signal() -> void:
	check_eq(LuaRuntime.eval("NodePath('a/b/c'):get_name_count()"), 3, "NodePath method")
	check_eq(LuaRuntime.eval("tostring(NodePath('a/b'))"), "a/b", "NodePath tostring")
	check_eq(LuaRuntime.eval("RID():is_valid()"), false, "RID")
	check_eq(LuaRuntime.eval("Callable(function(a, b) return a + b end):call(2, 3)"), 5, "Callable(fn):call")
	check_eq(LuaRuntime.eval("Callable(function(a, b) return a * b end)(4, 5)"), 20, "a Callable is callable")
	check_eq(LuaRuntime.eval("Callable(function(a, b) return a - b end):bind(1):call(10)"), 9, "bind")
	var node := Node2D.new()
	node.position = Vector2(3, 4)
	add_child(node)
	check_eq(lua_with(node, "Callable(v, 'get_position'):call()"), Vector2(3, 4), "Callable(obj, method)")
	check_eq(lua_with(node, "v.visibility_changed:get_name()"), "visibility_changed", "Signal method")
	node.queue_free()


func test_wrong_use_of_builtins_is_a_clear_error() -> void:
	LuaRuntime.exec("local v = Vector2i(1, 2); return v.nope")
	check(_last_message().contains("Vector2i has no member or method named 'nope'"), _last_message())
	LuaRuntime.exec("return Vector2i(1, 2):snapped('x')")
	check(_last_message().contains("Vector2i.snapped(): argument #1: expected Vector2i, got string"), _last_message())
	LuaRuntime.exec("return Rect2(1, 2, 3)")
	check(_last_message().contains("Rect2(): no constructor takes (number, number, number)"), _last_message())
	LuaRuntime.exec("return Vector2i.NOPE")
	check(_last_message().contains("Vector2i has no constant or method named 'NOPE'"), _last_message())
	LuaRuntime.exec("local r = Rect2(); r.position = 'x'")
	check(_last_message().contains("cannot set Rect2.position"), _last_message())
	LuaRuntime.exec("return Vector2i(1, 2) + {}")
	check(_last_message().contains("invalid operands for '+'"), _last_message())


func _last_message() -> String:
	return errors[-1]["message"] if not errors.is_empty() else "<no error>"
