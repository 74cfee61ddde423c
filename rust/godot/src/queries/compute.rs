//! Answers computed from the engine, without the cache.

use godot::builtin::NodePath;
use godot::classes::{Node, SceneTree};
use godot::obj::Gd;
use lua_runtime_core::query::{Query, pattern};

use crate::state::RuntimeState;

/// The nodes answering `query` now. `root` is the node the query is rooted at, for the
/// kinds that have one.
pub fn nodes(
    state: &RuntimeState,
    tree: &Gd<SceneTree>,
    query: &Query,
    root: Option<&Gd<Node>>,
) -> Vec<Gd<Node>> {
    match (query, root) {
        (Query::Group { group }, _) => tree
            .get_nodes_in_group(group.as_str())
            .iter_shared()
            .collect(),
        (Query::Children { pattern, .. }, Some(parent)) => {
            let all = pattern::matches_all(pattern);
            parent
                .get_children()
                .iter_shared()
                .filter(|child| all || pattern::matches(pattern, &child.get_name().to_string()))
                .collect()
        }
        (
            Query::ByClass {
                class, recursive, ..
            },
            Some(root),
        ) => {
            let mut found = Vec::new();
            descendants_of_class(root, class, *recursive, &mut found);
            found
        }
        (Query::ByScript { path }, _) => driven_by(state, path),
        _ => Vec::new(),
    }
}

/// Children of `node` (and their descendants, when `recursive`) that are `class`, in tree
/// order.
fn descendants_of_class(node: &Gd<Node>, class: &str, recursive: bool, found: &mut Vec<Gd<Node>>) {
    for child in node.get_children().iter_shared() {
        if child.is_class(class) {
            found.push(child.clone());
        }
        if recursive {
            descendants_of_class(&child, class, true, found);
        }
    }
}

/// The nodes driven by a LuaScriptNode running `path` (each script node's `target_path`),
/// in the order the script nodes started, each node once. Only nodes in the tree.
fn driven_by(state: &RuntimeState, path: &str) -> Vec<Gd<Node>> {
    let mut found: Vec<Gd<Node>> = Vec::new();
    for instance in state.running.instances_of(path) {
        let Ok(script_node) = Gd::<Node>::try_from_instance_id(instance.node) else {
            continue;
        };
        if !script_node.is_inside_tree() {
            continue;
        }
        let target: NodePath = script_node.get("target_path").try_to().unwrap_or_default();
        if let Some(target) = script_node.get_node_or_null(&target)
            && target.is_inside_tree()
            && !found.contains(&target)
        {
            found.push(target);
        }
    }
    found
}
