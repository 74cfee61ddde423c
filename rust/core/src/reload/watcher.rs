//! File events from the operating system, debounced into batches of changed scripts.
//!
//! `notify` delivers events on its own thread (inotify, FSEvents or ReadDirectoryChangesW,
//! all event-driven). A second thread blocks until the first event arrives, then gathers the
//! events that follow within the debounce window, so an editor's burst of writes and renames
//! for one save, or two saves in quick succession, become one batch. With nothing changing,
//! both threads sleep in the kernel: no polling, no CPU. Batches wait in a channel until the
//! main thread drains it, once per frame.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode};
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};

use crate::errors::Error;

/// A batch is sent at the latest this many debounce windows after its first event, even if
/// events keep coming (a tool rewriting files in a loop).
const MAX_WINDOWS_PER_BATCH: u32 = 10;

/// Scripts that changed together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// The changed files, relative to the watched folder, `/`-separated, in path order.
    pub paths: Vec<String>,
    /// When the first event of the batch arrived: reload latency is measured from here.
    pub noticed: Instant,
}

/// A watcher on every file with one extension under a folder.
pub struct ScriptWatcher {
    watcher: Option<RecommendedWatcher>,
    batches: Receiver<Batch>,
    debouncer: Option<JoinHandle<()>>,
}

impl ScriptWatcher {
    /// Watches `root` and its subfolders for changes to files ending in `.{extension}`.
    /// Hidden folders and files (a name starting with `.`, such as Godot's `.godot`) are left
    /// out.
    ///
    /// # Errors
    /// [`Error::WatchFailed`] when the folder cannot be watched (missing, or the system's
    /// limit on watches is reached).
    pub fn start(root: &Path, extension: &str, window: Duration) -> Result<Self, Error> {
        let failed = |reason: String| Error::WatchFailed {
            path: root.display().to_string(),
            reason,
        };
        let (events_tx, events_rx) = mpsc::channel::<notify::Result<Event>>();
        let mut watcher =
            notify::recommended_watcher(events_tx).map_err(|e| failed(e.to_string()))?;
        watcher
            .watch(root, RecursiveMode::Recursive)
            .map_err(|e| failed(e.to_string()))?;
        let (batches_tx, batches) = mpsc::channel();
        let filter = Filter {
            root: root.to_path_buf(),
            suffix: format!(".{extension}"),
        };
        let debouncer = std::thread::Builder::new()
            .name("lua-reload-watch".into())
            .spawn(move || debounce(&events_rx, &batches_tx, &filter, window))
            .map_err(|e| failed(e.to_string()))?;
        Ok(ScriptWatcher {
            watcher: Some(watcher),
            batches,
            debouncer: Some(debouncer),
        })
    }

    /// The batches that arrived since the last call, oldest first. Never blocks.
    pub fn drain(&self) -> Vec<Batch> {
        self.batches.try_iter().collect()
    }

    /// Waits up to `timeout` for the next batch (for tests and tools).
    pub fn wait(&self, timeout: Duration) -> Option<Batch> {
        self.batches.recv_timeout(timeout).ok()
    }
}

impl Drop for ScriptWatcher {
    fn drop(&mut self) {
        // Dropping notify's watcher closes the event channel, which ends the debouncer.
        drop(self.watcher.take());
        if let Some(thread) = self.debouncer.take() {
            let _ = thread.join();
        }
    }
}

/// Which event paths are scripts, and their names relative to the root.
struct Filter {
    root: PathBuf,
    suffix: String,
}

impl Filter {
    fn script(&self, path: &Path) -> Option<String> {
        let relative = path.strip_prefix(&self.root).ok()?;
        let mut parts = Vec::new();
        for component in relative.components() {
            let Component::Normal(part) = component else {
                return None;
            };
            let part = part.to_str()?;
            if part.starts_with('.') {
                return None;
            }
            parts.push(part);
        }
        let name = parts.join("/");
        name.ends_with(&self.suffix).then_some(name)
    }
}

/// Whether an event can mean new file content (reads and opens cannot).
fn changes_content(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

fn debounce(
    events: &Receiver<notify::Result<Event>>,
    batches: &Sender<Batch>,
    filter: &Filter,
    window: Duration,
) {
    // The scripts an event changed; reads (the runtime's own, when it reloads) change none.
    let scripts = |event: notify::Result<Event>| -> Vec<String> {
        match event {
            Ok(event) if changes_content(&event.kind) => event
                .paths
                .iter()
                .filter_map(|p| filter.script(p))
                .collect(),
            Ok(_) => Vec::new(),
            Err(e) => {
                tracing::warn!("file watcher: {e}");
                Vec::new()
            }
        }
    };
    // Blocks in the kernel until something happens: this is the idle state.
    while let Ok(first) = events.recv() {
        let mut paths: BTreeSet<String> = scripts(first).into_iter().collect();
        if paths.is_empty() {
            continue;
        }
        let noticed = Instant::now();
        let deadline = noticed + window * MAX_WINDOWS_PER_BATCH;
        // The window restarts with each change to a script, not with unrelated events.
        let mut quiet_at = noticed + window;
        let mut open = true;
        loop {
            let now = Instant::now();
            let wait = quiet_at.min(deadline).saturating_duration_since(now);
            if wait.is_zero() {
                break;
            }
            match events.recv_timeout(wait) {
                Ok(event) => {
                    let more = scripts(event);
                    if !more.is_empty() {
                        paths.extend(more);
                        quiet_at = Instant::now() + window;
                    }
                }
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => {
                    open = false;
                    break;
                }
            }
        }
        let batch = Batch {
            paths: paths.into_iter().collect(),
            noticed,
        };
        if batches.send(batch).is_err() || !open {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_keeps_visible_scripts_only() {
        let filter = Filter {
            root: PathBuf::from("/p"),
            suffix: ".lua".into(),
        };
        let script = |p: &str| filter.script(Path::new(p));
        assert_eq!(script("/p/a.lua").as_deref(), Some("a.lua"));
        assert_eq!(script("/p/lib/b.lua").as_deref(), Some("lib/b.lua"));
        assert_eq!(script("/p/a.gd"), None);
        assert_eq!(script("/p/.godot/x.lua"), None);
        assert_eq!(script("/p/lib/.a.lua.swp"), None);
        assert_eq!(script("/p/.hidden.lua"), None);
        assert_eq!(script("/elsewhere/a.lua"), None);
    }
}
