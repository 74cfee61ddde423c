//! The script sandbox: what a script can reach of the standard library.
//!
//! Scripts get Lua's pure libraries (`string`, `table`, `math`, `coroutine`, `bit`/`utf8`) and
//! a clock-only `os`. They get no `io`, `debug`, `ffi` or `package`, cannot run binary chunks
//! (which can crash the VM), cannot `string.dump` functions, and cannot open files: file access
//! goes through Godot under `res://` and `user://`.

use mlua::{Lua, LuaOptions, StdLib};

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

/// Lua run once at start-up to narrow what the opened libraries expose.
const NARROW: &str = r#"
local raw_load, raw_loadstring, type = load, loadstring, type
local os_time, os_clock, os_date, os_difftime = os.time, os.clock, os.date, os.difftime
os = { time = os_time, clock = os_clock, date = os_date, difftime = os_difftime }
dofile, loadfile = nil, nil
string.dump = nil
-- Text chunks only: Lua does not verify bytecode, and bad bytecode can crash the VM.
load = function(chunk, name, mode, env)
  if type(chunk) == "string" and chunk:byte(1) == 27 then
    return nil, "binary chunks are not allowed"
  end
  if env ~= nil then
    return raw_load(chunk, name, "t", env)
  end
  return raw_load(chunk, name, "t")
end
if raw_loadstring then
  loadstring = function(chunk, name) return load(chunk, name) end
end
"#;

/// A new Lua state with the sandbox applied.
pub fn new_sandboxed_lua() -> mlua::Result<Lua> {
    let lua = Lua::new_with(libraries(), LuaOptions::default())?;
    lua.load(NARROW).set_name("=sandbox").exec()?;
    Ok(lua)
}
