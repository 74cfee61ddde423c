-- Vector2, Vector3 and Color as plain Lua tables ({x = 1, y = 2} with a shared metatable)
-- whose common operators and methods are written in Lua. LuaJIT compiles them with the code
-- that uses them and removes the tables that do not outlive it (allocation sinking), so
-- `p + v * delta` allocates nothing. What is not done here goes to the engine through
-- `engine` (Rust): other members and methods, operators with other types, exact equality.
local engine = ...
local setmetatable, getmetatable, type, select = setmetatable, getmetatable, type, select
local sqrt, abs = math.sqrt, math.abs
local index, newindex, operate = engine.index, engine.newindex, engine.operate
local equal, tostring_of, concat = engine.equal, engine.tostring, engine.concat

-- Operator codes are Godot's VariantOperator values.
local ADD, SUBTRACT, MULTIPLY, DIVIDE, NEGATE, MODULO, LESS, LESS_EQUAL =
  engine.ADD, engine.SUBTRACT, engine.MULTIPLY, engine.DIVIDE, engine.NEGATE, engine.MODULO,
  engine.LESS, engine.LESS_EQUAL

-- The metatables carry their type's number at [1], for the conversion to Godot values.
local V2, V3, C = { engine.VECTOR2 }, { engine.VECTOR3 }, { engine.COLOR }
local expected = engine.expected

-- Godot compares float32 components, so doubles that differ can still be equal once rounded:
-- only values this close are asked of the engine.
local function near(p, q)
  local d = p - q
  if d < 0 then d = -d end
  return d <= (abs(p) + abs(q)) * 1.2e-7 + 1.5e-45
end

-- Every function here may be called from code LuaJIT does not compile, often enough to start a
-- trace of its own. LuaJIT cannot compile a trace that starts in a function and leaves it by a
-- tail call to a builtin (`return setmetatable(...)`), or a vararg function by any tail call.
-- When the start is the function's entry, it blacklists the function after about ten such
-- failures, and then no code that calls it compiles again. Hence the locals and the
-- parentheses around such returns below (fast_path_test.gd checks it).
local function vec2(x, y)
  local v = setmetatable({ x = x, y = y }, V2)
  return v
end
local function vec3(x, y, z)
  local v = setmetatable({ x = x, y = y, z = z }, V3)
  return v
end
local function color(r, g, b, a)
  local c = setmetatable({ r = r, g = g, b = b, a = a }, C)
  return c
end

-- What every type shares: engine fallbacks for members, assignment, comparison and text.
local function common(meta, methods)
  meta.__index = function(v, key)
    local m = methods[key]
    if m ~= nil then return m end
    return index(v, key)
  end
  meta.__newindex = newindex
  meta.__tostring = tostring_of
  meta.__concat = concat
  meta.__mod = function(a, b) return operate(MODULO, "%", a, b) end
  meta.__lt = function(a, b) return operate(LESS, "<", a, b) end
  meta.__le = function(a, b) return operate(LESS_EQUAL, "<=", a, b) end
end

-- Vector2 ------------------------------------------------------------------------------------
local m2 = {}
function m2.length(v) return (sqrt(v.x * v.x + v.y * v.y)) end
function m2.length_squared(v) return v.x * v.x + v.y * v.y end
function m2.normalized(v)
  local l = v.x * v.x + v.y * v.y
  if l == 0 then return vec2(0, 0) end
  l = sqrt(l)
  return vec2(v.x / l, v.y / l)
end
function m2.abs(v) return vec2(abs(v.x), abs(v.y)) end
function m2.dot(v, o)
  if getmetatable(o) ~= V2 then expected("Vector2", "dot", o) end
  return v.x * o.x + v.y * o.y
end
function m2.distance_to(v, o)
  if getmetatable(o) ~= V2 then expected("Vector2", "distance_to", o) end
  local dx, dy = o.x - v.x, o.y - v.y
  return (sqrt(dx * dx + dy * dy))
end
function m2.lerp(v, o, t)
  if getmetatable(o) ~= V2 or type(t) ~= "number" then
    return index(v, "lerp")(v, o, t)
  end
  return vec2(v.x + (o.x - v.x) * t, v.y + (o.y - v.y) * t)
