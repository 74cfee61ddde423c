//! The Lua host: one sandboxed Lua state and the scripts loaded into it.
//!
//! A script is a file whose chunk returns a table of callbacks (its *module*). Modules are
//! loaded once per path and shared by every node that runs the script; per-node state lives
//! elsewhere. The host knows nothing of Godot: the extension reads files and passes source
//! text in, and installs the engine API into [`LuaHost::lua`].

pub mod budget;
pub mod gc;
pub mod instrument;
pub mod memory;
pub mod names;
pub mod require;
mod sandbox;
pub mod tasks;
pub mod traces;
pub mod unused;

pub use sandbox::FFI_REGISTRY_KEY;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Instant;

use mlua::chunk::ChunkMode;
use mlua::{Function, IntoLuaMulti, Lua, MultiValue, Table, Value};

use crate::bytecode::{BytecodeCache, Level, Request, SourceHash};
use crate::errors::{Error, ScriptError};
use budget::Budget;
use gc::GcPacer;
use memory::HeapAccount;

/// Chunk name used for code run through [`LuaHost::exec`] and [`LuaHost::eval`].
pub const INLINE_CHUNK: &str = "(inline)";

/// The setting that caps the Lua heap, named in out-of-memory errors.
pub const MEMORY_SETTING: &str = "lua_runtime/limits/memory_mb";

/// The sandboxed Lua state and its loaded modules.
pub struct LuaHost {
    /// Dropped first: it must disarm its finalizer while the state is still open.
    heap: HeapAccount,
    lua: Lua,
    budget: Budget,
    gc: Rc<GcPacer>,
    /// Gives an instrumented chunk the budget's tick; returns the script's main function.
    bind: Function,
    /// LuaJIT's whole `jit` library (scripts see only its descriptive fields).
    jit: Option<Table>,
    /// Whether LuaJIT compiles, as last set (false under Lua 5.4).
    jit_enabled: Cell<bool>,
    /// LuaJIT's trace events, counted (`None` under Lua 5.4).
    traces: Option<traces::TraceWatch>,
    /// The heap cap as last set.
    memory_limit: Cell<Option<usize>>,
    modules: RefCell<HashMap<String, Table>>,
    /// The main chunk of each loaded script, by the hash of the source it came from: loading
    /// an unchanged script again skips even Lua's bytecode reader.
    chunks: RefCell<HashMap<String, (SourceHash, Function)>>,
    scripts_loaded: Cell<u64>,
}

impl LuaHost {
    /// A fresh Lua state with the sandbox applied (see [`sandbox`]).
    ///
    /// # Errors
    /// Fails only if Lua cannot allocate its state.
    pub fn new() -> mlua::Result<Self> {
        // No limit until the application sets one (the extension: from the project setting).
        let budget = Budget::default();
        let gc = Rc::new(GcPacer::default());
        let pacer = gc.clone();
        let (lua, bind, jit) = sandbox::new_sandboxed_lua(|lua| {
            budget.tick_function(lua, move |lua| pacer.within_frame(lua))
        })?;
        gc.attach(&lua);
        let heap = HeapAccount::install(&lua)?;
        let traces = match &jit {
            Some(jit) => Some(traces::TraceWatch::attach(&lua, jit)?),
            None => None,
        };
        Ok(LuaHost {
            lua,
            heap,
            budget,
            gc,
            bind,
            jit_enabled: Cell::new(jit.is_some()),
            traces,
            jit,
            memory_limit: Cell::new(None),
            modules: RefCell::new(HashMap::new()),
            chunks: RefCell::new(HashMap::new()),
            scripts_loaded: Cell::new(0),
        })
    }

    /// The Lua state, for installing globals.
    pub fn lua(&self) -> &Lua {
        &self.lua
    }

    /// The time budget of calls into scripts. The host enters it for what it runs itself; an
    /// application that calls script functions on its own enters it around them.
    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// LuaJIT's whole `jit` library, for the runtime's own use (scripts get only the fields
    /// that describe it). `None` under Lua 5.4.
    pub fn jit(&self) -> Option<&Table> {
        self.jit.as_ref()
    }

    /// What LuaJIT's trace compiler did since start-up (all zero under Lua 5.4).
    pub fn jit_stats(&self) -> crate::stats::JitStats {
        let mut stats = self
            .traces
            .as_ref()
            .map(traces::TraceWatch::stats)
            .unwrap_or_default();
        stats.enabled = self.jit_enabled.get();
        stats
    }

