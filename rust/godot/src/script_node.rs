//! `LuaScriptNode`: a node that runs a Lua script's callbacks.

use std::rc::Rc;

use godot::classes::{Engine, FileAccess, INode, InputEvent, Node, Object};
use godot::prelude::*;
use mlua::{Function, IntoLua, IntoLuaMulti, Table};

use crate::bridge::convert;
use crate::busy_nodes::{self, Busy};
use crate::callbacks::Callback;
use crate::running::Instance;
use crate::state;

/// Runs a Lua script on this node: the script returns a table of callbacks (`_ready`,
/// `_process`, `_physics_process`, `_input`, `_exit_tree`), each called with `self`, a
/// per-node state table that also reaches the node's members and `self.target`.
///
/// Scripts run in order of `execution_order` (lower first), ties broken by tree order, so the
/// order is the same every frame and every run.
///
/// Nodes sharing a script and an `execution_order` run their `_process` and
/// `_physics_process` in one Lua call per frame (project setting
/// `lua_runtime/performance/batch_callbacks`), in the same order: the runtime calls them, from
/// an internal child of the first node of each such run, not Godot one by one.
///
/// With hot reload on, saving the script gives the node the new code at once; `self` keeps
/// its state, and the script's `_on_reload(self, old_module)` runs when it defines one.
#[derive(GodotClass)]
// A tool class so the editor can show its configuration warnings; scripts never run in the
// editor.
#[class(base = Node, init, tool)]
pub struct LuaScriptNode {
    /// The Lua script to run.
    #[export(file = "*.lua")]
    script_path: GString,

    /// Lower runs first; equal values run in tree order. A change takes effect next frame.
    #[export]
    #[var(set = set_execution_order)]
    execution_order: i32,

    /// When false, no callback of the script is called.
    #[export]
    #[var(set = set_enabled)]
    #[init(val = true)]
    enabled: bool,

    /// The node the script drives, reachable as `self.target`.
    #[export]
    #[var(set = set_target_path)]
    #[init(val = NodePath::from(".."))]
    target_path: NodePath,

    instance: Option<Rc<Instance>>,
    /// Why the script did not start, when it did not.
    load_error: Option<String>,
    base: Base<Node>,
}

#[godot_api]
impl INode for LuaScriptNode {
    fn ready(&mut self) {
        let mut node = self.to_gd().upcast::<Node>();
        if Engine::singleton().is_editor_hint() {
            follow_callbacks(&mut node, None);
            return;
        }
        self.start();
        let module = self.instance.as_ref().and_then(|instance| {
            let state = state::existing()?;
            instance.module(state.host.lua()).ok()
        });
        follow_callbacks(&mut node, module.as_ref());
        self.call_back(Callback::Ready, ());
    }

    fn get_configuration_warnings(&self) -> PackedStringArray {
        let mut warnings = PackedStringArray::new();
        let problem = self.script_problem();
        if !problem.is_empty() {
            warnings.push(&problem);
        }
        warnings
    }

    fn enter_tree(&mut self) {
        // Back in the tree after a removal (`_ready` is not called again).
        if let Some(instance) = &self.instance {
            instance.set_in_tree(true);
            if let Some(state) = state::existing() {
                state.batches.joined(instance);
                instance.find_target(state.host.lua(), &self.target_path);
            }
        }
    }

    fn input(&mut self, event: Gd<InputEvent>) {
        let Some(state) = state::existing() else {
            return;
        };
        let Ok(event) = crate::bridge::pool::wrap(state.host.lua(), event.upcast::<Object>())
        else {
            return;
        };
        self.call_back(Callback::Input, event);
    }

    fn exit_tree(&mut self) {
        self.call_back(Callback::ExitTree, ());
        if let (Some(instance), Some(state)) = (&self.instance, state::existing()) {
            instance.set_in_tree(false);
            instance.forget_target(state.host.lua());
            state.batches.left();
        }
        // The script's event subscriptions end with its node's time in the tree.
        if let Some(state) = state::existing() {
            state.events.drop_owner(self.base().instance_id());
        }
    }
}

