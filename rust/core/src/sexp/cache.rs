//! Compiled expressions by source text, and their results by (expression, context node),
//! dropped exactly when something a result read changes.
//!
//! Each stored result keeps the record of its reads ([`Reads`]); indexes from each input
//! back to the results that read it make an invalidation touch only those:
//! - a runtime variable set to a different value ([`ExpressionCache::set_var`]);
//! - a signal of a watched node ([`ExpressionCache::signal`]): the engine side connects to
//!   the signals listed by [`ExpressionCache::take_watch_changes`] and disconnects when no
//!   stored result needs one any more (a result evicted from the bounded cache releases its
//!   connections);
//! - a node on a path renamed or leaving the tree, and, for paths that led nowhere, any
//!   node added or renamed;
//! - a user operator redefined;
//! - a property no signal tells of: read again at the next evaluation and compared.
//!
//! An invalidated result stays, marked stale, with its connections, until it is computed
//! again: a value that changes every few frames does not connect and disconnect each time.
//!
//! Every result that stops being fresh (invalidated, evicted, dropped) is also written to a
//! short log, so an [`ExpressionSet`](super::set::ExpressionSet) visits only the members
//! whose results changed instead of looking each one up.

use std::cell::{Cell, RefCell};
use std::num::NonZeroUsize;
use std::rc::{Rc, Weak};
use std::time::Instant;

use lru::LruCache;
use rustc_hash::{FxBuildHasher, FxHashMap, FxHashSet};

use super::compile::{Compiled, Eval, Strings, compile};
use super::set::Tally;
use super::world::{Cause, Check, Label, NodeId, Reads, SignalWatch, World, same_text};
use super::{SexpError, Value};
use crate::stats::{ExpressionCounts, ExpressionStats};

/// A cached result: an expression (by id) in a context node.
pub type Key = (u32, NodeId);

/// Expressions listed in [`ExpressionStats::top`].
pub const TOP_EXPRESSIONS: usize = 20;

/// Evaluations an expression needs before a hint is given about it.
pub const HINT_AFTER: u64 = 20;

/// Stale keys the log keeps; a set that falls further behind checks all its members.
const LOG_KEPT: usize = 4096;

/// A connection the engine side should make or undo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchChange {
    Connect(SignalWatch),
    Disconnect(SignalWatch),
}

/// What a stored result read, minus what made it uncacheable.
#[derive(Default, PartialEq)]
struct Deps {
    vars: Vec<Rc<str>>,
    nodes: Vec<NodeId>,
    unresolved: bool,
    signals: Vec<(SignalWatch, Label)>,
    operators: Vec<Rc<str>>,
}

impl Deps {
    /// The inputs of `reads`, which [`Reads::normalize`] has put in order.
    fn of(reads: &Reads) -> Self {
        Deps {
            vars: reads.vars.clone(),
            nodes: reads.nodes.clone(),
            unresolved: reads.unresolved,
            signals: reads.signals.clone(),
            operators: reads.operators.clone(),
        }
    }

    /// Whether `reads` (normalized) read exactly these inputs.
    fn matches(&self, reads: &Reads) -> bool {
        self.unresolved == reads.unresolved
            && self.nodes == reads.nodes
            && same_texts(&self.vars, &reads.vars)
            && same_texts(&self.operators, &reads.operators)
            && self.signals == reads.signals
    }

    fn inputs(&self) -> Inputs<'_> {
        Inputs {
            vars: &self.vars,
            nodes: &self.nodes,
            unresolved: self.unresolved,
            operators: &self.operators,
        }
    }
}

/// What a result is subscribed to through the indexes, signals aside.
struct Inputs<'a> {
    vars: &'a [Rc<str>],
    nodes: &'a [NodeId],
    unresolved: bool,
    operators: &'a [Rc<str>],
}

