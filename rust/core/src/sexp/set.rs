//! Many expressions, each in its context node, evaluated together: what a mission checks
//! every frame.
//!
//! A set keeps each member's last result and how the cache stands on it:
//! - **fresh**: nothing it read can change unseen. The set answers it itself until the
//!   cache's log of stale keys ([`ExpressionCache::stale_since`]) names its key;
//! - **checked**: fresh as long as some values no signal tells of (a plain property, a
//!   position) are unchanged. Each such value is read once per evaluation of the set, however
//!   many members read it, and compared with what each member saw;
//! - **unknown** (never computed, stale, volatile, failed): evaluated through the cache.
//!
//! A frame where a few inputs change so costs the members those inputs feed plus one read
//! per unchecked value, instead of a cache lookup per member.
//!
//! Within one evaluation every member sees the same reading of a checked value (it is read
//! once); a change made while the set is evaluated (by an operator or a getter) is seen by
//! the next evaluation.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use rustc_hash::FxHashMap;

use super::cache::{ExpressionCache, Key, evaluate};
use super::compile::Compiled;
use super::world::{Check, NodeId, Position, Reader, World, same_text};
use super::{SexpError, Value};

/// Hears, for a member (its index and expression), its new value or its error.
pub type Report<'a> = &'a mut dyn FnMut(usize, &Rc<Compiled>, Result<&Value, &SexpError>);

/// Expressions with their context nodes, evaluated together.
#[derive(Default)]
pub struct ExpressionSet {
    members: Vec<Member>,
    /// Members by cache key (the same expression in the same context may be added twice).
    by_key: FxHashMap<Key, Vec<usize>>,
    reads: SharedReads,
    /// The cache log position read up to; `None` before the first evaluation.
    seen: Option<Rc<Cell<u64>>>,
    /// Counts evaluations of the set: a shared read is good for one.
    round: u64,
}

struct Member {
    expr: Rc<Compiled>,
    context: NodeId,
    standing: Standing,
    /// The value last reported; `None` before the first and after an error.
    last: Option<Value>,
}

enum Standing {
    Unknown,
    Fresh,
    Checked {
        checks: Rc<[Check]>,
        /// Each check's entry in [`SharedReads`].
        reads: Box<[u32]>,
    },
}

impl ExpressionSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `expr` evaluated in `context`; its index.
    pub fn add(&mut self, expr: Rc<Compiled>, context: NodeId) -> usize {
        let index = self.members.len();
        self.by_key
            .entry((expr.id, context))
            .or_default()
            .push(index);
        self.members.push(Member {
            expr,
            context,
            standing: Standing::Unknown,
            last: None,
        });
        index
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// Evaluates every member. `report` hears of each member whose value differs from the
    /// one last reported (every member, the first time) and of every error, with the
    /// member's index and expression; a member that failed counts as changed when it next
    /// succeeds.
    pub fn evaluate(
        &mut self,
        cache: &RefCell<ExpressionCache>,
        world: &mut dyn World,
        report: Report<'_>,
    ) {
        self.round += 1;
        if self.seen.is_none() {
            self.seen = Some(cache.borrow_mut().log_reader());
        }
        self.take_stale(&cache.borrow(), None);
        let mut hits = 0;
        for index in 0..self.members.len() {
            let member = &self.members[index];
            let held = match &member.standing {
                Standing::Fresh => true,
                Standing::Checked { checks, reads } => {
                    match self.reads.failing(checks, reads, self.round, world) {
                        None => true,
                        Some(check) => {
                            let key = (member.expr.id, member.context);
                            cache.borrow_mut().check_failed(key, check);
                            false
                        }
                    }
                }
                Standing::Unknown => false,
            };
            if held {
                let mut counts = member.expr.counts.borrow_mut();
                counts.evaluations += 1;
                counts.hits += 1;
                hits += 1;
                // A getter read for a check may have changed what other members read.
                if matches!(member.standing, Standing::Checked { .. }) {
                    drop(counts);
                    self.take_stale(&cache.borrow(), None);
                }
                continue;
            }
            self.compute(index, cache, world, report);
        }
        cache.borrow_mut().count_hits(hits);
    }

    /// Evaluates member `index` through the cache and records where the cache stands on it.
    fn compute(
        &mut self,
        index: usize,
        cache: &RefCell<ExpressionCache>,
        world: &mut dyn World,
        report: Report<'_>,
    ) {
        let member = &mut self.members[index];
        let key = (member.expr.id, member.context);
        let expr = member.expr.clone();
        let context = member.context;
        // The checks it relied on are let go first, so the cache can renew them in place;
        // their shared reads are kept for the new checks, which usually read the same.
        let mut held = match std::mem::replace(&mut member.standing, Standing::Unknown) {
            Standing::Checked { reads, .. } => Some(reads),
            _ => None,
        };
        let result = evaluate(cache, &expr, context, world);
        if cache.borrow().has_watch_changes() {
            world.connect_watches();
        }
        let standing = cache.borrow().standing(key);
        let standing = match standing {
            None => Standing::Unknown,
            Some(checks) if checks.is_empty() => Standing::Fresh,
            Some(checks) => Standing::Checked {
                reads: match held.take() {
                    Some(ids) if self.reads.serve(&ids, &checks) => ids,
                    other => {
                        held = other;
                        self.reads.enter(&checks, world)
                    }
                },
                checks,
            },
        };
        if let Some(ids) = held {
            self.reads.release(&ids);
        }
        let member = &mut self.members[index];
        member.standing = standing;
        match result {
            Ok(value) => {
                if !member.last.as_ref().is_some_and(|l| l.identical(&value)) {
                    report(index, &expr, Ok(&value));
                    member.last = Some(value);
                }
            }
            Err(error) => {
                member.last = None;
                report(index, &expr, Err(&error));
            }
        }
        // What went stale while it ran, its own key aside: its standing was just read.
        self.take_stale(&cache.borrow(), Some((key, index)));
    }

    /// Marks the members whose results went stale since the log was last read; `except`
    /// is a member (with its key) whose standing is already known.
    fn take_stale(&mut self, cache: &ExpressionCache, except: Option<(Key, usize)>) {
        let Some(seen) = &self.seen else {
            return;
        };
        let end = cache.log_end();
        if seen.get() == end {
            return;
        }
        let stale = cache.stale_since(seen.get());
        seen.set(end);
        let Some(keys) = stale else {
            for (index, member) in self.members.iter_mut().enumerate() {
                if except.is_none_or(|(_, i)| i != index) {
                    member.stand(Standing::Unknown, &mut self.reads);
                }
            }
            return;
        };
        for key in keys {
            let Some(indexes) = self.by_key.get(key) else {
                continue;
            };
            for &index in indexes {
                if except != Some((*key, index)) {
                    self.members[index].stand(Standing::Unknown, &mut self.reads);
                }
            }
        }
    }
}

