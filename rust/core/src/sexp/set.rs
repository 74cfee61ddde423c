//! Many expressions, each in its context node, evaluated together: what a mission checks
//! every frame.
//!
//! A set keeps each member's last result and how the cache stands on it:
//! - **fresh**: nothing it read can change unseen. The set answers it itself until the
//!   cache's log of stale keys ([`ExpressionCache::stale_since`]) names its key;
//! - **checked**: fresh as long as some values no signal tells of (a plain property, a
//!   position) are unchanged. Each such value is read once per evaluation of the set, however
//!   many members read it; only when the reading differs from the last one are the members
//!   relying on it compared with it;
//! - **unknown** (never computed, stale, volatile, failed): evaluated through the cache.
//!
//! An evaluation so looks only at the members the log names, the readers of values that
//! changed, and the members computed the time before (whose checks hold what they read
//! themselves, not yet compared with the shared readings). The others are not touched. A
//! member that holds is not counted at once: its hits are counted when it is next computed,
//! or when statistics are read ([`ExpressionCache::settle_counts`]), so a hit touches nothing
//! of its expression. A frame where a few inputs change so costs the members those inputs
//! feed plus one read per checked value.
//!
//! Members are looked at in the order they were added. Within one evaluation every member
//! sees the same reading of a checked value (it is read once); a change made while the set
//! is evaluated (by an operator or a getter) is seen, for members already passed, by the
//! next evaluation.

use std::cell::{Cell, RefCell};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
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
    /// A member with each cache key; the others with the same key (the same expression in
    /// the same context may be added twice) are found around [`Member::same_key`].
    by_key: FxHashMap<Key, u32>,
    reads: SharedReads,
    /// The cache log position read up to; `None` before the first evaluation.
    seen: Option<Rc<Cell<u64>>>,
    /// Counts evaluations of the set: a shared read is good for one.
    round: u64,
    /// The members to look at, smallest index first (each once: [`Member::queued`]).
    queue: BinaryHeap<Reverse<usize>>,
    /// Members queued again after their turn, for the next evaluation.
    later: Vec<usize>,
    tally: Rc<RefCell<Tally>>,
}

struct Member {
    expr: Rc<Compiled>,
    context: NodeId,
    standing: Standing,
    /// The value last reported; `None` before the first and after an error.
    last: Option<Value>,
    /// Whether it waits in [`ExpressionSet::queue`].
    queued: bool,
    /// The next member with the same cache key, in a ring back to this one; `None` when no
    /// other member has it.
    same_key: Option<u32>,
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

/// The hits of members that held, counted later: for each member, its expression and the
/// last evaluation of the set its counters include.
#[derive(Default)]
pub(super) struct Tally {
    /// The last evaluation of the set completed.
    round: u64,
    counted: Vec<(Rc<Compiled>, u64)>,
}

impl Tally {
    /// Counts each member's evaluations since it was last counted: each was a hit (a member
    /// computed is counted first).
    pub(super) fn settle(&mut self) {
        let round = self.round;
        for (expr, counted) in &mut self.counted {
            count_hits_up_to(expr, counted, round);
        }
    }

