//! The script sandbox: what a script can reach of the standard library.
//!
//! Scripts get Lua's pure libraries (`string`, `table`, `math`, `coroutine`, `bit`/`utf8`), a
//! clock-only `os`, and of `jit` only what describes it. They get no `io`, `debug`, `ffi` or
//! `package`, cannot run binary chunks (which can crash the VM), cannot `string.dump`
//! functions, cannot open files (file access goes through Godot under `res://` and
//! `user://`), cannot change the environment of functions that are not their own, and can
//! only ask the collector for its `count` or a `step`. Text they `load` is instrumented for
//! the time budget like their files.

use mlua::{Function, Lua, LuaOptions, StdLib, Value};

use super::instrument;

/// Standard libraries opened for scripts.
#[cfg(feature = "luajit")]
fn libraries() -> StdLib {
    // LuaJIT keeps `coroutine` in its base library.
    StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::OS | StdLib::BIT | StdLib::JIT
}

/// Standard libraries opened for scripts.
#[cfg(feature = "lua54")]
fn libraries() -> StdLib {
    StdLib::COROUTINE | StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::OS | StdLib::UTF8
}

/// Lua run once at start-up to narrow what the opened libraries expose. It receives the
/// source instrumenter, the budget tick and a test for functions that belong to scripts, and
/// returns `bind`, which gives an instrumented chunk the tick and returns the script's main
/// function (the host binds every chunk it loads the same way).
const NARROW: &str = r#"
local instrument, tick, is_script_function = ...
local raw_load, type, error, tostring, select = load, type, error, tostring, select
local concat = table.concat
local os_time, os_clock, os_date, os_difftime = os.time, os.clock, os.date, os.difftime
os = { time = os_time, clock = os_clock, date = os_date, difftime = os_difftime }
dofile, loadfile = nil, nil
string.dump = nil

local raw_jit = jit
-- LuaJIT's FFI is for the runtime's own fast paths: scripts never see it.
local raw_ffi = ffi
ffi = nil
if jit then
  jit = { version = jit.version, version_num = jit.version_num, os = jit.os, arch = jit.arch,
          status = jit.status }
end

-- An instrumented chunk, given the tick, returns the script's main function.
local function bind(chunk)
  return chunk(tick)
end

-- Text chunks only: Lua does not verify bytecode, and bad bytecode can crash the VM.
load = function(chunk, name, mode, env)
  if type(chunk) == "function" then
    local parts, reader = {}, chunk
    while true do
      local piece = reader()
      if piece == nil or piece == "" then break end
      if type(piece) ~= "string" then return nil, "reader function must return a string" end
      parts[#parts + 1] = piece
    end
    chunk = concat(parts)
  end
  if type(chunk) ~= "string" then
    error("bad argument #1 to 'load' (string expected, got " .. type(chunk) .. ")", 2)
  end
  if chunk:byte(1) == 27 then
    return nil, "binary chunks are not allowed"
  end
  local source, why = instrument(chunk)
  if not source then return nil, why end
  local f, err
  if env ~= nil then
    f, err = raw_load(source, name or chunk, "t", env)
  else
    f, err = raw_load(source, name or chunk, "t")
  end
  if not f then return nil, err end
  return bind(f)
end
if loadstring then
  loadstring = function(chunk, name) return load(chunk, name) end
end

local raw_collectgarbage = collectgarbage
collectgarbage = function(option, ...)
  if option == "count" or option == "step" then
    return raw_collectgarbage(option, ...)
  end
  error("collectgarbage(\"" .. tostring(option or "collect") ..
    "\") is not allowed in scripts (only \"count\" and \"step\")", 2)
end

if setfenv then
  local raw_setfenv, raw_getfenv = setfenv, getfenv
  -- A function argument, or level 1 (the caller itself); level 0 only for reading.
  local function own(f, writing)
    if f == nil then f = 1 end
    if type(f) == "function" then
      if is_script_function(f) then return f end
      error("the environment of a function that is not a script's own cannot be " ..
        (writing and "changed" or "read"), 3)
    end
    if f == 1 then return 2 end -- seen from the wrapper: the script that called it
    if f == 0 and not writing then return 0 end
    error("setfenv/getfenv take a function or level 1 in scripts (got " .. tostring(f) .. ")", 3)
  end
  -- No tail calls below: the level passed to the raw functions counts the wrapper's frame.
  getfenv = function(f)
    local env = raw_getfenv(own(f, false))
    return env
  end
  setfenv = function(f, env)
    if type(env) ~= "table" then
      error("bad argument #2 to 'setfenv' (table expected, got " .. type(env) .. ")", 2)
    end
    local target = own(f, true)
    local result = raw_setfenv(target, env)
    if type(target) == "function" then return f end
    return result
  end
end

return bind, raw_jit, raw_ffi
"#;

/// Whether `value` is a Lua function of a script's: not a C function, nor one of the runtime's
/// own chunks (named `=...`, except the chunk of code run through `LuaRuntime.exec`/`eval`).
fn is_script_function(value: Value) -> bool {
    let Value::Function(function) = value else {
        return false;
    };
    let info = function.info();
    info.what != "C"
        && info.source.as_deref().is_none_or(|source| {
            source
                .strip_prefix('=')
                .is_none_or(|name| name == super::INLINE_CHUNK)
        })
}

/// Where the runtime keeps LuaJIT's `ffi` library (a named registry value): scripts cannot
/// reach the registry, so only the runtime's own Lua code, given the library by the host,
/// uses it.
pub const FFI_REGISTRY_KEY: &str = "lua_runtime.ffi";

/// A new Lua state with the sandbox applied. `tick` is the time budget's tick (see
/// [`super::budget`]); returns the state, its `bind` function and (under LuaJIT) the whole
/// `jit` library, which scripts only see a part of. Under LuaJIT the `ffi` library is opened
/// for the runtime and kept under [`FFI_REGISTRY_KEY`], out of the scripts' reach.
pub fn new_sandboxed_lua(
    tick: impl FnOnce(&Lua) -> mlua::Result<Function>,
) -> mlua::Result<(Lua, Function, Option<mlua::Table>)> {
    let lua = open_libraries()?;
    let tick = tick(&lua)?;
    let instrument = lua.create_function(|_, text: mlua::LuaString| {
        let text = text.to_str()?;
        Ok(match instrument::wrap(&text) {
            Ok(source) => (Some(source), None),
            Err(reserved) => (None, Some(reserved.to_string())),
        })
    })?;
    let is_script = lua.create_function(|_, value: Value| Ok(is_script_function(value)))?;
    let (bind, jit, ffi): (Function, Option<mlua::Table>, Option<mlua::Table>) = lua
        .load(NARROW)
        .set_name("=sandbox")
        .call((instrument, tick, is_script))?;
    if let Some(ffi) = ffi {
        lua.set_named_registry_value(FFI_REGISTRY_KEY, ffi)?;
    }
    Ok((lua, bind, jit))
}

#[cfg(feature = "luajit")]
fn open_libraries() -> mlua::Result<Lua> {
    // SAFETY: `ffi` can do anything C can; it is unsafe to hand to scripts, which is why
    // `NARROW` removes the global before any script runs and only the registry keeps it.
    Ok(unsafe { Lua::unsafe_new_with(libraries() | StdLib::FFI, LuaOptions::default()) })
}

#[cfg(feature = "lua54")]
fn open_libraries() -> mlua::Result<Lua> {
    Lua::new_with(libraries(), LuaOptions::default())
}
