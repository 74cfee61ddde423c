//! Hot reload in the engine: the file watcher's batches, drained once per frame, become new
//! code in every node running a changed script.
//!
//! For each batch, the changed scripts and everything that `require`s them are run again,
//! each after the modules it requires (see `lua_runtime_core::reload`). A node's `self` table
//! stays; only its module (the functions) changes, and the script's
//! `_on_reload(self, old_module)` runs. A script that fails to load is reported with its line
//! and the old version keeps running, as do the scripts that require it.

use std::cell::RefCell;
use std::collections::HashSet;
use std::time::{Duration, Instant};

use godot::classes::{Engine, Node};
use godot::obj::{Gd, Singleton};
use lua_runtime_core::reload::{ReloadLog, ScriptWatcher};
use lua_runtime_core::stats::ReloadStats;
use lua_runtime_core::{Error, ScriptError};
use mlua::Table;

use crate::callbacks::Callback;
use crate::script_node::{LuaScriptNode, follow_callbacks};
use crate::state::RuntimeState;
use crate::{runtime, settings};

/// The watcher (when on) and what reloading did.
#[derive(Default)]
pub struct HotReload {
    watcher: RefCell<Option<ScriptWatcher>>,
    log: RefCell<ReloadLog>,
}

/// What one round of reloading did.
#[derive(Default)]
pub struct Outcome {
    pub reloaded: Vec<String>,
    pub failed: Vec<Error>,
}

impl HotReload {
    pub fn watching(&self) -> bool {
        self.watcher.borrow().is_some()
    }

    pub fn stats(&self) -> ReloadStats {
        self.log.borrow().stats(self.watching())
    }
}

/// At start-up: watches the project's scripts when the project wants it (on by default
/// where scripts are plain files: a game run from the editor or the command line). The editor
/// itself follows its FileSystem dock instead (the plugin).
pub fn start(state: &RuntimeState) {
    let plain_files = settings::project_dir().is_some();
    if plain_files
        && settings::hot_reload_enabled()
        && !Engine::singleton().is_editor_hint()
        && let Err(err) = set_watching(state, true)
    {
        state.report(&err);
    }
}

/// Turns the watcher on or off.
///
/// # Errors
/// [`Error::WatchFailed`] when the project folder cannot be watched (an exported game has
/// none: its scripts are in a pack).
pub fn set_watching(state: &RuntimeState, on: bool) -> Result<(), Error> {
    if !on {
        // Dropped outside the borrow: it joins the watcher's thread.
        let watcher = state.reload.watcher.borrow_mut().take();
        drop(watcher);
        return Ok(());
    }
    if state.reload.watching() {
        return Ok(());
    }
    let Some(dir) = settings::project_dir() else {
        return Err(Error::WatchFailed {
            path: "res://".into(),
            reason: "the project's scripts are not plain files here (an exported game)".into(),
        });
    };
    let window = Duration::from_millis(settings::hot_reload_debounce_ms());
    let watcher = ScriptWatcher::start(&dir, "lua", window)?;
    *state.reload.watcher.borrow_mut() = Some(watcher);
    tracing::debug!("hot reload: watching {}", dir.display());
    Ok(())
}

/// Once per frame: reloads what the watcher saw change.
pub fn poll(state: &RuntimeState) {
    let batches = match &*state.reload.watcher.borrow() {
        Some(watcher) => watcher.drain(),
        None => return,
    };
    for batch in batches {
        // A save that wrote the same text (or a touch) is no change.
        let changed: Vec<String> = batch
            .paths
            .iter()
            .map(|p| format!("res://{p}"))
            .filter(|path| state.source_changed(path))
            .collect();
        if !changed.is_empty() {
            reload(state, &changed, batch.noticed);
        }
    }
}

/// Reloads the `changed` scripts and their dependents now. Latencies count from `noticed`.
/// Scripts nothing has loaded are left alone.
pub fn reload(state: &RuntimeState, changed: &[String], noticed: Instant) -> Outcome {
    let mut outcome = Outcome::default();
    let mut keep_old: HashSet<String> = HashSet::new();
    for path in state.libraries.reload_order(changed) {
        if keep_old.contains(&path) {
            continue;
        }
        let library = state.libraries.is_loaded(&path);
        let script = state.host.module(&path).is_some() || state.running.has_waiting(&path);
        if !library && !script {
            continue;
        }
        match reload_one(state, &path, library, script) {
            Ok(()) => {
                let latency = noticed.elapsed();
                state.reload.log.borrow_mut().reloaded(&path, latency);
                runtime::emit_script_reloaded(&path, latency.as_secs_f64() * 1000.0);
                outcome.reloaded.push(path);
            }
            Err(err) => {
                state.report(&err);
                state
                    .reload
                    .log
                    .borrow_mut()
                    .failed(&path, &err.to_string());
                // What requires a script that failed keeps its code too, unless it changed.
                for dependent in state.libraries.reload_order(std::slice::from_ref(&path)) {
                    if dependent != path && !changed.contains(&dependent) {
                        keep_old.insert(dependent);
                    }
                }
                outcome.failed.push(err);
            }
        }
    }
    outcome
}

fn reload_one(state: &RuntimeState, path: &str, library: bool, script: bool) -> Result<(), Error> {
    if library {
        state.libraries.reload(path, |p| state.chunk(p))?;
    }
    if script {
        let module = state.load(path)?;
        renew_instances(state, path, &module);
        start_waiting(state, path);
    }
    Ok(())
}

/// Gives every node running `path` its new module, keeping each node's `self`.
fn renew_instances(state: &RuntimeState, path: &str, module: &Table) {
    state.batches.changed();
    for instance in state.running.instances_of(path) {
        let lua = state.host.lua();
        let old = match instance.replace_module(lua, module.clone()) {
            Ok(old) => old,
            Err(e) => {
                state.report(&ScriptError::from_lua(&e, path).into());
                continue;
            }
        };
        if let Ok(mut node) = Gd::<Node>::try_from_instance_id(instance.node) {
            follow_callbacks(&mut node, Some(module));
        }
        if let Some(on_reload) = instance.callback(lua, state.callbacks.get(Callback::OnReload))
            && let Ok(this) = instance.state(lua)
        {
            state.run(&on_reload, (this, old), path, Some(instance.node));
        }
    }
}

/// Starts the nodes whose script failed to load before.
fn start_waiting(state: &RuntimeState, path: &str) {
    for id in state.running.take_waiting(path) {
        if let Ok(mut node) = Gd::<LuaScriptNode>::try_from_instance_id(id) {
            node.bind_mut().start_late();
        }
    }
}
