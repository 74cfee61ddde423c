//! The time budget: a call from the engine into a script that runs longer than the limit is
//! stopped with an error at the line it was running, and the game goes on.
//!
//! Scripts are compiled with ticks in every loop and function body (see [`super::instrument`]).
//! The tick counts; every [`TICKS_PER_CHECK`] ticks it asks [`Budget`] whether the running
//! call is over its time. A call's clock starts at its first check, so entering a call costs
//! nothing but a counter; a callback that never loops never reads the clock.
//!
//! What counts as one call: everything between the outermost [`Budget::enter`] and the end of
//! its guard, nested calls included (a signal handler a callback triggers runs on the caller's
//! clock, so nesting cannot reset it), except that a batch tells its nodes apart through the
//! key it passes to [`Budget::enter_keyed`]: each node of a batch gets its own budget.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use mlua::{Function, Lua};

/// Ticks between two looks at the clock: at most a few microseconds of a tight loop.
pub const TICKS_PER_CHECK: u32 = 1024;

/// The setting that sets the limit, named in the error.
pub const SETTING: &str = "lua_runtime/limits/callback_budget_ms";

/// The tick scripts call: counts, and every so often asks `check` whether to stop, raising its
/// message as an error located at the caller (the loop or function that ticked). Once a call
/// is over its time every tick raises, so no `pcall` around an inner loop can catch every
/// error and keep the outer loop spinning; the next call's first check puts it back.
const TICK: &str = r"
local check, error, per_check = ...
local n, every = 0, per_check
return function()
  n = n + 1
  if n >= every then
    n = 0
    local message = check()
    if message then
      every = 1
      error(message, 2)
    end
    every = per_check
  end
end
";

type SubKey = Box<dyn Fn() -> u64>;

#[derive(Default)]
struct State {
    limit: Cell<Option<Duration>>,
    depth: Cell<u32>,
    /// Bumped whenever the outermost call starts or ends.
    serial: Cell<u64>,
    /// Tells apart the parts of one outermost call that have budgets of their own.
    sub_key: RefCell<Option<SubKey>>,
    /// The call the clock runs for, and since when.
    seen: Cell<(u64, u64)>,
    started: Cell<Option<Instant>>,
    stopped: Cell<u64>,
}

/// The time budget of one Lua state. Cloning shares it.
#[derive(Clone, Default)]
pub struct Budget {
    state: Rc<State>,
}

/// The extent of a call that counts against the budget (see [`Budget::enter`]).
pub struct Entered {
    state: Rc<State>,
    outermost: bool,
}

impl Drop for Entered {
    fn drop(&mut self) {
        let depth = self.state.depth.get().saturating_sub(1);
        self.state.depth.set(depth);
        if self.outermost {
            self.state.sub_key.replace(None);
            self.state.serial.set(self.state.serial.get() + 1);
        }
    }
}

impl Budget {
    /// The limit per call; `None` (or zero) lets calls run as long as they like.
    pub fn set_limit(&self, limit: Option<Duration>) {
        self.state.limit.set(limit.filter(|l| !l.is_zero()));
    }

    pub fn limit(&self) -> Option<Duration> {
        self.state.limit.get()
    }

    /// How many calls were stopped for running too long.
    pub fn stopped(&self) -> u64 {
        self.state.stopped.get()
    }

    /// A call into script code starts; it ends when the guard drops. Nested calls share the
    /// outermost one's clock.
    pub fn enter(&self) -> Entered {
        let outermost = self.state.depth.get() == 0;
        self.state.depth.set(self.state.depth.get() + 1);
        if outermost {
            self.state.serial.set(self.state.serial.get() + 1);
        }
        Entered {
            state: self.state.clone(),
            outermost,
        }
    }

    /// As [`Self::enter`], for a call that runs several callbacks one after another (a batch):
    /// `key` tells which is running, and each gets a budget of its own. Ignored when nested.
    pub fn enter_keyed(&self, key: impl Fn() -> u64 + 'static) -> Entered {
        let entered = self.enter();
        if entered.outermost {
            self.state.sub_key.replace(Some(Box::new(key)));
        }
        entered
    }

    /// Whether the running call is over its time: the error message if so.
    pub fn check(&self) -> Option<String> {
        let state = &self.state;
        let limit = state.limit.get()?;
        let sub = state.sub_key.borrow().as_ref().map_or(0, |key| key());
        let key = (state.serial.get(), sub);
        let now = Instant::now();
        let started = match state.started.get() {
            Some(started) if state.seen.get() == key => started,
            _ => {
                state.seen.set(key);
                state.started.set(Some(now));
                return None;
            }
        };
        if now.duration_since(started) <= limit {
            return None;
        }
        state.stopped.set(state.stopped.get() + 1);
        Some(format!(
            "script ran longer than {} ms and was stopped (the limit is the project setting {SETTING})",
            limit.as_millis()
        ))
    }

    /// The tick function instrumented chunks receive. `also` runs at each look at the clock
    /// (the collector's pacing checks the heap there).
    ///
    /// # Errors
    /// Only if Lua cannot allocate.
    pub fn tick_function(
        &self,
        lua: &Lua,
        also: impl Fn(&Lua) + 'static,
    ) -> mlua::Result<Function> {
        let budget = self.clone();
        let check = lua.create_function(move |lua, ()| {
            also(lua);
            Ok(budget.check())
        })?;
        let error: Function = lua.globals().raw_get("error")?;
        lua.load(TICK)
            .set_name("=budget")
            .call((check, error, TICKS_PER_CHECK))
    }
}
