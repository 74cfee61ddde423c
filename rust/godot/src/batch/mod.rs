//! Batched `_process` and `_physics_process`: the nodes that share a script and an
//! `execution_order` run in one Lua call per step instead of one engine-to-Lua call each.
//!
//! Godot does not call LuaScriptNodes for these callbacks. The runtime keeps the running nodes
//! in order (`execution_order`, then tree order: see [`order`]); each step, consecutive nodes
//! with the same script and `execution_order` form a run, and a runner node Godot calls right
//! after the run's first node runs the whole run (see [`runner`]). Runs always run in the
//! plan's order, each once a step: a runner runs any earlier run no runner has run yet
//! before its own, and a tail runner runs what is left at the end of the step.
//!
//! A node that left the tree, was disabled, freed or stopped processing is skipped, as Godot
//! skips it. A node that starts or re-enters the tree, or changes `execution_order`, takes its
//! place from the next step, and so does a node added during a step (Godot too calls a node
//! added during a step from the next one). With batching off
//! (`lua_runtime/performance/batch_callbacks`), the same runs make one Lua call per node.
//!
//! A callback that `await`s or fails ends its node's part only: the rest of the run goes on
//! in a new call.

mod order;
pub mod runner;
mod timing;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Instant;

use godot::classes::Engine;
use godot::obj::{Gd, InstanceId, Singleton};
use lua_runtime_core::ScriptError;
use lua_runtime_core::host::tasks::Outcome;
use lua_runtime_core::stats::FrameStats;
use mlua::{Function, Lua, LuaString, RegistryKey, Table};
use rustc_hash::FxHashMap;

use crate::callbacks::Callback;
use crate::running::Instance;
use crate::state::RuntimeState;
use order::Order;
use runner::LuaBatchRunner;
use timing::Timing;

