//! Turning an `mlua::Error` into `res://file.lua:LINE: message` plus a traceback.

use std::fmt;

/// A Lua syntax or runtime error, located in a script file.
///
/// `Display` gives `path:line: message`, the form Godot users click on; the traceback is kept
/// apart so error logs can show it below.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    /// The script the error happened in (`res://...`), or the chunk name for code that has no file.
    pub path: String,
    /// The line, when Lua reported one.
    pub line: Option<u32>,
    /// The message, without the location prefix.
    pub message: String,
    /// Lua's `stack traceback:` text, possibly empty.
    pub traceback: String,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.path, line, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

impl std::error::Error for ScriptError {}

impl ScriptError {
    /// Locates `err` in a script file.
    ///
    /// The location is taken from the message when Lua put one there (`res://a.lua:3: ...`),
    /// else from the first frame of the traceback that is inside a script (errors raised by
    /// the runtime's own functions, such as a bad property name), else `fallback_path`.
    pub fn from_lua(err: &mlua::Error, fallback_path: &str) -> Self {
        let (cause, traceback) = root_cause(err);
        let raw = match cause {
            mlua::Error::SyntaxError { message, .. } => message.clone(),
            mlua::Error::RuntimeError(message) => message.clone(),
            mlua::Error::MemoryError(message) => format!(
                "out of memory: {message} (the Lua heap is capped by the project setting {})",
                crate::host::MEMORY_SETTING
            ),
            mlua::Error::ExternalError(e) => e.to_string(),
            other => other.to_string(),
        };
        // Runtime errors raised inside Lua carry their own traceback after the message.
        let (message, own_traceback) = match raw.find("\nstack traceback:") {
            Some(at) => (raw[..at].to_owned(), raw[at + 1..].to_owned()),
            None => (raw, String::new()),
        };
        let traceback = if own_traceback.is_empty() {
            traceback.unwrap_or_default()
        } else {
            own_traceback
        };
        if let Some((path, line, rest)) = split_location(&message) {
            return ScriptError {
                path: path.to_owned(),
                line: Some(line),
                message: rest.to_owned(),
                traceback,
            };
        }
        let (path, line) = first_script_frame(&traceback)
            .map(|(p, l)| (p.to_owned(), Some(l)))
            .unwrap_or_else(|| (fallback_path.to_owned(), None));
        ScriptError {
            path,
            line,
            message,
            traceback,
        }
    }

    /// `path:line: message` followed by the traceback, for logs.
    pub fn full_report(&self) -> String {
        if self.traceback.is_empty() {
            self.to_string()
        } else {
            format!("{self}\n{}", self.traceback.trim_end())
        }
    }
}

/// Follows callback and context wrappers down to the error that started it all, keeping the
/// outermost traceback (the one that reaches the script).
fn root_cause(err: &mlua::Error) -> (&mlua::Error, Option<String>) {
    let mut current = err;
    let mut traceback = None;
    loop {
        match current {
            mlua::Error::CallbackError {
                cause,
                traceback: t,
            } => {
                if traceback.is_none() {
                    traceback = Some(t.clone());
                }
                current = cause;
            }
            mlua::Error::WithContext { cause, .. } => current = cause,
            mlua::Error::BadArgument { cause, .. } if is_wrapper(cause) => current = cause,
            _ => return (current, traceback),
        }
    }
}

fn is_wrapper(err: &mlua::Error) -> bool {
    matches!(
        err,
        mlua::Error::CallbackError { .. } | mlua::Error::WithContext { .. }
    )
}

/// Splits `res://a.lua:12: message` into its parts. Only script paths (`res://`, `user://`)
/// and inline code run by `exec`/`eval` count as locations, so a message that happens to contain a
/// colon and digits is left alone.
fn split_location(text: &str) -> Option<(&str, u32, &str)> {
    let looks_like_path =
        crate::host::is_rooted(text) || text.starts_with(concat!("(inline)", ":"));
    if !looks_like_path {
        return None;
    }
    let mut search_from = 0;
    while let Some(rel) = text[search_from..].find(':') {
        let colon = search_from + rel;
        let after = &text[colon + 1..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && after[digits..].starts_with(':') {
            let line = after[..digits].parse().ok()?;
            let rest = after[digits + 1..].trim_start();
            return Some((&text[..colon], line, rest));
        }
        search_from = colon + 1;
    }
    None
}

/// The first traceback frame that points into a script: `\tres://a.lua:7: in function ...`.
fn first_script_frame(traceback: &str) -> Option<(&str, u32)> {
    traceback
        .lines()
        .map(str::trim_start)
        .find_map(|line| split_location(line).map(|(path, line, _)| (path, line)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_a_script_location() {
        assert_eq!(
            split_location("res://a/b.lua:12: attempt to index nil"),
            Some(("res://a/b.lua", 12, "attempt to index nil"))
        );
        assert_eq!(
            split_location("user://x.lua:3:boom"),
            Some(("user://x.lua", 3, "boom"))
        );
    }

    #[test]
    fn leaves_plain_messages_alone() {
        assert_eq!(split_location("value 3:4: not a location"), None);
        assert_eq!(split_location("res://a.lua: no line"), None);
    }

    #[test]
    fn finds_the_first_script_frame() {
        let tb = "stack traceback:\n\t[C]: in function 'error'\n\tres://m.lua:9: in function <res://m.lua:8>";
        assert_eq!(first_script_frame(tb), Some(("res://m.lua", 9)));
    }
}
