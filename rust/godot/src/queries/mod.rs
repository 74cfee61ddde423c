//! The `query` library: cached answers to "which nodes are ...?" questions.
//!
//! `query.group(name)`, `query.children(node, pattern)`, `query.by_class(node, class,
//! recursive)` and `query.by_script(path)` return Lua arrays of nodes. An answer is cached by
//! its query and handed out again, the very same table, until the scene tree changes in a way
//! that can change it ([`watch`] listens to the SceneTree). Hits allocate nothing; a miss
//! builds a new table, reusing the Lua proxies of nodes the old answer had.
//!
//! Group membership has no signal. `add_to_group` / `remove_from_group` called from Lua
//! invalidate at once; for calls from GDScript or C#, a cached group answer is checked on each
//! hit: the group's size (one engine call) and then that each node is still in it. The
//! project setting `lua_runtime/queries/check_group_members` (on by default) can turn the
//! member check off, leaving the size check: then a change made outside Lua that keeps the
//! size (one node out, another in, between two asks) goes unseen until the next tree change.
//! The member check costs about 30 ns per node per ask.
//!
//! Answers are shared: treat them as read-only (`query.copy(list)` gives a table of your own).

mod compute;
mod watch;

use std::cell::{Cell, RefCell};

use godot::builtin::StringName;
use godot::classes::{ClassDb, Node, Object, SceneTree};
use godot::obj::{Gd, Singleton};
use lua_runtime_core::query::{Query, QueryCache};
use lua_runtime_core::stats::QueryStats;
use mlua::{Lua, RegistryKey, Table, Value};

use crate::bridge::object::receiver_object;
use crate::bridge::{describe, text_argument};
use crate::scene_tree;
use crate::state::RuntimeState;

/// Answers the cache holds at most.
const CAPACITY: usize = 1024;

/// One cached answer.
pub struct Answer {
    nodes: Vec<Gd<Node>>,
    /// The array handed to Lua: the node proxies, in the same order. It is held in the
    /// registry, as plain handles live on a stack LuaJIT caps at about 8,000 slots.
    table: RegistryKey,
    /// For group answers: the group, to check membership on each hit.
    group: Option<StringName>,
}

/// The query cache and its link to the scene tree.
pub struct Queries {
    cache: RefCell<QueryCache<Answer>>,
    /// The tree listened to, and the connections made to it.
    tree: scene_tree::Listener,
    /// Set by a node event, so the `tree_changed` that follows it is known not to be a move
    /// (see [`watch`]).
    explained: Cell<u8>,
    /// Whether group answers check each member on every hit (a project setting).
    check_members: Cell<bool>,
}

impl Default for Queries {
    fn default() -> Self {
        Queries {
            cache: RefCell::new(QueryCache::new(CAPACITY)),
            tree: scene_tree::Listener::default(),
            explained: Cell::new(0),
            check_members: Cell::new(true),
        }
    }
}

impl Queries {
    pub fn stats(&self) -> QueryStats {
        self.cache.borrow().stats()
    }

    /// Drops every cached answer (`LuaRuntime.clear_caches()`).
    pub fn clear(&self) {
        self.cache.borrow_mut().clear();
    }

    /// Reads the project settings that shape the cache.
    pub fn read_settings(&self) {
        self.check_members
            .set(crate::settings::check_group_members());
    }

    /// Lua code added a node to `group` or removed one from it.
    pub fn group_changed(&self, group: &str) {
        let query = Query::Group {
            group: group.to_owned(),
        };
        self.cache.borrow_mut().invalidate(&query);
    }

    /// The set of nodes running a script changed: answers by script are out of date.
    pub fn scripts_changed(&self) {
        self.cache
            .borrow_mut()
            .invalidate_where(|q, _| matches!(q, Query::ByScript { .. }));
    }

    /// Stops listening to the tree (at shutdown).
    pub fn stop(&self) {
        self.tree.stop();
        self.cache.borrow_mut().clear();
    }

    /// The scene tree, listened to from the first query on.
    fn tree(&self) -> mlua::Result<Gd<SceneTree>> {
        let (tree, new) = self
            .tree
            .ensure(&watch::SIGNALS, watch::on_signal)
            .ok_or_else(|| mlua::Error::runtime("query: there is no SceneTree to ask"))?;
        if new {
            // A new tree (the old one was freed): nothing cached is about it.
            self.cache.borrow_mut().clear();
        }
        Ok(tree)
    }

    /// The answer to `query` (rooted at `root` for the kinds that have one), from the cache
    /// when it is still right.
    fn ask(
        &self,
        lua: &Lua,
        state: &RuntimeState,
        query: Query,
        root: Option<Gd<Node>>,
    ) -> mlua::Result<Table> {
        let tree = self.tree()?;
        let label = || query.signature(&root.as_ref().map_or(String::new(), node_label));
        if root.as_ref().is_some_and(|r| !r.is_inside_tree()) {
            // Outside the tree no signal tells of changes: answer afresh every time.
            self.cache.borrow_mut().bypass(&query, label);
            let nodes = compute::nodes(state, &tree, &query, root.as_ref());
            return lua.registry_value(&build(lua, nodes, None)?.table);
        }
        {
            let mut cache = self.cache.borrow_mut();
            if let Some(answer) = cache.fresh(&query) {
                if answer.still_right(&tree, self.check_members.get()) {
                    let table = lua.registry_value(&answer.table)?;
                    cache.hit(&query);
                    return Ok(table);
                }
                cache.invalidate(&query);
            }
        }
        // Kept until the new answer is built: its nodes' Lua values stay in the pool.
        let _old = self.cache.borrow_mut().take(&query);
        let nodes = compute::nodes(state, &tree, &query, root.as_ref());
        let group = match &query {
            Query::Group { group } => Some(StringName::from(group.as_str())),
            _ => None,
        };
        let answer = build(lua, nodes, group)?;
        let table = lua.registry_value(&answer.table)?;
        self.cache.borrow_mut().store(query.clone(), label, answer);
        Ok(table)
    }
}

