//! What the scene tree tells the query cache.
//!
//! The SceneTree's `node_added`, `node_removed` and `node_renamed` name the node; each marks
//! out of date the answers that node can change:
//! - a group answer, when the node is in that group;
//! - a children answer, when the node is a child of its parent (for a rename, only the
//!   pattern can change the answer);
//! - a by-class answer, when the node is under its root and of its class;
//! - every by-script answer (a script node's target is a path, which any of these can
//!   change).
//!
//! A node removed also drops the answers rooted at it. `move_child` sends only
//! `tree_changed`, without the node: a `tree_changed` that no node event explains marks out
//! of date every answer whose order could change (two or more nodes). In Godot 4.6 adding a
//! branch sends one `tree_changed` after its `node_added`s, removing one sends a
//! `tree_changed` after each `node_removed`, and a rename one after `node_renamed`: a node
//! event marks the next `tree_changed` as explained. An unexplained one only costs hits. The
//! one order change this misses is a `move_child` made from an `_enter_tree` or `_ready` of a
//! node being added, asked about before that add returns. The differential engine test checks
//! moves among the other edits.

use std::collections::HashSet;

use godot::builtin::{StringName, Variant};
use godot::classes::Node;
use godot::obj::Gd;
use lua_runtime_core::query::Query;

use super::Answer;

/// The SceneTree signals the query cache listens to.
pub const SIGNALS: [&str; 4] = ["node_added", "node_removed", "node_renamed", "tree_changed"];

/// What one of [`SIGNALS`] tells the query cache.
pub fn on_signal(signal: &str, args: &[&Variant]) {
    let Some(state) = crate::state::existing() else {
        return;
    };
    let queries = &state.queries;
    let node = args.first().and_then(|a| a.try_to::<Gd<Node>>().ok());
    match (signal, node) {
        ("node_added", Some(node)) => {
            queries.explained.set(1);
            node_moved_in_or_out(queries, &node, false);
        }
        ("node_removed", Some(node)) => {
            queries.explained.set(1);
            node_moved_in_or_out(queries, &node, true);
        }
        ("node_renamed", Some(node)) => {
            queries.explained.set(1);
            renamed(queries, &node);
        }
        ("tree_changed", _) => {
            let explained = queries.explained.get();
            if explained > 0 {
                queries.explained.set(explained - 1);
            } else {
                order_may_have_changed(queries);
            }
        }
        _ => {}
    }
}

/// `node` entered or is leaving the tree (with its groups, parent and ancestors still set).
fn node_moved_in_or_out(queries: &super::Queries, node: &Gd<Node>, leaving: bool) {
    let mut cache = queries.cache.borrow_mut();
    let id = node.instance_id_unchecked().to_i64() as u64;
    if leaving {
        cache.remove_where(|q| q.root() == Some(id));
    }
    if !cache.has_fresh() {
        return;
    }
    let parent = node
        .get_parent()
        .map(|p| p.instance_id_unchecked().to_i64() as u64);
    // Only recursive by-class answers need the node's ancestors; most tree events meet none.
    let mut ancestors: Option<HashSet<u64>> = None;
    cache.invalidate_where(|query, answer| match query {
        Query::Group { .. } => in_group(node, answer),
        Query::Children { parent: p, .. } => Some(*p) == parent,
        Query::ByClass {
            root,
            class,
            recursive,
        } => {
            let under = if *recursive {
                ancestors
                    .get_or_insert_with(|| ancestors_of(node))
                    .contains(root)
            } else {
                Some(*root) == parent
            };
            under && node.is_class(class.as_str())
        }
        Query::ByScript { .. } => true,
    });
}

fn renamed(queries: &super::Queries, node: &Gd<Node>) {
    let mut cache = queries.cache.borrow_mut();
    if !cache.has_fresh() {
        return;
    }
    let parent = node
        .get_parent()
        .map(|p| p.instance_id_unchecked().to_i64() as u64);
    cache.invalidate_where(|query, _| match query {
        Query::Children { parent: p, .. } => Some(*p) == parent,
        Query::ByScript { .. } => true,
        Query::Group { .. } | Query::ByClass { .. } => false,
    });
}

/// A change no node event explains (a child moved): answers whose order could differ.
fn order_may_have_changed(queries: &super::Queries) {
    queries
        .cache
        .borrow_mut()
        .invalidate_where(|query, answer| {
            answer.nodes.len() >= 2 || matches!(query, Query::ByScript { .. })
        });
}

fn in_group(node: &Gd<Node>, answer: &Answer) -> bool {
    answer
        .group
        .as_ref()
        .is_some_and(|g: &StringName| node.is_in_group(g))
}

/// The instance ids of `node`'s ancestors.
fn ancestors_of(node: &Gd<Node>) -> HashSet<u64> {
    let mut found = HashSet::new();
    let mut current = node.get_parent();
    while let Some(parent) = current {
        found.insert(parent.instance_id_unchecked().to_i64() as u64);
        current = parent.get_parent();
    }
    found
}
