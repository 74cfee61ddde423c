//! Callbacks that may `await`: every call from the engine into a script runs on a coroutine,
//! so the script can suspend itself and be resumed later by whatever it waits for.
//!
//! Runner coroutines are pooled: each runs a trampoline that calls one function, yields its
//! results with a *done* marker, and waits for the next function. A callback that returns
//! normally hands its runner straight back to the pool; one that calls `await(...)` keeps it
//! until it is resumed (or dropped). What `await` waits *for* is not known here: the host
//! application installs a `waiter` that arranges for [`Tasks::resume`] to be called.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::rc::Rc;

use mlua::{Function, IntoLuaMulti, Lua, MultiValue, RegistryKey, Table, Thread, Value};

use crate::stats::TaskStats;

/// Idle runners kept for reuse; more than this many at once are left to the collector.
const MAX_IDLE: usize = 16;

/// The runner's body. `done` tags a normal return. `run` and `finish` tail-call each other,
/// so a runner serves any number of calls without growing its stack.
///
/// An idle runner must not keep the function it ran or its arguments (a node's `self`, a
/// script's data) alive: the collector scans a suspended coroutine's whole stack up to its
/// top, dead slots included, and the call left copies of both there. `wipe`'s frame covers
/// those slots with nils before the runner suspends.
const TRAMPOLINE: &str = r#"
local done, yield = ...
local run
local function wipe()
  local a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16
end
local function finish(...)
  wipe()
  return run(yield(done, ...))
end
function run(f, ...)
  return finish(f(...))
end
return run
"#;

/// `await(...)`: asks the waiter to arrange a resume, then suspends. The waiter returns
/// false (with a message) when it cannot wait for what it was given.
const AWAIT: &str = r#"
local waiting, waiter, running, yield, error = ...
return function(...)
  local co, main = running()
  if co == nil or main then
    error("await() must be called inside a callback or a coroutine", 2)
  end
  local ok, message = waiter(co, ...)
  if not ok then
    error(message, 2)
  end
  return yield(waiting)
end
"#;

/// What became of a call or a resume.
pub enum Outcome {
    /// The function returned these values (or a script's own coroutine yielded them).
    Returned(MultiValue),
    /// It is suspended in `await`; the waiter holds its [`Parked`] handle.
    Waiting,
}

type RunnerSet = Rc<RefCell<HashSet<usize>>>;

/// A coroutine suspended in `await`. Dropping it abandons the coroutine.
///
/// It is held in the Lua registry rather than as a plain handle: handles live on a stack that
/// LuaJIT caps at about 8,000 slots, and a game may have more coroutines waiting than that.
pub struct Parked {
    thread: RegistryKey,
    address: usize,
    runner: bool,
    runners: RunnerSet,
    waiting: Rc<Cell<u64>>,
    dropped: Rc<Cell<u64>>,
    resumed: bool,
}

impl Drop for Parked {
    fn drop(&mut self) {
        self.waiting.set(self.waiting.get().saturating_sub(1));
        if !self.resumed {
            self.dropped.set(self.dropped.get() + 1);
            if self.runner {
                // The runner is gone for good; its address may be reused by a new coroutine.
                self.runners.borrow_mut().remove(&self.address);
            }
        }
    }
}

/// The runner pool and the `await` machinery of one Lua state.
pub struct Tasks {
    trampoline: Function,
    done: Table,
    waiting_marker: Table,
    idle: RefCell<Vec<Thread>>,
    /// Addresses of the live runners, to tell them from coroutines scripts make.
    runners: RunnerSet,
    waiting: Rc<Cell<u64>>,
    dropped: Rc<Cell<u64>>,
    started: Cell<u64>,
    resumed: Cell<u64>,
    created: Cell<u64>,
}

impl Tasks {
    /// Builds the pool and installs the global `await`, which hands its coroutine and
    /// arguments to `waiter` (a function returning `true`, or `false, message`). The waiter
    /// calls [`Tasks::park`] and later [`Tasks::resume`].
    ///
    /// # Errors
    /// Only if Lua cannot allocate.
    pub fn install(lua: &Lua, waiter: Function) -> mlua::Result<Self> {
        let done = lua.create_table()?;
        let waiting_marker = lua.create_table()?;
        let globals = lua.globals();
        let coroutine: Table = globals.get("coroutine")?;
        let yield_fn: Function = coroutine.get("yield")?;
        let trampoline: Function = lua
            .load(TRAMPOLINE)
            .set_name("=runner")
            .call((done.clone(), yield_fn.clone()))?;
        let await_fn: Function = lua.load(AWAIT).set_name("=await").call((
            waiting_marker.clone(),
            waiter,
            coroutine.get::<Function>("running")?,
            yield_fn,
            globals.get::<Function>("error")?,
        ))?;
        globals.set("await", await_fn)?;
        Ok(Tasks {
            trampoline,
            done,
            waiting_marker,
            idle: RefCell::new(Vec::new()),
            runners: Rc::new(RefCell::new(HashSet::new())),
            waiting: Rc::new(Cell::new(0)),
            dropped: Rc::new(Cell::new(0)),
            started: Cell::new(0),
            resumed: Cell::new(0),
            created: Cell::new(0),
        })
    }

