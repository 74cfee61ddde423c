//! Resources from Lua: `load(path)`, `await(load_async(path))` and `instantiate(path)`.
//!
//! `load` keeps Lua's meaning for Lua text (`load("return 1")`); given a `res://`, `user://`
//! or `uid://` path it loads that resource through Godot's ResourceLoader. `load_async`
//! starts a threaded load and returns a signal that fires with the resource once it is
//! ready (or with nil and the reason when it fails); the runtime checks pending loads once a
//! frame. `instantiate` loads a scene and returns a new instance of it, not yet in the tree.

use std::cell::RefCell;

use godot::builtin::{GString, Signal, Variant};
use godot::classes::{Object, PackedScene, RefCounted, ResourceLoader};
use godot::meta::ToGodot;
use godot::obj::{Gd, NewGd, Singleton};
use mlua::{Function, Lua, MultiValue, Value, Variadic};

use crate::bridge::convert::to_lua;
use crate::bridge::text_argument;
use crate::state::RuntimeState;

/// ResourceLoader's `ThreadLoadStatus`.
const THREAD_LOAD_INVALID_RESOURCE: i64 = 0;
const THREAD_LOAD_IN_PROGRESS: i64 = 1;
const THREAD_LOAD_FAILED: i64 = 2;

/// The signal a pending load fires.
const LOADED: &str = "loaded";

/// Threaded loads waited for, one per path however many scripts wait for it.
#[derive(Default)]
pub struct Assets {
    pending: RefCell<Vec<(String, Gd<RefCounted>)>>,
}

impl Assets {
    /// Drops the pending loads (at shutdown); their waiters are dropped with them.
    pub fn clear(&self) {
        self.pending.borrow_mut().clear();
    }
}

/// Once a frame: finishes the loads that are done.
pub fn poll(state: &RuntimeState) {
    if state.assets.pending.borrow().is_empty() {
        return;
    }
    let mut loader = ResourceLoader::singleton();
    let mut done = Vec::new();
    state.assets.pending.borrow_mut().retain(|(path, request)| {
        let status = loader
            .call("load_threaded_get_status", &[path.to_variant()])
            .try_to::<i64>()
            .unwrap_or(THREAD_LOAD_INVALID_RESOURCE);
        if status == THREAD_LOAD_IN_PROGRESS {
            return true;
        }
        done.push((path.clone(), request.clone(), status));
        false
    });
    // Signals are emitted with no borrow held: a resumed script may start another load.
    for (path, mut request, status) in done {
        let args = match status {
            THREAD_LOAD_FAILED | THREAD_LOAD_INVALID_RESOURCE => vec![
                Variant::nil(),
                format!("load_async: could not load '{path}'").to_variant(),
            ],
            _ => {
                let resource = loader.call("load_threaded_get", &[path.to_variant()]);
                if resource.is_nil() {
                    vec![
                        Variant::nil(),
                        format!("load_async: could not load '{path}'").to_variant(),
                    ]
                } else {
                    vec![resource, Variant::nil()]
                }
            }
        };
        request.emit_signal(LOADED, &args);
    }
}

/// Installs `load`, `load_async` and `instantiate`.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    let globals = lua.globals();
    let lua_load: Function = globals.get("load")?;
    globals.raw_set(
        "load",
        lua.create_function(move |lua, args: Variadic<Value>| match args.first() {
            Some(Value::String(s)) if is_resource_path(&s.to_string_lossy()) => {
                let path = s.to_string_lossy();
                Ok(MultiValue::from_iter([load_resource(lua, "load", &path)?]))
            }
            _ => lua_load.call::<MultiValue>(MultiValue::from_iter(args)),
        })?,
    )?;
    globals.raw_set(
        "load_async",
        lua.create_function(|lua, path: Value| {
            let path = text_argument("load_async", 1, "a resource path", &path)?;
            crate::bridge::policy::check_path("load_async", &path)?;
            let state = crate::state::running()?;
            to_lua(lua, &request(&state, &path)?.to_variant())
        })?,
    )?;
    globals.raw_set(
        "instantiate",
        lua.create_function(|lua, path: Value| {
            let path = text_argument("instantiate", 1, "a resource path", &path)?;
            crate::bridge::policy::check_path("instantiate", &path)?;
            if !ResourceLoader::singleton().exists(&path) {
                return Err(missing("instantiate", &path));
            }
            let resource = ResourceLoader::singleton()
                .load(&path)
                .ok_or_else(|| missing("instantiate", &path))?;
            let class = resource.get_class();
            let scene = resource.try_cast::<PackedScene>().map_err(|_| {
                mlua::Error::runtime(format!(
                    "instantiate: '{path}' is a {class}, not a scene (PackedScene)"
                ))
            })?;
            let node = scene.instantiate().ok_or_else(|| {
                mlua::Error::runtime(format!(
                    "instantiate: the scene '{path}' could not be instanced"
                ))
            })?;
            crate::bridge::pool::wrap(lua, node.upcast::<Object>())
        })?,
    )?;
    Ok(())
}

/// A path `load` hands to Godot rather than to Lua.
fn is_resource_path(text: &str) -> bool {
    ["res://", "user://", "uid://"]
        .iter()
        .any(|prefix| text.starts_with(prefix))
}

fn missing(function: &str, path: &str) -> mlua::Error {
    if ResourceLoader::singleton().exists(path) {
        mlua::Error::runtime(format!("{function}: '{path}' could not be loaded"))
    } else {
        mlua::Error::runtime(format!("{function}: no resource at '{path}'"))
    }
}

fn load_resource(lua: &Lua, function: &str, path: &str) -> mlua::Result<Value> {
    crate::bridge::policy::check_path(function, path)?;
    if !ResourceLoader::singleton().exists(path) {
        return Err(missing(function, path));
    }
    let resource = ResourceLoader::singleton()
        .load(path)
        .ok_or_else(|| missing(function, path))?;
    crate::bridge::pool::wrap(lua, resource.upcast::<Object>()).map(Value::UserData)
}

/// The signal that fires when `path` has loaded, starting the load if none is pending.
fn request(state: &RuntimeState, path: &str) -> mlua::Result<Signal> {
    if let Some((_, request)) = state
        .assets
        .pending
        .borrow()
        .iter()
        .find(|(p, _)| p == path)
    {
        return Ok(Signal::from_object_signal(request, LOADED));
    }
    let mut loader = ResourceLoader::singleton();
    if !loader.exists(path) {
        return Err(missing("load_async", path));
    }
    let started = loader
        .call("load_threaded_request", &[GString::from(path).to_variant()])
        .try_to::<i64>()
        .unwrap_or(-1);
    if started != 0 {
        return Err(mlua::Error::runtime(format!(
            "load_async: could not start loading '{path}' (error {started})"
        )));
    }
    let mut request = RefCounted::new_gd();
    request.add_user_signal(LOADED);
    let signal = Signal::from_object_signal(&request, LOADED);
    state
        .assets
        .pending
        .borrow_mut()
        .push((path.to_owned(), request));
    Ok(signal)
}