    /// Member `index` is computed in evaluation `round`: the evaluations before (it held in
    /// each) are counted as hits; this one the cache counts.
    fn computing(&mut self, index: usize, round: u64) {
        let (expr, counted) = &mut self.counted[index];
        count_hits_up_to(expr, counted, round - 1);
        *counted = round;
    }
}

/// Counts a hit of `expr` for each evaluation after `counted` up to `round`.
fn count_hits_up_to(expr: &Compiled, counted: &mut u64, round: u64) {
    if *counted < round {
        let mut counts = expr.counts.borrow_mut();
        counts.evaluations += round - *counted;
        counts.hits += round - *counted;
        *counted = round;
    }
}

impl Drop for ExpressionSet {
    fn drop(&mut self) {
        if let Ok(mut tally) = self.tally.try_borrow_mut() {
            tally.settle();
        }
    }
}

impl ExpressionSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `expr` evaluated in `context`; its index.
    pub fn add(&mut self, expr: Rc<Compiled>, context: NodeId) -> usize {
        let index = self.members.len();
        let first = *self
            .by_key
            .entry((expr.id, context))
            .or_insert(index as u32);
        let mut same_key = None;
        if first as usize != index {
            // Into the ring right after the first (a stale key needs them all, in any order).
            let first_member = &mut self.members[first as usize];
            same_key = Some(first_member.same_key.replace(index as u32).unwrap_or(first));
        }
        self.tally
            .borrow_mut()
            .counted
            .push((expr.clone(), self.round));
        self.members.push(Member {
            expr,
            context,
            standing: Standing::Unknown,
            last: None,
            queued: false,
            same_key,
        });
        self.queue(index);
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
        let round = self.round;
        if self.seen.is_none() {
            let mut cache = cache.borrow_mut();
            self.seen = Some(cache.log_reader());
            cache.tally(Rc::downgrade(&self.tally));
        }
        self.take_stale(&cache.borrow(), None);
        let (members, queue) = (&mut self.members, &mut self.queue);
        self.reads.refresh(round, world, &mut |index| {
            enqueue(members, queue, index);
        });
        // A getter may have changed what members read.
        self.take_stale(&cache.borrow(), None);
        let mut computed = 0;
        let mut cursor = 0;
        while let Some(Reverse(index)) = self.queue.pop() {
            if index < cursor {
                // Queued again after its turn (by a change made while the set runs).
                self.later.push(index);
                continue;
            }
            cursor = index + 1;
            let member = &mut self.members[index];
            member.queued = false;
            let held = match &member.standing {
                Standing::Fresh => true,
                Standing::Checked { checks, reads } => {
                    match self.reads.failing(checks, reads, round) {
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
                // A hit, counted later (see `Tally`).
                continue;
            }
            self.tally.borrow_mut().computing(index, round);
            computed += 1;
            self.compute(index, cache, world, report);
            // Looked at next time: an unknown standing is computed again, and checks hold
            // what the member read itself, not yet compared with the shared readings.
            if !matches!(self.members[index].standing, Standing::Fresh) {
                self.queue(index);
            }
        }
        for index in self.later.drain(..) {
            self.queue.push(Reverse(index));
        }
        self.tally.borrow_mut().round = round;
        cache
            .borrow_mut()
            .count_hits((self.members.len() - computed) as u64);
    }

    /// Queues member `index` to be looked at.
    fn queue(&mut self, index: usize) {
        enqueue(&mut self.members, &mut self.queue, index);
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
                        self.reads.enter(&checks, index, world)
                    }
                },
                checks,
            },
        };
        if let Some(ids) = held {
            self.reads.release(&ids, index);
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

    /// Marks the members whose results went stale since the log was last read, and queues
    /// them; `except` is a member (with its key) whose standing is already known.
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
            for index in 0..self.members.len() {
                if except.is_none_or(|(_, i)| i != index) {
                    forget(&mut self.members, &mut self.reads, &mut self.queue, index);
                }
            }
            return;
        };
        for key in keys {
            // The member just computed logs its own key (its result went stale before it was
            // computed): its ring starts there, with no lookup.
            let start = match except {
                Some((own, index)) if own == *key => index,
                _ => match self.by_key.get(key) {
                    Some(&index) => index as usize,
                    None => continue,
                },
            };
            let mut index = start;
            loop {
                if except != Some((*key, index)) {
                    forget(&mut self.members, &mut self.reads, &mut self.queue, index);
                }
                match self.members[index].same_key {
                    Some(next) if next as usize != start => index = next as usize,
                    _ => break,
                }
            }
        }
    }
}

