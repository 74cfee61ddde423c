//! Garbage collection paced by frames.
//!
//! Lua's own collector runs a little on every allocation, so its work lands inside script
//! callbacks, wherever they allocate. With a frame budget the collector is stopped between
//! frames instead, and at the end of each frame it runs in small incremental steps until the
//! cycle ends or the budget is spent: callbacks do not pay for collection, and the frame
//! pays at most the budget.
//!
//! A new cycle starts when the heap has grown to twice what the last cycle left (Lua's own
//! default pause). If scripts allocate faster than the budget can collect, the heap grows
//! past [`CEILING_FACTOR`] times that (checked at frame ends, and within a frame at the time
//! budget's looks at the clock); Lua's automatic collection is then switched back on until a
//! cycle ends with the heap under it again (an *overrun*), so memory stays bounded whatever
//! the budget.

use std::cell::Cell;
use std::time::{Duration, Instant};

use mlua::Lua;

use crate::stats::GcStats;

/// The project setting holding the budget, in microseconds (0: Lua's automatic collection).
pub const SETTING: &str = "lua_runtime/performance/gc_frame_budget_us";

/// A new cycle starts once the heap is this many times what the last one left...
const PAUSE_FACTOR: usize = 2;
/// ...and at least this much more, so that a tiny heap is not collected every frame.
const MIN_GROWTH: usize = 256 << 10;
/// Past this many times the start of a cycle, the automatic collector helps out.
const CEILING_FACTOR: usize = 2;
/// Inside a frame, the heap may also grow this much over the live data before it does.
const FRAME_HEADROOM: usize = 64 << 20;

/// Paces the collector of one Lua state (see the module documentation).
#[derive(Debug, Default)]
pub struct GcPacer {
    budget: Cell<Option<Duration>>,
    /// Lua's automatic collection is on (no budget, or an overrun).
    automatic: Cell<bool>,
    /// A cycle begun by the frame steps has not ended.
    in_cycle: Cell<bool>,
    /// The heap when the last cycle the steps ran ended: roughly the live data.
    live: Cell<usize>,
    /// The heap when the last frame's steps ended.
    after_steps: Cell<usize>,
    /// Cycles completed (by anyone) as last seen at a frame's end.
    cycles_seen: Cell<u64>,
    steps: Cell<u64>,
    cycles: Cell<u64>,
    overruns: Cell<u64>,
    allocated_last_frame: Cell<u64>,
    step_us_last: Cell<u64>,
    step_us_max: Cell<u64>,
}

impl GcPacer {
    /// Starts pacing `lua`, which collects automatically until a budget is set.
    pub fn attach(&self, lua: &Lua) {
        self.automatic.set(true);
        self.live.set(lua.used_memory());
        self.after_steps.set(lua.used_memory());
    }

    /// Within a frame, now and then (at the time budget's looks at the clock): a frame that
    /// makes more garbage than the heap may hold until its end (a long loading loop, say) gets
    /// Lua's automatic collection at once, rather than at the frame's end.
    pub fn within_frame(&self, lua: &Lua) {
        if self.budget.get().is_none() || self.automatic.get() {
            return;
        }
        if lua.used_memory() > self.ceiling().max(self.live.get() + FRAME_HEADROOM) {
            self.overrun(lua);
        }
    }

    /// Sets the time collection may take at the end of a frame (`None`: Lua collects on its
    /// own, as it allocates).
    pub fn set_budget(&self, lua: &Lua, budget: Option<Duration>) {
        let budget = budget.filter(|b| !b.is_zero());
        self.budget.set(budget);
        step_size(lua, budget.is_some());
        if budget.is_some() {
            self.stop_automatic(lua);
        } else {
            self.start_automatic(lua);
        }
    }

