//! Lua functions as Godot `Callable`s: connect them to signals, pass them to
//! `tween_callback`, `call_deferred`, `Array.sort_custom` and anything else that takes one.
//!
//! The same Lua function always makes an equal Callable, so `sig:disconnect(fn)` and
//! `sig:is_connected(fn)` find the connection `sig:connect(fn)` made. The function itself
//! stays in a main-thread table while any Callable refers to it; a call runs on a runner
//! coroutine, so a signal handler may `await`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};

use godot::builtin::{Callable, RustCallable, Variant};
use mlua::{Function, MultiValue};

thread_local! {
    /// Functions behind live Callables, by address, with how many Callables use each.
    static FUNCTIONS: RefCell<HashMap<usize, (Function, usize)>> = RefCell::new(HashMap::new());
}

/// A Callable's handle on a Lua function.
struct LuaCallable {
    address: usize,
    /// `res://path.lua:LINE` where the function was defined, for messages.
    origin: String,
}

impl LuaCallable {
    fn function(&self) -> Option<Function> {
        FUNCTIONS.with_borrow(|map| map.get(&self.address).map(|(f, _)| f.clone()))
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
            origin: self.origin.clone(),
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
        write!(f, "<Lua function {}>", self.origin)
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
        let Some(function) = self.function() else {
            return Variant::nil();
        };
        let Some(state) = crate::state::get() else {
            return Variant::nil();
        };
        let lua = state.host.lua();
        let mut values = MultiValue::new();
        for arg in args {
            match super::convert::to_lua(lua, arg) {
                Ok(v) => values.push_back(v),
                Err(_) => values.push_back(mlua::Value::Nil),
            }
        }
        let path = self
            .origin
            .rsplit_once(':')
            .map_or("", |(p, _)| p)
            .to_owned();
        let owner = crate::state::current_context().owner;
        match state.run(&function, values, &path, owner) {
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
pub fn from_function(function: &Function) -> Callable {
    let address = function.to_pointer() as usize;
    let info = function.info();
    let origin = match (info.source, info.line_defined) {
        (Some(source), Some(line)) => {
            format!("{}:{line}", source.strip_prefix('@').unwrap_or(&source))
        }
        (Some(source), None) => source.strip_prefix('@').unwrap_or(&source).to_owned(),
        _ => "?".to_owned(),
    };
    FUNCTIONS.with_borrow_mut(|map| {
        map.entry(address)
            .or_insert_with(|| (function.clone(), 0))
            .1 += 1;
    });
    Callable::from_custom(LuaCallable { address, origin })
}

/// Forgets every function (at shutdown, before the Lua state closes); Callables still held
/// by the engine then do nothing when called.
pub fn clear() {
    FUNCTIONS.with_borrow_mut(HashMap::clear);
}
