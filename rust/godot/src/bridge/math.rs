//! `Vector2`, `Vector3` and `Color` for Lua: constructors, fields, operators, a few methods
//! and the usual constants, with GDScript's names and semantics.

use godot::builtin::{Color, Vector2, Vector3, real};
use godot::builtin::{VariantOperator, VariantType};
use godot::meta::ToGodot;
use mlua::{Either, Lua, MetaMethod, UserData, UserDataFields, UserDataMethods, Value};

use super::builtin::type_table;
use super::describe;

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

/// What the native types do not do themselves goes to the engine: other methods and members
/// (`v:snapped(...)`, `c.h`), operators with other types (`v * transform`), `<`, `%`, `..`.
macro_rules! fallbacks {
    ($methods:ident) => {
        $methods.add_meta_method(MetaMethod::Index, |lua, this, key: Value| {
            super::builtin::index(lua, &this.0.to_variant(), &key)
        });
        $methods.add_meta_method_mut(
            MetaMethod::NewIndex,
            |_, this, (key, value): (Value, Value)| {
                let mut v = this.0.to_variant();
                super::builtin::set(&mut v, &key, &value)?;
                this.0 = v.try_to().map_err(mlua::Error::external)?;
                Ok(())
            },
        );
        super::builtin::engine_comparisons!($methods);
        $methods.add_meta_function(MetaMethod::Concat, |lua, (a, b): (Value, Value)| {
            super::builtin::concat(lua, &a, &b)
        });
    };
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
                methods.add_meta_function(MetaMethod::Add, |lua, (a, b): (Value, Value)| {
                    match (extract::<$lua_ty>(&a), extract::<$lua_ty>(&b)) {
                        (Some(x), Some(y)) => Ok(Either::Left($lua_ty(x.0 + y.0))),
                        _ => super::builtin::operate(lua, VariantOperator::ADD, "+", &a, &b).map(Either::Right),
                    }
                });
                methods.add_meta_function(MetaMethod::Sub, |lua, (a, b): (Value, Value)| {
                    match (extract::<$lua_ty>(&a), extract::<$lua_ty>(&b)) {
                        (Some(x), Some(y)) => Ok(Either::Left($lua_ty(x.0 - y.0))),
                        _ => super::builtin::operate(lua, VariantOperator::SUBTRACT, "-", &a, &b).map(Either::Right),
                    }
                });
                methods.add_meta_function(MetaMethod::Mul, |lua, (a, b): (Value, Value)| {
                    match (extract::<$lua_ty>(&a), extract::<$lua_ty>(&b), number(&a), number(&b)) {
                        (Some(x), Some(y), _, _) => Ok(Either::Left($lua_ty(x.0 * y.0))),
                        (Some(x), None, _, Some(k)) => Ok(Either::Left($lua_ty(x.0 * k as real))),
                        (None, Some(y), Some(k), _) => Ok(Either::Left($lua_ty(y.0 * k as real))),
                        _ => super::builtin::operate(lua, VariantOperator::MULTIPLY, "*", &a, &b).map(Either::Right),
                    }
                });
                methods.add_meta_function(MetaMethod::Div, |lua, (a, b): (Value, Value)| {
                    match (extract::<$lua_ty>(&a), extract::<$lua_ty>(&b), number(&b)) {
                        (Some(x), Some(y), _) => Ok(Either::Left($lua_ty(x.0 / y.0))),
                        (Some(x), None, Some(k)) => Ok(Either::Left($lua_ty(x.0 / k as real))),
                        _ => super::builtin::operate(lua, VariantOperator::DIVIDE, "/", &a, &b).map(Either::Right),
                    }
                });
                methods.add_meta_method(MetaMethod::Unm, |_, this, ()| Ok($lua_ty(-this.0)));
                methods.add_meta_function(MetaMethod::Eq, |_, (a, b): (Value, Value)| {
                    Ok(matches!((extract::<$lua_ty>(&a), extract::<$lua_ty>(&b)), (Some(x), Some(y)) if x.0 == y.0))
                });
                methods.add_meta_method(MetaMethod::ToString, |_, this, ()| Ok(godot_text(this.0.to_variant())));
                fallbacks!(methods);
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
        methods.add_meta_function(MetaMethod::Add, |lua, (a, b): (Value, Value)| {
            match (extract::<LuaColor>(&a), extract::<LuaColor>(&b)) {
                (Some(x), Some(y)) => Ok(Either::Left(LuaColor(x.0 + y.0))),
                _ => super::builtin::operate(lua, VariantOperator::ADD, "+", &a, &b)
                    .map(Either::Right),
            }
        });
        methods.add_meta_function(MetaMethod::Sub, |lua, (a, b): (Value, Value)| {
            match (extract::<LuaColor>(&a), extract::<LuaColor>(&b)) {
                (Some(x), Some(y)) => Ok(Either::Left(LuaColor(x.0 - y.0))),
                _ => super::builtin::operate(lua, VariantOperator::SUBTRACT, "-", &a, &b)
                    .map(Either::Right),
            }
        });
        methods.add_meta_function(MetaMethod::Mul, |lua, (a, b): (Value, Value)| {
            match (
                extract::<LuaColor>(&a),
                extract::<LuaColor>(&b),
                number(&a),
                number(&b),
            ) {
                (Some(x), Some(y), _, _) => Ok(Either::Left(LuaColor(x.0 * y.0))),
                (Some(x), None, _, Some(k)) => Ok(Either::Left(LuaColor(x.0 * k as f32))),
                (None, Some(y), Some(k), _) => Ok(Either::Left(LuaColor(y.0 * k as f32))),
                _ => super::builtin::operate(lua, VariantOperator::MULTIPLY, "*", &a, &b)
                    .map(Either::Right),
            }
        });
        methods.add_meta_function(MetaMethod::Eq, |_, (a, b): (Value, Value)| {
            Ok(matches!((extract::<LuaColor>(&a), extract::<LuaColor>(&b)), (Some(x), Some(y)) if x.0 == y.0))
        });
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            Ok(format!("{}", this.0))
        });
        fallbacks!(methods);
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

