//! Scripts nothing uses any more, unloaded after a grace period.
//!
//! The application says, now and then, which scripts are loaded and which of them are in
//! use (a node runs them, or a script in use requires them); a script found unused on every
//! sweep for the whole grace period is due to be unloaded. A script used again within the
//! period starts over.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// When each loaded script was first seen unused, since it was last used.
#[derive(Debug, Default)]
pub struct UnusedScripts {
    since: RefCell<HashMap<String, Instant>>,
    unloaded: Cell<u64>,
}

impl UnusedScripts {
    /// Takes the loaded scripts with whether each is in use `now`, and returns the ones
    /// unused for at least `grace`, which it forgets and counts as unloaded (the caller
    /// unloads them). Scripts no longer loaded are forgotten.
    pub fn sweep(
        &self,
        now: Instant,
        grace: Duration,
        loaded: impl IntoIterator<Item = (String, bool)>,
    ) -> Vec<String> {
        let mut since = self.since.borrow_mut();
        let mut seen = HashMap::with_capacity(since.len());
        let mut due = Vec::new();
        for (path, in_use) in loaded {
            if in_use {
                continue;
            }
            let first = since.get(&path).copied().unwrap_or(now);
            if now.saturating_duration_since(first) >= grace {
                due.push(path);
            } else {
                seen.insert(path, first);
            }
        }
        *since = seen;
        due.sort();
        self.unloaded.set(self.unloaded.get() + due.len() as u64);
        due
    }

    /// Scripts waiting out their grace period now.
    pub fn pending(&self) -> usize {
        self.since.borrow().len()
    }

    /// Scripts unloaded since start-up.
    pub fn unloaded(&self) -> u64 {
        self.unloaded.get()
    }
}
