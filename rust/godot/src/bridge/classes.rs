//! Engine classes, singletons, global enums and autoloads as Lua globals.
//!
//! They are looked up when a script first reads a global that Lua does not have, in this
//! order: an engine singleton (`Engine`, `Input`, `OS`), a class (`Node`, `Timer`), a global
//! constant (`KEY_SPACE`, `OK`, `TYPE_INT`), an autoload (`/root/Name`). Singletons, classes
//! and constants are then stored as plain globals, so the lookup happens once per name.
//!
//! A class table creates objects (`Node:new()` or `Node.new()`), holds the class's constants
//! and enums (`Node.PROCESS_MODE_ALWAYS`, `Node.ProcessMode.ALWAYS`) and calls static methods
//! (`FileAccess.file_exists(path)`).

use std::collections::HashMap;
use std::sync::OnceLock;

use godot::builtin::{NodePath, StringName};
use godot::classes::{ClassDb, Engine, Node, Object, ProjectSettings};
use godot::meta::ToGodot;
use godot::obj::{EngineBitfield, EngineEnum, Gd, Singleton};
use mlua::{Lua, Table, Value, Variadic};

use super::builtin::{argument_error, arguments, call_error};
use super::convert::to_lua;
use super::ffi;

/// Godot's global constants by their GDScript names.
fn global_constants() -> &'static HashMap<&'static str, i64> {
    static CONSTANTS: OnceLock<HashMap<&'static str, i64>> = OnceLock::new();
    CONSTANTS.get_or_init(|| {
        let mut map = HashMap::new();
        macro_rules! enums {
            ($($ty:ty),+) => {$(
                for c in <$ty as EngineEnum>::all_constants() {
                    map.insert(c.godot_name(), i64::from(c.value().ord()));
                }
            )+};
        }
        macro_rules! bitfields {
            ($($ty:ty),+) => {$(
                for c in <$ty as EngineBitfield>::all_constants() {
                    map.insert(c.godot_name(), c.value().ord() as i64);
                }
            )+};
        }
        use godot::builtin::{Corner, EulerOrder, Side, VariantOperator, VariantType};
        use godot::global::*;
        use godot::register::info::{MethodFlags, PropertyHint, PropertyUsageFlags};
        enums!(
            Side,
            Corner,
            Orientation,
            ClockDirection,
            HorizontalAlignment,
            VerticalAlignment,
            InlineAlignment,
            EulerOrder,
            Key,
            KeyLocation,
            MouseButton,
            JoyButton,
            JoyAxis,
            MidiMessage,
            Error,
            PropertyHint,
            VariantOperator,
            VariantType
        );
        bitfields!(
            KeyModifierMask,
            MouseButtonMask,
            PropertyUsageFlags,
            MethodFlags
        );
        map
    })
}

/// What a missing global turns out to be.
fn resolve_global(lua: &Lua, name: &str) -> mlua::Result<(Value, bool)> {
    let engine = Engine::singleton();
    let sname = StringName::from(name);
    if engine.has_singleton(&sname)
        && let Some(singleton) = engine.get_singleton(&sname)
    {
        let value = super::pool::wrap(lua, singleton)?;
        return Ok((Value::UserData(value), true));
    }
    let db = ClassDb::singleton();
    if db.class_exists(&sname) {
        return Ok((Value::Table(class_table(lua, name)?), true));
    }
    if let Some(value) = global_constants().get(name) {
        return Ok((Value::Integer(*value), true));
    }
    let setting = format!("autoload/{name}");
    if ProjectSettings::singleton().has_setting(&setting)
        && let Some(node) = autoload(name)
    {
        // Not cached: the autoload node belongs to the tree, which may change it.
        let value = super::pool::wrap(lua, node.upcast())?;
        return Ok((Value::UserData(value), false));
    }
    Ok((Value::Nil, false))
}

fn autoload(name: &str) -> Option<Gd<Node>> {
    crate::scene_tree::current()?
        .get_root()?
        .get_node_or_null(&NodePath::from(name))
}

/// Makes unknown globals resolve to engine singletons, classes, constants and autoloads.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    let globals = lua.globals();
    let meta = lua.create_table()?;
    meta.raw_set(
        "__index",
        lua.create_function(|lua, (globals, key): (Table, Value)| {
            let Value::String(name) = key else {
                return Ok(Value::Nil);
            };
            let name = name.to_str()?.to_owned();
            let (value, keep) = resolve_global(lua, &name)?;
            if keep {
                globals.raw_set(name, value.clone())?;
            }
            Ok(value)
        })?,
    )?;
    globals.set_metatable(Some(meta))?;
    Ok(())
}

