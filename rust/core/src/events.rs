//! Events between scripts: `events.on(name, fn)`, `events.off(name, fn)`,
//! `events.emit(name, ...)`.
//!
//! The bus keeps subscriptions in the order they were made and delivers in that order. It
//! holds handlers of any type (the engine side stores Lua functions) and the node that owns
//! each subscription, so leaving the tree drops a node's subscriptions at once.
//!
//! Delivery works on a snapshot: a handler subscribed during an emit is not called by that
//! emit, and one unsubscribed during an emit is not called by it any more
//! ([`EventBus::is_subscribed`]).

use std::collections::HashMap;

use crate::stats::EventStats;

/// One subscription's handle, unique for the life of the bus.
pub type SubscriptionId = u64;

struct Subscription<H> {
    id: SubscriptionId,
    owner: Option<u64>,
    handler: H,
}

/// Subscriptions by event name.
pub struct EventBus<H> {
    by_name: HashMap<String, Vec<Subscription<H>>>,
    next_id: SubscriptionId,
    emitted: u64,
    delivered: u64,
    errors: u64,
}

impl<H> Default for EventBus<H> {
    fn default() -> Self {
        EventBus {
            by_name: HashMap::new(),
            next_id: 1,
            emitted: 0,
            delivered: 0,
            errors: 0,
        }
    }
}

impl<H: Clone> EventBus<H> {
    /// Subscribes `handler` to `name`; `owner` is the node whose script subscribed (none for
    /// code outside a node's callbacks).
    pub fn on(&mut self, name: &str, owner: Option<u64>, handler: H) -> SubscriptionId {
        let id = self.next_id;
        self.next_id += 1;
        self.by_name
            .entry(name.to_owned())
            .or_default()
            .push(Subscription { id, owner, handler });
        id
    }

    /// Removes the subscriptions of `name` whose handler `is_it` recognises; how many.
    pub fn off(&mut self, name: &str, mut is_it: impl FnMut(&H) -> bool) -> usize {
        let Some(list) = self.by_name.get_mut(name) else {
            return 0;
        };
        let before = list.len();
        list.retain(|s| !is_it(&s.handler));
        let removed = before - list.len();
        if list.is_empty() {
            self.by_name.remove(name);
        }
        removed
    }

    /// Removes every subscription `owner` made; how many.
    pub fn drop_owner(&mut self, owner: u64) -> usize {
        let mut removed = 0;
        self.by_name.retain(|_, list| {
            let before = list.len();
            list.retain(|s| s.owner != Some(owner));
            removed += before - list.len();
            !list.is_empty()
        });
        removed
    }

    /// The subscriptions to deliver one emit of `name` to, in subscription order. Counts the
    /// emit.
    pub fn emit(&mut self, name: &str) -> Vec<(SubscriptionId, Option<u64>, H)> {
        self.emitted += 1;
        self.by_name.get(name).map_or_else(Vec::new, |list| {
            list.iter()
                .map(|s| (s.id, s.owner, s.handler.clone()))
                .collect()
        })
    }

    /// Whether subscription `id` of `name` still stands (a handler earlier in the same emit
    /// may have removed it).
    pub fn is_subscribed(&self, name: &str, id: SubscriptionId) -> bool {
        self.by_name
            .get(name)
            .is_some_and(|list| list.iter().any(|s| s.id == id))
    }

    /// A handler ran; `failed` when it raised an error.
    pub fn delivered(&mut self, failed: bool) {
        self.delivered += 1;
        if failed {
            self.errors += 1;
        }
    }

    /// How many subscriptions `name` has.
    pub fn count(&self, name: &str) -> usize {
        self.by_name.get(name).map_or(0, Vec::len)
    }

    /// Drops every subscription; counters stay.
    pub fn clear(&mut self) {
        self.by_name.clear();
    }

    pub fn stats(&self) -> EventStats {
        let mut names: Vec<(String, u64)> = self
            .by_name
            .iter()
            .map(|(name, list)| (name.clone(), list.len() as u64))
            .collect();
        names.sort();
        EventStats {
            emitted: self.emitted,
            delivered: self.delivered,
            errors: self.errors,
            subscriptions: names.iter().map(|(_, n)| n).sum(),
            by_name: names.into_iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Delivers one emit the way the engine side does, returning the handlers called.
    fn deliver(bus: &mut EventBus<&'static str>, name: &str) -> Vec<&'static str> {
        let mut called = Vec::new();
        for (id, _, handler) in bus.emit(name) {
            if bus.is_subscribed(name, id) {
                called.push(handler);
                bus.delivered(false);
            }
        }
        called
    }

    #[test]
    fn handlers_run_in_subscription_order() {
        let mut bus = EventBus::default();
        bus.on("hit", None, "a");
        bus.on("hit", Some(1), "b");
        bus.on("other", None, "x");
        bus.on("hit", None, "c");
        assert_eq!(deliver(&mut bus, "hit"), ["a", "b", "c"]);
        assert_eq!(deliver(&mut bus, "nobody"), Vec::<&str>::new());
        let stats = bus.stats();
        assert_eq!(
            (stats.emitted, stats.delivered, stats.subscriptions),
            (2, 3, 4)
        );
        assert_eq!(stats.by_name["hit"], 3);
    }

    #[test]
    fn off_removes_the_matching_handlers_of_that_event_only() {
        let mut bus = EventBus::default();
        bus.on("hit", None, "a");
        bus.on("hit", None, "b");
        bus.on("heal", None, "a");
        assert_eq!(bus.off("hit", |h| *h == "a"), 1);
        assert_eq!(bus.off("hit", |h| *h == "zzz"), 0);
        assert_eq!(deliver(&mut bus, "hit"), ["b"]);
        assert_eq!(deliver(&mut bus, "heal"), ["a"]);
        assert_eq!(bus.off("hit", |_| true), 1);
        assert_eq!(bus.count("hit"), 0);
        assert!(
            !bus.stats().by_name.contains_key("hit"),
            "empty events are forgotten"
        );
    }

    #[test]
    fn an_owner_leaving_drops_all_its_subscriptions() {
        let mut bus = EventBus::default();
        bus.on("hit", Some(7), "a");
        bus.on("heal", Some(7), "b");
        bus.on("hit", Some(8), "c");
        bus.on("hit", None, "d");
        assert_eq!(bus.drop_owner(7), 2);
        assert_eq!(deliver(&mut bus, "hit"), ["c", "d"]);
        assert_eq!(bus.count("heal"), 0);
    }

    #[test]
    fn an_emit_skips_handlers_removed_during_it_and_not_those_added() {
        let mut bus = EventBus::default();
        let first = bus.on("hit", None, "a");
        let second = bus.on("hit", None, "b");
        let snapshot = bus.emit("hit");
        assert_eq!(snapshot[0].0, first);
        bus.off("hit", |h| *h == "b");
        bus.on("hit", None, "late");
        assert!(bus.is_subscribed("hit", first));
        assert!(!bus.is_subscribed("hit", second));
        assert_eq!(
            snapshot.len(),
            2,
            "the snapshot does not see the late subscription"
        );
    }

    #[test]
    fn errors_are_counted() {
        let mut bus: EventBus<&str> = EventBus::default();
        bus.delivered(true);
        bus.delivered(false);
        assert_eq!((bus.stats().delivered, bus.stats().errors), (2, 1));
    }
}