/// Member `index` must be computed again: its shared reads are let go and it is queued.
fn forget(
    members: &mut [Member],
    reads: &mut SharedReads,
    queue: &mut BinaryHeap<Reverse<usize>>,
    index: usize,
) {
    if let Standing::Checked { reads: ids, .. } =
        std::mem::replace(&mut members[index].standing, Standing::Unknown)
    {
        reads.release(&ids, index);
    }
    enqueue(members, queue, index);
}

fn enqueue(members: &mut [Member], queue: &mut BinaryHeap<Reverse<usize>>, index: usize) {
    let member = &mut members[index];
    if !member.queued {
        member.queued = true;
        queue.push(Reverse(index));
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

impl Reading {
    fn same(&self, other: &Reading) -> bool {
        match (self, other) {
            (Reading::Value(Some(a)), Reading::Value(Some(b))) => a.identical(b),
            (Reading::Value(None), Reading::Value(None)) => true,
            (Reading::Position(a), Reading::Position(b)) => a == b,
            _ => false,
        }
    }
}

struct Read {
    source: Source,
    /// The engine side's prepared read of a property, if it has one.
    reader: Option<Box<dyn Reader>>,
    /// The members whose checks use it (a member once per check).
    users: Vec<usize>,
    /// The set evaluation `reading` was made in; 0 before the first.
    round: u64,
    reading: Reading,
}

impl Read {
    fn take_reading(&self, world: &mut dyn World) -> Reading {
        match (&self.source, &self.reader) {
            (Source::Property(..), Some(reader)) => Reading::Value(reader.read()),
            (Source::Property(node, property), None) => {
                Reading::Value(world.current(*node, property))
            }
            (Source::Position(node), _) => Reading::Position(world.position(*node).ok()),
        }
    }
}

/// The values checks read, each read once per evaluation of the set.
#[derive(Default)]
struct SharedReads {
    reads: Vec<Read>,
    index: FxHashMap<Source, u32>,
    free: Vec<u32>,
}

impl SharedReads {
    /// The entries for the checks of member `user`, made where missing.
    fn enter(&mut self, checks: &[Check], user: usize, world: &mut dyn World) -> Box<[u32]> {
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
                    self.reads[id as usize].users.push(user);
                    return id;
                }
                let reader = match check {
                    Check::Property { node, property, .. } => world.reader(*node, property),
                    Check::Position { .. } => None,
                };
                let read = Read {
                    source: source.clone(),
                    reader,
                    users: vec![user],
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

    /// Member `user` no longer uses the entries `ids`.
    fn release(&mut self, ids: &[u32], user: usize) {
        for &id in ids {
            let read = &mut self.reads[id as usize];
            if let Some(at) = read.users.iter().position(|&u| u == user) {
                read.users.swap_remove(at);
            }
            if read.users.is_empty() {
                read.reader = None;
                self.index.remove(&read.source);
                self.free.push(id);
            }
        }
    }

    /// Reads every value in use, once for evaluation `round`; `changed` hears of the users
    /// of each whose reading differs from the last.
    fn refresh(&mut self, round: u64, world: &mut dyn World, changed: &mut dyn FnMut(usize)) {
        for read in &mut self.reads {
            if read.users.is_empty() || read.round == round {
                continue;
            }
            let now = read.take_reading(world);
            let same = read.round != 0 && now.same(&read.reading);
            read.reading = now;
            read.round = round;
            if !same {
                for &user in &read.users {
                    changed(user);
                }
            }
        }
    }

    /// The first of `checks` that no longer holds by the readings of evaluation `round`.
    fn failing<'c>(&self, checks: &'c [Check], ids: &[u32], round: u64) -> Option<&'c Check> {
        let holds = |check: &Check, id: u32| {
            let read = &self.reads[id as usize];
            if read.round != round {
                // Not read this evaluation (it cannot happen to a member still waiting its
                // turn): computing again is always right.
                return false;
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
            .find(|(check, id)| !holds(check, **id))
            .map(|(check, _)| check)
    }
}
