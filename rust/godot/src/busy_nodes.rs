//! The extension's own nodes that are inside a call right now, with Lua running under them,
//! so that Lua's `free()` never destroys one of them mid-call.
//!
//! Godot calls a LuaScriptNode's callbacks and a batch runner's steps on the Rust object
//! itself, which is borrowed for the whole call. A script that frees an ancestor of that node
//! (`self.target:free()`) would destroy it under the borrow: godot-rust reports that as a bug
//! and leaks the node's Rust half, and the call goes on with a freed node.
//!
//! So `free()` from Lua looks here first ([`make_way_for_free`]):
//! - a batch runner under the node is taken out of the tree and queued for deletion (runners
//!   are internal, and which node of a batch has one is not the script's business), so the
//!   free goes ahead;
//! - a LuaScriptNode under it whose own callback is running refuses the free with an error:
//!   as Godot refuses to free an object that is in the middle of a call, and for the same
//!   reason. `queue_free()` frees it once the callback is over.

use std::cell::RefCell;

use godot::classes::Node;
use godot::obj::{Gd, InstanceId};

/// What kind of node is busy.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Busy {
    /// A batch runner running a step.
    Runner,
    /// A LuaScriptNode running one of its callbacks.
    ScriptNode,
}

thread_local! {
    static BUSY: RefCell<Vec<(InstanceId, Busy)>> = const { RefCell::new(Vec::new()) };
}

/// Marks a node busy until dropped.
pub struct Entered(());

impl Drop for Entered {
    fn drop(&mut self) {
        BUSY.with_borrow_mut(Vec::pop);
    }
}

/// Marks `node` busy for as long as the returned guard lives.
pub fn enter(node: InstanceId, busy: Busy) -> Entered {
    BUSY.with_borrow_mut(|nodes| nodes.push((node, busy)));
    Entered(())
}

/// Gets the busy nodes inside `node` (or `node` itself) out of the way of its being freed:
/// runners leave the tree; a running LuaScriptNode makes the free fail.
///
/// # Errors
/// The message for Lua when a LuaScriptNode inside `node` is running a callback.
pub fn make_way_for_free(node: &Gd<Node>) -> Result<(), String> {
    let inside: Vec<(Gd<Node>, Busy)> = BUSY.with_borrow(|busy| {
        busy.iter()
            .filter_map(|&(id, kind)| Some((Gd::<Node>::try_from_instance_id(id).ok()?, kind)))
            .filter(|(other, _)| other == node || node.is_ancestor_of(other))
            .collect()
    });
    if let Some((running, _)) = inside.iter().find(|(_, kind)| *kind == Busy::ScriptNode) {
        let why = if running == node {
            "it is running a Lua callback".to_owned()
        } else {
            format!(
                "the LuaScriptNode `{}` inside it is running a Lua callback",
                running.get_name()
            )
        };
        return Err(format!(
            "cannot free `{}` now: {why}; use queue_free() instead",
            node.get_name()
        ));
    }
    for (mut runner, _) in inside {
        if let Some(mut parent) = runner.get_parent() {
            parent.remove_child(&runner);
        }
        runner.queue_free();
    }
    Ok(())
}
