//! `Vector2`, `Vector3` and `Color` for Lua: constructors, fields, operators, a few methods
//! and the usual constants, with GDScript's names and semantics.

use godot::builtin::{Color, Vector2, Vector3, real};
use godot::meta::ToGodot;
use mlua::{AnyUserData, Lua, MetaMethod, Table, UserData, UserDataFields, UserDataMethods, Value};

#[derive(Clone, Copy)]
pub struct LuaVector2(pub Vector2);
#[derive(Clone, Copy)]
pub struct LuaVector3(pub Vector3);
#[derive(Clone, Copy)]
pub struct LuaColor(pub Color);

/// Godot's own text for a value, so `tostring` prints what GDScript's `str()` would.
fn godot_text(value: godot::builtin::Variant) -> String {
    value.stringify().to_string()
}

/// The value inside a userdata of type `T`, if `value` is one.
fn extract<T: UserData + Copy + 'static>(value: &Value) -> Option<T> {
    match value {
        Value::UserData(ud) => ud.borrow::<T>().ok().map(|b| *b),
        _ => None,
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        _ => None,
    }
}

fn type_error(op: &str, a: &Value, b: &Value) -> mlua::Error {
    mlua::Error::runtime(format!(
        "invalid operands for '{op}': {} and {}",
        describe(a),
        describe(b)
    ))
}

/// A value's type as a user would name it (`Vector2`, `number`, ...).
pub fn describe(value: &Value) -> String {
    match value {
        Value::UserData(ud) => userdata_name(ud),
        other => lua_runtime_core::host::lua_type_name(other).to_owned(),
    }
}

fn userdata_name(ud: &AnyUserData) -> String {
    if ud.is::<LuaVector2>() {
        "Vector2".into()
    } else if ud.is::<LuaVector3>() {
        "Vector3".into()
    } else if ud.is::<LuaColor>() {
        "Color".into()
    } else if let Ok(o) = ud.borrow::<super::object::LuaObject>() {
        o.class_name()
    } else {
        "userdata".into()
    }
}

/// Fields, arithmetic, comparison and `tostring` shared by the vector types.
macro_rules! vector_type {
    ($lua_ty:ident, $godot_ty:ident, $name:literal, [$($field:ident),+]) => {
        impl UserData for $lua_ty {
            fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
                $(
                    fields.add_field_method_get(stringify!($field), |_, this| Ok(f64::from(this.0.$field)));
                    fields.add_field_method_set(stringify!($field), |_, this, v: f64| {
                        this.0.$field = v as real;
                        Ok(())
                    });
                )+
            }

            fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
                methods.add_meta_function(MetaMethod::Add, |_, (a, b): (Value, Value)| {
                    match (extract::<$lua_ty>(&a), extract::<$lua_ty>(&b)) {
                        (Some(x), Some(y)) => Ok($lua_ty(x.0 + y.0)),
                        _ => Err(type_error("+", &a, &b)),
                    }
                });
                methods.add_meta_function(MetaMethod::Sub, |_, (a, b): (Value, Value)| {
                    match (extract::<$lua_ty>(&a), extract::<$lua_ty>(&b)) {
                        (Some(x), Some(y)) => Ok($lua_ty(x.0 - y.0)),
                        _ => Err(type_error("-", &a, &b)),
                    }
                });
                methods.add_meta_function(MetaMethod::Mul, |_, (a, b): (Value, Value)| {
                    match (extract::<$lua_ty>(&a), extract::<$lua_ty>(&b), number(&a), number(&b)) {
                        (Some(x), Some(y), _, _) => Ok($lua_ty(x.0 * y.0)),
                        (Some(x), None, _, Some(k)) => Ok($lua_ty(x.0 * k as real)),
                        (None, Some(y), Some(k), _) => Ok($lua_ty(y.0 * k as real)),
                        _ => Err(type_error("*", &a, &b)),
                    }
                });
                methods.add_meta_function(MetaMethod::Div, |_, (a, b): (Value, Value)| {
                    match (extract::<$lua_ty>(&a), extract::<$lua_ty>(&b), number(&b)) {
                        (Some(x), Some(y), _) => Ok($lua_ty(x.0 / y.0)),
                        (Some(x), None, Some(k)) => Ok($lua_ty(x.0 / k as real)),
                        _ => Err(type_error("/", &a, &b)),
                    }
                });
                methods.add_meta_method(MetaMethod::Unm, |_, this, ()| Ok($lua_ty(-this.0)));
                methods.add_meta_function(MetaMethod::Eq, |_, (a, b): (Value, Value)| {
                    Ok(matches!((extract::<$lua_ty>(&a), extract::<$lua_ty>(&b)), (Some(x), Some(y)) if x.0 == y.0))
                });
                methods.add_meta_method(MetaMethod::ToString, |_, this, ()| Ok(godot_text(this.0.to_variant())));
                methods.add_method("length", |_, this, ()| Ok(f64::from(this.0.length())));
                methods.add_method("length_squared", |_, this, ()| Ok(f64::from(this.0.length_squared())));
                methods.add_method("normalized", |_, this, ()| Ok($lua_ty(this.0.normalized_or_zero())));
                methods.add_method("abs", |_, this, ()| Ok($lua_ty(this.0.abs())));
                methods.add_method("dot", |_, this, other: Value| {
                    let o = extract::<$lua_ty>(&other).ok_or_else(|| expected($name, "dot", &other))?;
                    Ok(f64::from(this.0.dot(o.0)))
                });
                methods.add_method("distance_to", |_, this, other: Value| {
                    let o = extract::<$lua_ty>(&other).ok_or_else(|| expected($name, "distance_to", &other))?;
                    Ok(f64::from(this.0.distance_to(o.0)))
                });
                methods.add_method("lerp", |_, this, (other, weight): (Value, f64)| {
                    let o = extract::<$lua_ty>(&other).ok_or_else(|| expected($name, "lerp", &other))?;
                    Ok($lua_ty(this.0.lerp(o.0, weight as real)))
                });
            }
        }
    };
}

