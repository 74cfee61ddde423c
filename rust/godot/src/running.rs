//! The scripts nodes are running: one [`Instance`] per LuaScriptNode, found by script path so
//! hot reload can give every node running a changed script its new code.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use godot::obj::InstanceId;
use mlua::Table;

/// A node running a script: its `self` table and the script's current module.
pub struct Instance {
    pub path: String,
    pub node: InstanceId,
    /// The node's `self`; it outlives reloads.
    pub state: Table,
    module: RefCell<Table>,
}

impl Instance {
    pub fn new(path: String, node: InstanceId, state: Table, module: Table) -> Self {
        Instance {
            path,
            node,
            state,
            module: RefCell::new(module),
        }
    }

    /// The module the node runs now.
    pub fn module(&self) -> Table {
        self.module.borrow().clone()
    }

    /// The function `name` of the module the node runs now, if it defines one.
    pub fn callback(&self, name: &str) -> Option<mlua::Function> {
        crate::script_node::callback(&self.module.borrow(), name)
    }

    /// Gives the node a new version of its script (here and in its `self`, whose lookups
    /// fall through to it), returning the old one.
    ///
    /// # Errors
    /// Only if Lua cannot allocate; the node then keeps its old version.
    pub fn replace_module(&self, module: Table) -> mlua::Result<Table> {
        crate::bridge::instance::set_module(&self.state, module.clone())?;
        Ok(self.module.replace(module))
    }
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
        self.by_path
            .borrow_mut()
            .entry(instance.path.clone())
            .or_default()
            .push(Rc::downgrade(instance));
    }

    /// The live instances running `path`.
    pub fn instances_of(&self, path: &str) -> Vec<Rc<Instance>> {
        let mut by_path = self.by_path.borrow_mut();
        let Some(list) = by_path.get_mut(path) else {
            return Vec::new();
        };
        list.retain(|weak| weak.strong_count() > 0);
        let live: Vec<_> = list.iter().filter_map(Weak::upgrade).collect();
        if list.is_empty() {
            by_path.remove(path);
        }
        live
    }

    /// How many nodes run a script now.
    pub fn count(&self) -> u64 {
        let by_path = self.by_path.borrow();
        by_path
            .values()
            .flatten()
            .filter(|weak| weak.strong_count() > 0)
            .count() as u64
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