#[godot_api]
impl LuaScriptNode {
    #[func]
    fn set_execution_order(&mut self, order: i32) {
        self.execution_order = order;
        if let (Some(instance), Some(state)) = (&self.instance, state::existing()) {
            instance.order.set(order);
            state.batches.reordered(instance);
        }
        let mut node = self.base_mut();
        node.set_process_priority(order);
        node.set_physics_process_priority(order);
    }

    #[func]
    fn set_enabled(&mut self, enabled: bool) {
        self.enabled = enabled;
        if let Some(instance) = &self.instance {
            instance.set_enabled(enabled);
        }
    }

    #[func]
    fn set_target_path(&mut self, path: NodePath) {
        self.target_path = path;
        // `query.by_script` answers name the nodes scripts drive.
        if let Some(state) = state::existing() {
            if let Some(instance) = &self.instance {
                if instance.in_tree() {
                    instance.find_target(state.host.lua(), &self.target_path);
                } else {
                    instance.forget_target(state.host.lua());
                }
            }
            state.queries.scripts_changed();
        }
    }

    /// Reads `self[key]` of the running script (null when unset or not running).
    #[func]
    fn lua_get(&self, key: GString) -> Variant {
        let Some(instance) = &self.instance else {
            return Variant::nil();
        };
        let Some(state) = state::existing() else {
            return Variant::nil();
        };
        instance
            .state(state.host.lua())
            .and_then(|this| this.get::<mlua::Value>(key.to_string()))
            .and_then(|v| convert::from_lua(&v))
            .unwrap_or_default()
    }

    /// Sets `self[key]` of the running script.
    #[func]
    fn lua_set(&mut self, key: GString, value: Variant) {
        let Some(instance) = self.instance.clone() else {
            return;
        };
        let Some(state) = state::get() else { return };
        let _busy = busy_nodes::enter(self.base().instance_id(), Busy::ScriptNode);
        let _guard = self.base_mut();
        let lua = state.host.lua();
        let result =
            convert::to_lua(lua, &value).and_then(|v| instance.state(lua)?.set(key.to_string(), v));
        if let Err(e) = result {
            godot_error!("{}: lua_set('{key}'): {e}", instance.path);
        }
    }

    /// Calls the script's function `name` as `self:name(args...)` and returns its result.
    /// Errors are reported like any script error and return null.
    #[func]
    fn lua_call(&mut self, name: GString, args: VarArray) -> Variant {
        let Some(instance) = self.instance.clone() else {
            return Variant::nil();
        };
        let Some(state) = state::get() else {
            return Variant::nil();
        };
        let lua = state.host.lua();
        let Some(function) = instance.callback(lua, name.to_string()) else {
            godot_error!("{}: the script has no function '{name}'", instance.path);
            return Variant::nil();
        };
        let Ok(this) = instance.state(lua) else {
            return Variant::nil();
        };
        let mut lua_args = vec![mlua::Value::Table(this)];
        for arg in args.iter_shared() {
            match convert::to_lua(lua, &arg) {
                Ok(v) => lua_args.push(v),
                Err(e) => {
                    godot_error!("{}: lua_call('{name}'): {e}", instance.path);
                    return Variant::nil();
                }
            }
        }
        let id = self.base().instance_id();
        let owner = Some(id);
        let _busy = busy_nodes::enter(id, Busy::ScriptNode);
        let _guard = self.base_mut();
        // Runs like a callback, so the function may `await` (it then returns null).
        let Some(results) = state.run(
            &function,
            mlua::MultiValue::from_iter(lua_args),
            &instance.path,
            owner,
        ) else {
            return Variant::nil();
        };
        let first = results.front().cloned().unwrap_or(mlua::Value::Nil);
        match convert::from_lua(&first) {
            Ok(v) => v,
            Err(e) => {
                state.report(&lua_runtime_core::ScriptError::from_lua(&e, &instance.path).into());
                Variant::nil()
            }
        }
    }

    /// Whether the script loaded and is running.
    #[func]
    fn is_running(&self) -> bool {
        self.instance.is_some()
    }