impl Member {
    /// Records where the cache stands on this member, releasing the shared reads of the
    /// checks it relied on before.
    fn stand(&mut self, standing: Standing, reads: &mut SharedReads) {
        if let Standing::Checked { reads: ids, .. } =
            std::mem::replace(&mut self.standing, standing)
        {
            reads.release(&ids);
        }
    }
}

/// What a check reads.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Source {
    Property(NodeId, Rc<str>),
    Position(NodeId),
}

/// A reading, `None` when it could not be made.
enum Reading {
    Value(Option<Value>),
    Position(Option<Position>),
}

struct Read {
    source: Source,
    /// The engine side's prepared read of a property, if it has one.
    reader: Option<Box<dyn Reader>>,
    /// Checks of members using it.
    users: u32,
    /// The set evaluation `reading` was made in.
    round: u64,
    reading: Reading,
}

/// The values checks read, each read at most once per evaluation of the set.
#[derive(Default)]
struct SharedReads {
    reads: Vec<Read>,
    index: FxHashMap<Source, u32>,
    free: Vec<u32>,
}

impl SharedReads {
    /// The entries for `checks`, made where missing.
    fn enter(&mut self, checks: &[Check], world: &mut dyn World) -> Box<[u32]> {
        checks
            .iter()
            .map(|check| {
                let source = match check {
                    Check::Property { node, property, .. } => {
                        Source::Property(*node, property.clone())
                    }
                    Check::Position { node, .. } => Source::Position(*node),
                };
                if let Some(&id) = self.index.get(&source) {
                    self.reads[id as usize].users += 1;
                    return id;
                }
                let reader = match check {
                    Check::Property { node, property, .. } => world.reader(*node, property),
                    Check::Position { .. } => None,
                };
                let read = Read {
                    source: source.clone(),
                    reader,
                    users: 1,
                    round: 0,
                    reading: Reading::Value(None),
                };
                let id = match self.free.pop() {
                    Some(id) => {
                        self.reads[id as usize] = read;
                        id
                    }
                    None => {
                        self.reads.push(read);
                        (self.reads.len() - 1) as u32
                    }
                };
                self.index.insert(source, id);
                id
            })
            .collect()
    }

    /// Whether the entries `ids` read what `checks` read, in order.
    fn serve(&self, ids: &[u32], checks: &[Check]) -> bool {
        ids.len() == checks.len()
            && ids.iter().zip(checks).all(|(&id, check)| {
                match (&self.reads[id as usize].source, check) {
                    (Source::Property(n, p), Check::Property { node, property, .. }) => {
                        n == node && same_text(p, property)
                    }
                    (Source::Position(n), Check::Position { node, .. }) => n == node,
                    _ => false,
                }
            })
    }

    fn release(&mut self, ids: &[u32]) {
        for &id in ids {
            let read = &mut self.reads[id as usize];
            read.users -= 1;
            if read.users == 0 {
                read.reader = None;
                self.index.remove(&read.source);
                self.free.push(id);
            }
        }
    }

    /// The first of `checks` that no longer holds, reading what this round has not read
    /// yet.
    fn failing<'c>(
        &mut self,
        checks: &'c [Check],
        ids: &[u32],
        round: u64,
        world: &mut dyn World,
    ) -> Option<&'c Check> {
        let holds = |reads: &mut Self, check: &Check, id: u32, world: &mut dyn World| {
            let read = &mut reads.reads[id as usize];
            if read.round != round {
                read.round = round;
                read.reading = match (&read.source, &read.reader) {
                    (Source::Property(..), Some(reader)) => Reading::Value(reader.read()),
                    (Source::Property(node, property), None) => {
                        Reading::Value(world.current(*node, property))
                    }
                    (Source::Position(node), _) => Reading::Position(world.position(*node).ok()),
                };
            }
            match (check, &read.reading) {
                (Check::Property { value, .. }, Reading::Value(Some(now))) => now.identical(value),
                (Check::Position { at, .. }, Reading::Position(Some(now))) => now == at,
                _ => false,
            }
        };
        checks
            .iter()
            .zip(ids)
            .find(|(check, id)| !holds(self, check, **id, world))
            .map(|(check, _)| check)
    }
}
