//! The nodes Godot calls to run the batches, so that it does not call every LuaScriptNode.
//!
//! Each run of a plan is run by a runner that is an internal child of the run's first node,
//! with that node's priority: Godot calls it right after where it would call that node. A head
//! runner, first in every step, brings the plans up to date; a tail runner, last, runs what no
//! runner ran (a run whose first node left the tree during the step, or whose runner was made
//! during it).

use std::rc::{Rc, Weak};

use godot::classes::node::{InternalMode, ProcessMode};
use godot::classes::{INode, Node};
use godot::prelude::*;

use super::Kind;
use crate::busy_nodes::{self, Busy};
use crate::running::Instance;
use crate::state;

/// What a runner does when Godot calls it.
#[derive(Default, Clone)]
pub enum Role {
    /// Nothing (a runner made by the engine rather than the runtime).
    #[default]
    Idle,
    /// Starts each step: brings the plan up to date.
    Head,
    /// Ends each step: runs what is left.
    Tail,
    /// Runs the run that `Instance` leads in the plan of `Kind`.
    Lead(Kind, Weak<Instance>),
}

/// Runs batches of Lua callbacks where Godot calls it. Made and placed by the runtime only.
#[derive(GodotClass)]
#[class(base = Node, init, internal)]
pub struct LuaBatchRunner {
    role: Role,
    base: Base<Node>,
}

#[godot_api]
impl INode for LuaBatchRunner {
    fn ready(&mut self) {
        // Godot turned on both kinds of processing, as the class defines both callbacks.
        let (process, physics) = match &self.role {
            Role::Idle => (false, false),
            Role::Head | Role::Tail => (true, true),
            Role::Lead(kind, _) => (*kind == Kind::Process, *kind == Kind::Physics),
        };
        let mut node = self.base_mut();
        node.set_process(process);
        node.set_physics_process(physics);
    }

    fn process(&mut self, delta: f64) {
        self.step(Kind::Process, delta);
    }

    fn physics_process(&mut self, delta: f64) {
        self.step(Kind::Physics, delta);
    }
}

impl LuaBatchRunner {
    fn step(&mut self, kind: Kind, delta: f64) {
        let Some(state) = state::existing() else {
            return;
        };
        let role = self.role.clone();
        let _busy = busy_nodes::enter(self.base().instance_id(), Busy::Runner);
        // While Lua runs, nothing should need this node; the guard lets it be reached anyway.
        let _guard = self.base_mut();
        match role {
            Role::Idle => {}
            Role::Head => state.batches.begin(&state, kind),
            Role::Tail => state.batches.finish(&state, kind, delta),
            Role::Lead(of, leader) => {
                if let (true, Some(leader)) = (of == kind, leader.upgrade()) {
                    state.batches.lead(&state, kind, &leader, delta);
                }
            }
        }
    }
}

/// A runner for `role`, processing always (each node's own pause state is checked as its
/// callback comes up) at `priority`.
fn make(role: Role, priority: i32) -> Gd<LuaBatchRunner> {
    let mut runner = LuaBatchRunner::new_alloc();
    runner.bind_mut().role = role;
    runner.set_name("LuaBatchRunner");
    runner.set_process_mode(ProcessMode::ALWAYS);
    runner.set_process_priority(priority);
    runner.set_physics_process_priority(priority);
    runner
}

/// A runner for the run `leader` leads in `kind`'s plan, added as its node's internal child,
/// at its `execution_order`.
pub fn lead(kind: Kind, leader: &Rc<Instance>) -> Gd<LuaBatchRunner> {
    let runner = make(Role::Lead(kind, Rc::downgrade(leader)), leader.order.get());
    leader
        .node()
        .clone()
        .add_child_ex(&runner)
        .internal(InternalMode::FRONT)
        .done();
    runner
}

/// Keeps a runner's priority at its leader's `execution_order`, which may have changed.
pub fn follow_order(runner: &mut Gd<LuaBatchRunner>, leader: &Instance) {
    let order = leader.order.get();
    if runner.get_process_priority() != order {
        runner.set_process_priority(order);
        runner.set_physics_process_priority(order);
    }
}

/// The head and tail runners, added to `root` (deferred: the root may be busy adding the
/// node that asked).
pub fn ends(root: &Gd<Node>) -> [Gd<LuaBatchRunner>; 2] {
    let head = make(Role::Head, i32::MIN);
    let tail = make(Role::Tail, i32::MAX);
    let mut root = root.clone();
    for (runner, mode) in [(&head, InternalMode::FRONT), (&tail, InternalMode::BACK)] {
        root.call_deferred(
            "add_child",
            &[runner.to_variant(), false.to_variant(), mode.to_variant()],
        );
    }
    [head, tail]
}
