//! The on-disk level: one entry file per script in a directory, bounded in bytes.
//!
//! Writes go to a temporary file that is renamed over the entry, so a crash mid-write leaves
//! either the old entry or the new one, never half of one; anything else that goes wrong with a
//! file (a truncated copy, a flipped bit, another program's file) is caught by the entry checks
//! in [`super::entry`] when it is read.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Extension of entry files.
pub const ENTRY_EXTENSION: &str = "luac";
const TEMP_EXTENSION: &str = "tmp";

/// A directory of cache entries.
pub struct DiskStore {
    dir: PathBuf,
    budget: u64,
    index: Mutex<Index>,
    temp_counter: AtomicU64,
}

/// What this process knows of the directory: sizes, and the order files were last used in.
#[derive(Default)]
struct Index {
    files: HashMap<String, FileInfo>,
    bytes: u64,
    clock: u64,
    evictions: u64,
}

#[derive(Clone, Copy)]
struct FileInfo {
    size: u64,
    last_used: u64,
}

impl DiskStore {
    /// Opens (creating if needed) the directory, drops temporary files an interrupted write
    /// left behind, and indexes the entries there, oldest first.
    ///
    /// # Errors
    /// The directory cannot be created or listed.
    pub fn open(dir: &Path, budget: u64) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        let mut found = Vec::new();
        for item in fs::read_dir(dir)? {
            let item = item?;
            let name = item.file_name().to_string_lossy().into_owned();
            let meta = item.metadata()?;
            if !meta.is_file() {
                continue;
            }
            if name.ends_with(&format!(".{TEMP_EXTENSION}")) {
                let _ = fs::remove_file(item.path());
            } else if name.ends_with(&format!(".{ENTRY_EXTENSION}")) {
                found.push((meta.modified().ok(), name, meta.len()));
            }
        }
        found.sort();
        let mut index = Index::default();
        for (_, name, size) in found {
            index.clock += 1;
            index.bytes += size;
            let last_used = index.clock;
            index.files.insert(name, FileInfo { size, last_used });
        }
        let store = DiskStore {
            dir: dir.to_owned(),
            budget,
            index: Mutex::new(index),
            temp_counter: AtomicU64::new(0),
        };
        store.enforce_budget();
        Ok(store)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The bytes of entry `name`, `None` when there is none.
    ///
    /// # Errors
    /// The file exists but cannot be read.
    pub fn read(&self, name: &str) -> io::Result<Option<Vec<u8>>> {
        match fs::read(self.dir.join(name)) {
            Ok(bytes) => {
                let mut index = self.lock();
                index.clock += 1;
                let clock = index.clock;
                let size = bytes.len() as u64;
                match index.files.get_mut(name) {
                    Some(info) => {
                        info.last_used = clock;
                        if info.size != size {
                            let old = std::mem::replace(&mut info.size, size);
                            index.bytes = index.bytes - old + size;
                        }
                    }
                    None => {
                        // Written by another process (the editor and the game share it).
                        index.files.insert(
                            name.to_owned(),
                            FileInfo {
                                size,
                                last_used: clock,
                            },
                        );
                        index.bytes += size;
                    }
                }
                Ok(Some(bytes))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.forget(name);
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Writes entry `name` atomically, then removes the least recently used entries until the
    /// budget holds. An entry larger than the whole budget is not written.
    ///
    /// # Errors
    /// The temporary file cannot be written or renamed.
    pub fn write(&self, name: &str, bytes: &[u8]) -> io::Result<()> {
        let size = bytes.len() as u64;
        if size > self.budget {
            self.remove(name);
            return Ok(());
        }
        let n = self.temp_counter.fetch_add(1, Ordering::Relaxed);
        let temp = self.dir.join(format!(
            "{name}.{}.{n}.{TEMP_EXTENSION}",
            std::process::id()
        ));
        let written = fs::File::create(&temp).and_then(|mut file| file.write_all(bytes));
        if let Err(e) = written.and_then(|()| fs::rename(&temp, self.dir.join(name))) {
            let _ = fs::remove_file(&temp);
            return Err(e);
        }
        {
            let mut index = self.lock();
            index.clock += 1;
            let last_used = index.clock;
            if let Some(old) = index
                .files
                .insert(name.to_owned(), FileInfo { size, last_used })
            {
                index.bytes -= old.size;
            }
            index.bytes += size;
        }
        self.enforce_budget();
        Ok(())
    }

    /// Deletes entry `name`, if there is one.
    pub fn remove(&self, name: &str) {
        let _ = fs::remove_file(self.dir.join(name));
        self.forget(name);
    }

    /// Deletes every entry.
    pub fn clear(&self) {
        let names: Vec<String> = self.lock().files.keys().cloned().collect();
        for name in names {
            self.remove(&name);
        }
    }

    /// Bytes of the entries known to this process.
    pub fn bytes(&self) -> u64 {
        self.lock().bytes
    }

    pub fn entries(&self) -> usize {
        self.lock().files.len()
    }

    /// Entries removed to keep the budget.
    pub fn evictions(&self) -> u64 {
        self.lock().evictions
    }

    fn forget(&self, name: &str) {
        let mut index = self.lock();
        if let Some(old) = index.files.remove(name) {
            index.bytes -= old.size;
        }
    }

    fn enforce_budget(&self) {
        loop {
            let victim = {
                let index = self.lock();
                if index.bytes <= self.budget {
                    return;
                }
                index
                    .files
                    .iter()
                    .min_by_key(|(_, info)| info.last_used)
                    .map(|(name, _)| name.clone())
            };
            let Some(victim) = victim else { return };
            self.remove(&victim);
            self.lock().evictions += 1;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Index> {
        // The index holds no invariant a panic could break halfway that matters more than
        // keeping the cache usable, so a poisoned lock is taken over.
        self.index
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_holds_and_oldest_go_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = DiskStore::open(dir.path(), 10_000).unwrap();
        for i in 0..50 {
            store
                .write(&format!("{i}.luac"), &vec![7u8; 900 + i * 13])
                .unwrap();
            assert!(store.bytes() <= 10_000);
            let on_disk: u64 = fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().metadata().unwrap().len())
                .sum();
            assert_eq!(on_disk, store.bytes(), "index and directory agree");
        }
        assert!(store.evictions() > 0);
        assert!(store.read("49.luac").unwrap().is_some(), "newest kept");
        assert!(store.read("0.luac").unwrap().is_none(), "oldest evicted");
    }

    #[test]
    fn leftover_temporary_files_are_removed_on_open() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("abc.luac.1.2.tmp"), b"half an entry").unwrap();
        fs::write(dir.path().join("abc.luac"), b"whole").unwrap();
        let store = DiskStore::open(dir.path(), 1 << 20).unwrap();
        assert!(!dir.path().join("abc.luac.1.2.tmp").exists());
        assert_eq!(store.entries(), 1);
        assert_eq!(store.bytes(), 5);
    }

    #[test]
    fn clear_removes_every_entry() {
        let dir = tempfile::tempdir().unwrap();
        let store = DiskStore::open(dir.path(), 1 << 20).unwrap();
        store.write("a.luac", b"aaaa").unwrap();
        store.write("b.luac", b"bb").unwrap();
        store.clear();
        assert_eq!(store.entries(), 0);
        assert_eq!(store.bytes(), 0);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
