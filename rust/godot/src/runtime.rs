//! `LuaRuntime`: the engine singleton GDScript talks to.
//!
//! Every method takes `&self`, and the state lives outside the object ([`crate::state`]), so a
//! signal handler may call back into the runtime while the runtime is emitting.

use godot::classes::{Engine, Object};
use godot::prelude::*;

use lua_runtime_core::BytecodeCache;

use crate::bridge::convert;
use crate::errors::{error_code, report, to_godot_error};
use crate::expressions::context_error;
use crate::expressions::object::LuaExpression;
use crate::expressions::world::context_id;
use crate::{reload, state, stats_dict};

/// The Lua runtime: one shared Lua state for every LuaScriptNode, its caches and statistics.
///
/// Available everywhere as the `LuaRuntime` singleton, in the editor too.
#[derive(GodotClass)]
#[class(init, singleton, tool, base = Object)]
pub struct LuaRuntime {
    base: Base<Object>,
}

#[godot_api]
impl LuaRuntime {
    /// A script file was loaded (or loaded again).
    #[signal]
    fn script_loaded(path: GString);

    /// A script failed. `line` is 0 when the error has no line (a missing file).
    /// Errors that repeat every frame are emitted once per few seconds, not every frame.
    #[signal]
    fn script_error(path: GString, line: i64, message: GString);

    /// A script nothing used was unloaded, after the grace period
    /// `lua_runtime/memory/unload_unused_after_s`. A node that runs it again loads it again.
    #[signal]
    fn script_unloaded(path: GString);

    /// Scripts were reloaded (hot reload): `path` runs its new code in every node, `msec` after
    /// its file changed (or after `reload_script` was called).
    #[signal]
    fn script_reloaded(path: GString, msec: f64);

    /// An event was emitted, from Lua (`events.emit(name, ...)`) or with [`Self::emit_event`],
    /// after its Lua handlers ran. Connect to it to handle script events in GDScript.
    #[signal]
    fn event_emitted(name: GString, args: VarArray);

    /// Emits the event `name` to the Lua handlers subscribed with `events.on(name, fn)`, in
    /// subscription order, with `args` as their arguments, then emits `event_emitted`.
    /// Returns how many Lua handlers ran; a handler's error is reported and the others still
    /// run.
    #[func]
    fn emit_event(&self, name: GString, args: VarArray) -> i64 {
        let Some(state) = state::get() else {
            return 0;
        };
        let name = name.to_string();
        if name.is_empty() {
            godot_error!("LuaRuntime.emit_event: the event needs a name");
            return 0;
        }
        let lua = state.host.lua();
        let mut values = mlua::MultiValue::new();
        for arg in args.iter_shared() {
            match convert::to_lua(lua, &arg) {
                Ok(v) => values.push_back(v),
                Err(e) => {
                    godot_error!("LuaRuntime.emit_event('{name}'): {e}");
                    return 0;
                }
            }
        }
        match crate::events::emit(&state, &name, values) {
            Ok(delivered) => delivered as i64,
            Err(e) => {
                godot_error!("LuaRuntime.emit_event: {e}");
                0
            }
        }
    }

    /// Runs Lua statements in the shared state. Errors are reported (log and `script_error`)
    /// and returned as an error code.
    #[func]
    fn exec(&self, source: GString) -> godot::global::Error {
        let Some(state) = state::get() else {
            return godot::global::Error::ERR_UNAVAILABLE;
        };
        let result = state.host.exec(&source.to_string());
        to_godot_error(&state, result)
    }

    /// Evaluates a Lua expression (or statements ending in `return`) and returns its value.
    /// Returns null on error, after reporting it.
    #[func]
    fn eval(&self, source: GString) -> Variant {
        let Some(state) = state::get() else {
            return Variant::nil();
        };
        match state.host.eval(&source.to_string()) {
            Ok(values) => match values.into_iter().next() {
                Some(value) => convert::from_lua(&value).unwrap_or_else(|e| {
                    state.report(&lua_runtime_core::ScriptError::from_lua(&e, "(inline)").into());
                    Variant::nil()
                }),
                None => Variant::nil(),
            },
            Err(err) => {
                state.report(&err);
                Variant::nil()
            }
        }
    }