/// The callbacks that run every step.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Process,
    Physics,
}

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::Process, Kind::Physics];

    pub fn callback(self) -> Callback {
        match self {
            Kind::Process => Callback::Process,
            Kind::Physics => Callback::PhysicsProcess,
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// The engine's count of steps of this kind.
    fn now(self, engine: &Gd<Engine>) -> u64 {
        match self {
            Kind::Process => engine.get_process_frames(),
            Kind::Physics => engine.get_physics_frames(),
        }
    }
}

/// Runs a slice of a plan: `run(plan, name, from, to, delta)` calls `mods[i][name](selves[i],
/// delta)` for each `i` in `from..=to` not marked in `skip`. It keeps `plan.at` at the node
/// running, and stops after a callback when `plan.gen` moved on: the runtime bumps it when a
/// callback waits and goes on with the rest itself, so a callback resumed later returns
/// without running its neighbours again. (A callback that fails ends its loop: the coroutine
/// running it is dead.)
const RUN: &str = r"
return function(plan, name, from, to, delta)
  local selves, mods, skip, gen = plan.selves, plan.mods, plan.skip, plan.gen
  for i = from, to do
    if not skip[i] then
      plan.at = i
      local f = mods[i][name]
      if f then f(selves[i], delta) end
      if plan.gen ~= gen then return end
    end
  end
  plan.at = 0
end
";

/// How Rust reads a running plan table's fields, by keys made once: a key made from Rust text
/// for each read costs a protected call under a heap cap, and under LuaJIT each protected call
/// leaves garbage (signal handlers ask which node is running on every emit).
#[derive(Clone)]
pub struct PlanFields {
    at: LuaString,
    generation: LuaString,
}

impl PlanFields {
    fn new(lua: &Lua) -> mlua::Result<Self> {
        Ok(PlanFields {
            at: lua.create_string("at")?,
            generation: lua.create_string("gen")?,
        })
    }

    /// `plan.at`: the entry (from 1) of the node whose callback runs, 0 between them.
    pub fn at(&self, plan: &Table) -> Option<usize> {
        plan.raw_get(&self.at).ok()
    }

    /// `plan.gen`: how many times a callback of the plan has waited.
    pub fn generation(&self, plan: &Table) -> u64 {
        plan.raw_get(&self.generation).unwrap_or(0)
    }

    fn bump_generation(&self, plan: &Table) {
        let _ = plan.raw_set(&self.generation, self.generation(plan) + 1);
    }
}

/// The nodes a step's batches run, in order.
pub type Plan = Rc<Vec<Rc<Instance>>>;

/// Consecutive entries of a plan with the same script and `execution_order`.
struct Run {
    start: usize,
    end: usize,
}

/// One kind's plan and how far this step has run it.
struct Steps {
    /// The engine step being run.
    step: Cell<u64>,
    /// The runs before this one ran this step.
    next: Cell<usize>,
    /// The delta of the step being run, for what is left of it.
    delta: Cell<f64>,
    plan: RefCell<Plan>,
    runs: RefCell<Vec<Run>>,
    /// The plan must be made again (the order, a script or the setting changed).
    dirty: Cell<bool>,
    /// The runner of each run, by the node that leads it.
    runners: RefCell<FxHashMap<InstanceId, Gd<LuaBatchRunner>>>,
    /// The nodes whose `self` and module the Lua plan table holds, in order.
    in_table: RefCell<Vec<InstanceId>>,
}

impl Default for Steps {
    fn default() -> Self {
        Steps {
            step: Cell::new(NEVER),
            next: Cell::new(0),
            delta: Cell::new(0.0),
            plan: RefCell::default(),
            runs: RefCell::default(),
            dirty: Cell::new(false),
            runners: RefCell::default(),
            in_table: RefCell::default(),
        }
    }
}

/// Batching for both kinds, and what it measured.
pub struct Batches {
    run: RegistryKey,
    /// A plan table per kind: `selves`, `mods`, `skip`, `at`, `gen`.
    tables: [RegistryKey; 2],
    /// Each plan table's `skip`, held so a step need not look it up by name.
    skips: [RegistryKey; 2],
    /// How Rust reads a plan table's `at` and `gen`.
    pub fields: PlanFields,
    order: Order,
    steps: [Steps; 2],
    /// The head and tail runners.
    ends: RefCell<Option<[Gd<LuaBatchRunner>; 2]>>,
    enabled: Cell<bool>,
    timing: RefCell<Timing>,
    engine: Gd<Engine>,
}

impl Batches {
    /// # Errors
    /// Only if Lua cannot allocate.
    pub fn new(lua: &Lua) -> mlua::Result<Self> {
        let run: Function = lua.load(RUN).set_name("=batch").call(())?;
        let table = || -> mlua::Result<(RegistryKey, RegistryKey)> {
            let plan = lua.create_table()?;
            let skip = lua.create_table()?;
            plan.raw_set("selves", lua.create_table()?)?;
            plan.raw_set("mods", lua.create_table()?)?;
            plan.raw_set("skip", &skip)?;
            plan.raw_set("at", 0)?;
            plan.raw_set("gen", 0)?;
            Ok((
                lua.create_registry_value(plan)?,
                lua.create_registry_value(skip)?,
            ))
        };
        let [(process, process_skip), (physics, physics_skip)] = [table()?, table()?];
        Ok(Batches {
            run: lua.create_registry_value(run)?,
            tables: [process, physics],
            skips: [process_skip, physics_skip],
            fields: PlanFields::new(lua)?,
            order: Order::default(),
            steps: Default::default(),
            ends: RefCell::default(),
            enabled: Cell::new(true),
            timing: RefCell::new(Timing::default()),
            engine: Engine::singleton(),
        })
    }

    /// Turns batching on or off (`lua_runtime/performance/batch_callbacks`): the runs stay
    /// the same, [`Batches::run`] reads the setting as it calls them.
    pub fn set_enabled(&self, enabled: bool) {
        self.enabled.set(enabled);
    }

    /// The scripts' modules changed (a reload): which callbacks they define may have, so the
    /// plans are made again at the next step.
    pub fn changed(&self) {
        self.make_plans_again();
        for steps in &self.steps {
            // The Lua plan table may hold a reloaded script's old module.
            steps.in_table.borrow_mut().clear();
        }
    }

    fn make_plans_again(&self) {
        for steps in &self.steps {
            steps.dirty.set(true);
        }
    }

    /// `instance`'s node started or re-entered the tree: it runs from the next step.
    pub fn joined(&self, instance: &Rc<Instance>) {
        self.order.join(instance);
        self.ensure_ends(instance);
    }

    /// A node changed `execution_order`: it moves to its new place from the next step.
    pub fn reordered(&self, instance: &Rc<Instance>) {
        self.order.join(instance);
    }

    /// A node left the tree.
    pub fn left(&self) {
        self.order.leave();
    }

    /// The head runner: a new step of `kind` begins (if it has not yet).
    pub fn begin(&self, state: &RuntimeState, kind: Kind) {
        let steps = &self.steps[kind.index()];
        let now = kind.now(&self.engine);
        if steps.step.get() == now {
            return;
        }
        // What the last step left (its tail runner was missing).
        self.run_through(state, kind, usize::MAX, steps.delta.get());
        steps.step.set(now);
        steps.next.set(0);
        self.prepare(state, kind);
    }

    /// The runner of the run `leader` leads: runs it, after any earlier run not run yet.
    pub fn lead(&self, state: &RuntimeState, kind: Kind, leader: &Instance, delta: f64) {
        self.begin(state, kind);
        let seat = leader.seat[kind.index()].get();
        if seat > 0 {
            self.run_through(state, kind, seat - 1, delta);
        }
    }

    /// The tail runner: runs every run of the step not run yet.
    pub fn finish(&self, state: &RuntimeState, kind: Kind, delta: f64) {
        self.begin(state, kind);
        self.run_through(state, kind, usize::MAX, delta);
    }

    /// Runs the step's runs up to `last` that have not run, in order.
    fn run_through(&self, state: &RuntimeState, kind: Kind, last: usize, delta: f64) {
        let steps = &self.steps[kind.index()];
        steps.delta.set(delta);
        loop {
            let index = steps.next.get();
            if index > last || index >= steps.runs.borrow().len() {
                return;
            }
            steps.next.set(index + 1);
            self.run(state, kind, index, delta);
        }
    }

    /// Makes `kind`'s plan again if the order or the scripts changed: its runs, their
    /// runners, and the Lua plan table.
    fn prepare(&self, state: &RuntimeState, kind: Kind) {
        if self.order.update() {
            self.make_plans_again();
        }
        let steps = &self.steps[kind.index()];
        if !steps.dirty.replace(false) {
            return;
        }
        let plan: Vec<Rc<Instance>> = self
            .order
            .entries()
            .iter()
            .filter(|i| i.has_step(kind))
            .cloned()
            .collect();
        let mut runs: Vec<Run> = Vec::new();
        for (i, instance) in plan.iter().enumerate() {
            match runs.last_mut() {
                Some(run)
                    if plan[run.start].path == instance.path
                        && plan[run.start].order.get() == instance.order.get() =>
                {
                    run.end = i + 1;
                }
                _ => runs.push(Run {
                    start: i,
                    end: i + 1,
                }),
            }
        }
        for instance in steps.plan.borrow().iter() {
            instance.seat[kind.index()].set(0);
        }
        for (index, run) in runs.iter().enumerate() {
            plan[run.start].seat[kind.index()].set(index + 1);
        }
        self.place_runners(kind, &plan, &runs);
        if let Err(e) = self.fill_table(state.host.lua(), kind, &plan) {
            state.report(&ScriptError::from_lua(&e, "batch").into());
            runs.clear();
        }
        *steps.plan.borrow_mut() = Rc::new(plan);
        *steps.runs.borrow_mut() = runs;
    }

    /// Gives each run's first node a runner, and lets go of the runners of nodes that no
    /// longer lead one.
    fn place_runners(&self, kind: Kind, plan: &[Rc<Instance>], runs: &[Run]) {
        let mut runners = self.steps[kind.index()].runners.borrow_mut();
        let mut placed = FxHashMap::default();
        for run in runs {
            let leader = &plan[run.start];
            let runner = match runners.remove(&leader.node) {
                Some(mut runner) if runner.is_instance_valid() => {
                    runner::follow_order(&mut runner, leader);
                    runner
                }
                _ => runner::lead(kind, leader),
            };
            placed.insert(leader.node, runner);
        }
        for (_, mut runner) in runners.drain() {
            if runner.is_instance_valid() {
                runner.queue_free();
            }
        }
        *runners = placed;
    }

    /// Makes the Lua plan table hold `plan`'s `self`s and modules, when it holds others.
    fn fill_table(&self, lua: &Lua, kind: Kind, plan: &[Rc<Instance>]) -> mlua::Result<()> {
        let steps = &self.steps[kind.index()];
        if steps
            .in_table
            .borrow()
            .iter()
            .eq(plan.iter().map(|i| &i.node))
        {
            return Ok(());
        }
        let table: Table = lua.registry_value(&self.tables[kind.index()])?;
        let selves = lua.create_table_with_capacity(plan.len(), 0)?;
        let mods = lua.create_table_with_capacity(plan.len(), 0)?;
        for (i, instance) in plan.iter().enumerate() {
            selves.raw_set(i + 1, instance.state(lua)?)?;
            mods.raw_set(i + 1, instance.module(lua)?)?;
        }
        table.raw_set("selves", selves)?;
        table.raw_set("mods", mods)?;
        *steps.in_table.borrow_mut() = plan.iter().map(|i| i.node).collect();
        Ok(())
    }

    /// Runs run `index` of `kind`'s plan: in as few Lua calls as waits and errors allow, or
    /// one call per node with batching off.
    fn run(&self, state: &RuntimeState, kind: Kind, index: usize, delta: f64) {
        let steps = &self.steps[kind.index()];
        let Some((start, end)) = steps.runs.borrow().get(index).map(|r| (r.start, r.end)) else {
            return;
        };
        let plan = steps.plan.borrow().clone();
        let lua = state.host.lua();
        let (Ok(table), Ok(run), Ok(skip)) = (
            lua.registry_value::<Table>(&self.tables[kind.index()]),
            lua.registry_value::<Function>(&self.run),
            lua.registry_value::<Table>(&self.skips[kind.index()]),
        ) else {
            return;
        };
        // Nodes Godot would skip now, in plan order.
        let mut skipped = Vec::new();
        for (i, instance) in plan.iter().enumerate().take(end).skip(start) {
            if !instance.runs_now(kind) {
                skipped.push(i + 1);
                let _ = skip.raw_set(i + 1, true);
            }
        }
        let call = Call {
            state,
            kind,
            table: &table,
            run: &run,
            plan: &plan,
            delta,
        };
        if skipped.len() < end - start {
            if self.enabled.get() {
                self.call(&call, start + 1, end);
            } else {
                for at in (start + 1..=end).filter(|at| skipped.binary_search(at).is_err()) {
                    self.call(&call, at, at);
                }
            }
        }
        for i in skipped {
            let _ = skip.raw_set(i, mlua::Value::Nil);
        }
    }

    /// Calls the plan's entries `from..=to` (from 1), going on past a callback that waits
    /// or fails, and counts the time.
    fn call(&self, call: &Call, from: usize, to: usize) {
        let Call {
            state,
            kind,
            table,
            run,
            plan,
            delta,
        } = *call;
        let lua = state.host.lua();
        let heap = state.host.memory_bytes();
        let started = Instant::now();
        let mut next = from;
        while next <= to {
            let outcome = state.within_batch(table, plan, || {
                state.tasks.call(
                    lua,
                    run,
                    (table, state.callbacks.get(kind.callback()), next, to, delta),
                )
            });
            let stopped_at = || self.fields.at(table).unwrap_or(to);
            let at = match outcome {
                Ok(Outcome::Returned(_)) => break,
                Ok(Outcome::Waiting) => {
                    // The waiting callback's loop stops where it is when it is resumed.
                    self.fields.bump_generation(table);
                    stopped_at()
                }
                // The failed callback's loop ended with its coroutine.
                Err(e) => {
                    let at = stopped_at();
                    let path = plan.get(at.wrapping_sub(1)).map_or("batch", |i| &i.path);
                    state.report(&ScriptError::from_lua(&e, path).into());
                    at
                }
            };
            if at == 0 {
                break;
            }
            next = at + 1;
        }
        let path = &plan[from - 1].path;
        let grown = state.host.memory_bytes().saturating_sub(heap);
        let batched = self.enabled.get();
        self.timing
            .borrow_mut()
            .add(path, started.elapsed(), to + 1 - from, batched, grown);
    }

    /// Once per frame: closes the frame's figures, and makes the head and tail runners again
    /// if something freed them.
    pub fn end_frame(&self) {
        self.timing.borrow_mut().end_frame();
        let first = self.order.entries().first().cloned();
        if let Some(instance) = first {
            self.ensure_ends(&instance);
        }
    }

    /// Makes the head and tail runners in `instance`'s tree unless they exist.
    fn ensure_ends(&self, instance: &Instance) {
        let mut ends = self.ends.borrow_mut();
        if ends
            .as_ref()
            .is_some_and(|ends| ends.iter().all(Gd::is_instance_valid))
        {
            return;
        }
        if !instance.node().is_inside_tree() {
            return;
        }
        let Some(root) = instance.node().get_tree().get_root() else {
            return;
        };
        for mut runner in ends.take().into_iter().flatten() {
            if runner.is_instance_valid() {
                runner.queue_free();
            }
        }
        *ends = Some(runner::ends(&root.upcast()));
    }

    pub fn stats(&self) -> FrameStats {
        self.timing.borrow().stats(self.enabled.get())
    }

    /// Forgets every plan and node (at shutdown); the runners go with the tree.
    pub fn clear(&self, lua: &Lua) {
        self.order.clear();
        for (index, steps) in self.steps.iter().enumerate() {
            *steps.plan.borrow_mut() = Plan::default();
            steps.runs.borrow_mut().clear();
            steps.runners.borrow_mut().clear();
            steps.in_table.borrow_mut().clear();
            if let Ok(table) = lua.registry_value::<Table>(&self.tables[index]) {
                let _ = table.raw_set("selves", mlua::Value::Nil);
                let _ = table.raw_set("mods", mlua::Value::Nil);
            }
        }
        self.ends.take();
    }
}

/// What [`Batches::call`] calls with.
#[derive(Clone, Copy)]
struct Call<'a> {
    state: &'a RuntimeState,
    kind: Kind,
    table: &'a Table,
    run: &'a Function,
    plan: &'a Plan,
    delta: f64,
}

/// No step: the engine counts steps from 0.
const NEVER: u64 = u64::MAX;