impl<'a> From<&'a Reads> for Inputs<'a> {
    fn from(reads: &'a Reads) -> Self {
        Inputs {
            vars: &reads.vars,
            nodes: &reads.nodes,
            unresolved: reads.unresolved,
            operators: &reads.operators,
        }
    }
}

fn same_texts(a: &[Rc<str>], b: &[Rc<str>]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_text(x, y))
}

/// Makes `checks` hold `now`, in place when nothing else holds them.
fn renew(checks: &mut Rc<[Check]>, now: &[Check]) {
    match Rc::get_mut(checks) {
        Some(held) if held.len() == now.len() => held.clone_from_slice(now),
        _ => *checks = now.into(),
    }
}

struct Entry {
    /// `None` once invalidated.
    value: Option<Value>,
    checks: Rc<[Check]>,
    deps: Deps,
    expr: Rc<Compiled>,
    /// An index dropped this key with all the others it held (a variable set, a node
    /// renamed): the inputs in `deps` must be subscribed again when it is stored.
    resubscribe: bool,
}

/// What a lookup found.
enum Found {
    /// A result nothing invalidated and with nothing to check (counted as a hit).
    Hit(Value),
    /// A result valid if the checked values are unchanged.
    Check(Value, Rc<[Check]>),
    Miss,
}

#[derive(Default)]
struct Totals {
    evaluations: u64,
    hits: u64,
    misses: u64,
    uncached: u64,
    invalidations: u64,
    evictions: u64,
}

/// Compiled expressions and cached results.
pub struct ExpressionCache {
    compiled: LruCache<Rc<str>, Rc<Compiled>>,
    next_id: u32,
    strings: Strings,
    entries: LruCache<Key, Entry, FxBuildHasher>,
    by_var: FxHashMap<Rc<str>, FxHashSet<Key>>,
    by_node: FxHashMap<NodeId, FxHashSet<Key>>,
    by_signal: FxHashMap<SignalWatch, FxHashSet<Key>>,
    unresolved: FxHashSet<Key>,
    by_operator: FxHashMap<Rc<str>, FxHashSet<Key>>,
    vars: FxHashMap<Rc<str>, Value>,
    changes: Vec<WatchChange>,
    /// The record of reads lent to each computation, kept with its room between them.
    scratch: Reads,
    /// Counts invalidating events, so a result computed while one happened is not stored.
    epoch: u64,
    /// Keys whose results stopped being fresh, oldest first; `log[0]` is number `log_start`.
    log: Vec<Key>,
    log_start: u64,
    /// How far each set has read the log; nothing is logged while there is none.
    readers: Vec<Weak<Cell<u64>>>,
    /// The hits each set has not counted yet (members it did not look at).
    tallies: Vec<Weak<RefCell<Tally>>>,
    totals: Totals,
}

fn capacity(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).unwrap_or(NonZeroUsize::MIN)
}

impl ExpressionCache {
    /// A cache keeping at most `compiled` compiled expressions by source and `results`
    /// results.
    pub fn new(compiled: usize, results: usize) -> Self {
        ExpressionCache {
            compiled: LruCache::new(capacity(compiled)),
            next_id: 1,
            strings: Strings::default(),
            entries: LruCache::with_hasher(capacity(results), FxBuildHasher),
            by_var: FxHashMap::default(),
            by_node: FxHashMap::default(),
            by_signal: FxHashMap::default(),
            unresolved: FxHashSet::default(),
            by_operator: FxHashMap::default(),
            vars: FxHashMap::default(),
            changes: Vec::new(),
            scratch: Reads::default(),
            epoch: 0,
            log: Vec::new(),
            log_start: 0,
            readers: Vec::new(),
            tallies: Vec::new(),
            totals: Totals::default(),
        }
    }