    /// Loads (or loads again) the script at `path` and emits `script_loaded`.
    #[func]
    fn load_script(&self, path: GString) -> godot::global::Error {
        let Some(state) = state::get() else {
            return godot::global::Error::ERR_UNAVAILABLE;
        };
        let result = state.load(&path.to_string());
        to_godot_error(&state, result)
    }

    /// Sets a global Lua variable visible to every script, and the runtime variable
    /// expressions read with `(var name)`.
    #[func]
    fn set_var(&self, name: GString, value: Variant) {
        let Some(state) = state::get() else { return };
        state.expressions.set_var(&name.to_string(), &value);
        let lua = state.host.lua();
        let result =
            convert::to_lua(lua, &value).and_then(|v| lua.globals().set(name.to_string(), v));
        if let Err(e) = result {
            godot_error!("LuaRuntime.set_var('{name}'): {e}");
        }
    }

    /// Reads a global Lua variable (null when unset or not representable in Godot).
    #[func]
    fn get_var(&self, name: GString) -> Variant {
        let Some(state) = state::get() else {
            return Variant::nil();
        };
        state
            .host
            .lua()
            .globals()
            .get::<mlua::Value>(name.to_string())
            .and_then(|v| convert::from_lua(&v))
            .unwrap_or_default()
    }

    /// The value of the SEXP expression `sexp` with `context_node` as the node relative
    /// paths start from (null is allowed when it reads none). Compiled once per text, and the
    /// result cached until something it reads changes. Null, and a reported error, when it
    /// cannot be compiled or evaluated, or `context_node` is not a Node or null.
    #[func]
    fn evaluate(&self, sexp: GString, context_node: Variant) -> Variant {
        let Some(state) = state::get() else {
            return Variant::nil();
        };
        let result = state.expressions.compile(&sexp.to_string()).and_then(|c| {
            let context = context_id(&state.expressions.nodes, &context_node)
                .map_err(|message| context_error(&c, message))?;
            state.expressions.evaluate(&state, &c, context, true)
        });
        result.unwrap_or_else(|e| {
            report(&state, &e);
            Variant::nil()
        })
    }

    /// Compiles `sexp` for repeated use (`expression.evaluate(node)`); null, and a reported
    /// error with its line and column, when it does not compile.
    #[func]
    fn compile_expression(&self, sexp: GString) -> Option<Gd<LuaExpression>> {
        let state = state::get()?;
        match state.expressions.compile(&sexp.to_string()) {
            Ok(compiled) => Some(LuaExpression::new_gd(compiled)),
            Err(e) => {
                report(&state, &e);
                None
            }
        }
    }

    /// Defines the SEXP operator `name`, run by calling `callable` with the evaluated
    /// arguments. A `pure` operator's result depends only on its arguments and is cached;
    /// an impure one makes the expressions using it computed every time.
    #[func]
    fn define_operator(
        &self,
        name: GString,
        callable: Callable,
        pure: bool,
    ) -> godot::global::Error {
        let Some(state) = state::get() else {
            return godot::global::Error::ERR_UNAVAILABLE;
        };
        match state.expressions.define(
            &name.to_string(),
            crate::expressions::Implementation::Callable(callable),
            pure,
        ) {
            Ok(()) => godot::global::Error::OK,
            Err(message) => {
                godot_error!("LuaRuntime.define_operator: {message}");
                godot::global::Error::ERR_INVALID_PARAMETER
            }
        }
    }

