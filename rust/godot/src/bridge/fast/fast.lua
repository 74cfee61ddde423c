-- `obj.key`, `obj.key = value` and `obj:method(...)` for engine objects. Under LuaJIT, the
-- properties and methods that can be used without running any script code (see mod.rs and
-- methods.rs) go through LuaJIT's FFI: a
-- direct call into the extension that the compiler makes part of the trace, with the value
-- passed as numbers, so `n.position = n.position + v * delta` makes no garbage and crosses
-- no Lua/C boundary of the classic API. Everything else goes to the engine through
-- `slow_index` / `slow_newindex` and, for methods, the general caller `method(key)`. Under
-- Lua 5.4 (no FFI) those are all there is.
local ffi, handles, slow_index, slow_newindex, intern_address, get_address, set_address,
  call_address, method, V2, V3, C = ...
if not ffi then return slow_index, slow_newindex end

local setmetatable, getmetatable, type, select = setmetatable, getmetatable, type, select
ffi.cdef [[ typedef struct { double a, b, c, d; } lua_runtime_value; ]]
local intern = ffi.cast("int32_t (*)(const char *, size_t)", intern_address)
local get = ffi.cast("int32_t (*)(double, uint32_t, lua_runtime_value *)", get_address)
local set = ffi.cast("int32_t (*)(double, uint32_t, int32_t, double, double, double, double)",
  set_address)
local call = ffi.cast("int32_t (*)(double, uint32_t, int32_t, const int32_t *, "
  .. "const lua_runtime_value *, lua_runtime_value *)", call_address)
local out = ffi.new("lua_runtime_value")
-- A call's arguments (methods.rs: MOST_ARGUMENTS).
local MOST = 4
local arg_tags = ffi.new("int32_t[?]", MOST)
local args = ffi.new("lua_runtime_value[?]", MOST)
-- The same memory as doubles, four to an argument: written as `slots[4 * i]` rather than
-- `args[i].a`, since outside compiled code `args[i]` makes a reference object each time,
-- which is garbage (code LuaJIT gave up compiling runs in the interpreter for good).
local slots = ffi.cast("double *", args)

-- Value tags shared with numbers.rs.
local NUMBER, BOOL, VECTOR2, VECTOR3, COLOR, NOTHING, METHOD, NAME = 1, 2, 3, 4, 5, 6, 7, 8

-- Member names to their interned ids (false: a name the runtime does not intern).
local ids = {}
local function id_of(key)
  if type(key) ~= "string" then return false end
  local id = intern(key, #key)
  if id < 0 then id = false end
  ids[key] = id
  return id
end

-- These functions run for every script, also from code LuaJIT does not compile, and then
-- start traces of their own. As in vectors.lua (which says why), none leaves by a tail call
-- to a builtin, and the vararg one by no tail call at all. Tail calls to the runtime's C
-- functions are fine: a trace that starts here ends there. But none calls a C function from
-- a function it calls (`id_of` interns through the FFI): that trace would end in a stitch,
-- and LuaJIT does not take a function whose trace ends so into the loops that call it (each
-- loop would be split there, and its vectors made for real: fast_path_test.gd checks it).

-- The value `tag` and `out` stand for (nothing for a tag that is not a value).
local function result(tag)
  local v
  if tag == NUMBER then v = out.a
  elseif tag == VECTOR2 then v = setmetatable({ x = out.a, y = out.b }, V2)
  elseif tag == VECTOR3 then v = setmetatable({ x = out.a, y = out.b, z = out.c }, V3)
  elseif tag == BOOL then v = out.a ~= 0
  elseif tag == COLOR then v = setmetatable({ r = out.a, g = out.b, b = out.c, a = out.d }, C)
  end
  return v
end

-- Puts `v` as argument `i` (from 0) of a call, or as the value of a write (at 0); false for
-- a value only the general path passes.
local function put(i, v)
  local t = type(v)
  if t == "string" then
    -- StringName arguments (`Input:is_action_pressed("jump")`) pass the interned name's id.
    local id = ids[v]
    if id == nil then id = id_of(v) end
    if not id then return false end
    arg_tags[i] = NAME
    slots[4 * i] = id
    return true
  elseif t == "number" then
    arg_tags[i] = NUMBER
    slots[4 * i] = v
    return true
  elseif t == "boolean" then
    arg_tags[i] = BOOL
    slots[4 * i] = v and 1 or 0
    return true
  end
  local meta = getmetatable(v)
  if meta == V2 then
    local x, y = v.x, v.y
    if type(x) ~= "number" or type(y) ~= "number" then return false end
    arg_tags[i] = VECTOR2
    local k = 4 * i
    slots[k], slots[k + 1] = x, y
    return true
  elseif meta == V3 then
    local x, y, z = v.x, v.y, v.z
    if type(x) ~= "number" or type(y) ~= "number" or type(z) ~= "number" then return false end
    arg_tags[i] = VECTOR3
    local k = 4 * i
    slots[k], slots[k + 1], slots[k + 2] = x, y, z
    return true
  elseif meta == C then
    local r, g, b, al = v.r, v.g, v.b, v.a
    if type(r) ~= "number" or type(g) ~= "number" or type(b) ~= "number"
        or type(al) ~= "number" then
      return false
    end
    arg_tags[i] = COLOR
    local k = 4 * i
    slots[k], slots[k + 1], slots[k + 2], slots[k + 3] = r, g, b, al
    return true
  end
  return false
end

-- Per method name: the function `obj:name(...)` calls. It tries the fast call on whatever
-- receiver it is given, and otherwise calls the general caller (which makes the errors).
local callers = {}
local function caller(key, id)
  local general
  local function f(obj, ...)
    local handle = handles[obj]
    if handle then
      local n = select("#", ...)
      if n == 0 or (n <= MOST and put(0, (...))
          and (n < 2 or put(1, (select(2, ...))))
          and (n < 3 or put(2, (select(3, ...))))
          and (n < 4 or put(3, (select(4, ...))))) then
        local tag = call(handle, id, n, arg_tags, args, out)
        if tag == NOTHING then return nil end
        if tag ~= 0 then return (result(tag)) end
      end
    end
    if not general then general = method(key) end
    -- Not a tail call: an error raised there keeps the caller's line in its traceback.
    return (general(obj, ...))
  end
  callers[key] = f
  return f
end

local function index(obj, key)
  local handle = handles[obj]
  local id = ids[key]
  if id == nil then id = id_of(key) end
  if handle and id then
    local tag = get(handle, id, out)
    if tag == METHOD then return callers[key] or caller(key, id) end
    if tag ~= 0 then return result(tag) end
  end
  return slow_index(obj, key)
end

local function newindex(obj, key, value)
  local handle = handles[obj]
  local id = ids[key]
  if id == nil then id = id_of(key) end
  -- No string is written on the fast path: `put` would intern it as a name.
  if handle and id and type(value) ~= "string" and put(0, value) then
    if set(handle, id, arg_tags[0], slots[0], slots[1], slots[2], slots[3]) ~= 0 then return end
  end
  return slow_newindex(obj, key, value)
end

return index, newindex