    /// The compiled form of `source`, compiled now unless it was before.
    ///
    /// # Errors
    /// The syntax or compile error.
    pub fn compile(
        &mut self,
        source: &str,
        user_operator: &dyn Fn(&str) -> bool,
    ) -> Result<Rc<Compiled>, SexpError> {
        if let Some(found) = self.compiled.get(source) {
            return Ok(found.clone());
        }
        let compiled = Rc::new(compile(
            source,
            self.next_id,
            user_operator,
            &mut self.strings,
        )?);
        self.next_id = self.next_id.wrapping_add(1).max(1);
        self.compiled.put(compiled.source.clone(), compiled.clone());
        Ok(compiled)
    }

    /// Changes the bound on results kept; the least recently used go first.
    pub fn set_capacity(&mut self, results: usize) {
        while self.entries.len() > results.max(1) {
            if let Some((key, entry)) = self.entries.pop_lru() {
                self.totals.evictions += 1;
                self.note_stale(key);
                self.release(key, entry.deps);
            }
        }
        self.entries.resize(capacity(results));
    }

    pub fn var(&self, name: &str) -> Value {
        self.vars.get(name).cloned().unwrap_or_default()
    }

    /// Sets a runtime variable; the results that read it are dropped if the value changed.
    pub fn set_var(&mut self, name: &str, value: Value) {
        if self.vars.get(name).is_some_and(|old| old.identical(&value)) {
            return;
        }
        let name: Rc<str> = name.into();
        self.vars.insert(name.clone(), value);
        let keys = self.by_var.remove(&name);
        self.invalidate_all(keys, || Cause::Var(name.clone()));
    }

    /// `watch` fired: drops the results relying on it.
    pub fn signal(&mut self, watch: &SignalWatch) {
        self.epoch += 1;
        let Some(keys) = self.by_signal.get(watch) else {
            return;
        };
        let keys: Vec<Key> = keys.iter().copied().collect();
        for key in keys {
            let cause = self.entries.peek(&key).and_then(|e| {
                e.deps
                    .signals
                    .iter()
                    .find(|(w, _)| w == watch)
                    .map(|(_, label)| Cause::Signal(label.clone(), watch.signal.clone()))
            });
            if let Some(cause) = cause {
                self.invalidate(key, &cause);
            }
        }
    }

    /// `node` is leaving the scene tree (or being freed in it).
    pub fn node_removed(&mut self, node: NodeId) {
        let keys = self.by_node.remove(&node);
        self.invalidate_all(keys, || Cause::Tree("a node on its paths left the tree"));
    }

    /// `node` was renamed.
    pub fn node_renamed(&mut self, node: NodeId) {
        let keys = self.by_node.remove(&node);
        self.invalidate_all(keys, || Cause::Tree("a node on its paths was renamed"));
        let keys = std::mem::take(&mut self.unresolved);
        self.invalidate_all(Some(keys), || {
            Cause::Tree("a node was renamed where a path led nowhere")
        });
    }

    /// `node`'s script was swapped: what its properties are, and which signals tell of
    /// their changes, may differ.
    pub fn script_changed(&mut self, node: NodeId) {
        let keys = self.by_node.remove(&node);
        self.invalidate_all(keys, || {
            Cause::Tree("a node on its paths changed its script")
        });
    }

    /// A node entered the scene tree.
    pub fn node_added(&mut self) {
        let keys = std::mem::take(&mut self.unresolved);
        self.invalidate_all(Some(keys), || {
            Cause::Tree("a node was added where a path led nowhere")
        });
    }

    /// The user operator `name` was defined again.
    pub fn operator_defined(&mut self, name: &str) {
        let keys = self.by_operator.remove(name);
        self.invalidate_all(keys, || Cause::Operator(name.into()));
    }

    /// Connections to make and undo since the last call.
    pub fn take_watch_changes(&mut self) -> Vec<WatchChange> {
        std::mem::take(&mut self.changes)
    }

    /// Whether any connection is waiting in [`Self::take_watch_changes`].
    pub fn has_watch_changes(&self) -> bool {
        !self.changes.is_empty()
    }

