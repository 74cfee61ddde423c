//! The in-memory level: least recently used entries go first when the byte budget is full.

use std::sync::Arc;

use lru::LruCache;

use super::{Bytecode, SourceHash};

/// Bookkeeping bytes counted per entry on top of its bytecode and path.
const ENTRY_OVERHEAD: usize = 96;

/// Bytecode by script path, bounded in bytes rather than entries: a project of many small
/// scripts and one of a few large ones get the same memory.
pub struct MemoryLevel {
    entries: LruCache<String, Arc<Bytecode>>,
    bytes: usize,
    budget: usize,
    evictions: u64,
}

impl MemoryLevel {
    pub fn new(budget: usize) -> Self {
        MemoryLevel {
            entries: LruCache::unbounded(),
            bytes: 0,
            budget,
            evictions: 0,
        }
    }

    /// The entry for `path` if it was compiled from source with hash `hash`. An entry of
    /// another version of the source is dropped.
    pub fn get(&mut self, path: &str, hash: SourceHash) -> Option<Arc<Bytecode>> {
        let entry = self.entries.get(path)?;
        if entry.source_hash == hash {
            return Some(entry.clone());
        }
        self.remove(path);
        None
    }

    /// The entry for `path`, whatever source it came from.
    pub fn peek(&self, path: &str) -> Option<Arc<Bytecode>> {
        self.entries.peek(path).cloned()
    }

    /// Keeps `entry`, replacing the one of the same path, then evicts the least recently used
    /// entries until the budget holds. An entry larger than the whole budget is not kept.
    pub fn insert(&mut self, entry: Arc<Bytecode>) {
        let size = cost(&entry);
        if size > self.budget {
            self.remove(&entry.path);
            return;
        }
        if let Some(old) = self.entries.put(entry.path.clone(), entry) {
            self.bytes -= cost(&old);
        }
        self.bytes += size;
        while self.bytes > self.budget {
            let Some((_, evicted)) = self.entries.pop_lru() else {
                break;
            };
            self.bytes -= cost(&evicted);
            self.evictions += 1;
        }
    }

    pub fn remove(&mut self, path: &str) -> bool {
        match self.entries.pop(path) {
            Some(old) => {
                self.bytes -= cost(&old);
                true
            }
            None => false,
        }
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn evictions(&self) -> u64 {
        self.evictions
    }

    pub fn budget(&self) -> usize {
        self.budget
    }
}

fn cost(entry: &Bytecode) -> usize {
    entry.bytes.len() + entry.path.len() + ENTRY_OVERHEAD
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, size: usize, source: &str) -> Arc<Bytecode> {
        Arc::new(Bytecode {
            path: path.to_owned(),
            source_hash: SourceHash::of(source),
            bytes: vec![0; size],
            compile_us: 0,
        })
    }

    #[test]
    fn budget_holds_under_a_stream_of_inserts() {
        let mut level = MemoryLevel::new(10_000);
        for i in 0..2_000 {
            let size = (i * 37) % 3_000;
            level.insert(entry(&format!("res://s{}.lua", i % 300), size, "x"));
            assert!(
                level.bytes() <= 10_000,
                "{} bytes after insert {i}",
                level.bytes()
            );
        }
        assert!(level.evictions() > 0);
        let counted: usize = level.entries.iter().map(|(_, e)| cost(e)).sum();
        assert_eq!(counted, level.bytes());
    }

    #[test]
    fn least_recently_used_goes_first() {
        let mut level = MemoryLevel::new(3 * (1_000 + 11 + ENTRY_OVERHEAD));
        level.insert(entry("res://a.lua", 1_000, "a"));
        level.insert(entry("res://b.lua", 1_000, "b"));
        level.insert(entry("res://c.lua", 1_000, "c"));
        assert!(level.get("res://a.lua", SourceHash::of("a")).is_some());
        level.insert(entry("res://d.lua", 1_000, "d"));
        assert!(
            level.peek("res://b.lua").is_none(),
            "b was least recently used"
        );
        assert!(level.peek("res://a.lua").is_some());
    }

    #[test]
    fn another_version_of_the_source_is_a_miss() {
        let mut level = MemoryLevel::new(100_000);
        level.insert(entry("res://a.lua", 10, "old"));
        assert!(level.get("res://a.lua", SourceHash::of("new")).is_none());
        assert_eq!(level.len(), 0);
        assert_eq!(level.bytes(), 0);
    }

    #[test]
    fn an_entry_larger_than_the_budget_is_not_kept() {
        let mut level = MemoryLevel::new(500);
        level.insert(entry("res://big.lua", 1_000, "x"));
        assert_eq!(level.len(), 0);
        assert_eq!(level.bytes(), 0);
    }
}
