//! GDScript's global utility functions as Lua globals: `lerp`, `clamp`, `randf`,
//! `is_instance_valid`, `instance_from_id`, `str`, `push_warning`, ...
//!
//! Names Lua already uses for something else are left to Lua: `print` prints the Lua way
//! (to Godot's output), `type` and `tostring` are Lua's, and `load` compiles Lua text unless
//! given a resource path (see `assets`). Use `typeof(v)` for Godot's type number.

use godot::builtin::{GString, PackedByteArray, Variant};
use godot::classes::Object;
use godot::global as g;
use godot::meta::ToGodot;
use godot::obj::{Gd, InstanceId};
use mlua::{Lua, Table, Value, Variadic};

use super::convert::{from_lua, to_lua};
use super::object::LuaObject;

/// Functions of plain numbers: `name(a, b, ...)` with each argument a Lua number.
macro_rules! numeric {
    ($lua:ident, $table:ident, $($name:ident($($arg:ident: $ty:ty),*)),+ $(,)?) => {$(
        $table.raw_set(
            stringify!($name),
            $lua.create_function(|_, ($($arg,)*): ($($ty,)*)| Ok(g::$name($($arg),*)))?,
        )?;
    )+};
}

/// Functions of Variants (`lerp` works on numbers, vectors and colors alike).
macro_rules! variant {
    ($lua:ident, $table:ident, $($name:ident($($arg:ident),*)),+ $(,)?) => {$(
        $table.raw_set(
            stringify!($name),
            $lua.create_function(|lua, ($($arg,)*): ($(variant!(@ty $arg),)*)| {
                to_lua(lua, &g::$name($(&from_lua(&$arg)?),*).to_variant())
            })?,
        )?;
    )+};
    (@ty $arg:ident) => { Value };
}

/// Functions taking any number of values (`str`, `push_warning`).
macro_rules! varargs {
    ($lua:ident, $table:ident, $($name:ident),+ $(,)?) => {$(
        $table.raw_set(
            stringify!($name),
            $lua.create_function(|lua, args: Variadic<Value>| {
                let args = args.iter().map(from_lua).collect::<mlua::Result<Vec<Variant>>>()?;
                to_lua(lua, &g::$name(&args).to_variant())
            })?,
        )?;
    )+};
}