    /// Drops every result (their connections are listed to undo) and compiled expression.
    pub fn clear(&mut self) {
        while let Some((key, entry)) = self.entries.pop_lru() {
            self.release(key, entry.deps);
        }
        self.compiled.clear();
        self.epoch += 1;
        self.drop_log();
    }

    /// The log position after the newest stale key: what a set has seen once it has read
    /// [`Self::stale_since`] up to now.
    pub fn log_end(&self) -> u64 {
        self.log_start + self.log.len() as u64
    }

    /// A new reader of the log, at its end: the set keeps its position there, and the log
    /// keeps what the readers still alive have not read.
    pub fn log_reader(&mut self) -> Rc<Cell<u64>> {
        let reader = Rc::new(Cell::new(self.log_end()));
        self.readers.retain(|r| r.strong_count() > 0);
        self.readers.push(Rc::downgrade(&reader));
        reader
    }

    /// Keeps `tally`, a set's uncounted hits, to count them when statistics are read.
    pub(super) fn tally(&mut self, tally: Weak<RefCell<Tally>>) {
        self.tallies.retain(|t| t.strong_count() > 0);
        self.tallies.push(tally);
    }

    /// Adds to each expression's counters the hits sets have not counted yet: call before
    /// reading [`Compiled::counts`] ([`Self::stats`] does). A set being evaluated is
    /// counted when it finishes.
    pub fn settle_counts(&self) {
        for tally in self.tallies.iter().filter_map(Weak::upgrade) {
            if let Ok(mut tally) = tally.try_borrow_mut() {
                tally.settle();
            }
        }
    }

    /// The keys whose results stopped being fresh since log position `seen`, or `None` when
    /// the log no longer reaches back that far (anything may have changed).
    pub fn stale_since(&self, seen: u64) -> Option<&[Key]> {
        let from = usize::try_from(seen.checked_sub(self.log_start)?).ok()?;
        self.log.get(from..)
    }

    /// The checks the fresh result at `key` relies on (empty when signals and indexes cover
    /// everything it read), or `None` when no fresh result is stored there.
    pub fn standing(&self, key: Key) -> Option<Rc<[Check]>> {
        let entry = self.entries.peek(&key)?;
        entry.value.as_ref().map(|_| entry.checks.clone())
    }

    /// The result at `key` relied on `check`, which no longer holds: drops it.
    pub fn check_failed(&mut self, key: Key, check: &Check) {
        let cause = Cause::Changed(check.label().clone());
        self.epoch += 1;
        self.invalidate(key, &cause);
    }

    /// Counts `n` hits a set answered from results it keeps itself.
    pub fn count_hits(&mut self, n: u64) {
        self.totals.evaluations += n;
        self.totals.hits += n;
    }

    fn note_stale(&mut self, key: Key) {
        if self.readers.is_empty() {
            return;
        }
        if self.log.len() >= LOG_KEPT {
            self.trim_log();
        }
        self.log.push(key);
    }

