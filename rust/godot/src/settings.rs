//! The runtime's project settings (Project Settings > Lua Runtime), registered at start-up with
//! their defaults and editor hints, and read when the runtime starts.

use std::path::PathBuf;

use godot::classes::{Os, ProjectSettings};
use godot::prelude::*;
use godot::register::info::PropertyHint;
use lua_runtime_core::bytecode::CacheConfig;

pub const CACHE_ENABLED: &str = "lua_runtime/bytecode_cache/enabled";
pub const CACHE_MAX_MEMORY: &str = "lua_runtime/bytecode_cache/max_memory_bytes";
pub const CACHE_DIRECTORY: &str = "lua_runtime/bytecode_cache/directory";
pub const CACHE_MAX_DISK: &str = "lua_runtime/bytecode_cache/max_disk_bytes";
pub const CACHE_WARM: &str = "lua_runtime/bytecode_cache/warm_on_startup";
pub const EXPORT_STRIP_SOURCE: &str = "lua_runtime/export/strip_source";
pub const HOT_RELOAD_ENABLED: &str = "lua_runtime/hot_reload/enabled";
pub const HOT_RELOAD_DEBOUNCE: &str = "lua_runtime/hot_reload/debounce_ms";
pub const QUERIES_CHECK_GROUP_MEMBERS: &str = "lua_runtime/queries/check_group_members";
pub const BATCH_CALLBACKS: &str = "lua_runtime/performance/batch_callbacks";
pub const EXPRESSION_RESULTS: &str = "lua_runtime/expressions/max_cached_results";
pub const CALLBACK_BUDGET: &str = lua_runtime_core::host::budget::SETTING;
pub const MEMORY_LIMIT: &str = lua_runtime_core::host::MEMORY_SETTING;
pub const JIT_ENABLED: &str = "lua_runtime/performance/jit";
pub const GC_FRAME_BUDGET: &str = lua_runtime_core::host::gc::SETTING;
pub const POOL_VALUES: &str = "lua_runtime/performance/pool_values";
pub const UNLOAD_UNUSED_AFTER: &str = "lua_runtime/memory/unload_unused_after_s";

const DEFAULT_DEBOUNCE_MS: i64 = 15;
const DEFAULT_EXPRESSION_RESULTS: i64 = 16_384;
const DEFAULT_CALLBACK_BUDGET_MS: i64 = 100;
const DEFAULT_MEMORY_MB: i64 = 1024;
const DEFAULT_GC_FRAME_BUDGET_US: i64 = 1000;
const DEFAULT_UNLOAD_AFTER_S: f64 = 30.0;

const MIB: i64 = 1 << 20;

/// Declares every setting: default value, type and editor hint.
pub fn register() {
    let mut settings = ProjectSettings::singleton();
    let bool_setting = |name: &str, default: bool| {
        (
            name.to_owned(),
            default.to_variant(),
            PropertyHint::NONE,
            String::new(),
        )
    };
    let entries = [
        bool_setting(CACHE_ENABLED, true),
        (
            CACHE_MAX_MEMORY.to_owned(),
            (32 * MIB).to_variant(),
            PropertyHint::RANGE,
            "0,4294967296,1,suffix:bytes".to_owned(),
        ),
        (
            CACHE_DIRECTORY.to_owned(),
            "user://lua_bytecode".to_variant(),
            PropertyHint::DIR,
            String::new(),
        ),
        (
            CACHE_MAX_DISK.to_owned(),
            (256 * MIB).to_variant(),
            PropertyHint::RANGE,
            "0,68719476736,1,suffix:bytes".to_owned(),
        ),
        bool_setting(CACHE_WARM, true),
        bool_setting(EXPORT_STRIP_SOURCE, false),
        bool_setting(HOT_RELOAD_ENABLED, true),
        bool_setting(QUERIES_CHECK_GROUP_MEMBERS, true),
        bool_setting(BATCH_CALLBACKS, true),
        bool_setting(JIT_ENABLED, true),
        bool_setting(POOL_VALUES, true),
        (
            CALLBACK_BUDGET.to_owned(),
            DEFAULT_CALLBACK_BUDGET_MS.to_variant(),
            PropertyHint::RANGE,
            "0,60000,1,suffix:ms".to_owned(),
        ),
        (
            MEMORY_LIMIT.to_owned(),
            DEFAULT_MEMORY_MB.to_variant(),
            PropertyHint::RANGE,
            "0,65536,1,suffix:MiB".to_owned(),
        ),
        (
            GC_FRAME_BUDGET.to_owned(),
            DEFAULT_GC_FRAME_BUDGET_US.to_variant(),
            PropertyHint::RANGE,
            "0,100000,1,suffix:us".to_owned(),
        ),
        (
            UNLOAD_UNUSED_AFTER.to_owned(),
            DEFAULT_UNLOAD_AFTER_S.to_variant(),
            PropertyHint::RANGE,
            "0,3600,0.01,suffix:s".to_owned(),
        ),
        (
            HOT_RELOAD_DEBOUNCE.to_owned(),
            DEFAULT_DEBOUNCE_MS.to_variant(),
            PropertyHint::RANGE,
            "0,1000,1,suffix:ms".to_owned(),
        ),
        (
            EXPRESSION_RESULTS.to_owned(),
            DEFAULT_EXPRESSION_RESULTS.to_variant(),
            PropertyHint::RANGE,
            "1,1000000,1".to_owned(),
        ),
    ];
    for (name, default, hint, hint_string) in entries {
        if !settings.has_setting(&name) {
            settings.set_setting(&name, &default);
        }
        settings.set_initial_value(&name, &default);
        let mut info = VarDictionary::new();
        info.set("name", name.as_str());
        info.set("type", default.get_type().ord());
        info.set("hint", hint.ord());
        info.set("hint_string", hint_string.as_str());
        settings.add_property_info(&info);
        // These take effect at once; the others when the game starts.
        let live = [
            EXPORT_STRIP_SOURCE,
            QUERIES_CHECK_GROUP_MEMBERS,
            BATCH_CALLBACKS,
            EXPRESSION_RESULTS,
            CALLBACK_BUDGET,
            MEMORY_LIMIT,
            JIT_ENABLED,
            GC_FRAME_BUDGET,
            UNLOAD_UNUSED_AFTER,
            POOL_VALUES,
        ];
        settings.set_restart_if_changed(&name, !live.contains(&name.as_str()));
    }
}