/// The global table for engine class `class`.
fn class_table(lua: &Lua, class: &str) -> mlua::Result<Table> {
    let table = lua.create_table()?;
    let class_name = class.to_owned();
    let new = lua.create_function(move |lua, _: Variadic<Value>| {
        super::policy::check_class(&class_name)?;
        let db = ClassDb::singleton();
        if !db.can_instantiate(&class_name) {
            return Err(mlua::Error::runtime(format!(
                "{class_name} cannot be instantiated (it is abstract or a singleton)"
            )));
        }
        let made = db.instantiate(&class_name);
        match made.try_to::<Option<Gd<Object>>>() {
            Ok(Some(object)) => super::pool::wrap(lua, object).map(Value::UserData),
            _ => Err(mlua::Error::runtime(format!(
                "{class_name}.new(): the engine made nothing"
            ))),
        }
    })?;
    table.raw_set("new", new)?;
    let meta = lua.create_table()?;
    let class_name = class.to_owned();
    meta.raw_set(
        "__index",
        lua.create_function(move |lua, (table, key): (Table, mlua::LuaString)| {
            // Constants, enums and static methods do not change: each is looked up once.
            let member = class_member(lua, &class_name, &key.to_str()?)?;
            table.raw_set(key, member.clone())?;
            Ok(member)
        })?,
    )?;
    let class_name = class.to_owned();
    meta.raw_set(
        "__tostring",
        lua.create_function(move |_, _: Value| Ok(class_name.clone()))?,
    )?;
    table.set_metatable(Some(meta))?;
    Ok(table)
}

/// `Class.NAME`: a constant, an enum (as a table of its constants) or a static method.
fn class_member(lua: &Lua, class: &str, name: &str) -> mlua::Result<Value> {
    if let Some(value) = class_constant(class, name) {
        return Ok(Value::Integer(value));
    }
    let db = ClassDb::singleton();
    if db.class_has_enum(class, name) {
        let table = lua.create_table()?;
        for constant in db.class_get_enum_constants(class, name).as_slice() {
            let full = constant.to_string();
            let value = db.class_get_integer_constant(class, &full);
            // `Node.ProcessMode.ALWAYS` as well as `Node.ProcessMode.PROCESS_MODE_ALWAYS`.
            let short = common_suffix(&full, name);
            table.raw_set(full.as_str(), value)?;
            if let Some(short) = short {
                table.raw_set(short, value)?;
            }
        }
        return Ok(Value::Table(table));
    }
    if db.class_has_method(class, name) {
        let class_name = class.to_owned();
        let method = name.to_owned();
        return lua
            .create_function(move |lua, args: Variadic<Value>| {
                static_call(lua, &class_name, &method, &args)
            })
            .map(Value::Function);
    }
    Err(mlua::Error::runtime(format!(
        "{class} has no constant, enum or static method named '{name}'"
    )))
}

/// `PROCESS_MODE_ALWAYS` of enum `ProcessMode` is also `ALWAYS`.
fn common_suffix<'a>(constant: &'a str, enum_name: &str) -> Option<&'a str> {
    let mut prefix = String::new();
    for (i, c) in enum_name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            prefix.push('_');
        }
        prefix.push(c.to_ascii_uppercase());
    }
    prefix.push('_');
    constant.strip_prefix(&prefix).filter(|s| {
        s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
    })
}

/// An integer constant of `class` (or an ancestor), if it has one named `name`.
pub fn class_constant(class: &str, name: &str) -> Option<i64> {
    let db = ClassDb::singleton();
    db.class_has_integer_constant(class, name)
        .then(|| db.class_get_integer_constant(class, name))
}

/// `Class.method(args...)` for a static method (the class table as first argument, from a
/// `:` call, is skipped).
fn static_call(lua: &Lua, class: &str, method: &str, args: &[Value]) -> mlua::Result<Value> {
    let args = match args.first() {
        Some(Value::Table(_)) => &args[1..],
        _ => args,
    };
    super::policy::check_call(method, args)?;
    let mut variants = vec![class.to_variant(), StringName::from(method).to_variant()];
    variants.extend(arguments(args).map_err(|(i, e)| argument_error(method, i, &e))?);
    let db = ClassDb::singleton().to_variant();
    match ffi::call(&db, &StringName::from("class_call_static"), &variants) {
        Ok(v) => to_lua(lua, &v),
        Err(f) => Err(call_error(class, method, &shift(f), args)),
    }
}

/// Call errors from `class_call_static` count its two leading arguments; the user's do not.
fn shift(failure: ffi::CallFailure) -> ffi::CallFailure {
    match failure {
        ffi::CallFailure::BadArgument { index, expected } => ffi::CallFailure::BadArgument {
            index: index.saturating_sub(2),
            expected,
        },
        other => other,
    }
}