    /// Drops what every reader has read; when one is far behind, drops it all (that reader
    /// will check everything).
    fn trim_log(&mut self) {
        self.readers.retain(|r| r.strong_count() > 0);
        let oldest = self
            .readers
            .iter()
            .filter_map(Weak::upgrade)
            .map(|r| r.get())
            .min();
        let read = oldest
            .and_then(|seen| seen.checked_sub(self.log_start))
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| *n >= LOG_KEPT / 2);
        match read {
            Some(n) if n <= self.log.len() => {
                self.log.drain(..n);
                self.log_start += n as u64;
            }
            _ => self.drop_log(),
        }
    }

    /// Forgets the log: every set reading it next checks all its members.
    fn drop_log(&mut self) {
        self.log_start = self.log_end() + 1;
        self.log.clear();
    }

    /// Signals connected now.
    pub fn connections(&self) -> usize {
        self.by_signal.len()
    }

    /// Results held now (fresh or stale).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Drops the results at `keys`; `cause` (made only when there are any) says why.
    fn invalidate_all(&mut self, keys: Option<FxHashSet<Key>>, cause: impl FnOnce() -> Cause) {
        self.epoch += 1;
        let Some(keys) = keys.filter(|k| !k.is_empty()) else {
            return;
        };
        let cause = cause();
        for key in keys {
            if let Some(entry) = self.entries.peek_mut(&key) {
                entry.resubscribe = true;
            }
            self.invalidate(key, &cause);
        }
    }

    fn invalidate(&mut self, key: Key, cause: &Cause) {
        if let Some(entry) = self.entries.peek_mut(&key)
            && entry.value.take().is_some()
        {
            entry.expr.counts.borrow_mut().caused(cause);
            self.totals.invalidations += 1;
            self.note_stale(key);
        }
    }

    fn lookup(&mut self, key: Key) -> Found {
        self.totals.evaluations += 1;
        match self.entries.get(&key) {
            Some(Entry {
                value: Some(value),
                checks,
                expr,
                ..
            }) => {
                if checks.is_empty() {
                    let value = value.clone();
                    let mut counts = expr.counts.borrow_mut();
                    counts.evaluations += 1;
                    counts.hits += 1;
                    self.totals.hits += 1;
                    Found::Hit(value)
                } else {
                    Found::Check(value.clone(), checks.clone())
                }
            }
            _ => Found::Miss,
        }
    }

    /// Drops the result at `key`, releasing what it watched.
    fn forget(&mut self, key: Key) {
        if let Some(entry) = self.entries.pop(&key) {
            self.note_stale(key);
            self.release(key, entry.deps);
        }
    }

    /// Stores `value` at `key` with what computing it read (`reads`, put in order here).
    fn store(&mut self, key: Key, expr: &Rc<Compiled>, value: Value, reads: &mut Reads) {
        reads.normalize();
        // The lookup before computing made the key the most recently used.
        if let Some(entry) = self.entries.peek_mut(&key)
            && entry.deps.matches(reads)
        {
            // Computed again after an input changed, it read what it read before (the usual
            // case): nothing is allocated. Its signals are still connected (a signal leaves
            // its subscribers in place), and so are its other inputs unless an index gave
            // up its key when it invalidated it.
            let replaced = entry.value.replace(value).is_some();
            renew(&mut entry.checks, &reads.checks);
            let resubscribe = std::mem::take(&mut entry.resubscribe);
            if replaced {
                self.note_stale(key);
            }
            if resubscribe {
                self.subscribe_inputs(key, &Inputs::from(&*reads));
            }
            return;
        }
        let checks: Rc<[Check]> = reads.checks.as_slice().into();
        let deps = Deps::of(reads);
        self.subscribe(key, &deps);
        if let Some(entry) = self.entries.peek_mut(&key) {
            // Stored over a fresh result (code run while computing evaluated it too): sets
            // holding the old value must look again.
            let replaced = entry.value.replace(value).is_some();
            entry.checks = checks;
            entry.resubscribe = false;
            let old = std::mem::take(&mut entry.deps);
            // The new reads were subscribed first: what both read stays subscribed.
            self.release_except(key, old, &deps);
            if let Some(entry) = self.entries.peek_mut(&key) {
                entry.deps = deps;
            }
            if replaced {
                self.note_stale(key);
            }
            return;
        }
        let entry = Entry {
            value: Some(value),
            checks,
            deps,
            expr: expr.clone(),
            resubscribe: false,
        };
        if let Some((evicted, old)) = self.entries.push(key, entry)
            && evicted != key
        {
            self.totals.evictions += 1;
            self.note_stale(evicted);
            self.release(evicted, old.deps);
        }
    }

    fn subscribe(&mut self, key: Key, deps: &Deps) {
        self.subscribe_inputs(key, &deps.inputs());
        for (watch, _) in &deps.signals {
            let keys = self.by_signal.entry(watch.clone()).or_default();
            if keys.is_empty() {
                self.changes.push(WatchChange::Connect(watch.clone()));
            }
            keys.insert(key);
        }
    }

    /// Subscribes `key` to `inputs`.
    fn subscribe_inputs(&mut self, key: Key, inputs: &Inputs<'_>) {
        for var in inputs.vars {
            self.by_var.entry(var.clone()).or_default().insert(key);
        }
        for node in inputs.nodes {
            self.by_node.entry(*node).or_default().insert(key);
        }
        if inputs.unresolved {
            self.unresolved.insert(key);
        }
        for op in inputs.operators {
            self.by_operator.entry(op.clone()).or_default().insert(key);
        }
    }

    fn release(&mut self, key: Key, deps: Deps) {
        self.release_except(key, deps, &Deps::default());
    }

    /// Removes `key` from the indexes `deps` names, except for the inputs `kept` names.
    fn release_except(&mut self, key: Key, deps: Deps, kept: &Deps) {
        for var in deps.vars {
            if !kept.vars.contains(&var) {
                remove_key(&mut self.by_var, &var, key);
            }
        }
        for node in deps.nodes {
            if !kept.nodes.contains(&node) {
                remove_key(&mut self.by_node, &node, key);
            }
        }
        if deps.unresolved && !kept.unresolved {
            self.unresolved.remove(&key);
        }
        for op in deps.operators {
            if !kept.operators.contains(&op) {
                remove_key(&mut self.by_operator, &op, key);
            }
        }
        for (watch, _) in deps.signals {
            if kept.signals.iter().any(|(w, _)| *w == watch) {
                continue;
            }
            if remove_key(&mut self.by_signal, &watch, key) {
                self.changes.push(WatchChange::Disconnect(watch));
            }
        }
    }

    /// The statistics `get_stats()["expressions"]` shows.
    pub fn stats(&self) -> ExpressionStats {
        self.settle_counts();
        let t = &self.totals;
        let mut exprs: Vec<&Rc<Compiled>> = self.compiled.iter().map(|(_, c)| c).collect();
        exprs.sort_by_key(|c| std::cmp::Reverse(c.counts.borrow().evaluations));
        let hints = exprs
            .iter()
            .filter_map(|c| hint(c))
            .take(TOP_EXPRESSIONS)
            .collect();
        let top = exprs
            .iter()
            .take(TOP_EXPRESSIONS)
            .map(|c| {
                let n = c.counts.borrow();
                ExpressionCounts {
                    source: c.source.to_string(),
                    evaluations: n.evaluations,
                    hits: n.hits,
                    misses: n.misses,
                    uncached: n.uncached,
                    invalidations: n.invalidations,
                    hit_rate: ratio(n.hits, n.evaluations),
                    compute_us: n.compute_ns as f64 / 1000.0,
                    hint: hint(c).unwrap_or_default(),
                }
            })
            .collect();
        ExpressionStats {
            compiled: self.compiled.len() as u64,
            entries: self.entries.len() as u64,
            capacity: self.entries.cap().get() as u64,
            evaluations: t.evaluations,
            hits: t.hits,
            misses: t.misses,
            uncached: t.uncached,
            invalidations: t.invalidations,
            evictions: t.evictions,
            hit_rate: ratio(t.hits, t.evaluations),
            connections: self.by_signal.len() as u64,
            variables: self.vars.len() as u64,
            top,
            hints,
        }
    }
}

