//! Custom monitors in the debugger's Monitors tab (`LuaRuntime/...`), so Lua's figures plot
//! next to the engine's own.

use godot::classes::Performance;
use godot::obj::Singleton;
use godot::prelude::*;

use crate::state::{self, RuntimeState};

/// Reads one figure from the runtime.
type Read = fn(&RuntimeState) -> f64;

/// Each monitor: its id (category `LuaRuntime`) and how to read it.
const MONITORS: &[(&str, Read)] = &[
    ("LuaRuntime/Lua memory (MB)", |s| {
        s.host.memory_bytes() as f64 / (1024.0 * 1024.0)
    }),
    ("LuaRuntime/Bytecode hit rate (%)", |s| {
        s.cache.as_ref().map_or(0.0, |c| c.stats().hit_rate * 100.0)
    }),
    ("LuaRuntime/Reloads", |s| s.reload.stats().reloads as f64),
    ("LuaRuntime/Script errors", |s| {
        s.reporter.borrow().stats().total as f64
    }),
    ("LuaRuntime/Running scripts", |s| s.running.count() as f64),
];

/// Adds the monitors (once; a second call changes nothing).
pub fn register() {
    let mut performance = Performance::singleton();
    for (id, read) in MONITORS {
        let id = StringName::from(*id);
        if performance.has_custom_monitor(&id) {
            continue;
        }
        let read = *read;
        let callable = Callable::from_fn("lua_monitor", move |_| {
            state::existing().map_or(0.0, |s| read(&s))
        });
        performance.add_custom_monitor(&id, &callable);
    }
}

/// Removes the monitors, before the state they read goes away.
pub fn unregister() {
    let mut performance = Performance::singleton();
    for (id, _) in MONITORS {
        let id = StringName::from(*id);
        if performance.has_custom_monitor(&id) {
            performance.remove_custom_monitor(&id);
        }
    }
}
