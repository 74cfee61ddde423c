//! The `self` a script's callbacks receive: one table per LuaScriptNode.
//!
//! The table holds the instance's own state (`self.speed = 3` is stored in it) and survives
//! hot reload. Reads that miss the state fall through to the script's module (so
//! `self:helper()` calls a function the script defines), then to `self.target`, then to the
//! node's engine members (`self.name`, `self:get_parent()`). Writes to a name that is an
//! engine property of the node set that property; any other write is plain state.
//!
//! A target that only the script node's own move can change (an ancestor: the default
//! parent) is kept in the table itself, as the field `target`, so that reading it costs one
//! lookup in a table the callback reads anyway. At 10,000 nodes the fall-through reads three
//! more tables a node, and each is a cache miss: the mover benchmark's Lua time went down by
//! about a tenth. The runtime replaces or removes that field only while it holds the value
//! the runtime put there; a value the script assigned to `self.target` stays.

use godot::builtin::NodePath;
use godot::classes::{Node, Object};
use godot::obj::Gd;
use mlua::{Function, Lua, LuaString, Table, Value};

use super::object::{self, LuaObject};

/// Metatable fields of an instance table.
const NODE: &str = "node";
const MODULE: &str = "module";
/// `self.target` once found, when only the node's own place in the tree can change it.
const TARGET: &str = "target";

/// `self[key]` for keys `self` lacks: the module's functions and `self.target` are found in
/// Lua, without a call into the runtime; engine members of the node go to `node_index`.
const INDEX: &str = r#"
local rawget, getmetatable, type = rawget, getmetatable, type
local node_index, find_target = ...
return function(self, key)
  local meta = getmetatable(self)
  local found = rawget(meta.module, key)
  if found ~= nil then return found end
  if key == "target" then
    local target = meta.target
    if target ~= nil then return target end
    return find_target(self)
  end
  if type(key) ~= "string" then return nil end
  return node_index(self, key)
end
"#;

/// The metamethods shared by every instance table.
pub struct InstanceFunctions {
    index: Function,
    newindex: Function,
}

impl InstanceFunctions {
    pub fn new(lua: &Lua) -> mlua::Result<Self> {
        let node_index = lua.create_function(|lua, (state, key): (Table, LuaString)| {
            node_member(lua, &state, &key)
        })?;
        let find_target = lua.create_function(|lua, state: Table| find_target(lua, &state))?;
        let index: Function = lua
            .load(INDEX)
            .set_name("=self")
            .call((node_index, find_target))?;
        let newindex = lua.create_function(|_, (state, key, value): (Table, Value, Value)| {
            if let Value::String(name) = &key
                && let Some(node) = node_userdata(&state)?
            {
                let node = node.borrow::<LuaObject>()?;
                let name = super::names::intern(name)?;
                if object::has_property(&node, &name)? {
                    return object::set(&node, &name, &value);
                }
            }
            state.raw_set(key, value)
        })?;
        Ok(InstanceFunctions { index, newindex })
    }

    /// A fresh `self` for `node` running `module`.
    pub fn create(&self, lua: &Lua, node: Gd<Object>, module: Table) -> mlua::Result<Table> {
        let state = lua.create_table()?;
        let meta = lua.create_table()?;
        meta.raw_set("__index", self.index.clone())?;
        meta.raw_set("__newindex", self.newindex.clone())?;
        meta.raw_set(NODE, super::pool::wrap(lua, node)?)?;
        meta.raw_set(MODULE, module)?;
        state.set_metatable(Some(meta))?;
        Ok(state)
    }
}

/// Points an existing `self` at a new version of its script (hot reload).
pub fn set_module(state: &Table, module: Table) -> mlua::Result<()> {
    let Some(meta) = state.metatable() else {
        return Ok(());
    };
    if defines_target(&module)? {
        unkeep_target(state, &meta)?;
    } else if let Value::UserData(target) = meta.raw_get::<Value>(TARGET)? {
        keep_target(state, &meta, &target)?;
    }
    meta.raw_set(MODULE, module)
}

fn node_userdata(state: &Table) -> mlua::Result<Option<mlua::AnyUserData>> {
    match state.metatable() {
        Some(meta) => meta.raw_get(NODE),
        None => Ok(None),
    }
}

/// The node behind a `self` table, if `state` is one.
pub fn node_of(state: &Table) -> Option<mlua::Result<Gd<Object>>> {
    let ud = node_userdata(state).ok()??;
    let node = ud.borrow::<LuaObject>().ok()?;
    Some(node.object())
}

