//! Where expression paths lead, kept between evaluations.
//!
//! Following a path costs a `get_node_or_null` and an `is_inside_tree` per step; a result
//! computed again (its input changed) follows the same paths from the same context node. A
//! kept answer stays right until the tree changes in a way that can move it:
//! - a node on a kept path renamed or leaving the tree (a reparent leaves it first): every
//!   answer goes;
//! - a node added or renamed anywhere: the answers of paths that led nowhere go.
//!
//! Adding a node cannot change where a path that led somewhere leads: siblings' names are
//! unique, so the new node gets a name of its own. Only paths whose nodes are all in the
//! tree are kept, since the tree's signals tell of nothing else.

use std::cell::{Cell, RefCell};

use lua_runtime_core::sexp::{NodeId, Resolved};
use rustc_hash::{FxHashMap, FxHashSet};

/// Answers kept at most; past that they are dropped all at once.
const KEPT: usize = 8192;

/// Answers by context node, then path text.
type Answers = FxHashMap<NodeId, FxHashMap<Box<str>, Resolved>>;

#[derive(Default)]
pub struct Paths {
    /// Paths that led to a node.
    found: RefCell<Answers>,
    /// Paths that led nowhere (kept apart: adding any node drops them).
    nowhere: RefCell<Answers>,
    /// Every node on a kept path (the context node included).
    on_paths: RefCell<FxHashSet<NodeId>>,
    count: Cell<usize>,
    /// Counts changes to the tree, so an answer found while one happened is not kept.
    generation: Cell<u64>,
}

impl Paths {
    /// Where `path` from `context` led when last followed, if that still holds.
    pub fn get(&self, context: NodeId, path: &str) -> Option<Resolved> {
        let found = self.found.borrow();
        let nowhere = self.nowhere.borrow();
        found
            .get(&context)
            .and_then(|paths| paths.get(path))
            .or_else(|| nowhere.get(&context).and_then(|paths| paths.get(path)))
            .cloned()
    }

    /// The tree's generation now: pass it to [`Paths::keep`] with the answer found after.
    pub fn generation(&self) -> u64 {
        self.generation.get()
    }

    /// Keeps `resolved` as where `path` from `context` leads, unless the tree changed since
    /// `generation` or a node involved is outside the tree.
    pub fn keep(&self, generation: u64, context: NodeId, path: &str, resolved: &Resolved) {
        if generation != self.generation.get() || !resolved.tracked {
            return;
        }
        if self.count.get() >= KEPT {
            self.clear();
        }
        self.on_paths
            .borrow_mut()
            .extend(resolved.chain.iter().copied());
        let answers = if resolved.node.is_some() {
            &self.found
        } else {
            &self.nowhere
        };
        answers
            .borrow_mut()
            .entry(context)
            .or_default()
            .insert(path.into(), resolved.clone());
        self.count.set(self.count.get() + 1);
    }

    /// A node entered the tree: a path that led nowhere may lead to it now.
    pub fn node_added(&self) {
        self.generation.set(self.generation.get() + 1);
        self.drop_unresolved();
    }

    /// `node` is leaving the tree.
    pub fn node_removed(&self, node: NodeId) {
        self.generation.set(self.generation.get() + 1);
        if self.on_paths.borrow().contains(&node) {
            self.clear();
        }
    }

    /// `node` was renamed.
    pub fn node_renamed(&self, node: NodeId) {
        self.node_removed(node);
        self.drop_unresolved();
    }

    pub fn clear(&self) {
        self.generation.set(self.generation.get() + 1);
        self.found.borrow_mut().clear();
        self.nowhere.borrow_mut().clear();
        self.on_paths.borrow_mut().clear();
        self.count.set(0);
    }

    fn drop_unresolved(&self) {
        let mut nowhere = self.nowhere.borrow_mut();
        let dropped: usize = nowhere.values().map(FxHashMap::len).sum();
        nowhere.clear();
        self.count.set(self.count.get().saturating_sub(dropped));
    }
}
