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
//!
//! For the usual `(prop "Player" "health")`, whose path and property are constants of the
//! expression, the whole read is kept with the path ([`Access`]): the node, the interned
//! name and the signal that tells of the property's changes, found by one lookup. Accesses
//! go with the paths, and all of them when any node's script changes (its signals may).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use lua_runtime_core::sexp::{NodeId, Resolved, Watch};
use rustc_hash::{FxHashMap, FxHashSet};

use super::world::PropertyReader;

/// Answers kept at most; past that they are dropped all at once.
const KEPT: usize = 8192;

/// Answers by context node, then path text.
type Answers = FxHashMap<NodeId, FxHashMap<Box<str>, Resolved>>;

/// A constant path and property of an expression, by context node and the addresses of
/// the two strings (kept alive by the [`Access`], so no other string takes them).
type AccessKey = (NodeId, usize, usize);

/// Where a constant `(prop path property)` leads from a context node, and how to read it:
/// one lookup instead of one for the path, the node, the name and the change signal.
pub struct Access {
    pub resolved: Resolved,
    pub reader: PropertyReader,
    pub watch: Watch,
    /// The strings whose addresses key it.
    keys: (Rc<str>, Rc<str>),
}

impl Access {
    pub fn new(
        path: &Rc<str>,
        property: &Rc<str>,
        resolved: &Resolved,
        reader: PropertyReader,
        watch: &Watch,
    ) -> Self {
        Access {
            resolved: resolved.clone(),
            reader,
            watch: watch.clone(),
            keys: (path.clone(), property.clone()),
        }
    }
}

fn access_key(context: NodeId, path: &Rc<str>, property: &Rc<str>) -> AccessKey {
    (
        context,
        Rc::as_ptr(path).cast::<u8>() as usize,
        Rc::as_ptr(property).cast::<u8>() as usize,
    )
}

#[derive(Default)]
pub struct Paths {
    /// Paths that led to a node.
    found: RefCell<Answers>,
    /// Paths that led nowhere (kept apart: adding any node drops them).
    nowhere: RefCell<Answers>,
    /// Every node on a kept path (the context node included).
    on_paths: RefCell<FxHashSet<NodeId>>,
    /// Constant property reads along found paths (dropped with them, and when any node's
    /// script changes: the signal that tells of a property's change may differ).
    accesses: RefCell<FxHashMap<AccessKey, Rc<Access>>>,
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

    /// The kept access for `(prop path property)` from `context`, if there is one.
    pub fn access(
        &self,
        context: NodeId,
        path: &Rc<str>,
        property: &Rc<str>,
    ) -> Option<Rc<Access>> {
        self.accesses
            .borrow()
            .get(&access_key(context, path, property))
            .cloned()
    }

    /// Keeps `access`, how its `(prop path property)` from `context` was read, unless the
    /// tree changed since `generation` or a node on the path is outside the tree.
    pub fn keep_access(&self, generation: u64, context: NodeId, access: Access) {
        let resolved = &access.resolved;
        if generation != self.generation.get() || !resolved.tracked || resolved.node.is_none() {
            return;
        }
        self.make_room(resolved);
        let key = access_key(context, &access.keys.0, &access.keys.1);
        self.accesses.borrow_mut().insert(key, Rc::new(access));
    }

    /// A node's script changed: which signal tells of a property's changes may differ.
    pub fn script_changed(&self) {
        let mut accesses = self.accesses.borrow_mut();
        self.count
            .set(self.count.get().saturating_sub(accesses.len()));
        accesses.clear();
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
        self.make_room(resolved);
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
    }

    /// Counts one more answer along `resolved`'s nodes, dropping every answer first when
    /// [`KEPT`] are held.
    fn make_room(&self, resolved: &Resolved) {
        if self.count.get() >= KEPT {
            self.clear();
        }
        self.on_paths
            .borrow_mut()
            .extend(resolved.chain.iter().copied());
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
        self.accesses.borrow_mut().clear();
        self.count.set(0);
    }

    fn drop_unresolved(&self) {
        let mut nowhere = self.nowhere.borrow_mut();
        let dropped: usize = nowhere.values().map(FxHashMap::len).sum();
        nowhere.clear();
        self.count.set(self.count.get().saturating_sub(dropped));
    }
}