    /// Turns LuaJIT's compiler on or off for the whole state (Lua 5.4 has none: no effect).
    /// Setting what is already set does nothing.
    ///
    /// # Errors
    /// Only if the `jit` library fails.
    pub fn set_jit_enabled(&self, enabled: bool) -> mlua::Result<()> {
        let Some(jit) = &self.jit else {
            return Ok(());
        };
        if self.jit_enabled.replace(enabled) == enabled {
            return Ok(());
        }
        let switch: Function = jit.get(if enabled { "on" } else { "off" })?;
        switch.call::<()>(())?;
        // Compiled code made while it was on would otherwise keep running.
        let flush: Function = jit.get("flush")?;
        flush.call(())
    }

    /// Caps the Lua heap at `bytes` (`None`: no cap). An allocation past the cap fails with a
    /// Lua error in the script that made it.
    ///
    /// # Errors
    /// When this Lua cannot limit its memory.
    pub fn set_memory_limit(&self, bytes: Option<usize>) -> mlua::Result<()> {
        self.lua.set_memory_limit(bytes.unwrap_or(0))?;
        self.memory_limit.set(bytes);
        Ok(())
    }

    /// The limits calls into scripts run under, and how often they were hit.
    pub fn limit_stats(&self) -> crate::stats::LimitStats {
        crate::stats::LimitStats {
            callback_budget_ms: self
                .budget
                .limit()
                .map_or(0, |l| u64::try_from(l.as_millis()).unwrap_or(u64::MAX)),
            stopped: self.budget.stopped(),
            memory_limit_bytes: self.memory_limit.get().map_or(0, |b| b as u64),
            jit: self.jit_enabled.get(),
        }
    }

    /// Loads script text (instrumented for the budget) as a function named `name`.
    fn load_text(&self, source: &str, name: &str, path: &str) -> Result<Function, Error> {
        let text = instrument::wrap(source).map_err(|r| r.script_error(path))?;
        let chunk = self
            .lua
            .load(text)
            .set_name(name)
            .set_mode(ChunkMode::Text)
            .into_function()
            .map_err(|e| ScriptError::from_lua(&e, path))?;
        self.bind(chunk)
            .map_err(|e| ScriptError::from_lua(&e, path).into())
    }

    /// A loaded chunk made runnable: it receives the budget's tick.
    fn bind(&self, chunk: Function) -> mlua::Result<Function> {
        self.bind.call(chunk)
    }

    /// Runs a chunk of Lua statements.
    ///
    /// # Errors
    /// A syntax or runtime error, located at `(inline):LINE`.
    pub fn exec(&self, source: &str) -> Result<(), Error> {
        let function = self.load_text(source, &format!("={INLINE_CHUNK}"), INLINE_CHUNK)?;
        let _entered = self.budget.enter();
        function
            .call::<()>(())
            .map_err(|e| ScriptError::from_lua(&e, INLINE_CHUNK).into())
    }

    /// Evaluates Lua source as an expression (`1 + 2`) or, failing that, as statements with a
    /// `return` (`local x = 2; return x * x`), and returns what it produced.
    ///
    /// # Errors
    /// A syntax or runtime error, located at `(inline):LINE`.
    pub fn eval(&self, source: &str) -> Result<MultiValue, Error> {
        let name = format!("={INLINE_CHUNK}");
        let function = match self.load_text(&format!("return {source}"), &name, INLINE_CHUNK) {
            Ok(f) => f,
            Err(_) => self.load_text(source, &name, INLINE_CHUNK)?,
        };
        let _entered = self.budget.enter();
        function
            .call(())
            .map_err(|e| ScriptError::from_lua(&e, INLINE_CHUNK).into())
    }

    /// Runs a script's source and keeps the table it returns as the module for `path`,
    /// replacing any earlier version. Compiles in this state, without a cache.
    ///
    /// # Errors
    /// [`Error::BadScriptPath`] for a path that is not a `res://` or `user://` `.lua` file,
    /// [`Error::Script`] for a syntax or runtime error, [`Error::NotAModule`] when the chunk
    /// does not return a table.
    pub fn load_module(&self, path: &str, source: &str) -> Result<Table, Error> {
        let function = self.compile(path, source)?;
        self.run_module(path, &function)
    }

