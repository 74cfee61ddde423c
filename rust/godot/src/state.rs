//! The runtime's state: one Lua host per process, living on the main thread.
//!
//! It sits in a thread-local rather than inside the `LuaRuntime` object so that Lua code may
//! call back into the engine, and the engine into Lua, at any depth without tripping over a
//! borrowed Godot object. Borrows of its `RefCell`s are kept short and never span a Lua call.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use godot::obj::InstanceId;
use lua_runtime_core::bytecode::{Request, SourceHash};
use lua_runtime_core::errors::ErrorReporter;
use lua_runtime_core::host::require::Libraries;
use lua_runtime_core::host::tasks::{Outcome, Parked, Tasks};
use lua_runtime_core::stats::{LuaStats, ScriptStats};
use lua_runtime_core::{BytecodeCache, Error, LUA_FLAVOUR, LuaHost, ScriptError, StatsSnapshot};
use mlua::{Function, IntoLuaMulti, MultiValue, Table};

use crate::assets::Assets;
use crate::batch::{Batches, Plan, PlanFields};
use crate::callbacks::CallbackNames;
use crate::cleanup::Cleanup;
use crate::events::Events;
use crate::expressions::Expressions;
use crate::queries::Queries;
use crate::reload::HotReload;
use crate::running::Running;
use crate::{assets, bridge, debugger, errors, monitors, reload, settings, source};

/// The Lua host and the bookkeeping around it.
pub struct RuntimeState {
    pub host: LuaHost,
    pub bridge: bridge::Bridge,
    pub reporter: RefCell<ErrorReporter>,
    /// `None` when the project turned the cache off or its thread could not start.
    pub cache: Option<BytecodeCache>,
    /// Runner coroutines for callbacks, and the ones waiting in `await`.
    pub tasks: Tasks,
    /// Modules loaded with `require`.
    pub libraries: Libraries,
    /// The nodes running each script.
    pub running: Running,
    pub reload: HotReload,
    /// Cached node queries (`query`).
    pub queries: Queries,
    /// SEXP expressions (`LuaRuntime.evaluate`, `sexp`).
    pub expressions: Expressions,
    /// Events between scripts (`events`).
    pub events: Events,
    /// Resources loading in the background for `load_async`.
    pub assets: Assets,
    /// Batched `_process` and `_physics_process`.
    pub batches: Batches,
    /// The callbacks' names as Lua strings.
    pub callbacks: CallbackNames,
    /// Unloads scripts nothing uses.
    pub cleanup: Cleanup,
    /// The source each loaded script was compiled from, to tell which files changed since.
    sources: RefCell<HashMap<String, SourceHash>>,
}

thread_local! {
    static STATE: RefCell<Option<Rc<RuntimeState>>> = const { RefCell::new(None) };
    static SHUT_DOWN: Cell<bool> = const { Cell::new(false) };
    /// Whose script code is running now.
    static CONTEXT: RefCell<Context> = const { RefCell::new(Context::Node(None)) };
}

/// Whose script code is running.
enum Context {
    /// One node's callback or coroutine (or none: code not run for a node).
    Node(Option<InstanceId>),
    /// A batch: the node at its plan table's `at`, among the plan's nodes.
    Batch(Table, Plan, PlanFields),
}

/// How a call into script code ended.
pub enum Step {
    Returned(MultiValue),
    /// Suspended in `await`; it resumes later.
    Waiting,
    /// It raised an error, which was reported.
    Failed,
}

impl Step {
    pub fn returned(self) -> Option<MultiValue> {
        match self {
            Step::Returned(values) => Some(values),
            Step::Waiting | Step::Failed => None,
        }
    }
}

/// The node whose callback is running, for tying an `await` to it.
pub fn current_owner() -> Option<InstanceId> {
    CONTEXT.with_borrow(|context| match context {
        Context::Node(owner) => *owner,
        Context::Batch(plan, nodes, fields) => {
            let at = fields.at(plan)?;
            nodes.get(at.checked_sub(1)?).map(|i| i.node)
        }
    })
}

/// Runs `f` in `context`, restoring the outer one after.
fn within<R>(context: Context, f: impl FnOnce() -> R) -> R {
    let outer = CONTEXT.replace(context);
    let result = f();
    CONTEXT.set(outer);
    result
}

