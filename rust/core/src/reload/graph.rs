//! Who requires whom: the edges `require` records, and the order to reload in.
//!
//! An edge `a -> b` means script `a` called `require` for `b`. When files change, the scripts
//! to reload are the changed ones plus everything that requires them, directly or not, in an
//! order where each script comes after the ones it requires: a script reloaded later then
//! gets the new versions of its modules from `require`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// The `require` edges between scripts, by path.
#[derive(Debug, Default, Clone)]
pub struct Dependencies {
    requires: BTreeMap<String, BTreeSet<String>>,
    required_by: BTreeMap<String, BTreeSet<String>>,
}

impl Dependencies {
    /// Records that `requirer` requires `required`. A script requiring itself is no edge.
    pub fn record(&mut self, requirer: &str, required: &str) {
        if requirer == required {
            return;
        }
        self.requires
            .entry(requirer.to_owned())
            .or_default()
            .insert(required.to_owned());
        self.required_by
            .entry(required.to_owned())
            .or_default()
            .insert(requirer.to_owned());
    }

    /// What `path` requires, directly.
    pub fn requires_of(&self, path: &str) -> BTreeSet<String> {
        self.requires.get(path).cloned().unwrap_or_default()
    }

    /// The scripts that require `path`, directly.
    pub fn dependents_of(&self, path: &str) -> BTreeSet<String> {
        self.required_by.get(path).cloned().unwrap_or_default()
    }

    /// Drops the edges out of `path` (before it runs again and records them anew), returning
    /// them so a failed run can put them back with [`Self::restore`].
    pub fn take_requires_of(&mut self, path: &str) -> BTreeSet<String> {
        let taken = self.requires.remove(path).unwrap_or_default();
        for required in &taken {
            if let Some(users) = self.required_by.get_mut(required) {
                users.remove(path);
                if users.is_empty() {
                    self.required_by.remove(required);
                }
            }
        }
        taken
    }

    /// Puts back edges taken with [`Self::take_requires_of`].
    pub fn restore(&mut self, path: &str, requires: BTreeSet<String>) {
        for required in requires {
            self.record(path, &required);
        }
    }

    /// Renames a script in every edge (a file moved).
    pub fn rename(&mut self, from: &str, to: &str) {
        let requires = self.take_requires_of(from);
        let users = self.required_by.remove(from).unwrap_or_default();
        for user in users {
            if let Some(set) = self.requires.get_mut(&user) {
                set.remove(from);
            }
            self.record(&user, to);
        }
        self.restore(to, requires);
    }

    /// `roots` and everything they require, transitively.
    pub fn with_requirements(&self, roots: BTreeSet<String>) -> BTreeSet<String> {
        let mut all = roots;
        let mut to_visit: Vec<String> = all.iter().cloned().collect();
        while let Some(path) = to_visit.pop() {
            for required in self.requires.get(&path).into_iter().flatten() {
                if all.insert(required.clone()) {
                    to_visit.push(required.clone());
                }
            }
        }
        all
    }

    /// The changed scripts and everything that requires them, transitively, each after the
    /// scripts it requires. Ties keep path order, so the order is the same on every run.
    /// A loop of lazy `require`s (made inside functions, so not an error) cannot be ordered;
    /// its members come last, in path order.
    pub fn reload_order<'a>(&self, changed: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let mut affected: BTreeSet<String> = BTreeSet::new();
        let mut queue: VecDeque<String> = changed.into_iter().map(str::to_owned).collect();
        while let Some(path) = queue.pop_front() {
            if affected.insert(path.clone()) {
                queue.extend(self.dependents_of(&path));
            }
        }
        // Kahn's algorithm over the affected scripts, counting only edges between them.
        let mut waiting_on: BTreeMap<&str, usize> = affected
            .iter()
            .map(|path| {
                let count = self.requires.get(path).map_or(0, |deps| {
                    deps.iter().filter(|d| affected.contains(*d)).count()
                });
                (path.as_str(), count)
            })
            .collect();
        let mut ready: BTreeSet<&str> = waiting_on
            .iter()
            .filter(|(_, n)| **n == 0)
            .map(|(p, _)| *p)
            .collect();
        let mut order = Vec::with_capacity(affected.len());
        while let Some(path) = ready.pop_first() {
            waiting_on.remove(path);
            order.push(path.to_owned());
            for user in self.required_by.get(path).into_iter().flatten() {
                if let Some(count) = waiting_on.get_mut(user.as_str()) {
                    *count -= 1;
                    if *count == 0 {
                        ready.insert(user.as_str());
                    }
                }
            }
        }
        order.extend(waiting_on.into_keys().map(str::to_owned));
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain() -> Dependencies {
        let mut deps = Dependencies::default();
        deps.record("a", "b");
        deps.record("b", "c");
        deps.record("d", "c");
        deps.record("x", "y");
        deps
    }

    #[test]
    fn changed_module_reloads_its_users_after_it() {
        let deps = chain();
        assert_eq!(deps.reload_order(["c"]), ["c", "b", "a", "d"]);
        assert_eq!(deps.reload_order(["b"]), ["b", "a"]);
        assert_eq!(deps.reload_order(["a"]), ["a"]);
        assert_eq!(deps.reload_order(["unknown"]), ["unknown"]);
    }

    #[test]
    fn several_changes_are_ordered_together() {
        let deps = chain();
        assert_eq!(deps.reload_order(["a", "c"]), ["c", "b", "a", "d"]);
        assert_eq!(
            deps.reload_order(["y", "c"]),
            ["c", "b", "a", "d", "y", "x"]
        );
    }

    #[test]
    fn a_lazy_loop_still_reloads_every_member() {
        let mut deps = Dependencies::default();
        deps.record("a", "b");
        deps.record("b", "a");
        deps.record("c", "a");
        let order = deps.reload_order(["a"]);
        assert_eq!(order, ["a", "b", "c"]);
    }

    #[test]
    fn taking_and_restoring_edges() {
        let mut deps = chain();
        let taken = deps.take_requires_of("b");
        assert_eq!(deps.reload_order(["c"]), ["c", "d"]);
        deps.restore("b", taken);
        assert_eq!(deps.reload_order(["c"]), ["c", "b", "a", "d"]);
    }

    #[test]
    fn what_scripts_require_transitively() {
        let deps = chain();
        let roots = BTreeSet::from(["b".to_owned()]);
        assert_eq!(
            deps.with_requirements(roots)
                .into_iter()
                .collect::<Vec<_>>(),
            ["b", "c"]
        );
    }

    #[test]
    fn renaming_keeps_edges_both_ways() {
        let mut deps = chain();
        deps.rename("b", "b2");
        assert_eq!(deps.reload_order(["c"]), ["c", "b2", "a", "d"]);
        assert!(deps.dependents_of("b").is_empty());
        assert_eq!(
            deps.requires_of("a").into_iter().collect::<Vec<_>>(),
            ["b2"]
        );
    }
}