    /// Compiles a script's source in this state, without a cache.
    ///
    /// # Errors
    /// [`Error::BadScriptPath`] or the syntax error.
    pub fn compile(&self, path: &str, source: &str) -> Result<Function, Error> {
        check_script_path(path)?;
        self.load_text(source, &format!("@{path}"), path)
    }

    /// Like [`Self::load_module`], but takes the script's bytecode from `cache`, which
    /// compiles it on its own thread when it has no current entry. This state only loads
    /// bytecode that passed the cache's checks.
    ///
    /// # Errors
    /// As [`Self::load_module`]; a syntax error of unchanged source is the remembered one.
    pub fn load_module_cached(
        &self,
        request: Request<'_>,
        cache: &BytecodeCache,
    ) -> Result<Table, Error> {
        let function = self.chunk_cached(request, cache)?;
        self.run_module(request.path, &function)
    }

    /// The main chunk of a script, its bytecode taken from `cache` (compiled on the cache's
    /// thread when there is no current entry), ready to run.
    ///
    /// # Errors
    /// As [`Self::compile`]; a syntax error of unchanged source is the remembered one.
    pub fn chunk_cached(
        &self,
        request: Request<'_>,
        cache: &BytecodeCache,
    ) -> Result<Function, Error> {
        let path = request.path;
        check_script_path(path)?;
        let started = Instant::now();
        let (bytecode, level) = cache.fetch(request)?;
        // A memory hit for source whose chunk this state already holds needs no loading.
        let ready = (level == Level::Memory)
            .then(|| {
                let chunks = self.chunks.borrow();
                let (hash, function) = chunks.get(path)?;
                (*hash == bytecode.source_hash).then(|| function.clone())
            })
            .flatten();
        let function = match ready {
            Some(function) => function,
            None => match self.load_bytecode(path, &bytecode.bytes) {
                Ok(function) => function,
                Err(e) => {
                    tracing::warn!(
                        "{path}: cached bytecode did not load ({e}); compiling it again"
                    );
                    cache.reject_unloadable(path);
                    let (again, _) = cache.fetch(request)?;
                    self.load_bytecode(path, &again.bytes)
                        .map_err(|e| ScriptError::from_lua(&e, path))?
                }
            },
        };
        let mut spent = started.elapsed().as_micros() as u64;
        if level == Level::Compiled {
            spent = spent.saturating_sub(u64::from(bytecode.compile_us));
        }
        cache.record_load(spent);
        self.chunks
            .borrow_mut()
            .insert(path.to_owned(), (bytecode.source_hash, function.clone()));
        Ok(function)
    }

    /// Loads bytecode the cache vouched for into this state (the cache compiled it from
    /// instrumented source).
    fn load_bytecode(&self, path: &str, bytes: &[u8]) -> mlua::Result<Function> {
        let chunk = self
            .lua
            .load(bytes)
            .set_name(format!("@{path}"))
            .set_mode(ChunkMode::Binary)
            .into_function()?;
        self.bind(chunk)
    }

    /// Runs a script's main chunk and keeps the table it returns as the module of `path`.
    ///
    /// # Errors
    /// [`Error::Script`] for a runtime error, [`Error::NotAModule`] when the chunk does not
    /// return a table.
    pub fn run_module(&self, path: &str, function: &Function) -> Result<Table, Error> {
        let before = self.lua.used_memory();
        let entered = self.budget.enter();
        let value: Value = function
            .call(())
            .map_err(|e| ScriptError::from_lua(&e, path))?;
        drop(entered);
        self.heap.record_load(path, before, self.lua.used_memory());
        let Value::Table(module) = value else {
            return Err(Error::NotAModule {
                path: path.to_owned(),
                returned: lua_type_name(&value).to_owned(),
            });
        };
        self.modules
            .borrow_mut()
            .insert(path.to_owned(), module.clone());
        self.scripts_loaded.set(self.scripts_loaded.get() + 1);
        tracing::debug!(path, "script loaded");
        Ok(module)
    }

    /// The module loaded for `path`, if any.
    pub fn module(&self, path: &str) -> Option<Table> {
        self.modules.borrow().get(path).cloned()
    }

