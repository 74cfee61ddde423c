//! Lua functions as Godot `Callable`s: connect them to signals, pass them to
//! `tween_callback`, `call_deferred`, `Array.sort_custom` and anything else that takes one.
//!
//! The same Lua function always makes an equal Callable, so `sig:disconnect(fn)` and
//! `sig:is_connected(fn)` find the connection `sig:connect(fn)` made. The function itself
//! stays in a main-thread table while any Callable refers to it; a call runs on a runner
//! coroutine, so a signal handler may `await`.

use std::cell::RefCell;
use std::fmt;
use std::hash::{Hash, Hasher};

use godot::builtin::{Callable, RustCallable, Variant};
use mlua::{Function, MultiValue, RegistryKey};
use rustc_hash::FxHashMap;

thread_local! {
    /// Functions behind live Callables, by address, with how many Callables use each. They are
    /// held in the Lua registry: plain handles live on a stack LuaJIT caps at about 8,000
    /// slots, and every node of a large scene may connect a function.
    static FUNCTIONS: RefCell<FxHashMap<usize, (RegistryKey, usize)>> = RefCell::new(FxHashMap::default());
}

/// A Callable's handle on a Lua function.
struct LuaCallable {
    address: usize,
    /// The script that defined the function (errors without a location are reported there),
    /// and the line, for messages.
    path: String,
    line: Option<usize>,
}

impl LuaCallable {
    fn function(&self, lua: &mlua::Lua) -> Option<Function> {
        FUNCTIONS.with_borrow(|map| {
            let (key, _) = map.get(&self.address)?;
            lua.registry_value(key).ok()
        })
    }
}

impl Clone for LuaCallable {
    fn clone(&self) -> Self {
        FUNCTIONS.with_borrow_mut(|map| {
            if let Some(entry) = map.get_mut(&self.address) {
                entry.1 += 1;
            }
        });
        LuaCallable {
            address: self.address,
            path: self.path.clone(),
            line: self.line,
        }
    }
}

impl Drop for LuaCallable {
    fn drop(&mut self) {
        // A Callable freed on another thread leaves its entry behind rather than touch
        // this thread's Lua values from there.
        let _ = FUNCTIONS.try_with(|cell| {
            if let Ok(mut map) = cell.try_borrow_mut()
                && let Some(entry) = map.get_mut(&self.address)
            {
                entry.1 -= 1;
                if entry.1 == 0 {
                    map.remove(&self.address);
                }
            }
        });
    }
}

impl PartialEq for LuaCallable {
    fn eq(&self, other: &Self) -> bool {
        self.address == other.address
    }
}

impl Hash for LuaCallable {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.address.hash(state);
    }
}

impl fmt::Display for LuaCallable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "<Lua function {}:{line}>", self.path),
            None => write!(f, "<Lua function {}>", self.path),
        }
    }
}

impl RustCallable for LuaCallable {
    fn invoke(&mut self, args: &[&Variant]) -> Variant {
        if !godot::sys::is_main_thread() {
            godot::global::godot_error!(
                "{self}: a Lua function cannot be called from another thread (use call_deferred)"
            );
            return Variant::nil();
        }
        let Some(state) = crate::state::get() else {
            return Variant::nil();
        };
        let lua = state.host.lua();
        let Some(function) = self.function(lua) else {
            return Variant::nil();
        };
        let values: MultiValue = args
            .iter()
            .map(|a| super::convert::to_lua(lua, a).unwrap_or(mlua::Value::Nil))
            .collect();
        match state.run(&function, values, &self.path, crate::state::current_owner()) {
            Some(results) => results
                .front()
                .and_then(|v| super::convert::from_lua(v).ok())
                .unwrap_or_default(),
            None => Variant::nil(),
        }
    }

    fn is_valid(&self) -> bool {
        FUNCTIONS.with_borrow(|map| map.contains_key(&self.address))
    }
}

/// The Callable for a Lua function (equal for equal functions).
///
/// # Errors
/// Only if Lua cannot allocate.
pub fn from_function(lua: &mlua::Lua, function: &Function) -> mlua::Result<Callable> {
    let address = function.to_pointer() as usize;
    let info = function.info();
    let path = info.source.map_or_else(
        || "?".to_owned(),
        |s| s.strip_prefix('@').unwrap_or(&s).to_owned(),
    );
    FUNCTIONS.with_borrow_mut(|map| {
        let entry = match map.entry(address) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert((lua.create_registry_value(function.clone())?, 0))
            }
        };
        entry.1 += 1;
        Ok::<_, mlua::Error>(())
    })?;
    Ok(Callable::from_custom(LuaCallable {
        address,
        path,
        line: info.line_defined,
    }))
}

/// Forgets every function (at shutdown, before the Lua state closes); Callables still held
/// by the engine then do nothing when called.
pub fn clear() {
    FUNCTIONS.with_borrow_mut(FxHashMap::clear);
}
