-- `obj.key` and `obj.key = value` for engine objects. Under LuaJIT, the properties that can be
-- read or written without running any script code (see fast.rs) go through LuaJIT's FFI: a
-- direct call into the extension that the compiler makes part of the trace, with the value
-- passed as numbers, so `n.position = n.position + v * delta` makes no garbage and crosses
-- no Lua/C boundary of the classic API. Everything else goes to the engine through
-- `slow_index` / `slow_newindex`. Under Lua 5.4 (no FFI) those two are all there is.
local ffi, handles, slow_index, slow_newindex, intern, get_address, set_address, V2, V3, C = ...
if not ffi then return slow_index, slow_newindex end

local setmetatable, getmetatable, type = setmetatable, getmetatable, type
ffi.cdef [[ typedef struct { double a, b, c, d; } lua_runtime_value; ]]
local get = ffi.cast("int32_t (*)(double, uint32_t, lua_runtime_value *)", get_address)
local set = ffi.cast("int32_t (*)(double, uint32_t, int32_t, double, double, double, double)",
  set_address)
local out = ffi.new("lua_runtime_value")

-- Value tags shared with fast.rs.
local NUMBER, BOOL, VECTOR2, VECTOR3, COLOR = 1, 2, 3, 4, 5

-- Member names to their interned ids (false: a name the runtime does not intern).
local ids = {}
local function id_of(key)
  if type(key) ~= "string" then return false end
  local id = intern(key)
  ids[key] = id
  return id
end

local function index(obj, key)
  local handle = handles[obj]
  local id = ids[key]
  if id == nil then id = id_of(key) end
  if handle and id then
    local tag = get(handle, id, out)
    if tag == NUMBER then return out.a
    elseif tag == VECTOR2 then return setmetatable({ x = out.a, y = out.b }, V2)
    elseif tag == VECTOR3 then return setmetatable({ x = out.a, y = out.b, z = out.c }, V3)
    elseif tag == BOOL then return out.a ~= 0
    elseif tag == COLOR then
      return setmetatable({ r = out.a, g = out.b, b = out.c, a = out.d }, C)
    end
  end
  return slow_index(obj, key)
end

local function newindex(obj, key, value)
  local handle = handles[obj]
  local id = ids[key]
  if id == nil then id = id_of(key) end
  if handle and id then
    local done = 0
    if type(value) == "number" then
      done = set(handle, id, NUMBER, value, 0, 0, 0)
    elseif type(value) == "boolean" then
      done = set(handle, id, BOOL, value and 1 or 0, 0, 0, 0)
    else
      local meta = getmetatable(value)
      if meta == V2 and type(value.x) == "number" and type(value.y) == "number" then
        done = set(handle, id, VECTOR2, value.x, value.y, 0, 0)
      elseif meta == V3 and type(value.x) == "number" and type(value.y) == "number"
          and type(value.z) == "number" then
        done = set(handle, id, VECTOR3, value.x, value.y, value.z, 0)
      end
    end
    if done ~= 0 then return end
  end
  return slow_newindex(obj, key, value)
end

return index, newindex