    /// At the end of a frame: counts what the frame allocated and, with a budget, steps the
    /// collector until its cycle ends or the budget is spent. `cycles` is how many collection
    /// cycles have completed since start-up, whoever ran them.
    ///
    /// # Errors
    /// Only a `__gc` metamethod that raises can fail a step.
    pub fn end_frame(&self, lua: &Lua, cycles: u64) -> mlua::Result<()> {
        let heap = lua.used_memory();
        self.allocated_last_frame
            .set(heap.saturating_sub(self.after_steps.get()) as u64);
        let Some(budget) = self.budget.get() else {
            self.after_steps.set(heap);
            self.cycles_seen.set(cycles);
            return Ok(());
        };
        if self.automatic.get() && cycles != self.cycles_seen.get() {
            // Automatic collection finished a cycle during the frame: what is left now is the
            // live data plus what the frame made since, the new base for pacing.
            self.in_cycle.set(false);
            self.live.set(heap);
        }
        let started = Instant::now();
        let result = self.step_within(lua, heap, started, budget);
        let heap = lua.used_memory();
        if heap > self.ceiling() {
            self.overrun(lua);
        } else {
            // A step switches LuaJIT's automatic collection back on: off again.
            self.stop_automatic(lua);
        }
        self.after_steps.set(heap);
        self.cycles_seen.set(cycles);
        let us = started.elapsed().as_micros() as u64;
        self.step_us_last.set(us);
        self.step_us_max.set(self.step_us_max.get().max(us));
        result
    }

    fn step_within(
        &self,
        lua: &Lua,
        heap: usize,
        started: Instant,
        budget: Duration,
    ) -> mlua::Result<()> {
        if !self.in_cycle.get() && heap < self.cycle_start() {
            return Ok(());
        }
        self.in_cycle.set(true);
        loop {
            self.steps.set(self.steps.get() + 1);
            if lua.gc_step()? {
                self.cycle_ended(lua);
                return Ok(());
            }
            if started.elapsed() >= budget {
                return Ok(());
            }
        }
    }

    /// Runs a full collection (what `collect_garbage()` asks for), keeping the pacing.
    ///
    /// Two cycles: an object with a finaliser (every engine-object wrapper) is finalised in
    /// one and freed in the next, so after one cycle its memory is still held.
    ///
    /// # Errors
    /// Only a `__gc` metamethod that raises can fail it.
    pub fn collect(&self, lua: &Lua) -> mlua::Result<()> {
        let result = lua.gc_collect().and_then(|()| lua.gc_collect());
        self.cycle_ended(lua);
        if self.budget.get().is_some() {
            // LuaJIT's full collection switches automatic collection back on.
            self.stop_automatic(lua);
        }
        self.after_steps.set(lua.used_memory());
        result
    }

    fn cycle_ended(&self, lua: &Lua) {
        self.in_cycle.set(false);
        self.cycles.set(self.cycles.get() + 1);
        self.live.set(lua.used_memory());
    }

    /// The heap at which the next cycle starts.
    fn cycle_start(&self) -> usize {
        let live = self.live.get();
        (live * PAUSE_FACTOR).max(live + MIN_GROWTH)
    }

    /// The heap past which automatic collection helps out.
    fn ceiling(&self) -> usize {
        self.cycle_start() * CEILING_FACTOR
    }

    /// Scripts made garbage faster than the steps collect it: automatic collection helps.
    fn overrun(&self, lua: &Lua) {
        if !self.automatic.get() {
            self.overruns.set(self.overruns.get() + 1);
        }
        self.start_automatic(lua);
    }

    fn stop_automatic(&self, lua: &Lua) {
        lua.gc_stop();
        self.automatic.set(false);
    }

    fn start_automatic(&self, lua: &Lua) {
        if !self.automatic.get() {
            lua.gc_restart();
        }
        self.automatic.set(true);
    }

    /// What the collector did.
    pub fn stats(&self) -> GcStats {
        GcStats {
            frame_budget_us: self
                .budget
                .get()
                .map_or(0, |b| u64::try_from(b.as_micros()).unwrap_or(u64::MAX)),
            automatic: self.automatic.get(),
            steps: self.steps.get(),
            cycles: self.cycles.get(),
            overruns: self.overruns.get(),
            live_bytes: self.live.get() as u64,
            allocated_last_frame: self.allocated_last_frame.get(),
            step_us_last: self.step_us_last.get(),
            step_us_max: self.step_us_max.get(),
        }
    }
}

/// Lua 5.4 sizes a basic step by its step size (2^13 bytes of allocation by default), enough
/// to sweep tens of thousands of objects at once: with a frame budget, steps are made 8 times
/// finer so that the budget is kept. (LuaJIT's steps are small already.)
#[cfg(feature = "lua54")]
fn step_size(lua: &Lua, fine: bool) {
    use mlua::state::{GcIncParams, GcMode};
    let log2_bytes = if fine { 10 } else { 13 };
    lua.gc_set_mode(GcMode::Incremental(
        GcIncParams::default().step_size(log2_bytes),
    ));
}

#[cfg(not(feature = "lua54"))]
fn step_size(_lua: &Lua, _fine: bool) {}