    /// What is wrong with the node's script, or an empty string: no script set, the file
    /// missing (moved or deleted), or the error that stopped it from loading. The editor shows
    /// the same text as the node's warning.
    #[func]
    fn script_problem(&self) -> GString {
        let path = self.script_path.to_string();
        let problem = if path.is_empty() {
            "No script: set script_path to a .lua file.".to_owned()
        } else if !FileAccess::file_exists(&path) {
            format!("Script missing: {path} (moved or deleted?). Point script_path at the file.")
        } else if let (None, Some(error)) = (&self.instance, &self.load_error) {
            error.clone()
        } else {
            String::new()
        };
        GString::from(problem.as_str())
    }
}

/// The function `name` of a module, if it defines one.
pub fn callback(module: &Table, name: impl IntoLua) -> Option<Function> {
    module.raw_get::<Option<Function>>(name).ok().flatten()
}

/// Turns the node's processing on for exactly the callbacks `module` defines (none without a
/// module), so a node pays nothing for callbacks its script lacks.
pub fn follow_callbacks(node: &mut Gd<Node>, module: Option<&Table>) {
    let has = |name: Callback| module.is_some_and(|m| callback(m, name.name()).is_some());
    node.set_process(has(Callback::Process));
    node.set_physics_process(has(Callback::PhysicsProcess));
    node.set_process_input(has(Callback::Input));
}

impl LuaScriptNode {
    /// Loads the script and makes this node's state table.
    fn start(&mut self) {
        let path = self.script_path.to_string();
        if path.is_empty() {
            return;
        }
        let Some(state) = state::get() else { return };
        let node = self.to_gd().upcast::<Object>();
        let id = node.instance_id();
        let busy = busy_nodes::enter(id, Busy::ScriptNode);
        let guard = self.base_mut();
        let loaded = state.module(&path);
        drop(guard);
        drop(busy);
        let module = match loaded {
            Ok(module) => module,
            Err(err) => {
                state.report(&err);
                self.load_error = Some(err.to_string());
                // Hot reload starts the node when the file changes and loads.
                state.running.wait_for(&path, id);
                return;
            }
        };
        let created = state
            .bridge
            .instances
            .create(state.host.lua(), node, module.clone());
        let node = self.to_gd().upcast::<Node>();
        let created = created
            .and_then(|table| Instance::new(state.host.lua(), path.clone(), node, table, module));
        match created {
            Ok(instance) => {
                self.load_error = None;
                instance.order.set(self.execution_order);
                instance.set_enabled(self.enabled);
                instance.find_target(state.host.lua(), &self.target_path);
                let instance = Rc::new(instance);
                state.batches.joined(&instance);
                state.running.add(&instance);
                state.queries.scripts_changed();
                self.instance = Some(instance);
            }
            Err(e) => state.report(&lua_runtime_core::ScriptError::from_lua(&e, &path).into()),
        }
    }

    /// Starts a node whose script failed to load before and loads now (hot reload): as at
    /// `_ready`, its callbacks turn on and `_ready` runs.
    pub fn start_late(&mut self) {
        if self.instance.is_some() || !self.base().is_inside_tree() {
            return;
        }
        self.ready();
    }

    /// Calls `callback(self, args...)` if the script defines it; an error is reported and the
    /// game goes on.
    fn call_back(&mut self, callback: Callback, args: impl IntoLuaMulti) {
        if !self.enabled {
            return;
        }
        let Some(instance) = self.instance.clone() else {
            return;
        };
        let Some(state) = state::get() else { return };
        let lua = state.host.lua();
        let Some(function) = instance.callback(lua, state.callbacks.get(callback)) else {
            return;
        };
        let Ok(this) = instance.state(lua) else {
            return;
        };
        // While Lua runs, Godot may call back into this node (a script reading its own
        // properties, a signal handler): the guard lets those calls borrow it.
        let id = self.base().instance_id();
        let owner = Some(id);
        let _busy = busy_nodes::enter(id, Busy::ScriptNode);
        let _guard = self.base_mut();
        let args = (this, args);
        state.run(&function, args, &instance.path, owner);
    }
}
