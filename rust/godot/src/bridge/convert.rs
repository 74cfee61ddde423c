//! Variant <-> Lua value.
//!
//! Integers stay integers and floats stay floats both ways. Strings and StringNames become Lua
//! strings; `Vector2`, `Vector3` and `Color` become Lua tables with Lua-side operators;
//! objects become [`LuaObject`]s; every other type (arrays, dictionaries, packed arrays,
//! transforms, callables, ...) becomes a [`LuaVariant`] that converts back unchanged, so a
//! round trip through Lua loses nothing. Lua tables go to Godot as an Array when they are
//! sequences and as a Dictionary otherwise; Lua functions go as Callables. Under LuaJIT, ints
//! beyond 2^53 stay Godot ints (a `LuaVariant`) so that no digit is lost.

use godot::builtin::{Array, GString, StringName, VarDictionary, Variant, VariantType};
use godot::classes::Object;
use godot::meta::ToGodot;
use godot::obj::Gd;
use mlua::{AnyUserData, Lua, Table, Value};

use super::builtin::LuaVariant;
use super::object::LuaObject;

/// Nesting deeper than this is treated as a cycle.
const MAX_DEPTH: usize = 64;

/// A Godot value as a Lua value.
pub fn to_lua(lua: &Lua, value: &Variant) -> mlua::Result<Value> {
    // Every conversion is checked: a Variant that does not convert travels as an opaque
    // value rather than panicking inside a Lua call.
    let converted = match value.get_type() {
        VariantType::NIL => Some(Value::Nil),
        VariantType::BOOL => value.try_to::<bool>().ok().map(Value::Boolean),
        VariantType::INT => value.try_to::<i64>().ok().and_then(lua_integer),
        VariantType::FLOAT => value.try_to::<f64>().ok().map(Value::Number),
        VariantType::STRING => match value.try_to::<GString>() {
            Ok(s) => Some(Value::String(lua.create_string(s.to_string())?)),
            Err(_) => None,
        },
        VariantType::STRING_NAME => match value.try_to::<StringName>() {
            Ok(s) => Some(Value::String(lua.create_string(s.to_string())?)),
            Err(_) => None,
        },
        VariantType::VECTOR2 | VariantType::VECTOR3 | VariantType::COLOR => {
            super::math::to_lua(lua, value).transpose()?
        }
        VariantType::CALLABLE => {
            if let Some(method) = value
                .try_to::<godot::builtin::Callable>()
                .ok()
                .and_then(|c| c.method_name())
            {
                super::policy::check_callable(&method.to_string())?;
            }
            None
        }
        VariantType::OBJECT => match value.try_to::<Option<Gd<Object>>>() {
            Ok(Some(object)) => Some(Value::UserData(super::pool::wrap(lua, object)?)),
            _ => Some(Value::Nil),
        },
        _ => None,
    };
    match converted {
        Some(v) => Ok(v),
        None => Ok(Value::UserData(
            lua.create_userdata(LuaVariant(value.clone()))?,
        )),
    }
}

/// An int as a Lua integer, if the Lua flavour holds it exactly. LuaJIT's numbers are
/// doubles, exact up to 2^53: larger ints (RefCounted instance ids, hashes, bit masks) stay
/// Godot ints in Lua, which keep their value and still do arithmetic and comparisons.
fn lua_integer(i: i64) -> Option<Value> {
    const EXACT: i64 = 1 << 53;
    let exact = cfg!(not(feature = "luajit")) || (-EXACT..=EXACT).contains(&i);
    exact.then_some(Value::Integer(i))
}

/// A Lua value as a Godot value.
///
/// # Errors
/// Values Godot has no form for (coroutines, light userdata) and cyclic tables.
pub fn from_lua(value: &Value) -> mlua::Result<Variant> {
    from_lua_depth(value, 0)
}

fn from_lua_depth(value: &Value, depth: usize) -> mlua::Result<Variant> {
    if depth > MAX_DEPTH {
        return Err(mlua::Error::runtime(
            "table nested too deeply (or cyclic) to convert to a Godot value",
        ));
    }
    Ok(match value {
        Value::Nil => Variant::nil(),
        Value::Boolean(b) => b.to_variant(),
        Value::Integer(i) => i.to_variant(),
        Value::Number(n) => n.to_variant(),
        Value::String(s) => GString::from(s.to_string_lossy().as_str()).to_variant(),
        Value::Table(t) => match super::math::kind_of(t) {
            Some(kind) => super::math::to_variant(kind, t)?,
            None => table_to_variant(t, depth)?,
        },
        Value::UserData(ud) => userdata_to_variant(ud)?,
        Value::Function(f) => {
            let state = crate::state::running()?;
            super::callable::from_function(state.host.lua(), f)?.to_variant()
        }
        other => {
            return Err(mlua::Error::runtime(format!(
                "a Lua {} cannot be passed to Godot",
                lua_runtime_core::host::lua_type_name(other)
            )));
        }
    })
}

fn table_to_variant(table: &Table, depth: usize) -> mlua::Result<Variant> {
    let len = table.raw_len();
    let pairs = table.pairs::<Value, Value>().count();
    if pairs == len {
        return array_of(table, depth);
    }
    dictionary_of(table, depth)
}

fn array_of(table: &Table, depth: usize) -> mlua::Result<Variant> {
    let mut array = Array::<Variant>::new();
    for i in 1..=table.raw_len() {
        let item: Value = table.raw_get(i)?;
        array.push(&from_lua_depth(&item, depth + 1)?);
    }
    Ok(array.to_variant())
}

fn dictionary_of(table: &Table, depth: usize) -> mlua::Result<Variant> {
    let mut dict = VarDictionary::new();
    for pair in table.pairs::<Value, Value>() {
        let (k, v) = pair?;
        dict.set(
            &from_lua_depth(&k, depth + 1)?,
            &from_lua_depth(&v, depth + 1)?,
        );
    }
    Ok(dict.to_variant())
}

/// A table's sequence part as an Array (for `Array{...}` and the packed array constructors).
///
/// # Errors
/// A value that does not convert, or nesting that is too deep.
pub fn table_to_array(table: &Table) -> mlua::Result<Variant> {
    array_of(table, 0)
}

/// A table as a Dictionary, even when it is empty or a sequence (for `Dictionary{...}`).
///
/// # Errors
/// As [`table_to_array`].
pub fn table_to_dictionary(table: &Table) -> mlua::Result<Variant> {
    dictionary_of(table, 0)
}

fn userdata_to_variant(ud: &AnyUserData) -> mlua::Result<Variant> {
    if let Ok(v) = ud.borrow::<LuaVariant>() {
        return Ok(v.0.clone());
    }
    if let Ok(o) = ud.borrow::<LuaObject>() {
        return Ok(o.object()?.to_variant());
    }
    Err(mlua::Error::runtime(
        "this Lua value cannot be passed to Godot",
    ))
}
