//! The order scripts run in: `execution_order` (lower first), then tree order, as Godot orders
//! nodes of equal `process_priority`. Kept sorted as nodes join instead of being sorted every
//! step.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use godot::classes::Node;
use godot::obj::{Gd, InstanceId};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::running::Instance;

/// Above this many nodes joining at once, sorting everything again costs fewer engine calls
/// than finding each one's place.
const BULK: usize = 32;

/// The running nodes in the tree, in the order their callbacks run.
#[derive(Default)]
pub struct Order {
    entries: RefCell<Vec<Rc<Instance>>>,
    /// Nodes that started, re-entered the tree or changed `execution_order` since the last
    /// update.
    joined: RefCell<Vec<Rc<Instance>>>,
    changed: Cell<bool>,
}

impl Order {
    /// `instance`'s node started, re-entered the tree, or changed `execution_order`: it
    /// takes its place at the next update.
    pub fn join(&self, instance: &Rc<Instance>) {
        self.joined.borrow_mut().push(instance.clone());
        self.changed.set(true);
    }

    /// A node left the tree: it is dropped at the next update.
    pub fn leave(&self) {
        self.changed.set(true);
    }

    /// Brings the order up to date; whether it changed.
    pub fn update(&self) -> bool {
        if !self.changed.replace(false) {
            return false;
        }
        let mut joined = std::mem::take(&mut *self.joined.borrow_mut());
        let mut seen = FxHashSet::default();
        joined.retain(|i| i.in_tree() && seen.insert(Rc::as_ptr(i)));
        let mut entries = self.entries.borrow_mut();
        entries.retain(|i| i.in_tree() && !seen.contains(&Rc::as_ptr(i)));
        if joined.len() > BULK || entries.is_empty() {
            entries.append(&mut joined);
            sort(&mut entries);
        } else {
            for instance in joined {
                let at = entries.partition_point(|e| runs_before(e, &instance));
                entries.insert(at, instance);
            }
        }
        true
    }

    /// The running nodes in order.
    pub fn entries(&self) -> std::cell::Ref<'_, Vec<Rc<Instance>>> {
        self.entries.borrow()
    }

    /// Forgets every node (at shutdown).
    pub fn clear(&self) {
        self.entries.borrow_mut().clear();
        self.joined.borrow_mut().clear();
    }
}

/// Whether `a` runs before `b`: lower `execution_order`, then earlier in the tree.
fn runs_before(a: &Instance, b: &Instance) -> bool {
    match a.order.get().cmp(&b.order.get()) {
        std::cmp::Ordering::Equal => b.node().is_greater_than(a.node()),
        other => other.is_lt(),
    }
}

/// Sorts `entries` by `execution_order`, then by each node's path of child indices from the
/// root (internal children included, as Godot counts them), finding each ancestor's path
/// once.
fn sort(entries: &mut [Rc<Instance>]) {
    let mut paths: FxHashMap<InstanceId, Rc<Vec<i32>>> = FxHashMap::default();
    let mut keyed: Vec<(i32, Rc<Vec<i32>>, Rc<Instance>)> = entries
        .iter()
        .map(|i| (i.order.get(), tree_path(i.node(), &mut paths), i.clone()))
        .collect();
    keyed.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    for (slot, (_, _, instance)) in entries.iter_mut().zip(keyed) {
        *slot = instance;
    }
}

/// `node`'s child index under each of its ancestors, from the root down.
fn tree_path(node: &Gd<Node>, paths: &mut FxHashMap<InstanceId, Rc<Vec<i32>>>) -> Rc<Vec<i32>> {
    let Some(parent) = node.get_parent() else {
        return Rc::default();
    };
    let parent_path = match paths.get(&parent.instance_id()) {
        Some(path) => path.clone(),
        None => {
            let path = tree_path(&parent, paths);
            paths.insert(parent.instance_id(), path.clone());
            path
        }
    };
    let mut path = Vec::with_capacity(parent_path.len() + 1);
    path.extend_from_slice(&parent_path);
    path.push(node.get_index_ex().include_internal(true).done());
    Rc::new(path)
}
