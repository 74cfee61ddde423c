//! `require`: modules loaded once per path, with cycles reported by name.
//!
//! A module name is either a script path (`res://lib/util.lua`, `user://mods/a.lua`) or a
//! dotted name resolved under `res://` (`lib.util` is `res://lib/util.lua`). The module's
//! value is whatever its chunk returns (`true` when it returns nothing), kept for every later
//! `require` of the same path.

use std::cell::RefCell;
use std::collections::HashMap;

use mlua::{Function, Value};

use crate::errors::{Error, ScriptError};

/// Modules loaded so far and the chain being loaded now.
#[derive(Default)]
pub struct Libraries {
    loaded: RefCell<HashMap<String, Value>>,
    loading: RefCell<Vec<String>>,
}

/// The script path a module name stands for.
///
/// # Errors
/// [`Error::BadModuleName`] for an empty name, a name with `..` or a path outside
/// `res://`/`user://`.
pub fn resolve(name: &str) -> Result<String, Error> {
    let bad = || Error::BadModuleName {
        name: name.to_owned(),
    };
    let path = if name.starts_with("res://") || name.starts_with("user://") {
        if name.ends_with(".lua") {
            name.to_owned()
        } else {
            format!("{name}.lua")
        }
    } else {
        let ok = !name.is_empty()
            && name.split('.').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
            });
        if !ok {
            return Err(bad());
        }
        format!("res://{}.lua", name.replace('.', "/"))
    };
    if path.contains("/../") || path.contains("/./") || path.ends_with("/.lua") {
        return Err(bad());
    }
    Ok(path)
}

impl Libraries {
    /// The module for `path`, loading it with `load` (which compiles the file) on first use.
    ///
    /// # Errors
    /// [`Error::RequireCycle`] when `path` is already being loaded further up, and whatever
    /// loading or running the module raised.
    pub fn require(
        &self,
        path: &str,
        load: impl FnOnce(&str) -> Result<Function, Error>,
    ) -> Result<Value, Error> {
        if let Some(value) = self.loaded.borrow().get(path) {
            return Ok(value.clone());
        }
        {
            let loading = self.loading.borrow();
            if let Some(at) = loading.iter().position(|p| p == path) {
                let mut cycle: Vec<String> = loading[at..].to_vec();
                cycle.push(path.to_owned());
                return Err(Error::RequireCycle { cycle });
            }
        }
        self.loading.borrow_mut().push(path.to_owned());
        let result = load(path).and_then(|chunk| {
            chunk
                .call::<Value>(path)
                .map_err(|e| ScriptError::from_lua(&e, path).into())
        });
        self.loading.borrow_mut().pop();
        let value = match result? {
            Value::Nil => Value::Boolean(true),
            other => other,
        };
        self.loaded
            .borrow_mut()
            .insert(path.to_owned(), value.clone());
        Ok(value)
    }

    /// Forgets the module of `path`, so the next `require` runs it again.
    pub fn forget(&self, path: &str) -> bool {
        self.loaded.borrow_mut().remove(path).is_some()
    }

    /// How many modules are loaded.
    pub fn count(&self) -> usize {
        self.loaded.borrow().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_paths_and_dotted_names() {
        assert_eq!(resolve("res://lib/util.lua").unwrap(), "res://lib/util.lua");
        assert_eq!(resolve("res://lib/util").unwrap(), "res://lib/util.lua");
        assert_eq!(resolve("user://m.lua").unwrap(), "user://m.lua");
        assert_eq!(resolve("lib.util").unwrap(), "res://lib/util.lua");
        assert_eq!(resolve("util").unwrap(), "res://util.lua");
    }

    #[test]
    fn refuses_names_that_escape_or_are_empty() {
        for name in [
            "",
            "a..b",
            "../x",
            "res://a/../b.lua",
            "/etc/passwd",
            "a/b",
            ".a",
        ] {
            assert!(
                matches!(resolve(name), Err(Error::BadModuleName { .. })),
                "{name}"
            );
        }
    }
}