    /// The runtime's statistics: `lua` (flavour, memory_bytes), `scripts` (loaded, modules,
    /// instances), `errors` (total, reported, suppressed), `bytecode` (the cache: hits per
    /// level, misses, compiles, failures, rejected files, evictions, bytes, times) and
    /// `reload` (watching, reloads, failures, latencies), `queries` (the query cache: queries,
    /// hits, invalidations, per-signature counts) and `events` (emitted, delivered, errors,
    /// subscriptions); see the Lua API reference for every key.
    #[func]
    fn get_stats(&self) -> VarDictionary {
        let Some(state) = state::get() else {
            return VarDictionary::new();
        };
        stats_dict::snapshot(&state)
    }

    /// Empties the bytecode cache (in memory and on disk) and the query cache. Loaded scripts
    /// keep running; the next load of each compiles it again.
    #[func]
    fn clear_caches(&self) {
        if let Some(state) = state::get() {
            state.clear_caches();
        }
    }

    /// Compiles every `.lua` file of the project in the background, so later loads find their
    /// bytecode ready. Returns false where there is nothing to warm (the cache is off, or an
    /// exported game, which ships its bytecode).
    #[func]
    fn warm_cache(&self) -> bool {
        state::get().is_some_and(|s| s.warm())
    }

    /// Waits until background compiles and cache writes queued so far are done. For tools and
    /// tests; a game never needs to wait.
    #[func]
    fn flush_cache(&self) {
        with_cache(BytecodeCache::flush);
    }

    /// The script at `path` compiled into the cache entry an exported game ships, or an empty
    /// array (after reporting the error) when it does not compile. Used by the export plugin.
    #[func]
    fn export_bytecode(&self, path: GString) -> PackedByteArray {
        let Some(state) = state::get() else {
            return PackedByteArray::new();
        };
        let path = path.to_string();
        let Some(cache) = &state.cache else {
            godot_error!("LuaRuntime.export_bytecode('{path}'): the bytecode cache is turned off");
            return PackedByteArray::new();
        };
        let result = crate::source::read(&path).and_then(|source| {
            cache
                .export_entry(&path, &source)
                .map_err(lua_runtime_core::Error::from)
        });
        match result {
            Ok(bytes) => PackedByteArray::from(bytes.as_slice()),
            Err(err) => {
                state.report(&err);
                PackedByteArray::new()
            }
        }
    }

    /// Where an exported game looks for the shipped bytecode of the script at `path`.
    #[func]
    fn bytecode_export_path(&self, path: GString) -> GString {
        let strip = with_cache(BytecodeCache::strips).unwrap_or(false);
        GString::from(crate::source::shipped_path(&path.to_string(), strip).as_str())
    }

    /// Reloads the script at `path` now, and every script that `require`s it, keeping each
    /// node's `self`. On an error the old code keeps running, the error is reported, and its
    /// code is returned. A script nothing has loaded is left alone (and this returns OK).
    #[func]
    fn reload_script(&self, path: GString) -> godot::global::Error {
        let Some(state) = state::get() else {
            return godot::global::Error::ERR_UNAVAILABLE;
        };
        let outcome = reload::reload(&state, &[path.to_string()], std::time::Instant::now());
        outcome
            .failed
            .first()
            .map_or(godot::global::Error::OK, error_code)
    }

    /// Reloads every loaded script whose file changed since it was loaded (and what requires
    /// it); returns the paths reloaded. The editor calls this when its file system changes.
    #[func]
    fn reload_changed(&self) -> PackedStringArray {
        let Some(state) = state::get() else {
            return PackedStringArray::new();
        };
        let changed = state.changed_scripts();
        if changed.is_empty() {
            return PackedStringArray::new();
        }
        let outcome = reload::reload(&state, &changed, std::time::Instant::now());
        outcome
            .reloaded
            .iter()
            .map(|p| GString::from(p.as_str()))
            .collect()
    }

    /// Tells the runtime a script file moved (the editor's FileSystem dock calls this through
    /// the plugin): loaded modules, `require` links and cache entries follow the file.
    #[func]
    fn script_moved(&self, from: GString, to: GString) {
        if let Some(state) = state::get() {
            state.script_moved(&from.to_string(), &to.to_string());
        }
    }

