//! The `events` library: scripts message each other without wiring signals by hand.
//!
//! `events.on(name, fn)` subscribes, `events.off(name, fn)` unsubscribes, and
//! `events.emit(name, ...)` calls every handler of `name` at once, in subscription order.
//! A subscription made while a node's callback runs belongs to that node and is dropped when
//! the node leaves the tree. Each handler runs like a callback (it may `await`); its error is
//! reported with its line and the other handlers still run. GDScript takes part through
//! `LuaRuntime.emit_event(name, args)` and the `LuaRuntime.event_emitted` signal.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use godot::obj::InstanceId;
use lua_runtime_core::events::EventBus;
use lua_runtime_core::stats::EventStats;
use mlua::{Function, Lua, MultiValue, RegistryKey, Value, Variadic};

use crate::bridge::{describe, text_argument};
use crate::state::{RuntimeState, Step, running};

/// Emits nested deeper than this (handlers emitting events whose handlers emit...) are
/// refused, so a loop of events is an error rather than a stack overflow.
const MAX_DEPTH: u32 = 32;

/// A subscribed function, with the script it was defined in (worked out once, at `on`): errors
/// that carry no location are reported there.
///
/// The function is held in the Lua registry: plain handles live on a stack LuaJIT caps at
/// about 8,000 slots, and every node of a large scene may subscribe.
#[derive(Clone)]
struct Handler {
    function: Rc<RegistryKey>,
    address: usize,
    path: Rc<str>,
}

/// The subscriptions, and how deep the current emit is nested.
#[derive(Default)]
pub struct Events {
    bus: RefCell<EventBus<Handler>>,
    depth: Cell<u32>,
}

impl Events {
    pub fn stats(&self) -> EventStats {
        self.bus.borrow().stats()
    }

    /// `node` left the tree: its script's subscriptions go.
    pub fn drop_owner(&self, node: InstanceId) {
        self.bus.borrow_mut().drop_owner(node.to_i64() as u64);
    }

    /// Drops every subscription (at shutdown, before Lua closes).
    pub fn clear(&self) {
        self.bus.borrow_mut().clear();
    }
}

/// Calls every handler of `name` with `args`, in subscription order, then tells GDScript
/// (`LuaRuntime.event_emitted`). How many handlers ran.
///
/// # Errors
/// Only when emits nest too deeply; a handler's own error is reported, not returned.
pub fn emit(state: &RuntimeState, name: &str, args: MultiValue) -> mlua::Result<usize> {
    let events = &state.events;
    let depth = events.depth.get();
    if depth >= MAX_DEPTH {
        return Err(mlua::Error::runtime(format!(
            "events.emit('{name}'): events nested more than {MAX_DEPTH} deep \
             (do handlers emit each other in a loop?)"
        )));
    }
    events.depth.set(depth + 1);
    let snapshot = events.bus.borrow_mut().emit(name);
    let mut delivered = 0;
    for (id, owner, handler) in snapshot {
        if !events.bus.borrow().is_subscribed(name, id) {
            continue;
        }
        let owner = owner.map(|id| InstanceId::from_i64(id as i64));
        let Ok(function) = state
            .host
            .lua()
            .registry_value::<Function>(&handler.function)
        else {
            continue;
        };
        let step = state.call(&function, args.clone(), &handler.path, owner);
        events
            .bus
            .borrow_mut()
            .delivered(matches!(step, Step::Failed));
        delivered += 1;
    }
    events.depth.set(depth);
    crate::runtime::emit_event_signal(name, &args);
    Ok(delivered)
}

/// The script a Lua function was defined in.
fn defined_in(function: &Function) -> Rc<str> {
    let source = function.info().source.unwrap_or_default();
    source
        .strip_prefix('@')
        .or_else(|| source.strip_prefix('='))
        .unwrap_or(&source)
        .into()
}

/// Installs the `events` global.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    let events = lua.create_table()?;
    events.raw_set(
        "on",
        lua.create_function(|lua, (name, handler): (Value, Value)| {
            let name = event_name("events.on", &name)?;
            let Value::Function(handler) = handler else {
                return Err(mlua::Error::runtime(format!(
                    "events.on: argument #2: expected a function, got {}",
                    describe(&handler)
                )));
            };
            let state = running()?;
            let owner = crate::state::current_owner().map(|id| id.to_i64() as u64);
            let subscribed = Handler {
                path: defined_in(&handler),
                address: handler.to_pointer() as usize,
                function: Rc::new(lua.create_registry_value(handler.clone())?),
            };
            state.events.bus.borrow_mut().on(&name, owner, subscribed);
            Ok(handler)
        })?,
    )?;
    events.raw_set(
        "off",
        lua.create_function(|_, (name, handler): (Value, Value)| {
            let name = event_name("events.off", &name)?;
            let Value::Function(handler) = handler else {
                return Err(mlua::Error::runtime(format!(
                    "events.off: argument #2: expected the function given to events.on, got {}",
                    describe(&handler)
                )));
            };
            let state = running()?;
            let removed = state
                .events
                .bus
                .borrow_mut()
                .off(&name, |h| h.address == handler.to_pointer() as usize);
            Ok(removed)
        })?,
    )?;
    events.raw_set(
        "emit",
        lua.create_function(|_, (name, args): (Value, Variadic<Value>)| {
            let name = event_name("events.emit", &name)?;
            let state = running()?;
            emit(&state, &name, args.into_iter().collect())
        })?,
    )?;
    lua.globals().raw_set("events", events)
}

fn event_name(function: &str, value: &Value) -> mlua::Result<String> {
    let name = text_argument(function, 1, "an event name", value)?;
    if name.is_empty() {
        return Err(mlua::Error::runtime(format!(
            "{function}: argument #1: expected an event name, got an empty string"
        )));
    }
    Ok(name)
}
