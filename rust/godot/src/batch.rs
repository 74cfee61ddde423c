//! Batched `_process` and `_physics_process`: the nodes that share a script and an
//! `execution_order` run in one Lua call per frame instead of one engine-to-Lua call each.
//!
//! Godot still calls every LuaScriptNode, in its own order (priority, then tree order). Each
//! step (a frame, or a physics step) the runtime records that order. The next step, the first
//! node of each run of nodes with the same script and `execution_order` in the recorded order
//! runs the whole run in one Lua call; the other nodes of the run find they have run and
//! return at once. While Godot calls the nodes in the order of the plan, recording is only
//! counting: a call compares its node with the plan's entry at that position and reads marks
//! kept side by side with the plan, touching no per-node memory; the first call that departs
//! from the plan starts a full recording. So the order is the unbatched one, with these
//! exceptions, each taking
//! effect one step late as unbatched would see it at once: a step in which a LuaScriptNode
//! started, re-entered the tree or changed `execution_order`, or a script reloaded, runs
//! unbatched (and records the new order), as does the step after the scene tree unpauses;
//! a `move_child` that changes the order of running nodes is followed the step after it. A
//! node that left the tree, was disabled, freed or stopped processing is skipped, as Godot
//! skips it; one that starts processing (`set_process(true)`, a subtree unpaused by its
//! `process_mode`) runs alone the step it joins, and the step after runs unbatched.
//!
//! A callback that `await`s or fails ends its node's part only: the rest of the run goes on
//! in a new call.

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

/// The callbacks that run every step.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Process,
    Physics,
}

impl Kind {
    const ALL: [Kind; 2] = [Kind::Process, Kind::Physics];

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

/// What a node Godot calls does this step.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Step {
    /// The first call of a new step (numbered so): see [`Batches::begin_step`].
    Begin(u64),
    /// Its callback ran in its run's batch already.
    Ran,
    /// It is the first of its run to be called: see [`Batches::lead`].
    Lead(Seat),
    /// It runs alone.
    Alone,
}

/// Where a node called to lead stands: its run, and its own entry in the plan.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Seat {
    run: usize,
    at: usize,
}

/// Consecutive entries of a plan with the same script and `execution_order`.
struct Run {
    start: usize,
    end: usize,
    done: bool,
}

/// One kind's order and plan.
struct Steps {
    /// The engine step being recorded.
    step: Cell<u64>,
    /// How many calls Godot made this step.
    calls: Cell<usize>,
    /// The nodes Godot called this step, in its order, once a call departed from the plan's
    /// order; empty until then, while the calls made are the plan's first `calls` entries.
    recording: RefCell<Vec<Rc<Instance>>>,
    /// The nodes the batches run this step (the order recorded the step before).
    plan: RefCell<Plan>,
    /// Per plan entry: the run it belongs to, and the step in which a batch ran it.
    run_of: RefCell<Vec<usize>>,
    ran: RefCell<Vec<u64>>,
    /// Plan entries by node, for calls made out of the plan's order (built at the first).
    positions: RefCell<Option<FxHashMap<*const Instance, usize>>>,
    runs: RefCell<Vec<Run>>,
    /// The nodes whose `self` and module the Lua plan table holds, in order.
    in_table: RefCell<Vec<InstanceId>>,
    /// The order may have changed since it was recorded: the next step runs unbatched.
    dirty: Cell<bool>,
    /// Whether the scene tree was paused at the last step.
    paused: Cell<bool>,
}

