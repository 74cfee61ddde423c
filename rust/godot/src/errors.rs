//! The one place where runtime errors become Godot errors.
//!
//! Every error goes through [`report`]: counted, throttled when it repeats, written to
//! Godot's error output with its traceback, and emitted as `LuaRuntime.script_error`.

use std::time::Instant;

use godot::global::godot_error;
use lua_runtime_core::Error;
use lua_runtime_core::errors::Report;

use crate::state::RuntimeState;

pub fn report(state: &RuntimeState, err: &Error) {
    let report = state.reporter.borrow_mut().report(err, Instant::now());
    if let Some(report) = report {
        show(&report);
    }
}

/// Shows the counts of repeats held back by errors that have since stopped.
pub fn flush(state: &RuntimeState) {
    let reports = state.reporter.borrow_mut().flush(Instant::now());
    for report in &reports {
        show(report);
    }
}

fn show(report: &Report) {
    godot_error!("{}", report.text);
    let line = report.line.map_or(0, i64::from);
    crate::runtime::emit_script_error(&report.path, line, &report.message);
}

/// Converts a core result into Godot's error code, reporting a failure on the way.
pub fn to_godot_error<T>(state: &RuntimeState, result: Result<T, Error>) -> godot::global::Error {
    match result {
        Ok(_) => godot::global::Error::OK,
        Err(err) => {
            report(state, &err);
            error_code(&err)
        }
    }
}

/// Godot's error code for a core error (already reported).
pub fn error_code(err: &Error) -> godot::global::Error {
    match err {
        Error::ScriptNotFound { .. } => godot::global::Error::ERR_FILE_NOT_FOUND,
        Error::ScriptUnreadable { .. } => godot::global::Error::ERR_FILE_CANT_READ,
        Error::BadScriptPath { .. } | Error::BadModuleName { .. } => {
            godot::global::Error::ERR_INVALID_PARAMETER
        }
        Error::RequireCycle { .. } => godot::global::Error::ERR_CYCLIC_LINK,
        Error::NotAModule { .. } => godot::global::Error::ERR_INVALID_DATA,
        Error::WatchFailed { .. } => godot::global::Error::ERR_CANT_OPEN,
        Error::Script(_) => godot::global::Error::ERR_SCRIPT_FAILED,
        Error::Expression { .. } => godot::global::Error::ERR_PARSE_ERROR,
    }
}
