//! Cached node queries: "which nodes are enemies?", "which children are named `Enemy*`?".
//!
//! An answer is kept until the scene tree changes in a way that can change it. The engine
//! side tells the cache what changed (a node added, removed or renamed, a group's members);
//! the cache knows nothing of Godot: nodes are instance ids, and an entry's value is whatever
//! the caller stores (the engine side keeps the nodes and the Lua array it hands out).
//!
//! - [`pattern`]: node-name patterns with `*` and `?`, as Godot's `String.match`.
//! - [`cache`]: the bounded cache with its counters.

pub mod cache;
pub mod pattern;

pub use cache::QueryCache;

/// One question about the scene tree. Nodes are engine instance ids.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Query {
    /// Nodes in a group, in tree order.
    Group { group: String },
    /// Direct children of `parent` whose name matches `pattern`, in child order.
    Children { parent: u64, pattern: String },
    /// Descendants of `root` (children only unless `recursive`) of class `class` or a
    /// subclass, in tree order.
    ByClass {
        root: u64,
        class: String,
        recursive: bool,
    },
    /// Nodes driven by a LuaScriptNode running the script at `path`.
    ByScript { path: String },
}

impl Query {
    /// The query's kind, as `get_stats()` names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Query::Group { .. } => "group",
            Query::Children { .. } => "children",
            Query::ByClass { .. } => "by_class",
            Query::ByScript { .. } => "by_script",
        }
    }

    /// The node the query is rooted at, for the kinds that have one.
    pub fn root(&self) -> Option<u64> {
        match self {
            Query::Children { parent, .. } => Some(*parent),
            Query::ByClass { root, .. } => Some(*root),
            Query::Group { .. } | Query::ByScript { .. } => None,
        }
    }

    /// The query as a user writes it, with `root` (a node path or name) for the node it is
    /// rooted at: `group("enemies")`, `children(/root/Main, "Enemy*")`.
    pub fn signature(&self, root: &str) -> String {
        match self {
            Query::Group { group } => format!("group({group:?})"),
            Query::Children { pattern, .. } => format!("children({root}, {pattern:?})"),
            Query::ByClass {
                class, recursive, ..
            } => format!("by_class({root}, {class:?}, {recursive})"),
            Query::ByScript { path } => format!("by_script({path:?})"),
        }
    }
}
