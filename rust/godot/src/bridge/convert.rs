//! Variant <-> Lua value.
//!
//! Integers stay integers and floats stay floats both ways. `Vector2`, `Vector3` and `Color`
//! become Lua values with their operators, objects become [`LuaObject`]s, arrays and
//! dictionaries become tables (and tables come back as arrays when they are sequences). Any
//! other Variant travels as an opaque value that converts back unchanged, so nothing is lost.

use godot::builtin::{Array, GString, StringName, VarDictionary, Variant, VariantType};
use godot::classes::Object;
use godot::meta::ToGodot;
use godot::obj::Gd;
use mlua::{AnyUserData, Lua, MetaMethod, Table, UserData, Value};

use super::math::{LuaColor, LuaVector2, LuaVector3};
use super::object::LuaObject;

/// Nesting deeper than this is treated as a cycle.
const MAX_DEPTH: usize = 64;

/// A Variant with no Lua form of its own yet, carried through Lua unchanged.
pub struct OpaqueVariant(pub Variant);

impl UserData for OpaqueVariant {
    fn add_methods<M: mlua::UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            Ok(this.0.stringify().to_string())
        });
    }
}

/// A Godot value as a Lua value.
pub fn to_lua(lua: &Lua, value: &Variant) -> mlua::Result<Value> {
    to_lua_depth(lua, value, 0)
}

fn to_lua_depth(lua: &Lua, value: &Variant, depth: usize) -> mlua::Result<Value> {
    if depth > MAX_DEPTH {
        return Err(mlua::Error::runtime(
            "value nested too deeply to convert to Lua",
        ));
    }
    // Every conversion is checked: a Variant that does not convert travels as an opaque
    // value rather than panicking inside a Lua call.
    let converted = match value.get_type() {
        VariantType::NIL => Some(Value::Nil),
        VariantType::BOOL => value.try_to::<bool>().ok().map(Value::Boolean),
        VariantType::INT => value.try_to::<i64>().ok().map(Value::Integer),
        VariantType::FLOAT => value.try_to::<f64>().ok().map(Value::Number),
        VariantType::STRING => match value.try_to::<GString>() {
            Ok(s) => Some(Value::String(lua.create_string(s.to_string())?)),
            Err(_) => None,
        },
        VariantType::STRING_NAME => match value.try_to::<StringName>() {
            Ok(s) => Some(Value::String(lua.create_string(s.to_string())?)),
            Err(_) => None,
        },
        VariantType::VECTOR2 => match value.try_to() {
            Ok(v) => Some(Value::UserData(lua.create_userdata(LuaVector2(v))?)),
            Err(_) => None,
        },
        VariantType::VECTOR3 => match value.try_to() {
            Ok(v) => Some(Value::UserData(lua.create_userdata(LuaVector3(v))?)),
            Err(_) => None,
        },
        VariantType::COLOR => match value.try_to() {
            Ok(c) => Some(Value::UserData(lua.create_userdata(LuaColor(c))?)),
            Err(_) => None,
        },
        VariantType::OBJECT => match value.try_to::<Option<Gd<Object>>>() {
            Ok(Some(object)) => Some(Value::UserData(
                lua.create_userdata(LuaObject::new(object))?,
            )),
            _ => Some(Value::Nil),
        },
        VariantType::ARRAY => match value.try_to::<Array<Variant>>() {
            Ok(array) => Some(array_to_lua(lua, &array, depth)?),
            Err(_) => None,
        },
        VariantType::DICTIONARY => match value.try_to::<VarDictionary>() {
            Ok(dict) => Some(dictionary_to_lua(lua, &dict, depth)?),
            Err(_) => None,
        },
        _ => None,
    };
    match converted {
        Some(v) => Ok(v),
        None => Ok(Value::UserData(
            lua.create_userdata(OpaqueVariant(value.clone()))?,
        )),
    }
}

fn array_to_lua(lua: &Lua, array: &Array<Variant>, depth: usize) -> mlua::Result<Value> {
    let table = lua.create_table_with_capacity(array.len(), 0)?;
    for (i, item) in array.iter_shared().enumerate() {
        table.raw_set(i + 1, to_lua_depth(lua, &item, depth + 1)?)?;
    }
    Ok(Value::Table(table))
}

fn dictionary_to_lua(lua: &Lua, dict: &VarDictionary, depth: usize) -> mlua::Result<Value> {
    let table = lua.create_table_with_capacity(0, dict.len())?;
    for (k, v) in dict.iter_shared() {
        table.raw_set(
            to_lua_depth(lua, &k, depth + 1)?,
            to_lua_depth(lua, &v, depth + 1)?,
        )?;
    }
    Ok(Value::Table(table))
}

/// A Lua value as a Godot value.
///
/// # Errors
/// Values Godot has no form for (functions, coroutines, light userdata) and cyclic tables.
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
        Value::Table(t) => table_to_variant(t, depth)?,
        Value::UserData(ud) => userdata_to_variant(ud)?,
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
        let mut array = Array::<Variant>::new();
        for i in 1..=len {
            let item: Value = table.raw_get(i)?;
            array.push(&from_lua_depth(&item, depth + 1)?);
        }
        return Ok(array.to_variant());
    }
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

fn userdata_to_variant(ud: &AnyUserData) -> mlua::Result<Variant> {
    if let Ok(v) = ud.borrow::<LuaVector2>() {
        return Ok(v.0.to_variant());
    }
    if let Ok(v) = ud.borrow::<LuaVector3>() {
        return Ok(v.0.to_variant());
    }
    if let Ok(c) = ud.borrow::<LuaColor>() {
        return Ok(c.0.to_variant());
    }
    if let Ok(o) = ud.borrow::<LuaObject>() {
        return Ok(o.object()?.to_variant());
    }
    if let Ok(v) = ud.borrow::<OpaqueVariant>() {
        return Ok(v.0.clone());
    }
    Err(mlua::Error::runtime(
        "this Lua value cannot be passed to Godot",
    ))
}
