//! Interned `StringName`s for the member names Lua uses (see `lua_runtime_core::host::names`).

use std::cell::RefCell;
use std::rc::Rc;

use godot::builtin::StringName;
use mlua::{Function, Lua, LuaString, Value, Variadic};
use rustc_hash::FxHashMap;

pub use lua_runtime_core::host::names::UNCACHED;

/// One interned engine name.
pub type Name = lua_runtime_core::host::names::Name<StringName>;
/// The cache of engine names.
pub type Names = lua_runtime_core::host::names::NameCache<StringName>;

/// Runs `f` with the bridge of the running state, if there is one.
pub fn with_bridge<R>(f: impl FnOnce(&super::Bridge) -> R) -> Option<R> {
    crate::state::existing().map(|state| f(&state.bridge))
}

/// The interned name for a Lua string.
///
/// # Errors
/// When the string is not UTF-8.
pub fn intern(key: &LuaString) -> mlua::Result<Rc<Name>> {
    match crate::state::existing() {
        Some(state) => state.bridge.names.get(key, |t| StringName::from(t)),
        // Outside a running state (shutdown): a one-off name, never cached.
        None => Ok(Rc::new(Name {
            id: UNCACHED,
            text: key.to_str()?.as_ref().into(),
            value: StringName::from(key.to_str()?.as_ref()),
        })),
    }
}

/// The interned name for a name the runtime itself uses (`size`, `push_back`).
pub fn intern_str(text: &str) -> Rc<Name> {
    match crate::state::existing() {
        Some(state) => state.bridge.names.by_text(text, |t| StringName::from(t)),
        None => Rc::new(Name {
            id: UNCACHED,
            text: text.into(),
            value: StringName::from(text),
        }),
    }
}

/// Calls method `name` (`&StringName`, and its text for messages) on a receiver.
pub type MethodCall = fn(&Lua, &Value, &StringName, &str, &[Value]) -> mlua::Result<Value>;

/// Lua functions that call one method on whatever receiver they get, by name id.
pub type Callers = RefCell<FxHashMap<u32, Function>>;

/// The Lua function that calls method `name` through `call`: made once per name and kept
/// in the bridge's table `callers`, so `obj:method()` allocates nothing.
pub fn method_function(
    lua: &Lua,
    name: &Name,
    callers: fn(&super::Bridge) -> &Callers,
    call: MethodCall,
) -> mlua::Result<Function> {
    if let Some(Some(f)) = with_bridge(|b| callers(b).borrow().get(&name.id).cloned()) {
        return Ok(f);
    }
    let method = name.value.clone();
    let text = name.text.to_string();
    let function =
        lua.create_function(move |lua, (receiver, args): (Value, Variadic<Value>)| {
            call(lua, &receiver, &method, &text, &args)
        })?;
    if name.id != UNCACHED {
        with_bridge(|b| callers(b).borrow_mut().insert(name.id, function.clone()));
    }
    Ok(function)
}
