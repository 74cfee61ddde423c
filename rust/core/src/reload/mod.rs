//! Hot reload: which files changed, what depends on them, and how long reloading took.
//!
//! Three engine-free pieces; the extension puts them together with the running nodes:
//! - [`watcher`]: file events from the operating system, debounced into batches of changed
//!   script paths on a thread that sleeps until something happens (no polling);
//! - [`graph`]: which script `require`s which, so a changed module reloads everything that
//!   uses it, dependencies first;
//! - [`log`]: reload counts, failures and latencies for `get_stats()` under `reload`.

pub mod graph;
pub mod log;
pub mod watcher;

pub use graph::Dependencies;
pub use log::ReloadLog;
pub use watcher::{Batch, ScriptWatcher};
