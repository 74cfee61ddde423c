//! The statistics snapshot: one schema for `get_stats()`, the editor panel and the debugger.
//!
//! Each area of the runtime owns a section; the snapshot is plain data (serde), taken when
//! asked for, so reading statistics never slows the per-frame path.

use std::collections::BTreeMap;

use serde::Serialize;

/// Everything the runtime reports about itself at one moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StatsSnapshot {
    pub lua: LuaStats,
    pub scripts: ScriptStats,
    pub errors: ErrorStats,
    pub bytecode: BytecodeStats,
    pub names: NameStats,
    pub tasks: TaskStats,
    pub reload: ReloadStats,
    pub queries: QueryStats,
    pub events: EventStats,
    pub frame: FrameStats,
    pub expressions: ExpressionStats,
    pub limits: LimitStats,
    pub gc: GcStats,
    pub pool: PoolStats,
}

/// Pooled Lua values: engine objects keep one wrapper while Lua holds it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PoolStats {
    /// Whether pooling is on (a project setting).
    pub enabled: bool,
    /// Conversions of an object that got its pooled wrapper, and ones that made a new one.
    pub objects_reused: u64,
    pub objects_created: u64,
    /// `objects_reused` over all conversions.
    pub reuse_rate: f64,
}

/// The garbage collector and how it is paced (see `host::gc`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GcStats {
    /// Time the collector may take at the end of each frame (0: Lua collects as it
    /// allocates).
    pub frame_budget_us: u64,
    /// Whether Lua's automatic collection is on now (no budget, or an overrun).
    pub automatic: bool,
    /// Incremental steps run at frame ends, and the cycles they finished.
    pub steps: u64,
    pub cycles: u64,
    /// Times scripts allocated faster than the budget could collect, so that automatic
    /// collection was switched on until the heap shrank.
    pub overruns: u64,
    /// The heap when the last cycle ended: roughly the live data.
    pub live_bytes: u64,
    /// Heap growth over the last frame: with a budget, the bytes allocated in it.
    pub allocated_last_frame: u64,
    /// Microseconds the last frame's steps took, and the most any frame's took.
    pub step_us_last: u64,
    pub step_us_max: u64,
}

/// The limits scripts run under, and how often they were hit.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LimitStats {
    /// How long one call into a script may run (0: no limit).
    pub callback_budget_ms: u64,
    /// Calls stopped for running longer.
    pub stopped: u64,
    /// The cap on the Lua heap (0: none).
    pub memory_limit_bytes: u64,
    /// Whether LuaJIT compiles hot code (always false under Lua 5.4).
    pub jit: bool,
}

/// Time spent in Lua `_process` and `_physics_process` callbacks.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FrameStats {
    /// Whether nodes sharing a script run in one Lua call (a project setting).
    pub batching: bool,
    /// Frames measured since start-up.
    pub frames: u64,
    /// Microseconds in Lua callbacks in the last frame, and the mean over recent frames.
    pub lua_us: f64,
    pub lua_us_mean: f64,
    /// Calls from the engine into Lua callbacks in the last frame (a batch counts once).
    pub lua_calls: u64,
    /// Nodes whose callback ran inside a batch in the last frame.
    pub batched_nodes: u64,
    /// The last frame by script path.
    pub by_script: BTreeMap<String, ScriptFrame>,
}

/// One script's share of a frame.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ScriptFrame {
    /// Microseconds in its callbacks.
    pub us: f64,
    /// Callbacks run (one per node and callback kind).
    pub nodes: u64,
    /// Heap its callbacks grew by (with a GC frame budget, the bytes they allocated).
    pub allocated_bytes: u64,
}

/// SEXP expressions (`LuaRuntime.evaluate`, `sexp.eval`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExpressionStats {
    /// Compiled expressions kept by source text.
    pub compiled: u64,
    /// Results held (fresh or invalidated), and the most kept.
    pub entries: u64,
    pub capacity: u64,
    /// Evaluations: from the cache (hits), computed and stored (misses), or computed and not
    /// stored (uncached: volatile, or reading a node outside the tree).
    pub evaluations: u64,
    pub hits: u64,
    pub misses: u64,
    pub uncached: u64,
    /// Hits over evaluations, 0 to 1.
    pub hit_rate: f64,
    /// Results dropped because something they read changed.
    pub invalidations: u64,
    /// Results dropped to keep within the capacity.
    pub evictions: u64,
    /// Node signals connected to hear of changes.
    pub connections: u64,
    /// Runtime variables set.
    pub variables: u64,
    /// The most evaluated expressions, most first.
    pub top: Vec<ExpressionCounts>,
    /// Expressions whose caching does not pay, and why.
    pub hints: Vec<String>,
}