/// Removes `key` from `map[k]`; true when that left the set empty (and removed it).
fn remove_key<K: std::hash::Hash + Eq + Clone>(
    map: &mut FxHashMap<K, FxHashSet<Key>>,
    k: &K,
    key: Key,
) -> bool {
    let Some(keys) = map.get_mut(k) else {
        return false;
    };
    if !keys.remove(&key) || !keys.is_empty() {
        return false;
    }
    map.remove(k);
    true
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Why caching `expr` does not pay, if it does not.
fn hint(expr: &Compiled) -> Option<String> {
    let n = expr.counts.borrow();
    if n.evaluations < HINT_AFTER {
        return None;
    }
    if n.uncached * 2 > n.evaluations {
        let why = n.volatile.as_deref().unwrap_or("cannot be cached");
        return Some(format!(
            "{}: {why}, volatile: computed on every evaluation",
            expr.source
        ));
    }
    if n.hits * 2 >= n.evaluations {
        return None;
    }
    let (cause, count) = n.top_cause()?;
    let percent = (*count as f64 * 100.0 / n.evaluations as f64).round();
    Some(format!(
        "{}: {cause} on {percent}% of evaluations, so caching does not pay",
        expr.source
    ))
}

/// Evaluates `expr` in `context`, from the cache when nothing it read has changed.
///
/// The cache is borrowed only between calls into `world`, which may run user code that
/// evaluates expressions itself.
///
/// # Errors
/// The expression's runtime error (errors are not cached).
pub fn evaluate(
    cache: &RefCell<ExpressionCache>,
    expr: &Rc<Compiled>,
    context: NodeId,
    world: &mut dyn World,
) -> Result<Value, SexpError> {
    let key = (expr.id, context);
    let found = cache.borrow_mut().lookup(key);
    match found {
        Found::Hit(value) => return Ok(value),
        Found::Check(value, checks) => match checks.iter().find(|c| !c.holds(world)) {
            None => {
                let mut counts = expr.counts.borrow_mut();
                counts.evaluations += 1;
                counts.hits += 1;
                cache.borrow_mut().totals.hits += 1;
                return Ok(value);
            }
            Some(changed) => cache.borrow_mut().check_failed(key, changed),
        },
        Found::Miss => {}
    }
    let (epoch, reads) = {
        let mut cache = cache.borrow_mut();
        (cache.epoch, std::mem::take(&mut cache.scratch))
    };
    let (result, mut reads, ns) = compute(expr, context, world, reads);
    let mut cache = cache.borrow_mut();
    let mut counts = expr.counts.borrow_mut();
    counts.evaluations += 1;
    counts.compute_ns += ns;
    let result = match result {
        Err(e) => {
            counts.misses += 1;
            cache.totals.misses += 1;
            drop(counts);
            cache.forget(key);
            Err(e)
        }
        Ok(value) => {
            if let Some(why) = &reads.volatile {
                counts.uncached += 1;
                counts.volatile = Some((**why).into());
                cache.totals.uncached += 1;
                drop(counts);
                cache.forget(key);
            } else {
                counts.misses += 1;
                cache.totals.misses += 1;
                drop(counts);
                // Something changed while it ran: what it read may already be out of date.
                if cache.epoch == epoch {
                    cache.store(key, expr, value.clone(), &mut reads);
                }
            }
            Ok(value)
        }
    };
    reads.clear();
    cache.scratch = reads;
    result
}

/// Evaluates `expr` without the cache (counted as uncached).
///
/// # Errors
/// The expression's runtime error.
pub fn evaluate_uncached(
    cache: &RefCell<ExpressionCache>,
    expr: &Rc<Compiled>,
    context: NodeId,
    world: &mut dyn World,
) -> Result<Value, SexpError> {
    let (result, _, ns) = compute(expr, context, world, Reads::default());
    let mut counts = expr.counts.borrow_mut();
    counts.evaluations += 1;
    counts.uncached += 1;
    counts.compute_ns += ns;
    let mut cache = cache.borrow_mut();
    cache.totals.evaluations += 1;
    cache.totals.uncached += 1;
    result
}

/// Runs `expr`, writing what it reads into `reads` (empty).
fn compute(
    expr: &Compiled,
    context: NodeId,
    world: &mut dyn World,
    reads: Reads,
) -> (Result<Value, SexpError>, Reads, u64) {
    let start = Instant::now();
    let mut eval = Eval {
        world,
        context,
        reads,
    };
    let result = expr.run(&mut eval);
    let ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
    (result, eval.reads, ns)
}
