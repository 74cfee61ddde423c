//! Typed errors of the core, and the reports users read.
//!
//! Every failure a user can cause (a missing file, a syntax error, a runtime error, a script
//! that returns the wrong thing) is an [`Error`]. Lua failures become a [`ScriptError`] that
//! names the file and line the way users expect: `res://player.lua:12: message`.

mod reporter;
mod script_error;
mod throttle;

pub use reporter::{ErrorReporter, REPEAT_WINDOW, Report};
pub use script_error::ScriptError;
pub use throttle::{ErrorThrottle, HeldBack, Verdict};

/// What can go wrong when loading or running a script.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// No file at the path.
    #[error("{path}: script file not found")]
    ScriptNotFound { path: String },
    /// The file exists but cannot be read (permissions, not UTF-8, ...).
    #[error("{path}: cannot read script: {reason}")]
    ScriptUnreadable { path: String, reason: String },
    /// The path is not something a script can be loaded from.
    #[error("{path}: not a Lua script path (expected a res:// or user:// path ending in .lua)")]
    BadScriptPath { path: String },
    /// The script ran but did not return a table of callbacks.
    #[error("{path}: a script must return a table of callbacks, but it returned {returned}")]
    NotAModule { path: String, returned: String },
    /// `require` was given something that names no script.
    #[error("{name}: not a module name (use a res:// path or a dotted name such as lib.util)")]
    BadModuleName { name: String },
    /// Modules that `require` each other in a loop, first to last.
    #[error("require cycle: {}", cycle.join(" -> "))]
    RequireCycle { cycle: Vec<String> },
    /// Hot reload could not watch the project's folder.
    #[error("{path}: cannot watch for script changes: {reason}")]
    WatchFailed { path: String, reason: String },
    /// A syntax or runtime error inside Lua code.
    #[error("{0}")]
    Script(#[from] ScriptError),

    #[error("(expression): {error} in {text}")]
    Expression {
        /// The expression's text.
        text: String,
        error: crate::sexp::SexpError,
    },
}

impl Error {
    /// The file the error is about.
    pub fn path(&self) -> &str {
        match self {
            Error::ScriptNotFound { path }
            | Error::ScriptUnreadable { path, .. }
            | Error::BadScriptPath { path }
            | Error::NotAModule { path, .. }
            | Error::WatchFailed { path, .. } => path,
            Error::BadModuleName { name } => name,
            Error::RequireCycle { cycle } => cycle.first().map_or("", String::as_str),
            Error::Script(e) => &e.path,
            Error::Expression { .. } => "(expression)",
        }
    }

    /// The line the error is about, when one is known.
    pub fn line(&self) -> Option<u32> {
        match self {
            Error::Script(e) => e.line,
            Error::Expression { error, .. } => Some(error.line()),
            _ => None,
        }
    }

    /// The message without the `path:line:` prefix.
    pub fn message(&self) -> String {
        match self {
            Error::Script(e) => e.message.clone(),
            other => {
                let text = other.to_string();
                let prefix = format!("{}: ", other.path());
                text.strip_prefix(&prefix).unwrap_or(&text).to_owned()
            }
        }
    }
}