/// One expression in [`ExpressionStats::top`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExpressionCounts {
    pub source: String,
    pub evaluations: u64,
    pub hits: u64,
    pub misses: u64,
    pub uncached: u64,
    pub invalidations: u64,
    pub hit_rate: f64,
    /// Microseconds spent computing it (misses and uncached evaluations).
    pub compute_us: f64,
    /// Why caching it does not pay; empty when it does.
    pub hint: String,
}

/// Cached node queries (`query.group`, `query.children`, ...).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct QueryStats {
    /// Queries asked; answered from the cache (hits) or computed (misses).
    pub queries: u64,
    pub hits: u64,
    pub misses: u64,
    /// Hits over queries, 0 to 1.
    pub hit_rate: f64,
    /// Cached answers dropped because the tree changed in a way that could change them.
    pub invalidations: u64,
    /// Queries rooted outside the tree, computed every time (no signal tells of changes).
    pub uncached: u64,
    /// Answers held now, and the most the cache holds.
    pub entries: u64,
    pub capacity: u64,
    /// The most asked queries, most asked first.
    pub top: Vec<QueryCounts>,
}

/// One query signature in [`QueryStats::top`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct QueryCounts {
    /// The query as written: `group("enemies")`, `children(/root/Main, "Enemy*")`.
    pub signature: String,
    /// `group`, `children`, `by_class` or `by_script`.
    pub kind: String,
    pub queries: u64,
    pub hits: u64,
    pub invalidations: u64,
}

/// Events between scripts (`events.emit`, `LuaRuntime.emit_event`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EventStats {
    /// Events emitted, handler calls made, and calls that raised an error.
    pub emitted: u64,
    pub delivered: u64,
    pub errors: u64,
    /// Subscriptions standing now, in all and per event name.
    pub subscriptions: u64,
    pub by_name: BTreeMap<String, u64>,
}

/// Hot reload. Latencies run from the file event to the new code being active.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReloadStats {
    /// Whether the file watcher is on in this process.
    pub watching: bool,
    /// Scripts reloaded, and changed scripts that failed to load (their old code kept running).
    pub reloads: u64,
    pub failures: u64,
    /// Latency of the last reload, and the median and 95th percentile of recent ones.
    pub last_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    /// The latest reloads, newest first.
    pub recent: Vec<ReloadRecord>,
}

/// One reload in [`ReloadStats::recent`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReloadRecord {
    pub path: String,
    /// Latency; 0 for a failure.
    pub ms: f64,
    /// Empty for a success, else the error (`path:line: message`).
    pub error: String,
}

/// Interned engine names (property, method and signal names used from Lua).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NameStats {
    /// Names held ready for reuse.
    pub interned: u64,
    /// Lookups answered from the cache, and lookups that had to make the name.
    pub hits: u64,
    pub misses: u64,
}

/// Callbacks run on coroutines, and the ones suspended in `await`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TaskStats {
    /// Coroutines suspended in `await` now.
    pub waiting: u64,
    /// Calls started on a runner coroutine.
    pub started: u64,
    /// Resumes after an `await`.
    pub resumed: u64,
    /// Waiting coroutines abandoned (their node was freed, or what they waited for was).
    pub dropped: u64,
    /// Runner coroutines made, and how many sit idle for reuse.
    pub runners: u64,
    pub idle_runners: u64,
}

/// The Lua state.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LuaStats {
    /// `LuaJIT` or `Lua 5.4`.
    pub flavour: String,
    /// Bytes in use by the Lua heap.
    pub memory_bytes: u64,
    /// Bytes the extension's own (Rust) code holds: Lua heap and Godot's objects not
    /// included.
    pub extension_bytes: u64,
    /// Garbage-collection cycles completed since start-up.
    pub gc_cycles: u64,
    /// Heap each loaded script's latest load added (module, functions, top-level data).
    pub memory_by_script: BTreeMap<String, u64>,
    /// LuaJIT's trace compiler.
    pub jit: JitStats,
}

