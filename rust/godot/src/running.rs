//! The scripts nodes are running: one [`Instance`] per LuaScriptNode, found by script path so
//! hot reload can give every node running a changed script its new code.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use godot::classes::Node;
use godot::obj::Gd;
use godot::obj::InstanceId;
use mlua::{Function, IntoLua, Lua, RegistryKey, Table};

use crate::batch::Kind;

/// A node running a script: its `self` table and the script's current module.
///
/// Both are held in the Lua registry, not as plain handles: those live on a stack LuaJIT caps
/// at about 8,000 slots, and a scene may run more nodes than that.
pub struct Instance {
    pub path: String,
    pub node: InstanceId,
    /// The node, for the checks a batch makes; touched only while it is in the tree.
    node_ref: Gd<Node>,
    /// In the tree.
    in_tree: Cell<bool>,
    /// The node's `enabled`.
    enabled: Cell<bool>,
    /// Which of the step callbacks (by [`Kind`]) the module defines.
    steps: Cell<[bool; 2]>,
    /// Per [`Kind`]: the run of the batch plan this node leads, from 1 (0: none).
    pub seat: [Cell<usize>; 2],
    /// The node's `execution_order`.
    pub order: Cell<i32>,
    /// The node's `self`; it outlives reloads.
    state: RegistryKey,
    module: RefCell<RegistryKey>,
}

impl Instance {
    /// # Errors
    /// Only if Lua cannot allocate.
    pub fn new(
        lua: &Lua,
        path: String,
        node: Gd<Node>,
        state: Table,
        module: Table,
    ) -> mlua::Result<Self> {
        Ok(Instance {
            path,
            node: node.instance_id(),
            node_ref: node,
            in_tree: Cell::new(true),
            enabled: Cell::new(true),
            steps: Cell::new(steps_of(&module)),
            seat: Default::default(),
            order: Cell::new(0),
            state: lua.create_registry_value(state)?,
            module: RefCell::new(lua.create_registry_value(module)?),
        })
    }

    /// The node entered or left the tree.
    pub fn set_in_tree(&self, in_tree: bool) {
        self.in_tree.set(in_tree);
    }

    pub fn in_tree(&self) -> bool {
        self.in_tree.get()
    }

    /// The node's `enabled` changed.
    pub fn set_enabled(&self, enabled: bool) {
        self.enabled.set(enabled);
    }

    /// The node (valid while the instance is in the tree).
    pub fn node(&self) -> &Gd<Node> {
        &self.node_ref
    }

    /// Whether the module defines the callback of `kind`.
    pub fn has_step(&self, kind: Kind) -> bool {
        self.steps.get()[kind as usize]
    }

    /// Whether Godot would run the node's callbacks now: it is in the tree, enabled and
    /// processing (not paused, not turned off with `set_process(false)`).
    pub fn runs_now(&self, kind: Kind) -> bool {
        self.in_tree.get()
            && self.enabled.get()
            && self.node_ref.can_process()
            && match kind {
                Kind::Process => self.node_ref.is_processing(),
                Kind::Physics => self.node_ref.is_physics_processing(),
            }
    }

    /// The node moved or its `target_path` changed: `self.target` is looked up again.
    pub fn forget_target(&self, lua: &Lua) {
        if let Ok(state) = self.state(lua) {
            let _ = crate::bridge::instance::forget_target(&state);
        }
    }

    /// The node entered the tree or its `target_path` changed to `path`: `self.target` is
    /// found again now (see [`crate::bridge::instance::find_target_now`]).
    pub fn find_target(&self, lua: &Lua, path: &godot::builtin::NodePath) {
        if let Ok(state) = self.state(lua) {
            let _ = crate::bridge::instance::find_target_now(lua, &state, &self.node_ref, path);
        }
    }

    /// The node's `self`.
    ///
    /// # Errors
    /// Only if Lua cannot allocate.
    pub fn state(&self, lua: &Lua) -> mlua::Result<Table> {
        lua.registry_value(&self.state)
    }

