//! The running game's side of the editor's Lua panel.
//!
//! When the game runs with a debugger attached (started from the editor), it sends its
//! statistics to the editor twice a second as `lua_runtime:stats` with one Dictionary, the
//! same one `LuaRuntime.get_stats()` returns. The panel's buttons come back as
//! `lua_runtime:<command>` messages with no data: `clear_caches`, `warm_cache`,
//! `collect_garbage`, and `send_stats` (statistics now rather than at the next tick).

use std::cell::Cell;
use std::time::{Duration, Instant};

use godot::classes::EngineDebugger;
use godot::obj::Singleton;
use godot::prelude::*;

use crate::state::{self, RuntimeState};
use crate::stats_dict;

/// The message prefix both sides register.
pub const CAPTURE: &str = "lua_runtime";
/// Statistics from the game: `[stats: Dictionary]`.
pub const STATS: &str = "lua_runtime:stats";
/// How often statistics go out at most.
pub const INTERVAL: Duration = Duration::from_millis(500);

thread_local! {
    /// Whether the capture is registered, and when statistics last went out.
    static LINKED: Cell<bool> = const { Cell::new(false) };
    static LAST_SENT: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Links the game to an attached debugger (nothing happens without one, or in the editor).
pub fn start() {
    let debugger = EngineDebugger::singleton();
    if !debugger.is_active() || godot::classes::Engine::singleton().is_editor_hint() {
        return;
    }
    let capture = Callable::from_fn("lua_runtime_capture", |args| {
        let command = args.first().map(|m| m.to_string()).unwrap_or_default();
        receive(&command)
    });
    EngineDebugger::singleton().register_message_capture(CAPTURE, &capture);
    LINKED.set(true);
}

/// Once per frame: sends statistics when they are due.
pub fn frame(state: &RuntimeState) {
    if !LINKED.get() {
        return;
    }
    let now = Instant::now();
    if LAST_SENT
        .get()
        .is_some_and(|at| now.duration_since(at) < INTERVAL)
    {
        return;
    }
    send(state);
    LAST_SENT.set(Some(now));
}

/// Unlinks, before the state goes away.
pub fn stop() {
    if LINKED.replace(false) {
        EngineDebugger::singleton().unregister_message_capture(CAPTURE);
    }
}

fn send(state: &RuntimeState) {
    let data: VarArray = varray![&stats_dict::snapshot(state)];
    EngineDebugger::singleton().send_message(STATS, &data);
}

/// Acts on a command from the editor; false for one this version does not know.
/// Godot passes the message without its `lua_runtime:` prefix; a full one is accepted too.
fn receive(message: &str) -> bool {
    let command = message
        .strip_prefix(CAPTURE)
        .and_then(|rest| rest.strip_prefix(':'))
        .unwrap_or(message);
    let Some(state) = state::existing() else {
        return false;
    };
    match command {
        "clear_caches" => state.clear_caches(),
        "warm_cache" => {
            state.warm();
        }
        "collect_garbage" => state.collect_garbage(),
        "send_stats" => {}
        _ => return false,
    }
    // Show the effect at once rather than at the next tick.
    send(&state);
    LAST_SENT.set(Some(Instant::now()));
    true
}