    /// Turns the hot reload file watcher on or off (its default comes from the project
    /// setting `lua_runtime/hot_reload/enabled`). Fails where the scripts are not plain files
    /// (an exported game).
    #[func]
    fn set_hot_reload_enabled(&self, enabled: bool) -> godot::global::Error {
        let Some(state) = state::get() else {
            return godot::global::Error::ERR_UNAVAILABLE;
        };
        let result = reload::set_watching(&state, enabled);
        to_godot_error(&state, result)
    }

    /// Whether the hot reload file watcher is on.
    #[func]
    fn is_hot_reload_enabled(&self) -> bool {
        state::get().is_some_and(|s| s.reload.watching())
    }

    /// Runs a full Lua garbage collection.
    #[func]
    fn collect_garbage(&self) {
        if let Some(state) = state::get() {
            state.collect_garbage();
        }
    }
}

/// Runs `f` on the bytecode cache, when the runtime is up and the cache is on.
fn with_cache<R>(f: impl FnOnce(&BytecodeCache) -> R) -> Option<R> {
    let state = state::get()?;
    state.cache.as_ref().map(f)
}

/// The singleton as a plain Object, when it is registered (not during start-up or shutdown).
fn singleton_object() -> Option<Gd<Object>> {
    Engine::singleton().get_singleton("LuaRuntime")
}

/// Signals of the singleton, disconnected at shutdown (see [`disconnect_all`]).
const SIGNALS: [&str; 4] = [
    "script_loaded",
    "script_error",
    "script_reloaded",
    "event_emitted",
];

/// Drops every connection to the singleton's signals.
///
/// The singleton outlives the script languages at shutdown; a GDScript lambda still connected
/// to it would then be freed after its script, corrupting the heap on exit. Projects commonly
/// connect from autoloads and never disconnect, so the runtime does it for them.
pub fn disconnect_all() {
    let Some(mut runtime) = singleton_object() else {
        return;
    };
    for signal in SIGNALS {
        for connection in runtime.get_signal_connection_list(signal).iter_shared() {
            if let Some(callable) = connection
                .get("callable")
                .and_then(|c| c.try_to::<Callable>().ok())
            {
                runtime.disconnect(signal, &callable);
            }
        }
    }
}

/// Tells GDScript of an event (`event_emitted`), when anything listens.
pub fn emit_event_signal(name: &str, args: &mlua::MultiValue) {
    let Some(mut runtime) = singleton_object() else {
        return;
    };
    if !runtime.has_connections("event_emitted") {
        return;
    }
    let mut array = VarArray::new();
    for value in args {
        match convert::from_lua(value) {
            Ok(v) => array.push(&v),
            Err(e) => {
                godot_error!("event '{name}': argument not passed to GDScript: {e}");
                array.push(&Variant::nil());
            }
        }
    }
    runtime.emit_signal(
        "event_emitted",
        &[GString::from(name).to_variant(), array.to_variant()],
    );
}

pub fn emit_script_loaded(path: &str) {
    if let Some(mut runtime) = singleton_object() {
        runtime.emit_signal("script_loaded", &[GString::from(path).to_variant()]);
    }
}

pub fn emit_script_unloaded(path: &str) {
    if let Some(mut runtime) = singleton_object() {
        runtime.emit_signal("script_unloaded", &[GString::from(path).to_variant()]);
    }
}

pub fn emit_script_reloaded(path: &str, msec: f64) {
    if let Some(mut runtime) = singleton_object() {
        runtime.emit_signal(
            "script_reloaded",
            &[GString::from(path).to_variant(), msec.to_variant()],
        );
    }
}

pub fn emit_script_error(path: &str, line: i64, message: &str) {
    if let Some(mut runtime) = singleton_object() {
        runtime.emit_signal(
            "script_error",
            &[
                GString::from(path).to_variant(),
                line.to_variant(),
                GString::from(message).to_variant(),
            ],
        );
    }
}