    /// Calls `function(args...)` on a runner coroutine.
    ///
    /// # Errors
    /// The function's error (with the coroutine's traceback), or a plain `coroutine.yield`
    /// out of the callback, which has nobody to resume it.
    pub fn call(
        &self,
        lua: &Lua,
        function: &Function,
        args: impl IntoLuaMulti,
    ) -> mlua::Result<Outcome> {
        let runner = match self.idle.borrow_mut().pop() {
            Some(thread) => thread,
            None => {
                let thread = lua.create_thread(self.trampoline.clone())?;
                self.created.set(self.created.get() + 1);
                self.runners
                    .borrow_mut()
                    .insert(thread.to_pointer() as usize);
                thread
            }
        };
        let mut values = args.into_lua_multi(lua)?;
        values.push_front(Value::Function(function.clone()));
        self.started.set(self.started.get() + 1);
        let result = runner.resume::<MultiValue>(values);
        self.settle(&runner, result)
    }

    /// Takes hold of the coroutine that is about to suspend in `await`.
    ///
    /// # Errors
    /// Only if Lua cannot allocate.
    pub fn park(&self, lua: &Lua, thread: Thread) -> mlua::Result<Parked> {
        let address = thread.to_pointer() as usize;
        let thread = lua.create_registry_value(thread)?;
        self.waiting.set(self.waiting.get() + 1);
        let runner = self.runners.borrow().contains(&address);
        Ok(Parked {
            thread,
            address,
            runner,
            runners: self.runners.clone(),
            waiting: self.waiting.clone(),
            dropped: self.dropped.clone(),
            resumed: false,
        })
    }

    /// Resumes a coroutine that waited, with the values it waited for.
    ///
    /// # Errors
    /// As [`Self::call`].
    pub fn resume(
        &self,
        lua: &Lua,
        mut parked: Parked,
        args: impl IntoLuaMulti,
    ) -> mlua::Result<Outcome> {
        parked.resumed = true;
        self.resumed.set(self.resumed.get() + 1);
        let thread: Thread = lua.registry_value(&parked.thread)?;
        drop(parked);
        if !thread.is_resumable() {
            return Ok(Outcome::Returned(MultiValue::new()));
        }
        let result = thread.resume::<MultiValue>(args);
        self.settle(&thread, result)
    }

    /// Sorts out what a resume produced: a normal return frees the runner, an `await`
    /// leaves the coroutine with its waiter.
    fn settle(&self, thread: &Thread, result: mlua::Result<MultiValue>) -> mlua::Result<Outcome> {
        let address = thread.to_pointer() as usize;
        // A runner whose call failed is dead; forgetting an address that is not a runner's
        // does nothing.
        let mut values = result.inspect_err(|_| {
            self.runners.borrow_mut().remove(&address);
        })?;
        match values.pop_front() {
            Some(Value::Table(t)) if t == self.done => {
                let mut idle = self.idle.borrow_mut();
                if idle.len() < MAX_IDLE {
                    idle.push(thread.clone());
                } else {
                    self.runners.borrow_mut().remove(&address);
                }
                Ok(Outcome::Returned(values))
            }
            Some(Value::Table(t)) if t == self.waiting_marker => Ok(Outcome::Waiting),
            // A runner yielding anything else was yielded by the callback itself: nobody will
            // resume it, so it is dropped.
            _ if self.runners.borrow_mut().remove(&address) => Err(mlua::Error::runtime(
                "coroutine.yield() outside a coroutine: callbacks wait with await()",
            )),
            // A script's own coroutine, resumed after an await: it ended or yielded.
            other => {
                if let Some(v) = other {
                    values.push_front(v);
                }
                Ok(Outcome::Returned(values))
            }
        }
    }

    /// Counters for `get_stats()`.
    pub fn stats(&self) -> TaskStats {
        TaskStats {
            waiting: self.waiting.get(),
            started: self.started.get(),
            resumed: self.resumed.get(),
            dropped: self.dropped.get(),
            runners: self.created.get(),
            idle_runners: self.idle.borrow().len() as u64,
        }
    }
}