fn get<T: FromGodot>(name: &str, default: T) -> T {
    ProjectSettings::singleton()
        .get_setting(name)
        .try_to()
        .unwrap_or(default)
}

/// The bytecode cache's configuration, `None` when the project turned it off.
pub fn cache_config() -> Option<CacheConfig> {
    if !get(CACHE_ENABLED, true) {
        return None;
    }
    let directory: GString = get(CACHE_DIRECTORY, GString::from("user://lua_bytecode"));
    let directory = directory.to_string();
    let disk_dir = if directory.is_empty() {
        None
    } else {
        Some(globalize(&directory))
    };
    Some(CacheConfig {
        memory_budget: usize::try_from(get(CACHE_MAX_MEMORY, 32 * MIB).max(0)).unwrap_or(0),
        disk_dir,
        disk_budget: u64::try_from(get(CACHE_MAX_DISK, 256 * MIB).max(0)).unwrap_or(0),
        strip: false,
    })
}

/// Whether start-up warming is on.
pub fn warm_on_startup() -> bool {
    get(CACHE_WARM, true)
}

/// Whether a cached group answer checks each member on every ask (exact whatever changes
/// groups), or only the group's size (see the `query` library).
pub fn check_group_members() -> bool {
    get(QUERIES_CHECK_GROUP_MEMBERS, true)
}

/// Whether LuaScriptNodes sharing a script run their `_process` and `_physics_process` in
/// one Lua call per frame (see `batch`).
pub fn batch_callbacks() -> bool {
    get(BATCH_CALLBACKS, true)
}

/// How many expression results (expression and context node) the cache keeps.
pub fn expression_results() -> usize {
    usize::try_from(get(EXPRESSION_RESULTS, DEFAULT_EXPRESSION_RESULTS).max(1)).unwrap_or(1)
}

/// How long one call into a script may run before it is stopped; `None` for no limit (0).
pub fn callback_budget() -> Option<std::time::Duration> {
    let ms = get(CALLBACK_BUDGET, DEFAULT_CALLBACK_BUDGET_MS).clamp(0, 60_000);
    (ms > 0).then(|| std::time::Duration::from_millis(ms.unsigned_abs()))
}

/// The cap on the Lua heap in bytes; `None` for no cap (0).
pub fn memory_limit() -> Option<usize> {
    let mb = get(MEMORY_LIMIT, DEFAULT_MEMORY_MB).clamp(0, 65_536);
    (mb > 0).then(|| usize::try_from(mb * MIB).unwrap_or(usize::MAX))
}

/// The time the collector may take at the end of each frame; `None` (0): Lua collects as it
/// allocates.
pub fn gc_frame_budget() -> Option<std::time::Duration> {
    let us = get(GC_FRAME_BUDGET, DEFAULT_GC_FRAME_BUDGET_US).clamp(0, 100_000);
    (us > 0).then(|| std::time::Duration::from_micros(us.unsigned_abs()))
}

/// How long a script no node runs and no loaded script requires stays loaded; `None` (0):
/// for ever.
pub fn unload_unused_after() -> Option<std::time::Duration> {
    let seconds = get(UNLOAD_UNUSED_AFTER, DEFAULT_UNLOAD_AFTER_S);
    (seconds.is_finite() && seconds > 0.0)
        .then(|| std::time::Duration::from_secs_f64(seconds.min(86_400.0)))
}

/// Whether engine objects keep one Lua wrapper while Lua holds it.
pub fn pool_values() -> bool {
    get(POOL_VALUES, true)
}

/// Whether LuaJIT compiles hot code to machine code.
pub fn jit_enabled() -> bool {
    get(JIT_ENABLED, true)
}

/// Whether hot reload watches the project's scripts (where they are plain files).
pub fn hot_reload_enabled() -> bool {
    get(HOT_RELOAD_ENABLED, true)
}

/// How long the watcher waits for a burst of file events to end before reloading.
pub fn hot_reload_debounce_ms() -> u64 {
    get(HOT_RELOAD_DEBOUNCE, DEFAULT_DEBOUNCE_MS)
        .clamp(0, 1000)
        .unsigned_abs()
}

/// The project folder on disk, when scripts are plain files there (the editor, or a game run
/// from the editor or the command line); `None` in an exported game, whose files live in a pack.
pub fn project_dir() -> Option<PathBuf> {
    if !Os::singleton().has_feature("editor") {
        return None;
    }
    let dir = globalize("res://");
    dir.is_dir().then_some(dir)
}

fn globalize(path: &str) -> PathBuf {
    PathBuf::from(
        ProjectSettings::singleton()
            .globalize_path(path)
            .to_string(),
    )
}
