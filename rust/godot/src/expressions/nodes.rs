//! The nodes expressions read, by instance id, kept between evaluations.
//!
//! Finding a node by id through godot-rust checks its class by name twice (as an Object,
//! then as a Node), which costs more than the property read it is for. A node found once is
//! kept with its id and the liveness flag the engine clears when the node is freed (see
//! `bridge::fast`), so a freed node is never touched and no lookup in the engine's object
//! table, which takes a lock, is made per use.
//!
//! The node paths of path steps are kept too: parsing one makes a StringName per name, and
//! so are the readers of the properties results check (a node's property read by its
//! interned name, found once).

use std::cell::RefCell;
use std::rc::Rc;

use godot::builtin::NodePath;
use godot::classes::{Node, Object};
use godot::obj::{Gd, InstanceId};
use lua_runtime_core::sexp::{NodeId, Reader, Value};
use rustc_hash::FxHashMap;

use super::world::PropertyReader;
use crate::bridge::fast::Alive;
use crate::bridge::ffi;

/// A node and the name of one of its properties.
type ReaderKey = (NodeId, Rc<str>);

/// Nodes kept at most; past that the table starts again.
const KEPT: usize = 4096;

/// A node found by id, and its liveness flag (cleared by the engine when it is freed): no
/// lookup in the engine's object table, which takes a lock, per use.
pub struct KeptNode {
    id: NodeId,
    node: Gd<Node>,
    alive: Alive,
}

impl KeptNode {
    pub fn new(id: NodeId, node: Gd<Node>) -> Self {
        KeptNode {
            id,
            alive: Alive::of(&node.clone().upcast()),
            node,
        }
    }

    /// The node, if it still lives.
    pub fn live(&self) -> Option<&Gd<Node>> {
        self.alive
            .now_or_else(|| ffi::is_live(self.id, self.node.obj_sys()))
            .then_some(&self.node)
    }
}

#[derive(Default)]
pub struct Nodes {
    by_id: RefCell<FxHashMap<NodeId, KeptNode>>,
    paths: RefCell<FxHashMap<Box<str>, NodePath>>,
    /// Readers by node and property.
    readers: RefCell<FxHashMap<ReaderKey, Rc<PropertyReader>>>,
}

impl Nodes {
    /// The live node with instance id `id`, if there is one.
    pub fn get(&self, id: NodeId) -> Option<Gd<Node>> {
        let mut by_id = self.by_id.borrow_mut();
        if let Some(kept) = by_id.get(&id) {
            if let Some(node) = kept.live() {
                return Some(node.clone());
            }
            by_id.remove(&id);
        }
        let instance = InstanceId::try_from_i64(id as i64)?;
        let node = Gd::<Object>::try_from_instance_id(instance)
            .ok()?
            .try_cast::<Node>()
            .ok()?;
        if by_id.len() >= KEPT {
            by_id.clear();
        }
        by_id.insert(id, KeptNode::new(id, node.clone()));
        Some(node)
    }

    /// `property` of node `id` now, through a reader made the first time; `None` when there
    /// is no such node (any more: the reader is dropped then).
    pub fn read(&self, id: NodeId, property: &Rc<str>) -> Option<Value> {
        let key = (id, property.clone());
        // Cloned out: reading runs engine code (a getter) that may evaluate expressions.
        let found = self.readers.borrow().get(&key).cloned();
        let reader = match found {
            Some(reader) => reader,
            None => {
                let reader = Rc::new(PropertyReader::new(id, self.get(id)?, property));
                let mut readers = self.readers.borrow_mut();
                if readers.len() >= KEPT {
                    readers.clear();
                }
                readers.insert(key.clone(), reader.clone());
                reader
            }
        };
        let value = reader.read();
        if value.is_none() {
            self.readers.borrow_mut().remove(&key);
        }
        value
    }

    /// `text` as a NodePath.
    pub fn path(&self, text: &str) -> NodePath {
        let mut paths = self.paths.borrow_mut();
        if let Some(path) = paths.get(text) {
            return path.clone();
        }
        if paths.len() >= KEPT {
            paths.clear();
        }
        let path = NodePath::from(text);
        paths.insert(text.into(), path.clone());
        path
    }

    pub fn clear(&self) {
        self.by_id.borrow_mut().clear();
        self.paths.borrow_mut().clear();
        self.readers.borrow_mut().clear();
    }
}