    /// Drops the module of `path`, so the next load runs the file again.
    pub fn forget_module(&self, path: &str) -> bool {
        self.chunks.borrow_mut().remove(path);
        self.heap.forget(path);
        self.modules.borrow_mut().remove(path).is_some()
    }

    /// A script file moved: its loaded module (if any) is now the module of `to`.
    pub fn rename_module(&self, from: &str, to: &str) {
        self.heap.rename(from, to);
        let mut chunks = self.chunks.borrow_mut();
        if let Some(chunk) = chunks.remove(from) {
            chunks.insert(to.to_owned(), chunk);
        }
        let mut modules = self.modules.borrow_mut();
        if let Some(module) = modules.remove(from) {
            modules.insert(to.to_owned(), module);
        }
    }

    /// Calls a script function, locating any error in `path` when Lua gives no location.
    ///
    /// # Errors
    /// The Lua error raised by the function, as an [`Error::Script`].
    pub fn call<R: mlua::FromLuaMulti>(
        &self,
        function: &Function,
        args: impl IntoLuaMulti,
        path: &str,
    ) -> Result<R, Error> {
        let _entered = self.budget.enter();
        function
            .call(args)
            .map_err(|e| ScriptError::from_lua(&e, path).into())
    }

    /// How many scripts have been loaded (a reload counts again).
    pub fn scripts_loaded(&self) -> u64 {
        self.scripts_loaded.get()
    }

    /// How many distinct scripts are loaded now.
    pub fn module_count(&self) -> usize {
        self.modules.borrow().len()
    }

    /// Paths of the modules currently loaded.
    pub fn loaded_paths(&self) -> Vec<String> {
        let mut paths: Vec<_> = self.modules.borrow().keys().cloned().collect();
        paths.sort();
        paths
    }

    /// Bytes the Lua heap uses now.
    pub fn memory_bytes(&self) -> usize {
        self.lua.used_memory()
    }

    /// Completed garbage-collection cycles since start-up.
    pub fn gc_cycles(&self) -> u64 {
        self.heap.cycles()
    }

    /// Heap added by each loaded script's latest load (its module, functions and top-level
    /// data), by path.
    pub fn memory_by_script(&self) -> std::collections::BTreeMap<String, u64> {
        self.heap.by_script()
    }

    /// Runs a full garbage collection.
    ///
    /// # Errors
    /// Only a `__gc` metamethod that raises can fail it.
    pub fn collect_garbage(&self) -> mlua::Result<()> {
        self.lua.expire_registry_values();
        self.gc.collect(&self.lua)
    }

    /// How garbage collection is paced (see [`gc`]).
    pub fn gc(&self) -> &GcPacer {
        &self.gc
    }

    /// Sets the time the collector may take at each frame's end (`None`: Lua collects as it
    /// allocates).
    pub fn set_gc_budget(&self, budget: Option<std::time::Duration>) {
        self.gc.set_budget(&self.lua, budget);
    }

    /// At the end of each frame: releases the values whose registry handles were dropped
    /// (the registry keeps them until then) and runs the collector's share of
    /// the frame.
    ///
    /// # Errors
    /// Only a `__gc` metamethod that raises can fail it.
    pub fn end_frame(&self) -> mlua::Result<()> {
        self.lua.expire_registry_values();
        self.gc.end_frame(&self.lua, self.heap.cycles())
    }
}

/// Accepts `res://` and `user://` paths of `.lua` files.
///
/// # Errors
/// [`Error::BadScriptPath`] for anything else.
pub fn check_script_path(path: &str) -> Result<(), Error> {
    if is_rooted(path) && path.ends_with(".lua") && !climbs(path) {
        Ok(())
    } else {
        Err(Error::BadScriptPath {
            path: path.to_owned(),
        })
    }
}

/// Whether `path` is under `res://` or `user://`, the only places scripts reach.
pub fn is_rooted(path: &str) -> bool {
    path.starts_with("res://") || path.starts_with("user://")
}

/// Whether `path` has a `..` segment (with either slash), which could climb out of its root.
pub fn climbs(path: &str) -> bool {
    path.split(['/', '\\']).any(|segment| segment == "..")
}

/// The type name Lua's own `type()` gives (mlua says "integer" where Lua says "number").
pub fn lua_type_name(value: &Value) -> &'static str {
    match value {
        Value::Integer(_) => "number",
        other => other.type_name(),
    }
}