/// Installs the utility functions as globals.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    let globals: Table = lua.globals();
    numeric!(lua, globals,
        sin(x: f64), cos(x: f64), tan(x: f64), sinh(x: f64), cosh(x: f64), tanh(x: f64),
        asin(x: f64), acos(x: f64), atan(x: f64), atan2(y: f64, x: f64),
        asinh(x: f64), acosh(x: f64), atanh(x: f64), sqrt(x: f64),
        fmod(x: f64, y: f64), fposmod(x: f64, y: f64), posmod(x: i64, y: i64),
        floorf(x: f64), floori(x: f64), ceilf(x: f64), ceili(x: f64), roundf(x: f64), roundi(x: f64),
        absf(x: f64), absi(x: i64), signf(x: f64), signi(x: i64),
        snappedf(x: f64, step: f64), snappedi(x: f64, step: i64),
        pow(base: f64, exp: f64), log(x: f64), exp(x: f64),
        is_nan(x: f64), is_inf(x: f64), is_equal_approx(a: f64, b: f64), is_zero_approx(x: f64),
        is_finite(x: f64), ease(x: f64, curve: f64), step_decimals(x: f64),
        lerpf(from: f64, to: f64, weight: f64),
        cubic_interpolate(from: f64, to: f64, pre: f64, post: f64, weight: f64),
        cubic_interpolate_angle(from: f64, to: f64, pre: f64, post: f64, weight: f64),
        cubic_interpolate_in_time(
            from: f64, to: f64, pre: f64, post: f64, weight: f64, to_t: f64, pre_t: f64, post_t: f64
        ),
        cubic_interpolate_angle_in_time(
            from: f64, to: f64, pre: f64, post: f64, weight: f64, to_t: f64, pre_t: f64, post_t: f64
        ),
        bezier_interpolate(start: f64, c1: f64, c2: f64, end: f64, t: f64),
        bezier_derivative(start: f64, c1: f64, c2: f64, end: f64, t: f64),
        angle_difference(from: f64, to: f64), lerp_angle(from: f64, to: f64, weight: f64),
        inverse_lerp(from: f64, to: f64, weight: f64),
        remap(value: f64, istart: f64, istop: f64, ostart: f64, ostop: f64),
        smoothstep(from: f64, to: f64, x: f64), move_toward(from: f64, to: f64, delta: f64),
        rotate_toward(from: f64, to: f64, delta: f64),
        deg_to_rad(deg: f64), rad_to_deg(rad: f64), linear_to_db(lin: f64), db_to_linear(db: f64),
        wrapi(value: i64, min: i64, max: i64), wrapf(value: f64, min: f64, max: f64),
        maxi(a: i64, b: i64), maxf(a: f64, b: f64), mini(a: i64, b: i64), minf(a: f64, b: f64),
        clampi(value: i64, min: i64, max: i64), clampf(value: f64, min: f64, max: f64),
        nearest_po2(value: i64), pingpong(value: f64, length: f64),
        randomize(), randi(), randf(), randi_range(from: i64, to: i64),
        randf_range(from: f64, to: f64), randfn(mean: f64, deviation: f64), seed(base: i64),
        rid_allocate_id(),
    );
    variant!(
        lua,
        globals,
        floor(x),
        ceil(x),
        round(x),
        abs(x),
        sign(x),
        snapped(x, step),
        lerp(from, to, weight),
        wrap(value, min, max),
        clamp(value, min, max),
        weakref(obj),
        var_to_bytes(v),
        var_to_bytes_with_objects(v),
        hash(v),
    );
    varargs!(
        lua,
        globals,
        print_rich,
        printerr,
        printt,
        prints,
        printraw,
        print_verbose,
        push_error,
        push_warning
    );
    globals.raw_set(
        "rand_from_seed",
        lua.create_function(|lua, seed: i64| to_lua(lua, &g::rand_from_seed(seed).to_variant()))?,
    )?;
    globals.raw_set(
        "rid_from_int64",
        lua.create_function(|lua, base: i64| to_lua(lua, &g::rid_from_int64(base).to_variant()))?,
    )?;
    globals.raw_set(
        "bytes_to_var",
        lua.create_function(|lua, bytes: Value| {
            to_lua(lua, &g::bytes_to_var(&packed_bytes(&bytes)?))
        })?,
    )?;
    globals.raw_set(
        "bytes_to_var_with_objects",
        lua.create_function(|lua, bytes: Value| {
            to_lua(lua, &g::bytes_to_var_with_objects(&packed_bytes(&bytes)?))
        })?,
    )?;
    globals.raw_set(
        "str",
        lua.create_function(|_, args: Variadic<Value>| {
            let args = args
                .iter()
                .map(from_lua)
                .collect::<mlua::Result<Vec<Variant>>>()?;
            Ok(g::str(&args).to_string())
        })?,
    )?;
    globals.raw_set(
        "max",
        lua.create_function(|lua, args: Variadic<Value>| extreme(lua, &args, "max"))?,
    )?;
    globals.raw_set(
        "min",
        lua.create_function(|lua, args: Variadic<Value>| extreme(lua, &args, "min"))?,
    )?;
    globals.raw_set(
        "typeof",
        lua.create_function(|_, v: Value| Ok(g::typeof_(&from_lua(&v)?)))?,
    )?;
    globals.raw_set(
        "type_string",
        lua.create_function(|_, t: i64| Ok(g::type_string(t).to_string()))?,
    )?;
    globals.raw_set(
        "type_convert",
        lua.create_function(|lua, (v, t): (Value, i64)| {
            to_lua(lua, &g::type_convert(&from_lua(&v)?, t))
        })?,
    )?;
    globals.raw_set(
        "error_string",
        lua.create_function(|_, e: i64| Ok(g::error_string(e).to_string()))?,
    )?;
    globals.raw_set(
        "var_to_str",
        lua.create_function(|_, v: Value| Ok(g::var_to_str(&from_lua(&v)?).to_string()))?,
    )?;
    globals.raw_set(
        "str_to_var",
        lua.create_function(|lua, s: String| {
            to_lua(lua, &g::str_to_var(&GString::from(s.as_str())))
        })?,
    )?;
    globals.raw_set(
        "is_same",
        lua.create_function(|_, (a, b): (Value, Value)| {
            Ok(g::is_same(&from_lua(&a)?, &from_lua(&b)?))
        })?,
    )?;
    globals.raw_set(
        "is_instance_valid",
        lua.create_function(|_, v: Value| {
            Ok(match &v {
                Value::UserData(ud) => ud.borrow::<LuaObject>().is_ok_and(|o| o.object().is_ok()),
                _ => false,
            })
        })?,
    )?;
    globals.raw_set(
        "is_instance_id_valid",
        lua.create_function(|_, id: Value| Ok(object_by_id(&id).is_some()))?,
    )?;
    globals.raw_set(
        "instance_from_id",
        lua.create_function(|lua, id: Value| match object_by_id(&id) {
            Some(object) => super::pool::wrap(lua, object).map(Value::UserData),
            None => Ok(Value::Nil),
        })?,
    )?;
    Ok(())
}

/// A PackedByteArray argument.
fn packed_bytes(value: &Value) -> mlua::Result<PackedByteArray> {
    from_lua(value)?.try_to().map_err(|_| {
        mlua::Error::runtime(format!(
            "expected a PackedByteArray, got {}",
            super::describe(value)
        ))
    })
}

/// The live object with instance id `id` (a Lua number or, for large ids under LuaJIT, a
/// Godot int).
fn object_by_id(id: &Value) -> Option<Gd<Object>> {
    let id = from_lua(id).ok()?.try_to::<i64>().ok()?;
    Gd::<Object>::try_from_instance_id(InstanceId::try_from_i64(id)?).ok()
}

/// `max(a, b, ...)` / `min(a, b, ...)` over numbers, vectors or any comparable values.
fn extreme(lua: &Lua, args: &[Value], which: &str) -> mlua::Result<Value> {
    if args.len() < 2 {
        return Err(mlua::Error::runtime(format!(
            "{which}() takes at least 2 arguments, got {}",
            args.len()
        )));
    }
    let values = args
        .iter()
        .map(from_lua)
        .collect::<mlua::Result<Vec<Variant>>>()?;
    let result = if which == "max" {
        g::max(&values[0], &values[1], &values[2..])
    } else {
        g::min(&values[0], &values[1], &values[2..])
    };
    to_lua(lua, &result)
}