    /// The module the node runs now.
    ///
    /// # Errors
    /// Only if Lua cannot allocate.
    pub fn module(&self, lua: &Lua) -> mlua::Result<Table> {
        lua.registry_value(&self.module.borrow())
    }

    /// The function `name` of the module the node runs now, if it defines one.
    pub fn callback(&self, lua: &Lua, name: impl IntoLua) -> Option<Function> {
        let module = self.module(lua).ok()?;
        crate::script_node::callback(&module, name)
    }

    /// Gives the node a new version of its script (here and in its `self`, whose lookups
    /// fall through to it), returning the old one.
    ///
    /// # Errors
    /// Only if Lua cannot allocate; the node then keeps its old version.
    pub fn replace_module(&self, lua: &Lua, module: Table) -> mlua::Result<Table> {
        crate::bridge::instance::set_module(&self.state(lua)?, module.clone())?;
        self.steps.set(steps_of(&module));
        let old = self.module(lua)?;
        lua.replace_registry_value(&mut self.module.borrow_mut(), module)?;
        Ok(old)
    }
}

/// Which step callbacks `module` defines, by [`Kind`].
fn steps_of(module: &Table) -> [bool; 2] {
    Kind::ALL.map(|kind| crate::script_node::callback(module, kind.callback().name()).is_some())
}

/// The instances of `list` whose node exists. A batch plan may hold a freed node's instance
/// until the next step; it does not count.
fn alive<'a>(list: impl Iterator<Item = &'a Weak<Instance>>) -> impl Iterator<Item = Rc<Instance>> {
    list.filter_map(Weak::upgrade)
        .filter(|instance| instance.node_ref.is_instance_valid())
}

/// Running instances by script path, and nodes whose script failed to start (they start when
/// the file changes and loads).
#[derive(Default)]
pub struct Running {
    by_path: RefCell<HashMap<String, Vec<Weak<Instance>>>>,
    waiting: RefCell<HashMap<String, Vec<InstanceId>>>,
}

impl Running {
    pub fn add(&self, instance: &Rc<Instance>) {
        let mut by_path = self.by_path.borrow_mut();
        let list = by_path.entry(instance.path.clone()).or_default();
        // A weak entry keeps its freed instance's memory: the entries of freed nodes go
        // before the list grows, so it stays within twice the nodes alive at once.
        if list.len() == list.capacity() {
            list.retain(|weak| weak.strong_count() > 0);
        }
        list.push(Rc::downgrade(instance));
    }

    /// The instances running `path` whose node exists.
    pub fn instances_of(&self, path: &str) -> Vec<Rc<Instance>> {
        let mut by_path = self.by_path.borrow_mut();
        let Some(list) = by_path.get_mut(path) else {
            return Vec::new();
        };
        list.retain(|weak| weak.strong_count() > 0);
        let live: Vec<_> = alive(list.iter()).collect();
        if list.is_empty() {
            by_path.remove(path);
        }
        live
    }

    /// Whether any node (not freed) runs `path`.
    pub fn is_used(&self, path: &str) -> bool {
        self.by_path
            .borrow()
            .get(path)
            .is_some_and(|list| alive(list.iter()).next().is_some())
    }

    /// How many nodes run a script now.
    pub fn count(&self) -> u64 {
        alive(self.by_path.borrow().values().flatten()).count() as u64
    }

    /// `node` could not start `path`; it will try again when the file changes.
    pub fn wait_for(&self, path: &str, node: InstanceId) {
        let mut waiting = self.waiting.borrow_mut();
        let list = waiting.entry(path.to_owned()).or_default();
        if !list.contains(&node) {
            list.push(node);
        }
    }

    pub fn has_waiting(&self, path: &str) -> bool {
        self.waiting.borrow().contains_key(path)
    }

    /// The nodes waiting for `path`, no longer waiting.
    pub fn take_waiting(&self, path: &str) -> Vec<InstanceId> {
        self.waiting.borrow_mut().remove(path).unwrap_or_default()
    }
}