/// What LuaJIT's trace compiler did since start-up (see `host::traces`). All zero and
/// `enabled` false under Lua 5.4.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct JitStats {
    /// Whether LuaJIT compiles now (the project setting `lua_runtime/performance/jit`).
    pub enabled: bool,
    /// Traces compiled.
    pub traces: u64,
    /// Trace recordings given up.
    pub aborts: u64,
    /// Of those, the ones that reached code LuaJIT had blacklisted after repeated failures:
    /// a loop through such code stays in the interpreter. A count that keeps growing
    /// points at `last_abort`.
    pub aborts_blacklisted: u64,
    /// `"source:line: reason"` of the latest abort (empty before the first).
    pub last_abort: String,
}

/// Scripts and the nodes running them.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ScriptStats {
    /// Script loads since start-up (a reload counts again).
    pub loaded: u64,
    /// Distinct script files currently loaded.
    pub modules: u64,
    /// LuaScriptNodes currently running a script.
    pub instances: u64,
    /// Modules loaded with `require`.
    pub required: u64,
    /// Loaded scripts nothing uses now, waiting out the grace period before they unload.
    pub unused: u64,
    /// Scripts unloaded since start-up because nothing used them.
    pub unloaded: u64,
}

/// Script errors since start-up.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ErrorStats {
    /// Every error raised, reported or not.
    pub total: u64,
    /// Errors shown in the log and sent as `script_error`.
    pub reported: u64,
    /// Repeats held back by the throttle.
    pub suppressed: u64,
    /// The latest distinct errors, newest first (a repeat moves its error to the front).
    pub recent: Vec<ErrorRecord>,
}

/// One error in [`ErrorStats::recent`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ErrorRecord {
    pub path: String,
    /// 0 when the error has no line (a missing file).
    pub line: u32,
    pub message: String,
    /// Times it happened, repeats held back included.
    pub count: u64,
}

/// The bytecode cache (see `bytecode`). Times are in microseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BytecodeStats {
    /// Off when the project turned the cache off (every load then compiles).
    pub enabled: bool,
    /// Lua flavour, version and pointer width the entries are for.
    pub flavour: String,
    /// Loads served by each level, and loads that had to compile.
    pub hits_memory: u64,
    pub hits_disk: u64,
    /// Entries an exported game ships.
    pub hits_shipped: u64,
    pub misses: u64,
    /// Hits over loads, 0 to 1.
    pub hit_rate: f64,
    /// Successful compiles (loads and warming).
    pub compiles: u64,
    /// Compiles that failed with a syntax error.
    pub compile_failures: u64,
    /// Loads of unchanged broken source answered with the remembered error.
    pub failure_hits: u64,
    /// Stored entries refused (and deleted), and why.
    pub rejected: u64,
    pub rejected_reasons: BTreeMap<String, u64>,
    /// Entries dropped because their file changed or was invalidated.
    pub invalidations: u64,
    /// Entries dropped to keep the memory and disk budgets.
    pub evictions: u64,
    pub disk_evictions: u64,
    pub entries_memory: u64,
    pub entries_disk: u64,
    pub bytes_memory: u64,
    pub bytes_disk: u64,
    pub max_memory_bytes: u64,
    /// Where entries persist; empty when memory-only.
    pub disk_directory: String,
    /// Why the disk level is off, when it could not be opened.
    pub disk_error: String,
    /// Time spent compiling, on the compiler thread.
    pub compile_time_us: u64,
    /// Main-thread time spent fetching entries and loading them into Lua.
    pub load_time_us: u64,
    /// Compile time the hits avoided.
    pub time_saved_us: u64,
    /// Scripts queued for background compilation, and how many are done.
    pub warm_queued: u64,
    pub warm_done: u64,
    /// Jobs (warming, disk writes) queued or running on the compiler thread.
    pub pending_jobs: u64,
}

impl StatsSnapshot {
    /// The snapshot as JSON, the form the extension turns into a Godot Dictionary.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}
