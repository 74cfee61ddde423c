//! Where the Lua heap goes: completed garbage-collection cycles, and the heap each script's
//! load added.

use std::cell::RefCell;
use std::collections::BTreeMap;

use mlua::{Function, Lua};

/// Arms a finalizer that counts each completed collection cycle and arms itself again, until
/// disarmed (a finalizer that re-arms while the state closes would never let it close).
/// Returns the counter and the disarm function. Pure Lua: nothing of Rust runs during close.
///
/// LuaJIT runs `__gc` only for userdata, so it uses `newproxy`; Lua 5.4 takes it on a table.
#[cfg(feature = "luajit")]
const SENTINEL: &str = r#"
local newproxy, getmetatable = newproxy, getmetatable
local cycles, armed = 0, true
local function arm()
  local p = newproxy(true)
  getmetatable(p).__gc = function() cycles = cycles + 1 if armed then arm() end end
end
arm()
return function() return cycles end, function() armed = false end
"#;

#[cfg(feature = "lua54")]
const SENTINEL: &str = r#"
local setmetatable = setmetatable
local cycles, armed = 0, true
local function arm()
  setmetatable({}, { __gc = function() cycles = cycles + 1 if armed then arm() end end })
end
arm()
return function() return cycles end, function() armed = false end
"#;

/// Heap accounting for one Lua state.
#[derive(Debug)]
pub struct HeapAccount {
    cycles: Function,
    disarm: Function,
    by_script: RefCell<BTreeMap<String, u64>>,
}

impl HeapAccount {
    /// Starts counting collection cycles of `lua`.
    ///
    /// # Errors
    /// Only if Lua cannot allocate the sentinel.
    pub fn install(lua: &Lua) -> mlua::Result<Self> {
        let (cycles, disarm) = lua.load(SENTINEL).set_name("=gc").call(())?;
        Ok(HeapAccount {
            cycles,
            disarm,
            by_script: RefCell::default(),
        })
    }

    /// Collection cycles completed since start-up.
    pub fn cycles(&self) -> u64 {
        self.cycles.call(()).unwrap_or(0)
    }

    /// Records what loading `path` added to the heap (its latest load counts).
    pub fn record_load(&self, path: &str, before: usize, after: usize) {
        let added = after.saturating_sub(before) as u64;
        self.by_script.borrow_mut().insert(path.to_owned(), added);
    }

    /// `path` moved to `to`.
    pub fn rename(&self, from: &str, to: &str) {
        let mut by_script = self.by_script.borrow_mut();
        if let Some(bytes) = by_script.remove(from) {
            by_script.insert(to.to_owned(), bytes);
        }
    }

    /// `path` is no longer loaded.
    pub fn forget(&self, path: &str) {
        self.by_script.borrow_mut().remove(path);
    }

    /// Heap added by each loaded script's latest load, by path.
    pub fn by_script(&self) -> BTreeMap<String, u64> {
        self.by_script.borrow().clone()
    }
}

impl Drop for HeapAccount {
    fn drop(&mut self) {
        // Let the state close: the sentinel's last finalizer must not arm another.
        let _ = self.disarm.call::<()>(());
    }
}