impl Answer {
    /// Whether the answer still holds. Only group answers need a look: every other change
    /// comes with a tree signal.
    fn still_right(&self, tree: &Gd<SceneTree>, check_members: bool) -> bool {
        let Some(group) = &self.group else {
            return true;
        };
        tree.get_node_count_in_group(group) as usize == self.nodes.len()
            && (!check_members
                || self
                    .nodes
                    .iter()
                    .all(|n| n.is_instance_valid() && n.is_in_group(group)))
    }
}

/// A new answer for `nodes`. Nodes an answer Lua still holds had keep their Lua values (the
/// value pool hands them out again).
fn build(lua: &Lua, nodes: Vec<Gd<Node>>, group: Option<StringName>) -> mlua::Result<Answer> {
    let table = lua.create_table_with_capacity(nodes.len(), 0)?;
    for (i, node) in nodes.iter().enumerate() {
        table.raw_set(
            i + 1,
            crate::bridge::pool::wrap(lua, node.clone().upcast::<Object>())?,
        )?;
    }
    table.set_metatable(Some(result_metatable(lua)?))?;
    Ok(Answer {
        nodes,
        table: lua.create_registry_value(table)?,
        group,
    })
}

/// The metatable of answers: adding to one is an error that says why.
fn result_metatable(lua: &Lua) -> mlua::Result<Table> {
    const KEY: &str = "lua_runtime.query_result";
    if let Ok(Some(meta)) = lua.named_registry_value::<Option<Table>>(KEY) {
        return Ok(meta);
    }
    let meta = lua.create_table()?;
    meta.raw_set(
        "__newindex",
        lua.create_function(|_, _: mlua::MultiValue| -> mlua::Result<()> {
            Err(mlua::Error::runtime(
                "query results are shared by every caller and must not be changed; \
                 use query.copy(list) for a table of your own",
            ))
        })?,
    )?;
    meta.raw_set("__metatable", "query result")?;
    lua.set_named_registry_value(KEY, &meta)?;
    Ok(meta)
}

/// A node as statistics name it: its path in the tree, else its name.
fn node_label(node: &Gd<Node>) -> String {
    if node.is_inside_tree() {
        node.get_path().to_string()
    } else {
        node.get_name().to_string()
    }
}

/// Installs the `query` global.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    let query = lua.create_table()?;
    query.raw_set(
        "group",
        lua.create_function(|lua, name: Value| {
            let group = text_argument("query.group", 1, "a group name", &name)?;
            ask(lua, Query::Group { group }, None)
        })?,
    )?;
    query.raw_set(
        "children",
        lua.create_function(|lua, (node, pattern): (Value, Option<Value>)| {
            let parent = node_argument("query.children", &node)?;
            let pattern = match pattern {
                None | Some(Value::Nil) => "*".to_owned(),
                Some(p) => text_argument("query.children", 2, "a name pattern", &p)?,
            };
            let pattern = if pattern.is_empty() {
                "*".to_owned()
            } else {
                pattern
            };
            let query = Query::Children {
                parent: parent.instance_id_unchecked().to_i64() as u64,
                pattern,
            };
            ask(lua, query, Some(parent))
        })?,
    )?;
    query.raw_set(
        "by_class",
        lua.create_function(
            |lua, (node, class, recursive): (Value, Value, Option<bool>)| {
                let root = node_argument("query.by_class", &node)?;
                let class = text_argument("query.by_class", 2, "a class name", &class)?;
                if !ClassDb::singleton().class_exists(class.as_str()) {
                    return Err(mlua::Error::runtime(format!(
                        "query.by_class: there is no class named '{class}'"
                    )));
                }
                let query = Query::ByClass {
                    root: root.instance_id_unchecked().to_i64() as u64,
                    class,
                    recursive: recursive.unwrap_or(false),
                };
                ask(lua, query, Some(root))
            },
        )?,
    )?;
    query.raw_set(
        "by_script",
        lua.create_function(|lua, path: Value| {
            let path = text_argument("query.by_script", 1, "a script path", &path)?;
            ask(lua, Query::ByScript { path }, None)
        })?,
    )?;
    query.raw_set(
        "copy",
        lua.create_function(|lua, list: Table| {
            let copy = lua.create_table_with_capacity(list.raw_len(), 0)?;
            for (i, value) in list.sequence_values::<Value>().enumerate() {
                copy.raw_set(i + 1, value?)?;
            }
            Ok(copy)
        })?,
    )?;
    lua.globals().raw_set("query", query)
}

fn ask(lua: &Lua, query: Query, root: Option<Gd<Node>>) -> mlua::Result<Table> {
    let state = crate::state::running()?;
    state.queries.ask(lua, &state, query, root)
}

/// A node argument: a node object, or a script's `self`.
fn node_argument(function: &str, value: &Value) -> mlua::Result<Gd<Node>> {
    let object = receiver_object(value);
    let expected = || {
        mlua::Error::runtime(format!(
            "{function}: argument #1: expected a Node, got {}",
            describe(value)
        ))
    };
    object
        .ok_or_else(expected)??
        .try_cast::<Node>()
        .map_err(|_| expected())
}