/// The arguments as numbers when all of them are numbers and there are `counts` of them.
fn numbers<const N: usize>(args: &[Value], counts: &[usize]) -> Option<[f64; N]> {
    if !counts.contains(&args.len()) {
        return None;
    }
    let mut out = [0.0; N];
    for (slot, arg) in out.iter_mut().zip(args) {
        *slot = number(arg)?;
    }
    Some(out)
}

/// Installs `Vector2`, `Vector3` and `Color` as globals. Their constructors build the usual
/// shapes (`Vector2(x, y)`, `Color(r, g, b[, a])`, a copy) natively and leave every other
/// shape (`Vector2(v2i)`, `Color("red")`, `Color(c, 0.5)`) to the engine's constructors.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    let globals = lua.globals();

    let new_v2 = lua.create_function(|_, args: mlua::Variadic<Value>| {
        if let [v] = &args[..] {
            return Ok(extract::<LuaVector2>(v));
        }
        Ok(numbers::<2>(&args, &[0, 2])
            .map(|[x, y]| LuaVector2(Vector2::new(x as real, y as real))))
    })?;
    globals.set(
        "Vector2",
        type_table(lua, VariantType::VECTOR2, Some(new_v2))?,
    )?;

    let new_v3 = lua.create_function(|_, args: mlua::Variadic<Value>| {
        if let [v] = &args[..] {
            return Ok(extract::<LuaVector3>(v));
        }
        Ok(numbers::<3>(&args, &[0, 3])
            .map(|[x, y, z]| LuaVector3(Vector3::new(x as real, y as real, z as real))))
    })?;
    globals.set(
        "Vector3",
        type_table(lua, VariantType::VECTOR3, Some(new_v3))?,
    )?;

    let new_color = lua.create_function(|_, args: mlua::Variadic<Value>| {
        if let [v] = &args[..] {
            return Ok(extract::<LuaColor>(v));
        }
        Ok(numbers::<4>(&args, &[0, 3, 4]).map(|[r, g, b, a]| {
            let alpha = if args.len() == 4 { a } else { 1.0 };
            LuaColor(Color::from_rgba(r as f32, g as f32, b as f32, alpha as f32))
        }))
    })?;
    globals.set(
        "Color",
        type_table(lua, VariantType::COLOR, Some(new_color))?,
    )?;
    Ok(())
}