/// The runtime state, made on first use. `None` once the extension is shutting down, or if
/// Lua could not start (reported once).
pub fn get() -> Option<Rc<RuntimeState>> {
    if SHUT_DOWN.with(Cell::get) {
        return None;
    }
    if crate::bridge::fast::busy() {
        godot::global::godot_error!(
            "Lua runtime: the engine called back into Lua while Lua was inside an engine \
             call made from compiled code; that callback was skipped"
        );
        return None;
    }
    if let Some(state) = STATE.with_borrow(Clone::clone) {
        return Some(state);
    }
    match RuntimeState::new() {
        Ok(state) => {
            let state = Rc::new(state);
            STATE.with_borrow_mut(|slot| *slot = Some(state.clone()));
            Some(state)
        }
        Err(e) => {
            godot::global::godot_error!("Lua runtime could not start: {e}");
            SHUT_DOWN.with(|s| s.set(true));
            None
        }
    }
}

/// The runtime state, for Lua functions: an error once the extension is shutting down.
///
/// # Errors
/// When there is no running state.
pub fn running() -> mlua::Result<Rc<RuntimeState>> {
    existing().ok_or_else(|| mlua::Error::runtime("the Lua runtime is shutting down"))
}

/// The runtime state if it exists already; never creates it.
pub fn existing() -> Option<Rc<RuntimeState>> {
    STATE.with_borrow(Clone::clone)
}

/// When the main loop starts: starts the runtime and, if the project wants it, compiles every
/// script in the background.
pub fn start() {
    let Some(state) = get() else { return };
    if settings::warm_on_startup() {
        state.warm();
    }
    state.read_settings();
    let reread = godot::builtin::Callable::from_fn("lua_runtime_settings", |_| {
        if let Some(state) = existing() {
            state.read_settings();
        }
    });
    <godot::classes::ProjectSettings as godot::obj::Singleton>::singleton()
        .connect("settings_changed", &reread);
    reload::start(&state);
    monitors::register();
    debugger::start();
}

/// Once per frame, after every node's `_process`.
pub fn frame() {
    if let Some(state) = existing() {
        state.batches.end_frame();
        reload::poll(&state);
        state.cleanup.poll(&state);
        assets::poll(&state);
        errors::flush(&state);
        debugger::frame(&state);
        // Last: collection gets what is left of the frame's budget for it.
        if let Err(e) = state.host.end_frame() {
            godot::global::godot_error!("Lua garbage collection failed: {e}");
        }
    }
}

/// Closes the Lua state, releasing every engine object Lua still references.
pub fn shutdown() {
    debugger::stop();
    monitors::unregister();
    SHUT_DOWN.with(|s| s.set(true));
    bridge::callable::clear();
    let state = STATE.with_borrow_mut(Option::take);
    if let Some(state) = &state {
        state.queries.stop();
        state.expressions.stop();
        state.events.clear();
        state.batches.clear(state.host.lua());
        state.assets.clear();
    }
    drop(state);
    // Some objects Lua touched (engine singletons) are freed after the library is unloaded.
    bridge::fast::shut_down();
}

impl RuntimeState {
    fn new() -> mlua::Result<Self> {
        let host = LuaHost::new()?;
        host.budget().set_limit(settings::callback_budget());
        host.set_gc_budget(settings::gc_frame_budget());
        let batches = Batches::new(host.lua())?;
        let callbacks = CallbackNames::new(host.lua())?;
        let bridge = bridge::Bridge::install(host.lua())?;
        let tasks = Tasks::install(host.lua(), bridge::waiting::waiter(host.lua())?)?;
        let cache = settings::cache_config().and_then(|config| {
            BytecodeCache::new(config)
                .inspect_err(|e| godot::global::godot_error!("Lua bytecode cache is off: {e}"))
                .ok()
        });
        Ok(RuntimeState {
            host,
            bridge,
            reporter: RefCell::new(ErrorReporter::default()),
            cache,
            tasks,
            libraries: Libraries::default(),
            running: Running::default(),
            reload: HotReload::default(),
            queries: Queries::default(),
            expressions: Expressions::default(),
            events: Events::default(),
            assets: Assets::default(),
            batches,
            callbacks,
            cleanup: Cleanup::default(),
            sources: RefCell::new(HashMap::new()),
        })
    }

    /// Calls a script function on a runner coroutine (so it may `await`), reporting any
    /// error against `path`. `None` when it failed or is waiting.
    pub fn run(
        &self,
        function: &Function,
        args: impl IntoLuaMulti,
        path: &str,
        owner: Option<InstanceId>,
    ) -> Option<MultiValue> {
        self.call(function, args, path, owner).returned()
    }

    /// As [`Self::run`], telling a failure from a coroutine that waits.
    pub fn call(
        &self,
        function: &Function,
        args: impl IntoLuaMulti,
        path: &str,
        owner: Option<InstanceId>,
    ) -> Step {
        self.drive(path, owner, || {
            self.tasks.call(self.host.lua(), function, args)
        })
    }