end

V2.__add = function(a, b)
  if getmetatable(a) == V2 and getmetatable(b) == V2 then return vec2(a.x + b.x, a.y + b.y) end
  return operate(ADD, "+", a, b)
end
V2.__sub = function(a, b)
  if getmetatable(a) == V2 and getmetatable(b) == V2 then return vec2(a.x - b.x, a.y - b.y) end
  return operate(SUBTRACT, "-", a, b)
end
V2.__mul = function(a, b)
  if type(b) == "number" then
    if getmetatable(a) == V2 then return vec2(a.x * b, a.y * b) end
  elseif type(a) == "number" then
    if getmetatable(b) == V2 then return vec2(a * b.x, a * b.y) end
  elseif getmetatable(a) == V2 and getmetatable(b) == V2 then
    return vec2(a.x * b.x, a.y * b.y)
  end
  return operate(MULTIPLY, "*", a, b)
end
V2.__div = function(a, b)
  if getmetatable(a) == V2 then
    if type(b) == "number" then return vec2(a.x / b, a.y / b) end
    if getmetatable(b) == V2 then return vec2(a.x / b.x, a.y / b.y) end
  end
  return operate(DIVIDE, "/", a, b)
end
V2.__unm = function(a) return vec2(-a.x, -a.y) end
V2.__eq = function(a, b)
  if a.x == b.x and a.y == b.y then return true end
  if near(a.x, b.x) and near(a.y, b.y) then return equal(a, b) end
  return false
end
common(V2, m2)

-- Vector3 ------------------------------------------------------------------------------------
local m3 = {}
function m3.length(v) return (sqrt(v.x * v.x + v.y * v.y + v.z * v.z)) end
function m3.length_squared(v) return v.x * v.x + v.y * v.y + v.z * v.z end
function m3.normalized(v)
  local l = v.x * v.x + v.y * v.y + v.z * v.z
  if l == 0 then return vec3(0, 0, 0) end
  l = sqrt(l)
  return vec3(v.x / l, v.y / l, v.z / l)
end
function m3.abs(v) return vec3(abs(v.x), abs(v.y), abs(v.z)) end
function m3.dot(v, o)
  if getmetatable(o) ~= V3 then expected("Vector3", "dot", o) end
  return v.x * o.x + v.y * o.y + v.z * o.z
end
function m3.distance_to(v, o)
  if getmetatable(o) ~= V3 then expected("Vector3", "distance_to", o) end
  local dx, dy, dz = o.x - v.x, o.y - v.y, o.z - v.z
  return (sqrt(dx * dx + dy * dy + dz * dz))
end
function m3.lerp(v, o, t)
  if getmetatable(o) ~= V3 or type(t) ~= "number" then
    return index(v, "lerp")(v, o, t)
  end
  return vec3(v.x + (o.x - v.x) * t, v.y + (o.y - v.y) * t, v.z + (o.z - v.z) * t)
end

V3.__add = function(a, b)
  if getmetatable(a) == V3 and getmetatable(b) == V3 then
    return vec3(a.x + b.x, a.y + b.y, a.z + b.z)
  end
  return operate(ADD, "+", a, b)
end
V3.__sub = function(a, b)
  if getmetatable(a) == V3 and getmetatable(b) == V3 then
    return vec3(a.x - b.x, a.y - b.y, a.z - b.z)
  end
  return operate(SUBTRACT, "-", a, b)
end
V3.__mul = function(a, b)
  if type(b) == "number" then
    if getmetatable(a) == V3 then return vec3(a.x * b, a.y * b, a.z * b) end
  elseif type(a) == "number" then
    if getmetatable(b) == V3 then return vec3(a * b.x, a * b.y, a * b.z) end
  elseif getmetatable(a) == V3 and getmetatable(b) == V3 then
    return vec3(a.x * b.x, a.y * b.y, a.z * b.z)
  end
  return operate(MULTIPLY, "*", a, b)
end
V3.__div = function(a, b)
  if getmetatable(a) == V3 then
    if type(b) == "number" then return vec3(a.x / b, a.y / b, a.z / b) end
    if getmetatable(b) == V3 then return vec3(a.x / b.x, a.y / b.y, a.z / b.z) end
  end
  return operate(DIVIDE, "/", a, b)