impl Default for Steps {
    fn default() -> Self {
        Steps {
            step: Cell::new(NEVER),
            calls: Cell::new(0),
            recording: RefCell::default(),
            plan: RefCell::default(),
            run_of: RefCell::default(),
            ran: RefCell::default(),
            positions: RefCell::default(),
            runs: RefCell::default(),
            in_table: RefCell::default(),
            dirty: Cell::new(false),
            paused: Cell::new(false),
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
    steps: [Steps; 2],
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
            steps: Default::default(),
            enabled: Cell::new(true),
            timing: RefCell::new(Timing::default()),
            engine: Engine::singleton(),
        })
    }

    /// Turns batching on or off (`lua_runtime/performance/batch_callbacks`).
    pub fn set_enabled(&self, enabled: bool) {
        if self.enabled.replace(enabled) != enabled {
            self.changed();
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled.get()
    }

    /// The order of running nodes may have changed (a node started or re-entered the tree,
    /// changed `execution_order`, or its script reloaded): the next step of each kind runs
    /// unbatched and records the new order.
    pub fn changed(&self) {
        for steps in &self.steps {
            // The dirty step empties the plan table (it may hold a reloaded script's old
            // module, or freed nodes' `self`s), so the next plan fills it afresh.
            steps.dirty.set(true);
        }
    }

    /// Godot calls `instance`'s node for a step of `kind`: what the node does.
    pub fn step(&self, kind: Kind, instance: &Rc<Instance>) -> Step {
        let steps = &self.steps[kind.index()];
        let now = kind.now(&self.engine);
        if steps.step.get() != now {
            return Step::Begin(now);
        }
        self.join(kind, instance, now)
    }

    /// The first node Godot calls in a new step: last step's recording becomes this step's
    /// plan, then as [`Batches::step`].
    pub fn begin_step(
        &self,
        state: &RuntimeState,
        kind: Kind,
        instance: &Rc<Instance>,
        now: u64,
    ) -> Step {
        self.begin(state, kind, now);
        self.join(kind, instance, now)
    }

    fn join(&self, kind: Kind, instance: &Rc<Instance>, now: u64) -> Step {
        let steps = &self.steps[kind.index()];
        let Some(at) = steps.record(instance) else {
            // A node the plan does not know (it started processing, or was unpaused): it
            // runs alone now, and the next step runs unbatched to record the new order.
            if !steps.runs.borrow().is_empty() {
                steps.dirty.set(true);
            }
            return Step::Alone;
        };
        if steps.ran.borrow()[at] == now {
            return Step::Ran;
        }
        let run = steps.run_of.borrow()[at];
        match steps.runs.borrow().get(run) {
            Some(r) if !r.done => Step::Lead(Seat { run, at }),
            _ => Step::Alone,
        }
    }

    /// Runs the run of this step's plan that the node at `seat` leads; true if the node's
    /// own callback ran in it.
    pub fn lead(&self, state: &RuntimeState, kind: Kind, seat: Seat, delta: f64) -> bool {
        let steps = &self.steps[kind.index()];
        let now = steps.step.get();
        self.run(state, kind, seat.run, now, delta);
        steps.ran.borrow().get(seat.at) == Some(&now)
    }

    /// The first node of a new step: last step's recording becomes this step's plan.
    fn begin(&self, state: &RuntimeState, kind: Kind, now: u64) {
        let steps = &self.steps[kind.index()];
        steps.step.set(now);
        let calls = steps.calls.replace(0);
        let recording = std::mem::take(&mut *steps.recording.borrow_mut());
        let recorded = if !recording.is_empty() {
            Some(recording)
        } else if calls == steps.plan.borrow().len() {
            // Godot called exactly the plan, in its order.
            None
        } else {
            Some(steps.plan.borrow()[..calls].to_vec())
        };
        *steps.positions.borrow_mut() = None;
        // Unpaused nodes rejoin the order.
        let paused = crate::scene_tree::current().is_some_and(|tree| tree.is_paused());
        let unpaused = steps.paused.replace(paused) && !paused;
        let dirty = steps.dirty.replace(false) || unpaused;
        let mut runs = steps.runs.borrow_mut();
        if dirty || !self.enabled.get() || recorded.as_ref().is_some_and(|r| r.len() < 2) {
            runs.clear();
            *steps.plan.borrow_mut() = Plan::default();
            self.empty_table(state.host.lua(), kind);
            return;
        }
        let Some(plan) = recorded else {
            // The same plan again: its runs are to run afresh.
            for run in runs.iter_mut() {
                run.done = false;
            }
            return;
        };
        runs.clear();
        *steps.plan.borrow_mut() = Plan::default();
        let mut run_of = steps.run_of.borrow_mut();
        run_of.clear();
        for (i, instance) in plan.iter().enumerate() {
            let joins = runs.last().is_some_and(|r: &Run| {
                let first = &plan[r.start];
                first.path == instance.path && first.order.get() == instance.order.get()
            });
            match runs.last_mut() {
                Some(run) if joins => run.end = i + 1,
                _ => runs.push(Run {
                    start: i,
                    end: i + 1,
                    done: false,
                }),
            }
            run_of.push(runs.len() - 1);
        }
        let mut ran = steps.ran.borrow_mut();
        ran.clear();
        ran.resize(plan.len(), NEVER);
        match self.fill_table(state.host.lua(), kind, &plan) {
            Ok(()) => *steps.plan.borrow_mut() = Rc::new(plan),
            Err(e) => {
                state.report(&ScriptError::from_lua(&e, "batch").into());
                runs.clear();
            }
        }
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

    /// Runs run `index` of `kind`'s plan in as few Lua calls as waits and errors allow.
    fn run(&self, state: &RuntimeState, kind: Kind, index: usize, now: u64, delta: f64) {
        let steps = &self.steps[kind.index()];
        let (start, end) = {
            let mut runs = steps.runs.borrow_mut();
            let run = &mut runs[index];
            run.done = true;
            (run.start, run.end)
        };
        let plan = steps.plan.borrow().clone();
        let lua = state.host.lua();
        let (Ok(table), Ok(run)) = (
            lua.registry_value::<Table>(&self.tables[kind.index()]),
            lua.registry_value::<Function>(&self.run),
        ) else {
            return;
        };
        let Ok(skip) = lua.registry_value::<Table>(&self.skips[kind.index()]) else {
            return;
        };
        // Nodes Godot would skip now; every other one counts as run, so that when Godot
        // calls it later this step it does nothing.
        let mut skipped = Vec::new();
        let mut ran = steps.ran.borrow_mut();
        for (i, instance) in plan.iter().enumerate().take(end).skip(start) {
            if instance.runs_now(kind) {
                ran[i] = now;
            } else {
                skipped.push(i + 1);
                let _ = skip.raw_set(i + 1, true);
            }
        }
        drop(ran);
        let heap = state.host.memory_bytes();
        let started = Instant::now();
        let mut from = start + 1;
        while from <= end {
            let outcome = state.within_batch(&table, &plan, || {
                state.tasks.call(
                    lua,
                    &run,
                    (
                        &table,
                        state.callbacks.get(kind.callback()),
                        from,
                        end,
                        delta,
                    ),
                )
            });
            let stopped_at = || self.fields.at(&table).unwrap_or(end);
            let at = match outcome {
                Ok(Outcome::Returned(_)) => break,
                Ok(Outcome::Waiting) => {
                    // The waiting callback's loop stops where it is when it is resumed.
                    self.fields.bump_generation(&table);
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
            from = at + 1;
        }
        for i in skipped {
            let _ = skip.raw_set(i, mlua::Value::Nil);
        }
        let path = &plan[start].path;
        let grown = state.host.memory_bytes().saturating_sub(heap);
        self.timing
            .borrow_mut()
            .add(path, started.elapsed(), end - start, true, grown);
    }

    /// Counts a callback run alone (not in a batch): its time and how much the heap grew.
    pub fn timed_alone(&self, path: &str, elapsed: std::time::Duration, grown: usize) {
        self.timing.borrow_mut().add(path, elapsed, 1, false, grown);
    }

    /// Once per frame: closes the frame's figures, and lets go of the plans of kinds whose
    /// last step ran no node (so freed nodes' `self` tables are not kept alive by them).
    pub fn end_frame(&self, lua: &Lua) {
        self.timing.borrow_mut().end_frame();
        for kind in Kind::ALL {
            // A step of this kind went by without any node: nothing runs it any more.
            if self.steps[kind.index()].step.get() != kind.now(&self.engine) {
                self.forget(kind);
                self.empty_table(lua, kind);
            }
        }
    }

    pub fn stats(&self) -> FrameStats {
        self.timing.borrow().stats(self.enabled.get())
    }

    /// Forgets every plan (at shutdown).
    pub fn clear(&self) {
        for kind in Kind::ALL {
            self.forget(kind);
        }
    }

    /// Drops `kind`'s recorded order and plan.
    fn forget(&self, kind: Kind) {
        let steps = &self.steps[kind.index()];
        steps.calls.set(0);
        steps.recording.borrow_mut().clear();
        *steps.plan.borrow_mut() = Plan::default();
        *steps.positions.borrow_mut() = None;
        steps.runs.borrow_mut().clear();
    }

    /// Lets the Lua plan table of `kind` go of the `self`s and modules it holds.
    fn empty_table(&self, lua: &Lua, kind: Kind) {
        let steps = &self.steps[kind.index()];
        if steps.in_table.borrow().is_empty() {
            return;
        }
        steps.in_table.borrow_mut().clear();
        let emptied = (|| -> mlua::Result<()> {
            let table: Table = lua.registry_value(&self.tables[kind.index()])?;
            table.raw_set("selves", lua.create_table()?)?;
            table.raw_set("mods", lua.create_table()?)
        })();
        // Only an allocation failure; the table then keeps its old contents until refilled.
        drop(emptied);
    }
}

/// No step: the engine counts steps from 0.
const NEVER: u64 = u64::MAX;

impl Steps {
    /// Records a call of `instance`'s node; its entry in this step's plan, if it has one.
    fn record(&self, instance: &Rc<Instance>) -> Option<usize> {
        let call = self.calls.get();
        self.calls.set(call + 1);
        let plan = self.plan.borrow();
        let mut recording = self.recording.borrow_mut();
        if recording.is_empty() {
            if plan
                .get(call)
                .is_some_and(|entry| Rc::ptr_eq(entry, instance))
            {
                return Some(call);
            }
            // The first call out of the plan's order: the calls so far were the plan's.
            recording.extend_from_slice(&plan[..call.min(plan.len())]);
        }
        recording.push(instance.clone());
        drop(recording);
        let mut positions = self.positions.borrow_mut();
        let positions = positions.get_or_insert_with(|| {
            plan.iter()
                .enumerate()
                .map(|(i, entry)| (Rc::as_ptr(entry), i))
                .collect()
        });
        positions.get(&Rc::as_ptr(instance)).copied()
    }
}

/// Time in Lua callbacks: the frame being measured and the last ones.
#[derive(Default)]
struct Timing {
    current: FrameFigures,
    last: FrameFigures,
    /// Recent frame totals in microseconds, newest last.
    recent: std::collections::VecDeque<f64>,
    frames: u64,
}

#[derive(Default, Clone)]
struct FrameFigures {
    total_us: f64,
    lua_calls: u64,
    batched_nodes: u64,
    by_script: std::collections::BTreeMap<String, ScriptShare>,
}

/// One script's share of a frame: microseconds, nodes run, heap growth in bytes.
#[derive(Default, Clone)]
struct ScriptShare {
    us: f64,
    nodes: u64,
    grown: u64,
}

/// Frames the mean is taken over.
const RECENT_FRAMES: usize = 60;

impl Timing {
    fn add(
        &mut self,
        path: &str,
        elapsed: std::time::Duration,
        nodes: usize,
        batched: bool,
        grown: usize,
    ) {
        let us = elapsed.as_secs_f64() * 1e6;
        let figures = &mut self.current;
        figures.total_us += us;
        figures.lua_calls += 1;
        if batched {
            figures.batched_nodes += nodes as u64;
        }
        let share = match figures.by_script.get_mut(path) {
            Some(share) => share,
            None => figures.by_script.entry(path.to_owned()).or_default(),
        };
        share.us += us;
        share.nodes += nodes as u64;
        share.grown += grown as u64;
    }

    fn end_frame(&mut self) {
        let figures = std::mem::take(&mut self.current);
        if self.recent.len() == RECENT_FRAMES {
            self.recent.pop_front();
        }
        self.recent.push_back(figures.total_us);
        self.last = figures;
        self.frames += 1;
    }

    fn stats(&self, batching: bool) -> FrameStats {
        let mean = if self.recent.is_empty() {
            0.0
        } else {
            self.recent.iter().sum::<f64>() / self.recent.len() as f64
        };
        FrameStats {
            batching,
            frames: self.frames,
            lua_us: self.last.total_us,
            lua_us_mean: mean,
            lua_calls: self.last.lua_calls,
            batched_nodes: self.last.batched_nodes,
            by_script: self
                .last
                .by_script
                .iter()
                .map(|(path, share)| {
                    (
                        path.clone(),
                        lua_runtime_core::stats::ScriptFrame {
                            us: share.us,
                            nodes: share.nodes,
                            allocated_bytes: share.grown,
                        },
                    )
                })
                .collect(),
        }
    }
}
