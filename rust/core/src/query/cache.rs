//! The query cache: answers by [`Query`], bounded (least recently used go first), with the
//! counters `get_stats()["queries"]` shows.
//!
//! An invalidated entry is kept, marked stale, until its query is asked again: the engine
//! side reuses what it can of the old answer (the Lua proxies of nodes still in it) when it
//! builds the new one.

use std::collections::HashMap;
use std::num::NonZeroUsize;

use lru::LruCache;

use super::Query;
use crate::stats::{QueryCounts, QueryStats};

/// Signatures listed in statistics beyond this many are folded away (least asked first).
pub const MAX_SIGNATURES: usize = 256;

/// Signatures shown in [`QueryStats::top`].
pub const TOP_SIGNATURES: usize = 20;

struct Entry<V> {
    value: V,
    fresh: bool,
}

/// Answers to queries, and how they were used.
pub struct QueryCache<V> {
    entries: LruCache<Query, Entry<V>>,
    counts: HashMap<Query, QueryCounts>,
    hits: u64,
    misses: u64,
    invalidations: u64,
    uncached: u64,
}

impl<V> QueryCache<V> {
    /// A cache holding at most `capacity` answers (at least one).
    pub fn new(capacity: usize) -> Self {
        QueryCache {
            entries: LruCache::new(NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN)),
            counts: HashMap::new(),
            hits: 0,
            misses: 0,
            invalidations: 0,
            uncached: 0,
        }
    }

    /// The current answer to `query`, if one is cached and nothing invalidated it. Counts
    /// nothing: the caller may still find it out of date and [`Self::invalidate`] it, then
    /// records the outcome with [`Self::hit`] or [`Self::store`].
    pub fn fresh(&mut self, query: &Query) -> Option<&mut V> {
        match self.entries.get_mut(query) {
            Some(entry) if entry.fresh => Some(&mut entry.value),
            _ => None,
        }
    }

    /// `query` was answered from the cache.
    pub fn hit(&mut self, query: &Query) {
        self.hits += 1;
        if let Some(counts) = self.counts.get_mut(query) {
            counts.queries += 1;
            counts.hits += 1;
        }
    }

    /// Takes out the entry of `query`, fresh or stale, so the new answer can reuse it.
    pub fn take(&mut self, query: &Query) -> Option<V> {
        self.entries.pop(query).map(|entry| entry.value)
    }

    /// Stores a newly computed answer (a miss). `signature` names the query in statistics
    /// and is only called the first time the query is seen.
    pub fn store(&mut self, query: Query, signature: impl FnOnce() -> String, value: V) {
        self.misses += 1;
        self.count_miss(&query, signature);
        self.entries.put(query, Entry { value, fresh: true });
    }

    /// A query answered without the cache (its root is outside the tree, where no signal
    /// tells of changes). Counted as a miss.
    pub fn bypass(&mut self, query: &Query, signature: impl FnOnce() -> String) {
        self.misses += 1;
        self.uncached += 1;
        self.count_miss(query, signature);
    }

    fn count_miss(&mut self, query: &Query, signature: impl FnOnce() -> String) {
        if !self.counts.contains_key(query) && self.counts.len() >= MAX_SIGNATURES {
            self.forget_least_asked();
        }
        let counts = self
            .counts
            .entry(query.clone())
            .or_insert_with(|| QueryCounts {
                signature: signature(),
                kind: query.kind().to_owned(),
                ..QueryCounts::default()
            });
        counts.queries += 1;
    }

    fn forget_least_asked(&mut self) {
        let least = self
            .counts
            .iter()
            .min_by_key(|(_, c)| c.queries)
            .map(|(q, _)| q.clone());
        if let Some(query) = least {
            self.counts.remove(&query);
        }
    }

    /// Marks `query`'s answer out of date. Whether there was a fresh one.
    pub fn invalidate(&mut self, query: &Query) -> bool {
        let Some(entry) = self.entries.peek_mut(query) else {
            return false;
        };
        if !entry.fresh {
            return false;
        }
        entry.fresh = false;
        self.invalidations += 1;
        if let Some(counts) = self.counts.get_mut(query) {
            counts.invalidations += 1;
        }
        true
    }

    /// Marks out of date every fresh answer for which `affected` says yes; how many.
    pub fn invalidate_where(&mut self, mut affected: impl FnMut(&Query, &V) -> bool) -> usize {
        let hit: Vec<Query> = self
            .entries
            .iter()
            .filter(|(query, entry)| entry.fresh && affected(query, &entry.value))
            .map(|(query, _)| query.clone())
            .collect();
        for query in &hit {
            self.invalidate(query);
        }
        hit.len()
    }

    /// Drops the entries for which `gone` says yes (their root node left the tree), fresh
    /// ones counting as invalidated.
    pub fn remove_where(&mut self, mut gone: impl FnMut(&Query) -> bool) -> usize {
        let hit: Vec<Query> = self
            .entries
            .iter()
            .filter(|(query, _)| gone(query))
            .map(|(query, _)| query.clone())
            .collect();
        for query in &hit {
            self.invalidate(query);
            self.entries.pop(query);
        }
        hit.len()
    }

    /// Whether any answer is fresh (events can be ignored when none is).
    pub fn has_fresh(&self) -> bool {
        self.entries.iter().any(|(_, entry)| entry.fresh)
    }

    /// Drops every answer; counters stay.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn stats(&self) -> QueryStats {
        let queries = self.hits + self.misses;
        let mut top: Vec<QueryCounts> = self.counts.values().cloned().collect();
        top.sort_by(|a, b| {
            b.queries
                .cmp(&a.queries)
                .then_with(|| a.signature.cmp(&b.signature))
        });
        top.truncate(TOP_SIGNATURES);
        QueryStats {
            queries,
            hits: self.hits,
            misses: self.misses,
            invalidations: self.invalidations,
            uncached: self.uncached,
            hit_rate: if queries == 0 {
                0.0
            } else {
                self.hits as f64 / queries as f64
            },
            entries: self.entries.len() as u64,
            capacity: self.entries.cap().get() as u64,
            top,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(name: &str) -> Query {
        Query::Group {
            group: name.to_owned(),
        }
    }

    fn children(parent: u64) -> Query {
        Query::Children {
            parent,
            pattern: "*".to_owned(),
        }
    }

    /// Asks `query` the way the engine side does; whether it was a hit.
    fn ask(cache: &mut QueryCache<Vec<u64>>, query: &Query, answer: &[u64]) -> bool {
        if cache.fresh(query).is_some() {
            cache.hit(query);
            return true;
        }
        cache.take(query);
        cache.store(query.clone(), || query.signature("/root"), answer.to_vec());
        false
    }

    #[test]
    fn a_second_ask_is_a_hit_until_invalidated() {
        let mut cache = QueryCache::new(8);
        let q = group("enemies");
        assert!(!ask(&mut cache, &q, &[1, 2]));
        assert!(ask(&mut cache, &q, &[1, 2]));
        assert!(cache.invalidate(&q));
        assert!(!cache.invalidate(&q), "already stale");
        assert!(!ask(&mut cache, &q, &[1]));
        assert_eq!(cache.fresh(&q), Some(&mut vec![1]));
        let stats = cache.stats();
        assert_eq!((stats.queries, stats.hits, stats.misses), (3, 1, 2));
        assert_eq!(stats.invalidations, 1);
        assert!((stats.hit_rate - 1.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn invalidate_where_touches_only_affected_fresh_entries() {
        let mut cache = QueryCache::new(8);
        ask(&mut cache, &group("a"), &[1]);
        ask(&mut cache, &group("b"), &[2]);
        ask(&mut cache, &children(7), &[3]);
        let n = cache.invalidate_where(|_, nodes| nodes.contains(&2) || nodes.contains(&3));
        assert_eq!(n, 2);
        assert!(cache.fresh(&group("a")).is_some());
        assert!(cache.fresh(&group("b")).is_none());
        assert_eq!(
            cache.invalidate_where(|_, _| true),
            1,
            "stale ones are not counted again"
        );
        assert!(!cache.has_fresh());
    }

    #[test]
    fn a_stale_entry_can_be_taken_for_reuse() {
        let mut cache = QueryCache::new(8);
        let q = group("a");
        ask(&mut cache, &q, &[1, 2, 3]);
        cache.invalidate(&q);
        assert_eq!(cache.take(&q), Some(vec![1, 2, 3]));
        assert_eq!(cache.take(&q), None);
    }

    #[test]
    fn removing_by_root_drops_the_entries() {
        let mut cache = QueryCache::new(8);
        ask(&mut cache, &children(7), &[1]);
        ask(&mut cache, &children(8), &[2]);
        assert_eq!(cache.remove_where(|q| q.root() == Some(7)), 1);
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.stats().invalidations, 1);
    }

    #[test]
    fn the_cache_is_bounded_least_recently_used_first() {
        let mut cache = QueryCache::new(2);
        ask(&mut cache, &group("a"), &[1]);
        ask(&mut cache, &group("b"), &[2]);
        assert!(
            ask(&mut cache, &group("a"), &[1]),
            "a is now the most recent"
        );
        ask(&mut cache, &group("c"), &[3]);
        assert!(cache.fresh(&group("b")).is_none(), "b was evicted");
        assert!(cache.fresh(&group("a")).is_some());
        assert_eq!(cache.stats().entries, 2);
        assert_eq!(cache.stats().capacity, 2);
    }

    #[test]
    fn per_signature_counts_are_listed_most_asked_first() {
        let mut cache = QueryCache::new(8);
        for _ in 0..3 {
            ask(&mut cache, &group("enemies"), &[1]);
        }
        ask(&mut cache, &children(5), &[2]);
        cache.bypass(&children(6), || "children(Loose, \"*\")".to_owned());
        let stats = cache.stats();
        assert_eq!(stats.uncached, 1);
        assert_eq!(stats.top[0].signature, "group(\"enemies\")");
        assert_eq!(stats.top[0].kind, "group");
        assert_eq!((stats.top[0].queries, stats.top[0].hits), (3, 2));
        assert_eq!(stats.top.len(), 3);
        assert_eq!(stats.top[1].queries, 1);
    }

    #[test]
    fn signature_counts_are_bounded() {
        let mut cache = QueryCache::new(4);
        for i in 0..(MAX_SIGNATURES as u64 + 50) {
            ask(&mut cache, &children(i), &[]);
        }
        assert!(cache.counts.len() <= MAX_SIGNATURES);
        assert_eq!(cache.stats().top.len(), TOP_SIGNATURES);
    }

    #[test]
    fn signatures_read_like_the_lua_call() {
        assert_eq!(group("enemies").signature(""), "group(\"enemies\")");
        assert_eq!(
            Query::Children {
                parent: 1,
                pattern: "Enemy*".into()
            }
            .signature("/root/Main"),
            "children(/root/Main, \"Enemy*\")"
        );
        assert_eq!(
            Query::ByClass {
                root: 1,
                class: "Area2D".into(),
                recursive: true
            }
            .signature("/root/Main"),
            "by_class(/root/Main, \"Area2D\", true)"
        );
        assert_eq!(
            Query::ByScript {
                path: "res://enemy.lua".into()
            }
            .signature(""),
            "by_script(\"res://enemy.lua\")"
        );
    }
}