end
V3.__unm = function(a) return vec3(-a.x, -a.y, -a.z) end
V3.__eq = function(a, b)
  if a.x == b.x and a.y == b.y and a.z == b.z then return true end
  if near(a.x, b.x) and near(a.y, b.y) and near(a.z, b.z) then return equal(a, b) end
  return false
end
common(V3, m3)

-- Color --------------------------------------------------------------------------------------
local mc = {}
function mc.lerp(c, o, t)
  if getmetatable(o) ~= C or type(t) ~= "number" then
    return index(c, "lerp")(c, o, t)
  end
  return color(c.r + (o.r - c.r) * t, c.g + (o.g - c.g) * t, c.b + (o.b - c.b) * t,
    c.a + (o.a - c.a) * t)
end

C.__add = function(a, b)
  if getmetatable(a) == C and getmetatable(b) == C then
    return color(a.r + b.r, a.g + b.g, a.b + b.b, a.a + b.a)
  end
  return operate(ADD, "+", a, b)
end
C.__sub = function(a, b)
  if getmetatable(a) == C and getmetatable(b) == C then
    return color(a.r - b.r, a.g - b.g, a.b - b.b, a.a - b.a)
  end
  return operate(SUBTRACT, "-", a, b)
end
C.__mul = function(a, b)
  if type(b) == "number" then
    if getmetatable(a) == C then return color(a.r * b, a.g * b, a.b * b, a.a * b) end
  elseif type(a) == "number" then
    if getmetatable(b) == C then return color(a * b.r, a * b.g, a * b.b, a * b.a) end
  elseif getmetatable(a) == C and getmetatable(b) == C then
    return color(a.r * b.r, a.g * b.g, a.b * b.b, a.a * b.a)
  end
  return operate(MULTIPLY, "*", a, b)
end
C.__div = function(a, b) return operate(DIVIDE, "/", a, b) end
C.__unm = function(a) return operate(NEGATE, "-", a, nil) end
C.__eq = function(a, b)
  if a.r == b.r and a.g == b.g and a.b == b.b and a.a == b.a then return true end
  if near(a.r, b.r) and near(a.g, b.g) and near(a.b, b.b) and near(a.a, b.a) then
    return equal(a, b)
  end
  return false
end
common(C, mc)

-- Constructors: the usual shapes here, every other one (`Vector2(v2i)`, `Color("red")`,
-- `Color(c, 0.5)`) through the engine's constructors (`fallback`, the type table's own).
local function number(v) return type(v) == "number" end

local function new2(fallback)
  return function(t, ...)
    local x, y = ...
    if select("#", ...) <= 2 then
      if number(x) and number(y) then return (vec2(x, y)) end
      if select("#", ...) == 0 then return (vec2(0, 0)) end
      if select("#", ...) == 1 and getmetatable(x) == V2 then return (vec2(x.x, x.y)) end
    end
    return (fallback(t, ...))
  end
end

local function new3(fallback)
  return function(t, ...)
    local x, y, z = ...
    if select("#", ...) <= 3 then
      if number(x) and number(y) and number(z) then return (vec3(x, y, z)) end
      if select("#", ...) == 0 then return (vec3(0, 0, 0)) end
      if select("#", ...) == 1 and getmetatable(x) == V3 then return (vec3(x.x, x.y, x.z)) end
    end
    return (fallback(t, ...))
  end
end

local function new_color(fallback)
  return function(t, ...)
    local r, g, b, a = ...
    local n = select("#", ...)
    if (n == 3 or n == 4) and number(r) and number(g) and number(b) then
      if a == nil then return (color(r, g, b, 1)) end
      if number(a) then return (color(r, g, b, a)) end
    elseif n == 0 then
      return (color(0, 0, 0, 1))
    elseif n == 1 and getmetatable(r) == C then
      return (color(r.r, r.g, r.b, r.a))
    end
    return (fallback(t, ...))
  end
end

return {
  Vector2 = V2, Vector3 = V3, Color = C,
  vec2 = vec2, vec3 = vec3, color = color,
  new2 = new2, new3 = new3, new_color = new_color,
}