    /// Resumes a coroutine that waited, with what it waited for.
    pub fn resume(
        &self,
        parked: Parked,
        args: MultiValue,
        path: &str,
        owner: Option<InstanceId>,
    ) -> Option<MultiValue> {
        self.drive(path, owner, || {
            self.tasks.resume(self.host.lua(), parked, args)
        })
        .returned()
    }

    /// Runs script code in the context of `owner`, reporting its error against `path`.
    fn drive(
        &self,
        path: &str,
        owner: Option<InstanceId>,
        step: impl FnOnce() -> mlua::Result<Outcome>,
    ) -> Step {
        let _entered = self.host.budget().enter();
        match within(Context::Node(owner), step) {
            Ok(Outcome::Returned(values)) => Step::Returned(values),
            Ok(Outcome::Waiting) => Step::Waiting,
            Err(e) => {
                self.report(&ScriptError::from_lua(&e, path).into());
                Step::Failed
            }
        }
    }

    /// Empties the bytecode cache (in memory and on disk) and the query cache.
    pub fn clear_caches(&self) {
        if let Some(cache) = &self.cache {
            cache.clear();
        }
        self.queries.clear();
        self.expressions.clear();
    }

    /// Runs a full Lua garbage collection.
    pub fn collect_garbage(&self) {
        if let Err(e) = self.host.collect_garbage() {
            godot::global::godot_error!("Lua garbage collection failed: {e}");
        }
    }

    /// Queues every `.lua` file of the project for background compilation. Only where the
    /// scripts are plain files (an exported game ships its bytecode instead).
    pub fn warm(&self) -> bool {
        match (&self.cache, settings::project_dir()) {
            (Some(cache), Some(dir)) => {
                cache.warm_directory(dir);
                true
            }
            _ => false,
        }
    }

    /// The module of the script at `path`, loading the file the first time.
    ///
    /// # Errors
    /// A missing or unreadable file, or an error while running the script's top level.
    pub fn module(&self, path: &str) -> Result<Table, Error> {
        if let Some(module) = self.host.module(path) {
            return Ok(module);
        }
        self.load(path)
    }

    /// Loads (or loads again) the script at `path` from its file.
    ///
    /// # Errors
    /// As [`Self::module`].
    pub fn load(&self, path: &str) -> Result<Table, Error> {
        let chunk = self.chunk(path)?;
        let module = self.host.run_module(path, &chunk)?;
        crate::runtime::emit_script_loaded(path);
        Ok(module)
    }

    /// The compiled main chunk of the script at `path`, through the bytecode cache when the
    /// project uses it.
    ///
    /// # Errors
    /// A bad path, a missing or unreadable file, or a syntax error.
    pub fn chunk(&self, path: &str) -> Result<Function, Error> {
        lua_runtime_core::host::check_script_path(path)?;
        let Some(cache) = &self.cache else {
            let text = source::read(path)?;
            self.remember_source(path, &text);
            return self.host.compile(path, &text);
        };
        let strip = cache.strips();
        let shipped = || source::read_shipped(path, strip);
        let request = Request {
            path,
            source: None,
            fingerprint: None,
            shipped: Some(&shipped),
        };
        match source::read_with_fingerprint(path) {
            Ok((text, fingerprint)) => {
                self.remember_source(path, &text);
                self.host.chunk_cached(
                    Request {
                        source: Some(&text),
                        fingerprint: Some(fingerprint),
                        ..request
                    },
                    cache,
                )
            }
            // An exported game may ship bytecode without the source.
            Err(missing @ Error::ScriptNotFound { .. }) => {
                if !source::has_shipped(path, strip) {
                    return Err(missing);
                }
                self.host.chunk_cached(request, cache)
            }
            Err(other) => Err(other),
        }
    }

    fn remember_source(&self, path: &str, text: &str) {
        self.sources
            .borrow_mut()
            .insert(path.to_owned(), SourceHash::of(text));
    }

    /// Loaded scripts whose file is no longer the source they were compiled from (edited,
    /// replaced or deleted), in path order.
    pub fn changed_scripts(&self) -> Vec<String> {
        let mut known: Vec<String> = self.sources.borrow().keys().cloned().collect();
        known.sort();
        known.retain(|path| self.source_changed(path));
        known
    }

    /// Whether the file at `path` differs from the source last compiled from it (true when
    /// it was never compiled, or cannot be read now). A save that wrote the same text, or a
    /// touch, is no change.
    pub fn source_changed(&self, path: &str) -> bool {
        let Some(known) = self.sources.borrow().get(path).copied() else {
            return true;
        };
        source::read(path).map_or(true, |text| SourceHash::of(&text) != known)
    }

