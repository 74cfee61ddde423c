//! `require`: modules loaded once per path, with cycles reported by name.
//!
//! A module name is either a script path (`res://lib/util.lua`, `user://mods/a.lua`) or a
//! dotted name resolved under `res://` (`lib.util` is `res://lib/util.lua`). The module's
//! value is whatever its chunk returns (`true` when it returns nothing), kept for every later
//! `require` of the same path. Each `require` also records who asked, so hot reload knows
//! what to reload when a module changes.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use mlua::{Function, Lua, Value};

use crate::errors::{Error, ScriptError};
use crate::reload::Dependencies;

/// Modules loaded so far, the chain being loaded now, and who requires whom.
#[derive(Default)]
pub struct Libraries {
    loaded: RefCell<HashMap<String, Value>>,
    loading: RefCell<Vec<String>>,
    dependencies: RefCell<Dependencies>,
    /// Modules required by code that is no script (`exec`, `eval`): kept loaded for good.
    pinned: RefCell<BTreeSet<String>>,
}

/// How many stack levels [`calling_script`] looks through for a script's function.
const CALLER_DEPTH: usize = 8;

/// The script whose code is calling the running Rust function: the nearest Lua function on
/// the stack that came from a `res://` or `user://` file.
pub fn calling_script(lua: &Lua) -> Option<String> {
    (1..=CALLER_DEPTH)
        .map_while(|level| {
            lua.inspect_stack(level, |frame| {
                frame
                    .source()
                    .source
                    .and_then(|s| s.strip_prefix('@').map(str::to_owned))
            })
        })
        .flatten()
        .find(|source| super::is_rooted(source))
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
    let path = if super::is_rooted(name) {
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
    if super::climbs(&path) || path.contains("/./") || path.ends_with("/.lua") {
        return Err(bad());
    }
    Ok(path)
}

impl Libraries {
    /// The module for `path`, loading it with `load` (which compiles the file) on first use.
    /// `requirer` is the script asking (see [`calling_script`]); when unknown, the module being
    /// loaded further up counts as the one asking.
    ///
    /// # Errors
    /// [`Error::RequireCycle`] when `path` is already being loaded further up, and whatever
    /// loading or running the module raised.
    pub fn require(
        &self,
        path: &str,
        requirer: Option<&str>,
        load: impl FnOnce(&str) -> Result<Function, Error>,
    ) -> Result<Value, Error> {
        let requirer = requirer
            .map(str::to_owned)
            .or_else(|| self.loading.borrow().last().cloned());
        match requirer {
            Some(requirer) => self.dependencies.borrow_mut().record(&requirer, path),
            None => {
                self.pinned.borrow_mut().insert(path.to_owned());
            }
        }
        if let Some(value) = self.loaded.borrow().get(path) {
            return Ok(value.clone());
        }
        let value = self.run(path, load)?;
        self.loaded
            .borrow_mut()
            .insert(path.to_owned(), value.clone());
        Ok(value)
    }

    /// Runs a loaded module again from `load` (its file changed), replacing its value for
    /// every later `require`. On failure the old value stays, with the old edges.
    /// `Ok(None)` when `path` is not a loaded module.
    ///
    /// # Errors
    /// As [`Self::require`].
    pub fn reload(
        &self,
        path: &str,
        load: impl FnOnce(&str) -> Result<Function, Error>,
    ) -> Result<Option<Value>, Error> {
        if !self.is_loaded(path) {
            return Ok(None);
        }
        let old_edges = self.dependencies.borrow_mut().take_requires_of(path);
        match self.run(path, load) {
            Ok(value) => {
                self.loaded
                    .borrow_mut()
                    .insert(path.to_owned(), value.clone());
                Ok(Some(value))
            }
            Err(e) => {
                let mut dependencies = self.dependencies.borrow_mut();
                dependencies.take_requires_of(path);
                dependencies.restore(path, old_edges);
                Err(e)
            }
        }
    }

    /// Runs the chunk of `path` as a module, guarding against cycles.
    fn run(
        &self,
        path: &str,
        load: impl FnOnce(&str) -> Result<Function, Error>,
    ) -> Result<Value, Error> {
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
        Ok(match result? {
            Value::Nil => Value::Boolean(true),
            other => other,
        })
    }

    /// Forgets the module of `path`, so the next `require` runs it again.
    pub fn forget(&self, path: &str) -> bool {
        self.loaded.borrow_mut().remove(path).is_some()
    }

    /// Unloads `path`: forgets its module and what it requires (what requires it stays
    /// recorded, for when it loads again).
    pub fn unload(&self, path: &str) -> bool {
        self.dependencies.borrow_mut().take_requires_of(path);
        self.forget(path)
    }

    /// Whether code that is no script required `path`, so that it stays loaded.
    pub fn is_pinned(&self, path: &str) -> bool {
        self.pinned.borrow().contains(path)
    }

    /// `roots` and every module they require, transitively.
    pub fn with_requirements(&self, roots: BTreeSet<String>) -> BTreeSet<String> {
        self.dependencies.borrow().with_requirements(roots)
    }

    /// Paths of the loaded modules, in no order.
    pub fn loaded_paths(&self) -> Vec<String> {
        self.loaded.borrow().keys().cloned().collect()
    }

    /// Whether `path` is a loaded module.
    pub fn is_loaded(&self, path: &str) -> bool {
        self.loaded.borrow().contains_key(path)
    }

    /// Records that the script `requirer` uses the module `required` (for scripts that
    /// reach a module some other way than `require`).
    pub fn record(&self, requirer: &str, required: &str) {
        self.dependencies.borrow_mut().record(requirer, required);
    }

    /// The changed scripts and every script that requires them, transitively, each after
    /// what it requires (see [`Dependencies::reload_order`]).
    pub fn reload_order(&self, changed: &[String]) -> Vec<String> {
        self.dependencies
            .borrow()
            .reload_order(changed.iter().map(String::as_str))
    }

    /// The scripts that require `path`, directly.
    pub fn dependents_of(&self, path: &str) -> BTreeSet<String> {
        self.dependencies.borrow().dependents_of(path)
    }

    /// A script file moved: its module (if loaded) and its edges follow it.
    pub fn rename(&self, from: &str, to: &str) {
        if let Some(value) = self.loaded.borrow_mut().remove(from) {
            self.loaded.borrow_mut().insert(to.to_owned(), value);
        }
        self.dependencies.borrow_mut().rename(from, to);
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