/// An engine member of the node behind `self` (`self.name`, `self:get_parent()`).
fn node_member(lua: &Lua, state: &Table, key: &LuaString) -> mlua::Result<Value> {
    let Some(meta) = state.metatable() else {
        return Ok(Value::Nil);
    };
    let name = super::names::intern(key)?;
    let node_ud: mlua::AnyUserData = meta.raw_get(NODE)?;
    let node = node_ud.borrow::<LuaObject>()?;
    object::index(lua, &node, &name)
}

/// `self.target`: the node at the script node's `target_path`, or nil. A path made only of
/// `..` and `.` (the default is the parent) names an ancestor, which only the script node's
/// own move can change: it is kept until [`forget_target`].
fn find_target(lua: &Lua, state: &Table) -> mlua::Result<Value> {
    let Some(meta) = state.metatable() else {
        return Ok(Value::Nil);
    };
    let node_ud: mlua::AnyUserData = meta.raw_get(NODE)?;
    let object = node_ud.borrow::<LuaObject>()?.object()?;
    let Ok(node) = object.try_cast::<Node>() else {
        return Ok(Value::Nil);
    };
    let path: NodePath = node.get("target_path").try_to().unwrap_or_default();
    target_at(lua, state, &meta, &node, &path)
}

/// The node at `path` from `node`, kept (in `meta`, and in `state` unless the module
/// defines `target`) when the path names an ancestor.
fn target_at(
    lua: &Lua,
    state: &Table,
    meta: &Table,
    node: &Gd<Node>,
    path: &NodePath,
) -> mlua::Result<Value> {
    let Some(target) = node.get_node_or_null(path) else {
        return Ok(Value::Nil);
    };
    let proxy = super::pool::wrap(lua, target.upcast())?;
    // Called only while `meta` keeps no target, so there is no old one to take out of `state`.
    if names_an_ancestor(path) {
        meta.raw_set(TARGET, &proxy)?;
        let module: Option<Table> = meta.raw_get(MODULE)?;
        if !module.map_or(Ok(false), |module| defines_target(&module))? {
            keep_target(state, meta, &proxy)?;
        }
    }
    Ok(Value::UserData(proxy))
}

/// Whether `module` defines `target`, which then answers `self.target` before the node does.
fn defines_target(module: &Table) -> mlua::Result<bool> {
    Ok(module.raw_get::<Value>(TARGET)? != Value::Nil)
}

/// Puts `target` in `state` as its field `target`, unless the script put a value of its own
/// there.
fn keep_target(state: &Table, meta: &Table, target: &mlua::AnyUserData) -> mlua::Result<()> {
    match state.raw_get::<Value>(TARGET)? {
        Value::Nil => state.raw_set(TARGET, target),
        held if held == meta.raw_get::<Value>(TARGET)? => state.raw_set(TARGET, target),
        _ => Ok(()),
    }
}

/// Takes the field `target` out of `state` if it holds the target the runtime put there.
fn unkeep_target(state: &Table, meta: &Table) -> mlua::Result<()> {
    let kept: Value = meta.raw_get(TARGET)?;
    if kept != Value::Nil && state.raw_get::<Value>(TARGET)? == kept {
        state.raw_set(TARGET, Value::Nil)?;
    }
    Ok(())
}

/// Finds `self.target` now rather than at its first use, for a script node `node` in the
/// tree whose `target_path` is `path`.
///
/// The first frame then runs the same code as every later one. LuaJIT compiles the loop
/// that runs a batch during that frame, and a lookup made there (a call into the runtime)
/// would end that compiled loop early for good: every later frame would run each node
/// through a side branch of it, without the loop's hoisted checks.
pub fn find_target_now(
    lua: &Lua,
    state: &Table,
    node: &Gd<Node>,
    path: &NodePath,
) -> mlua::Result<()> {
    forget_target(state)?;
    match state.metatable() {
        Some(meta) if names_an_ancestor(path) => {
            target_at(lua, state, &meta, node, path).map(|_| ())
        }
        _ => Ok(()),
    }
}

fn names_an_ancestor(path: &NodePath) -> bool {
    !path.is_absolute()
        && path.get_subname_count() == 0
        && (0..path.get_name_count()).all(|i| {
            let name = path.get_name(i);
            name == ".." || name == "."
        })
}

/// The script node moved or its `target_path` changed: `self.target` is looked up again.
pub fn forget_target(state: &Table) -> mlua::Result<()> {
    match state.metatable() {
        Some(meta) => {
            unkeep_target(state, &meta)?;
            meta.raw_set(TARGET, Value::Nil)
        }
        None => Ok(()),
    }
}
