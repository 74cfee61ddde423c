//! Unloads scripts nothing uses: no node runs them and no script in use requires them. A
//! script stays loaded for the grace period set in the project settings after it was last
//! used, so a node freed and made again (a scene change, a respawn) finds it loaded.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use lua_runtime_core::host::unused::UnusedScripts;

use crate::state::RuntimeState;

/// Sweeps at most this often (and four times per grace period when that is shorter).
const SWEEP_EVERY: Duration = Duration::from_secs(1);

#[derive(Default)]
pub struct Cleanup {
    unused: UnusedScripts,
    /// `None`: scripts stay loaded for good.
    grace: Cell<Option<Duration>>,
    last_sweep: Cell<Option<Instant>>,
}

impl Cleanup {
    pub fn set_grace(&self, grace: Option<Duration>) {
        self.grace.set(grace);
    }

    /// Scripts waiting out the grace period, and scripts unloaded since start-up.
    pub fn counts(&self) -> (u64, u64) {
        (self.unused.pending() as u64, self.unused.unloaded())
    }

    /// Once a frame: now and then, finds the scripts nothing uses and unloads those whose
    /// grace period is over.
    pub fn poll(&self, state: &RuntimeState) {
        let Some(grace) = self.grace.get() else {
            return;
        };
        let now = Instant::now();
        let every = SWEEP_EVERY.min(grace / 4);
        if self
            .last_sweep
            .get()
            .is_some_and(|last| now.saturating_duration_since(last) < every)
        {
            return;
        }
        self.last_sweep.set(Some(now));
        let loaded: BTreeSet<String> = state
            .host
            .loaded_paths()
            .into_iter()
            .chain(state.libraries.loaded_paths())
            .collect();
        let used = in_use(state, &loaded);
        let due = self.unused.sweep(
            now,
            grace,
            loaded.into_iter().map(|path| {
                let used = used.contains(&path);
                (path, used)
            }),
        );
        for path in due {
            state.unload(&path);
        }
    }
}

/// The loaded scripts in use: run by a node (or waited for by one whose script failed to
/// start), required by code that is no script, or required by a script in use.
fn in_use(state: &RuntimeState, loaded: &BTreeSet<String>) -> BTreeSet<String> {
    let roots = loaded
        .iter()
        .filter(|path| {
            state.running.is_used(path)
                || state.running.has_waiting(path)
                || state.libraries.is_pinned(path)
        })
        .cloned()
        .collect();
    state.libraries.with_requirements(roots)
}
