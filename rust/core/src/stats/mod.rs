//! The statistics snapshot: one schema for `get_stats()`, the editor panel and the debugger.
//!
//! Each area of the runtime owns a section; the snapshot is plain data (serde), taken when
//! asked for, so reading statistics never slows the per-frame path.

use serde::Serialize;

/// Everything the runtime reports about itself at one moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StatsSnapshot {
    pub lua: LuaStats,
    pub scripts: ScriptStats,
    pub errors: ErrorStats,
}

/// The Lua state.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LuaStats {
    /// `LuaJIT` or `Lua 5.4`.
    pub flavour: String,
    /// Bytes in use by the Lua heap.
    pub memory_bytes: u64,
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
}

impl StatsSnapshot {
    /// The snapshot as JSON, the form the extension turns into a Godot Dictionary.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}
