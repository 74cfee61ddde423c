//! The `self` a script's callbacks receive: one table per LuaScriptNode.
//!
//! The table holds the instance's own state (`self.speed = 3` is stored in it) and survives
//! hot reload. Reads that miss the state fall through to the script's module (so
//! `self:helper()` calls a function the script defines), then to `self.target`, then to the
//! node's engine members (`self.name`, `self:get_parent()`). Writes to a name that is an
//! engine property of the node set that property; any other write is plain state.

use godot::builtin::NodePath;
use godot::classes::{Node, Object};
use godot::obj::Gd;
use mlua::{Function, Lua, Table, Value};

use super::object::{self, LuaObject};

/// Metatable fields of an instance table.
const NODE: &str = "node";
const MODULE: &str = "module";

/// The metamethods shared by every instance table.
pub struct InstanceFunctions {
    index: Function,
    newindex: Function,
}

impl InstanceFunctions {
    pub fn new(lua: &Lua) -> mlua::Result<Self> {
        let index = lua.create_function(|lua, (state, key): (Table, Value)| {
            instance_index(lua, &state, key)
        })?;
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
        meta.raw_set(NODE, LuaObject::new(node))?;
        meta.raw_set(MODULE, module)?;
        state.set_metatable(Some(meta))?;
        Ok(state)
    }
}

/// Points an existing `self` at a new version of its script (hot reload).
pub fn set_module(state: &Table, module: Table) -> mlua::Result<()> {
    match state.metatable() {
        Some(meta) => meta.raw_set(MODULE, module),
        None => Ok(()),
    }
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

fn instance_index(lua: &Lua, state: &Table, key: Value) -> mlua::Result<Value> {
    let Some(meta) = state.metatable() else {
        return Ok(Value::Nil);
    };
    let module: Table = meta.raw_get(MODULE)?;
    let found: Value = module.raw_get(&key)?;
    if !found.is_nil() {
        return Ok(found);
    }
    let Value::String(name) = key else {
        return Ok(Value::Nil);
    };
    let name = super::names::intern(&name)?;
    let node_ud: mlua::AnyUserData = meta.raw_get(NODE)?;
    let node = node_ud.borrow::<LuaObject>()?;
    if &*name.text == "target" {
        return target(lua, &node);
    }
    object::index(lua, &node, &name)
}

/// `self.target`: the node at the script node's `target_path`, or nil.
fn target(lua: &Lua, node: &LuaObject) -> mlua::Result<Value> {
    let object = node.object()?;
    let Ok(node) = object.try_cast::<Node>() else {
        return Ok(Value::Nil);
    };
    let path: NodePath = node.get("target_path").try_to().unwrap_or_default();
    match node.get_node_or_null(&path) {
        Some(target) => lua
            .create_userdata(LuaObject::new(target.upcast()))
            .map(Value::UserData),
        None => Ok(Value::Nil),
    }
}