fn expected(type_name: &str, method: &str, got: &Value) -> mlua::Error {
    mlua::Error::runtime(format!(
        "{type_name}.{method}: expected a {type_name}, got {}",
        describe(got)
    ))
}

vector_type!(LuaVector2, Vector2, "Vector2", [x, y]);
vector_type!(LuaVector3, Vector3, "Vector3", [x, y, z]);

impl UserData for LuaColor {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        macro_rules! channel {
            ($($c:ident),+) => {$(
                fields.add_field_method_get(stringify!($c), |_, this| Ok(f64::from(this.0.$c)));
                fields.add_field_method_set(stringify!($c), |_, this, v: f64| {
                    this.0.$c = v as f32;
                    Ok(())
                });
            )+};
        }
        channel!(r, g, b, a);
    }

    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_function(MetaMethod::Add, |_, (a, b): (Value, Value)| {
            match (extract::<LuaColor>(&a), extract::<LuaColor>(&b)) {
                (Some(x), Some(y)) => Ok(LuaColor(x.0 + y.0)),
                _ => Err(type_error("+", &a, &b)),
            }
        });
        methods.add_meta_function(MetaMethod::Sub, |_, (a, b): (Value, Value)| {
            match (extract::<LuaColor>(&a), extract::<LuaColor>(&b)) {
                (Some(x), Some(y)) => Ok(LuaColor(x.0 - y.0)),
                _ => Err(type_error("-", &a, &b)),
            }
        });
        methods.add_meta_function(MetaMethod::Mul, |_, (a, b): (Value, Value)| {
            match (
                extract::<LuaColor>(&a),
                extract::<LuaColor>(&b),
                number(&a),
                number(&b),
            ) {
                (Some(x), Some(y), _, _) => Ok(LuaColor(x.0 * y.0)),
                (Some(x), None, _, Some(k)) => Ok(LuaColor(x.0 * k as f32)),
                (None, Some(y), Some(k), _) => Ok(LuaColor(y.0 * k as f32)),
                _ => Err(type_error("*", &a, &b)),
            }
        });
        methods.add_meta_function(MetaMethod::Eq, |_, (a, b): (Value, Value)| {
            Ok(matches!((extract::<LuaColor>(&a), extract::<LuaColor>(&b)), (Some(x), Some(y)) if x.0 == y.0))
        });
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            Ok(format!("{}", this.0))
        });
        methods.add_method("lerp", |_, this, (other, weight): (Value, f64)| {
            let o = extract::<LuaColor>(&other).ok_or_else(|| expected("Color", "lerp", &other))?;
            Ok(LuaColor(this.0.lerp(o.0, weight)))
        });
        methods.add_method("to_html", |_, this, with_alpha: Option<bool>| {
            let html = if with_alpha.unwrap_or(true) {
                this.0.to_html()
            } else {
                this.0.to_html_without_alpha()
            };
            Ok(html.to_string())
        });
    }
}

/// A global type table: callable as a constructor, holding the type's constants.
fn type_table(
    lua: &Lua,
    constructor: mlua::Function,
    constants: &[(&str, Value)],
) -> mlua::Result<Table> {
    let table = lua.create_table()?;
    for (name, value) in constants {
        table.raw_set(*name, value.clone())?;
    }
    let meta = lua.create_table()?;
    // `Vector2(1, 2)`: the table itself is called; the first argument is the table.
    let call = lua.create_function(move |_, args: mlua::MultiValue| {
        let mut args = args.into_iter();
        args.next();
        constructor.call::<Value>(args.collect::<mlua::MultiValue>())
    })?;
    meta.raw_set("__call", call)?;
    table.set_metatable(Some(meta))?;
    Ok(table)
}

