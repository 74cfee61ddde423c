//! The nodes expressions read, by instance id, kept between evaluations.
//!
//! Finding a node by id through godot-rust checks its class by name twice (as an Object,
//! then as a Node), which costs more than the property read it is for. A node found once is
//! kept with its id; a kept node is used only while the engine's object table still maps
//! the id to it, so a freed node is never touched.
//!
//! The node paths of path steps are kept too: parsing one makes a StringName per name.

use std::cell::RefCell;

use godot::builtin::NodePath;
use godot::classes::{Node, Object};
use godot::obj::{Gd, InstanceId};
use lua_runtime_core::sexp::NodeId;
use rustc_hash::FxHashMap;

use crate::bridge::ffi;

/// Nodes kept at most; past that the table starts again.
const KEPT: usize = 4096;

#[derive(Default)]
pub struct Nodes {
    by_id: RefCell<FxHashMap<NodeId, Gd<Node>>>,
    paths: RefCell<FxHashMap<Box<str>, NodePath>>,
}

impl Nodes {
    /// The live node with instance id `id`, if there is one.
    pub fn get(&self, id: NodeId) -> Option<Gd<Node>> {
        let mut by_id = self.by_id.borrow_mut();
        if let Some(node) = by_id.get(&id) {
            if ffi::is_live(id, node.obj_sys()) {
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
        by_id.insert(id, node.clone());
        Some(node)
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
    }
}