    /// Unloads the script at `path` (nothing uses it): its module, what is remembered of
    /// its source, and its bytecode in memory (the disk cache keeps it, so loading it again
    /// is quick). Values scripts still hold stay alive as Lua keeps them.
    pub fn unload(&self, path: &str) {
        self.host.forget_module(path);
        self.libraries.unload(path);
        self.sources.borrow_mut().remove(path);
        if let Some(cache) = &self.cache {
            cache.release(path);
        }
        tracing::debug!(path, "unused script unloaded");
        crate::runtime::emit_script_unloaded(path);
    }

    /// A script file moved (renamed in the editor): what the runtime keeps by path follows it.
    pub fn script_moved(&self, from: &str, to: &str) {
        self.host.rename_module(from, to);
        self.libraries.rename(from, to);
        if let Some(hash) = self.sources.borrow_mut().remove(from) {
            self.sources.borrow_mut().insert(to.to_owned(), hash);
        }
        if let Some(cache) = &self.cache {
            cache.invalidate(from);
        }
    }

    /// Reads the project settings the runtime follows while running.
    fn read_settings(&self) {
        self.queries.read_settings();
        self.expressions.read_settings();
        self.batches.set_enabled(settings::batch_callbacks());
        self.host.budget().set_limit(settings::callback_budget());
        self.host.set_gc_budget(settings::gc_frame_budget());
        self.cleanup.set_grace(settings::unload_unused_after());
        self.bridge.pool.set_enabled(settings::pool_values());
        let memory = settings::memory_limit();
        if memory.is_some_and(|cap| cap <= self.host.memory_bytes()) {
            godot::global::godot_warn!(
                "{}: the Lua heap already uses {} bytes, more than the cap; the cap is not applied",
                settings::MEMORY_LIMIT,
                self.host.memory_bytes()
            );
        } else if let Err(e) = self.host.set_memory_limit(memory) {
            godot::global::godot_warn!("{}: cannot cap the Lua heap ({e})", settings::MEMORY_LIMIT);
        }
        if let Err(e) = self.host.set_jit_enabled(settings::jit_enabled()) {
            godot::global::godot_error!("{}: {e}", settings::JIT_ENABLED);
        }
    }

    /// Runs `f`, a batch call over `nodes` with plan table `plan`: `await` and `events.on`
    /// inside it belong to the node at `plan.at`.
    /// Each node of the batch runs on its own time budget.
    pub fn within_batch<R>(&self, plan: &Table, nodes: &Plan, f: impl FnOnce() -> R) -> R {
        let fields = self.batches.fields.clone();
        let (keyed, keyed_fields) = (plan.clone(), fields.clone());
        let _entered = self.host.budget().enter_keyed(move || {
            let node = keyed_fields.at(&keyed).unwrap_or(0) as u64;
            node | keyed_fields.generation(&keyed) << 32
        });
        within(Context::Batch(plan.clone(), nodes.clone(), fields), f)
    }

    /// Reports an error through the one error path (log, `script_error`, counters).
    pub fn report(&self, err: &Error) {
        errors::report(self, err);
    }

    pub fn stats(&self) -> StatsSnapshot {
        StatsSnapshot {
            lua: LuaStats {
                flavour: LUA_FLAVOUR.to_owned(),
                memory_bytes: self.host.memory_bytes() as u64,
                extension_bytes: crate::alloc::in_use(),
                gc_cycles: self.host.gc_cycles(),
                memory_by_script: self.host.memory_by_script(),
                jit: self.host.jit_stats(),
            },
            scripts: ScriptStats {
                loaded: self.host.scripts_loaded(),
                modules: self.host.module_count() as u64,
                instances: self.running.count(),
                required: self.libraries.count() as u64,
                unused: self.cleanup.counts().0,
                unloaded: self.cleanup.counts().1,
            },
            errors: self.reporter.borrow().stats(),
            bytecode: self
                .cache
                .as_ref()
                .map(BytecodeCache::stats)
                .unwrap_or_default(),
            names: self.bridge.names.stats(),
            tasks: self.tasks.stats(),
            reload: self.reload.stats(),
            queries: self.queries.stats(),
            expressions: self.expressions.stats(),
            events: self.events.stats(),
            frame: self.batches.stats(),
            limits: self.host.limit_stats(),
            gc: self.host.gc().stats(),
            pool: self.bridge.pool.stats(),
        }
    }
}