fn arg_number(args: &[Value], i: usize, type_name: &str) -> mlua::Result<f64> {
    match args.get(i) {
        None | Some(Value::Nil) => Ok(0.0),
        Some(v) => number(v).ok_or_else(|| {
            mlua::Error::runtime(format!(
                "{type_name}(): argument #{} must be a number, got {}",
                i + 1,
                describe(v)
            ))
        }),
    }
}

/// Installs `Vector2`, `Vector3` and `Color` as globals.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    let globals = lua.globals();

    let new_v2 = lua.create_function(|_, args: mlua::Variadic<Value>| {
        if let Some(v) = args.first().and_then(extract::<LuaVector2>) {
            return Ok(v);
        }
        Ok(LuaVector2(Vector2::new(
            arg_number(&args, 0, "Vector2")? as real,
            arg_number(&args, 1, "Vector2")? as real,
        )))
    })?;
    let v2_const = |v: Vector2| lua.create_userdata(LuaVector2(v)).map(Value::UserData);
    let vector2 = type_table(
        lua,
        new_v2,
        &[
            ("ZERO", v2_const(Vector2::ZERO)?),
            ("ONE", v2_const(Vector2::ONE)?),
            ("UP", v2_const(Vector2::UP)?),
            ("DOWN", v2_const(Vector2::DOWN)?),
            ("LEFT", v2_const(Vector2::LEFT)?),
            ("RIGHT", v2_const(Vector2::RIGHT)?),
        ],
    )?;
    globals.set("Vector2", vector2)?;

    let new_v3 = lua.create_function(|_, args: mlua::Variadic<Value>| {
        if let Some(v) = args.first().and_then(extract::<LuaVector3>) {
            return Ok(v);
        }
        Ok(LuaVector3(Vector3::new(
            arg_number(&args, 0, "Vector3")? as real,
            arg_number(&args, 1, "Vector3")? as real,
            arg_number(&args, 2, "Vector3")? as real,
        )))
    })?;
    let v3_const = |v: Vector3| lua.create_userdata(LuaVector3(v)).map(Value::UserData);
    let vector3 = type_table(
        lua,
        new_v3,
        &[
            ("ZERO", v3_const(Vector3::ZERO)?),
            ("ONE", v3_const(Vector3::ONE)?),
            ("UP", v3_const(Vector3::UP)?),
            ("DOWN", v3_const(Vector3::DOWN)?),
            ("LEFT", v3_const(Vector3::LEFT)?),
            ("RIGHT", v3_const(Vector3::RIGHT)?),
            ("FORWARD", v3_const(Vector3::FORWARD)?),
            ("BACK", v3_const(Vector3::BACK)?),
        ],
    )?;
    globals.set("Vector3", vector3)?;

    let new_color = lua.create_function(|_, args: mlua::Variadic<Value>| match args.first() {
        Some(v @ Value::UserData(_)) => extract::<LuaColor>(v).ok_or_else(|| {
            mlua::Error::runtime(format!("Color(): cannot make a Color from {}", describe(v)))
        }),
        Some(Value::String(s)) => {
            let text = s.to_string_lossy();
            Color::from_html(text.as_str())
                .map(LuaColor)
                .ok_or_else(|| {
                    mlua::Error::runtime(format!("Color(): '{text}' is not an HTML color"))
                })
        }
        _ => {
            let channel = |i| arg_number(&args, i, "Color").map(|c| c as f32);
            let alpha = if args.len() > 3 { channel(3)? } else { 1.0 };
            Ok(LuaColor(Color::from_rgba(
                channel(0)?,
                channel(1)?,
                channel(2)?,
                alpha,
            )))
        }
    })?;
    let c_const = |c: Color| lua.create_userdata(LuaColor(c)).map(Value::UserData);
    let color = type_table(
        lua,
        new_color,
        &[
            ("WHITE", c_const(Color::WHITE)?),
            ("BLACK", c_const(Color::BLACK)?),
            ("RED", c_const(Color::RED)?),
            ("GREEN", c_const(Color::GREEN)?),
            ("BLUE", c_const(Color::BLUE)?),
            ("YELLOW", c_const(Color::YELLOW)?),
            ("TRANSPARENT", c_const(Color::TRANSPARENT_BLACK)?),
        ],
    )?;
    globals.set("Color", color)?;
    Ok(())
}
