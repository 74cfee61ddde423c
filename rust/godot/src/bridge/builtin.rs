//! Godot's builtin types in Lua: `Vector2i`, `Rect2`, `Transform3D`, `Array`, `Dictionary`,
//! the packed arrays, `NodePath`, `Callable`, `Signal`, `RID` and the rest.
//!
//! A builtin value is a [`LuaVariant`]. What a name means on it (method, member, or neither)
//! is asked of the engine once per type and name and cached, so `v:length()` and `r.position`
//! cost one table lookup plus the engine call. Each type has a global table that constructs
//! values (`Vector2i(1, 2)`, `Array{1, 2}`), holds its constants (`Vector2i.UP`, a fresh copy
//! on each read) and its static methods (`Color.from_hsv(...)`).
//!
//! Arrays index from 1 in Lua (`arr[1]` is GDScript's `arr[0]`), so `#arr`, `ipairs` and
//! `for i = 1, #arr` work as for tables; methods keep Godot's 0-based indices
//! (`arr:insert(0, x)`).

use std::cell::RefCell;

use godot::builtin::{StringName, VarDictionary, Variant, VariantOperator, VariantType};
use godot::obj::EngineEnum;
use mlua::{AnyUserData, Function, Lua, MetaMethod, MultiValue, Table, UserData, Value, Variadic};
use rustc_hash::FxHashMap;

use super::convert::{from_lua, to_lua};
use super::ffi::{self, CallFailure, IndexFailure};
use super::names;

/// A value of a builtin type, held by Lua.
pub struct LuaVariant(pub Variant);

/// What a name is on a builtin type.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Method,
    Member,
    Neither,
}

/// Per type and name knowledge, and one calling function per method name.
#[derive(Default)]
pub struct BuiltinCaches {
    kinds: RefCell<FxHashMap<(i32, u32), Kind>>,
    callers: names::Callers,
}

/// Godot's name for a type: `Vector2i`, `PackedByteArray`.
pub fn type_name(ty: VariantType) -> String {
    godot::global::type_string(i64::from(ty.ord())).to_string()
}

/// Whether `ty` is a packed array (a value type, unlike Array).
fn is_packed(ty: VariantType) -> bool {
    (VariantType::PACKED_BYTE_ARRAY.ord()..=VariantType::PACKED_VECTOR4_ARRAY.ord())
        .contains(&ty.ord())
}

/// Whether `ty` is indexed by position (arrays, packed arrays).
fn is_sequence(ty: VariantType) -> bool {
    ty == VariantType::ARRAY || is_packed(ty)
}

/// `value:size()` for the types that have it.
fn size(value: &Variant) -> Option<i64> {
    ffi::call(value, &names::intern_str("size").value, &[])
        .ok()?
        .try_to::<i64>()
        .ok()
}

fn kind_of(variant: &Variant, name: &names::Name) -> Kind {
    let ty = variant.get_type();
    let key = (ty.ord(), name.id);
    let cached = names::with_bridge(|b| b.builtins.kinds.borrow().get(&key).copied()).flatten();
    if let Some(kind) = cached {
        return kind;
    }
    let kind = if ffi::has_method(variant, &name.value) {
        Kind::Method
    } else if ffi::has_member(ty, &name.value) {
        Kind::Member
    } else {
        Kind::Neither
    };
    if name.id != names::UNCACHED {
        names::with_bridge(|b| b.builtins.kinds.borrow_mut().insert(key, kind));
    }
    kind
}

/// The Lua function that calls method `name` on whatever builtin value it is given first.
fn method_caller(lua: &Lua, name: &names::Name) -> mlua::Result<Function> {
    names::method_function(lua, name, |b| &b.builtins.callers, call_method)
}

/// `receiver:method(args...)` on a builtin value.
fn call_method(
    lua: &Lua,
    receiver: &Value,
    method: &StringName,
    text: &str,
    args: &[Value],
) -> mlua::Result<Value> {
    let ud = match receiver {
        Value::UserData(ud) => Some(ud),
        // `Vector2`, `Vector3` and `Color` (tables) have no methods that change them.
        Value::Table(t) if super::math::kind_of(t).is_some() => None,
        _ => return Err(receiver_error(text, receiver)),
    };
    let variants = arguments(args).map_err(|(i, e)| argument_error(text, i, &e))?;
    // Packed arrays are values: their mutating methods must change the one Lua holds.
    if let Some(Ok(mut held)) = ud.map(AnyUserData::borrow_mut::<LuaVariant>)
        && is_packed(held.0.get_type())
    {
        let ty = held.0.get_type();
        let mut target = std::mem::take(&mut held.0);
        let result = ffi::call_mut(&mut target, method, &variants);
        held.0 = target;
        drop(held);
        return match result {
            Ok(v) => to_lua(lua, &v),
            Err(f) => Err(call_error(&type_name(ty), text, &f, args)),
        };
    }
    let target = from_lua(receiver)?;
    match ffi::call(&target, method, &variants) {
        Ok(v) => to_lua(lua, &v),
        Err(f) => Err(call_error(&type_name(target.get_type()), text, &f, args)),
    }
}

/// Lua arguments as Variants, naming the one that does not convert.
///
/// # Errors
/// The position (0-based) and error of the first argument that does not convert; turn it
/// into a message with [`argument_error`].
pub fn arguments(args: &[Value]) -> Result<Vec<Variant>, (usize, mlua::Error)> {
    args.iter()
        .enumerate()
        .map(|(i, a)| from_lua(a).map_err(|e| (i, e)))
        .collect()
}

/// A method called without a receiver it works on: usually `obj.m()` written for `obj:m()`.
pub fn receiver_error(method: &str, receiver: &Value) -> mlua::Error {
    mlua::Error::runtime(format!(
        "method '{method}' called with '.' instead of ':' (or on a {})",
        super::describe(receiver)
    ))
}

/// `method(): argument #N: why`, for an argument that does not convert.
pub fn argument_error(method: &str, index: usize, error: &mlua::Error) -> mlua::Error {
    mlua::Error::runtime(format!("{method}(): argument #{}: {error}", index + 1))
}

/// The Lua error for a refused call: `Type.method(): what was wrong`.
pub fn call_error(owner: &str, method: &str, failure: &CallFailure, args: &[Value]) -> mlua::Error {
    let reason = match failure {
        CallFailure::NoMethod => format!("{owner} has no method named '{method}'"),
        CallFailure::BadArgument { index, expected } => format!(
            "{owner}.{method}(): argument #{}: expected {}, got {}",
            index + 1,
            type_name(*expected),
            args.get(*index).map_or("nothing".into(), super::describe)
        ),
        CallFailure::TooMany { expected } => format!(
            "{owner}.{method}(): too many arguments: expected at most {expected}, got {}",
            args.len()
        ),
        CallFailure::TooFew { .. } => {
            format!("{owner}.{method}(): too few arguments (got {})", args.len())
        }
        CallFailure::NullInstance => format!("{owner}.{method}(): the object was freed"),
        CallFailure::Other => format!("{owner}.{method}(): the call failed"),
    };
    mlua::Error::runtime(reason)
}

/// A Lua integer index (1-based) as Godot's 0-based one.
fn position(key: &Value) -> Option<i64> {
    match key {
        Value::Integer(i) => Some(*i - 1),
        Value::Number(n) if n.fract() == 0.0 => Some(*n as i64 - 1),
        _ => None,
    }
}

/// `value[key]` / `value.key` for any builtin value.
pub fn index(lua: &Lua, value: &Variant, key: &Value) -> mlua::Result<Value> {
    let ty = value.get_type();
    if let Value::String(s) = key {
        let name = names::intern(s)?;
        match kind_of(value, &name) {
            Kind::Method => return method_caller(lua, &name).map(Value::Function),
            Kind::Member => {
                return match ffi::get_named(value, &name.value) {
                    Some(v) => to_lua(lua, &v),
                    None => Ok(Value::Nil),
                };
            }
            Kind::Neither if ty != VariantType::DICTIONARY => {
                return Err(mlua::Error::runtime(format!(
                    "{} has no member or method named '{}'",
                    type_name(ty),
                    name.text
                )));
            }
            Kind::Neither => {}
        }
    }
    if ty == VariantType::DICTIONARY {
        let key = from_lua(key)?;
        return match ffi::get_keyed(value, &key) {
            Some(v) => to_lua(lua, &v),
            None => Ok(Value::Nil),
        };
    }
    if is_sequence(ty)
        && let Some(at) = position(key)
    {
        return match ffi::get_indexed(value, at) {
            Ok(v) => to_lua(lua, &v),
            // Like a table: reading past the end gives nil, so `ipairs` and loops stop.
            Err(_) => Ok(Value::Nil),
        };
    }
    Err(mlua::Error::runtime(format!(
        "{} cannot be indexed with a {}",
        type_name(ty),
        super::describe(key)
    )))
}

/// `value[key] = v` / `value.key = v`, changing `value` in place.
pub fn set(value: &mut Variant, key: &Value, new: &Value) -> mlua::Result<()> {
    let ty = value.get_type();
    if let Value::String(s) = key
        && ty != VariantType::DICTIONARY
    {
        let name = names::intern(s)?;
        if kind_of(value, &name) != Kind::Member {
            return Err(mlua::Error::runtime(format!(
                "{} has no member named '{}'",
                type_name(ty),
                name.text
            )));
        }
        let v = from_lua(new)?;
        if !ffi::set_named(value, &name.value, &v) {
            return Err(mlua::Error::runtime(format!(
                "cannot set {}.{}: got {}",
                type_name(ty),
                name.text,
                super::describe(new)
            )));
        }
        return Ok(());
    }
    if ty == VariantType::DICTIONARY {
        let mut dict: VarDictionary = value.try_to().map_err(mlua::Error::external)?;
        dict.set(&from_lua(key)?, &from_lua(new)?);
        return Ok(());
    }
    if is_sequence(ty)
        && let Some(at) = position(key)
    {
        let v = from_lua(new)?;
        let size = size(value).unwrap_or(0);
        if at == size {
            // `arr[#arr + 1] = x` appends, as it does for a table.
            return ffi::call_mut(value, &names::intern_str("push_back").value, &[v])
                .map(drop)
                .map_err(|f| {
                    call_error(&type_name(ty), "push_back", &f, std::slice::from_ref(new))
                });
        }
        return ffi::set_indexed(value, at, &v).map_err(|f| {
            mlua::Error::runtime(match f {
                IndexFailure::OutOfBounds => format!(
                    "{} index {} out of range (size {size})",
                    type_name(ty),
                    at + 1
                ),
                IndexFailure::Invalid => format!(
                    "cannot store a {} in a {}",
                    super::describe(new),
                    type_name(ty)
                ),
            })
        });
    }
    Err(mlua::Error::runtime(format!(
        "{} cannot be indexed with a {}",
        type_name(ty),
        super::describe(key)
    )))
}

/// `#value`: the size of arrays, dictionaries and packed arrays.
fn length(value: &Variant) -> mlua::Result<i64> {
    size(value).ok_or_else(|| {
        mlua::Error::runtime(format!(
            "attempt to get length of a {} value",
            type_name(value.get_type())
        ))
    })
}

/// Applies a Godot operator to two Lua values, at least one of them a Godot value.
pub fn operate(
    lua: &Lua,
    op: VariantOperator,
    symbol: &str,
    a: &Value,
    b: &Value,
) -> mlua::Result<Value> {
    let (x, y) = (from_lua(a)?, from_lua(b)?);
    match x.evaluate(&y, op) {
        Some(result) => to_lua(lua, &result),
        None => Err(mlua::Error::runtime(format!(
            "invalid operands for '{symbol}': {} and {}",
            super::describe(a),
            super::describe(b)
        ))),
    }
}

fn equal(a: &Value, b: &Value) -> bool {
    match (from_lua(a), from_lua(b)) {
        (Ok(x), Ok(y)) => x
            .evaluate(&y, VariantOperator::EQUAL)
            .is_some_and(|r| r.booleanize()),
        _ => false,
    }
}

impl UserData for LuaVariant {
    fn add_methods<M: mlua::UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method(MetaMethod::Index, |lua, this, key: Value| {
            index(lua, &this.0, &key)
        });
        methods.add_meta_method_mut(
            MetaMethod::NewIndex,
            |_, this, (key, value): (Value, Value)| set(&mut this.0, &key, &value),
        );
        methods.add_meta_method(MetaMethod::Len, |_, this, ()| length(&this.0));
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            Ok(this.0.stringify().to_string())
        });
        methods.add_meta_function(MetaMethod::Eq, |_, (a, b): (Value, Value)| {
            Ok(equal(&a, &b))
        });
        methods.add_meta_function(MetaMethod::Concat, |lua, (a, b): (Value, Value)| {
            concat(lua, &a, &b)
        });
        // A Callable is called like a function: `cb(1, 2)`.
        methods.add_meta_function(MetaMethod::Call, |lua, args: MultiValue| {
            let mut args = args.into_iter();
            let callable = args.next().unwrap_or(Value::Nil);
            let rest: Vec<Value> = args.collect();
            call_method(
                lua,
                &callable,
                &names::intern_str("call").value,
                "call",
                &rest,
            )
        });
        for (meta, op, symbol) in [
            (MetaMethod::Add, VariantOperator::ADD, "+"),
            (MetaMethod::Sub, VariantOperator::SUBTRACT, "-"),
            (MetaMethod::Mul, VariantOperator::MULTIPLY, "*"),
            (MetaMethod::Div, VariantOperator::DIVIDE, "/"),
            (MetaMethod::Mod, VariantOperator::MODULO, "%"),
            (MetaMethod::Lt, VariantOperator::LESS, "<"),
            (MetaMethod::Le, VariantOperator::LESS_EQUAL, "<="),
        ] {
            methods.add_meta_function(meta, move |lua, (a, b): (Value, Value)| {
                operate(lua, op, symbol, &a, &b)
            });
        }
        methods.add_meta_function(MetaMethod::Unm, |lua, (a, _b): (Value, Value)| {
            operate(lua, VariantOperator::NEGATE, "-", &a, &Value::Nil)
        });
    }
}

/// `a .. b`: joins arrays (GDScript's `+`), otherwise joins the two as text.
pub fn concat(lua: &Lua, a: &Value, b: &Value) -> mlua::Result<Value> {
    let (x, y) = (from_lua(a)?, from_lua(b)?);
    if is_sequence(x.get_type()) && x.get_type() == y.get_type() {
        return operate(lua, VariantOperator::ADD, "..", a, b);
    }
    let text = |v: &Value, var: &Variant| match v {
        Value::String(s) => s.to_string_lossy(),
        Value::Integer(_) | Value::Number(_) => v.to_string().unwrap_or_default(),
        _ => var.stringify().to_string(),
    };
    Ok(Value::String(lua.create_string(format!(
        "{}{}",
        text(a, &x),
        text(b, &y)
    ))?))
}

/// Builds a value of `ty` from Lua arguments.
pub fn construct(ty: VariantType, args: &[Value]) -> mlua::Result<Variant> {
    super::policy::check_construct(ty, args)?;
    let name = type_name(ty);
    // `Array{...}`, `Dictionary{...}`, `PackedInt32Array{...}`: from a table.
    if let [Value::Table(t)] = args {
        let base = if ty == VariantType::DICTIONARY {
            super::convert::table_to_dictionary(t)?
        } else {
            super::convert::table_to_array(t)?
        };
        if ty == base.get_type() {
            return Ok(base);
        }
        return ffi::construct(ty, &[base]).map_err(|f| call_error(&name, &name, &f, args));
    }
    let variants = arguments(args).map_err(|(i, e)| argument_error(&name, i, &e))?;
    ffi::construct(ty, &variants).map_err(|f| match f {
        CallFailure::NoMethod
        | CallFailure::Other
        | CallFailure::TooMany { .. }
        | CallFailure::TooFew { .. } => {
            let got: Vec<String> = args.iter().map(super::describe).collect();
            mlua::Error::runtime(format!(
                "{name}(): no constructor takes ({})",
                got.join(", ")
            ))
        }
        other => call_error(&name, &name, &other, args),
    })
}

/// The global table of builtin type `ty`: a constructor with the type's constants and static
/// methods. `fast` builds the common case without the engine's constructor dispatch.
pub fn type_table(lua: &Lua, ty: VariantType, fast: Option<Function>) -> mlua::Result<Table> {
    let table = lua.create_table()?;
    let meta = lua.create_table()?;
    let call = lua.create_function(move |lua, args: MultiValue| {
        let args: Vec<Value> = args.into_iter().skip(1).collect();
        if let Some(fast) = &fast {
            let made: Value = fast.call(MultiValue::from_iter(args.iter().cloned()))?;
            if !made.is_nil() {
                return Ok(made);
            }
        }
        to_lua(lua, &construct(ty, &args)?)
    })?;
    meta.raw_set("__call", call)?;
    let sample = ffi::construct(ty, &[]).unwrap_or_default();
    let lookup = lua.create_function(move |lua, (table, key): (Table, mlua::LuaString)| {
        let name = names::intern(&key)?;
        // Constants are made fresh on each read (a value read from a constant may be
        // changed); a method's function is made once and kept in the table.
        if let Some(value) = ffi::constant(ty, &name.value) {
            return to_lua(lua, &value);
        }
        if ffi::has_method(&sample, &name.value) {
            let function = static_or_instance_caller(lua, ty, &name)?;
            table.raw_set(key, function.clone())?;
            return Ok(Value::Function(function));
        }
        Err(mlua::Error::runtime(format!(
            "{} has no constant or method named '{}'",
            type_name(ty),
            name.text
        )))
    })?;
    meta.raw_set("__index", lookup)?;
    meta.raw_set(
        "__tostring",
        lua.create_function(move |_, _: Value| Ok(type_name(ty)))?,
    )?;
    table.set_metatable(Some(meta))?;
    Ok(table)
}

/// `Type.method(...)`: a static method (`Color.from_hsv(h, s, v)`), or an instance method
/// called with `.` and the value first (`Vector2.length(v)`).
fn static_or_instance_caller(
    lua: &Lua,
    ty: VariantType,
    name: &names::Name,
) -> mlua::Result<Function> {
    let method = name.value.clone();
    let text = name.text.to_string();
    lua.create_function(move |lua, args: Variadic<Value>| {
        let receiver_is_value = args
            .first()
            .and_then(|a| from_lua(a).ok())
            .is_some_and(|v| v.get_type() == ty);
        if receiver_is_value {
            return call_method(lua, &args[0], &method, &text, &args[1..]);
        }
        let variants = arguments(&args).map_err(|(i, e)| argument_error(&text, i, &e))?;
        match ffi::call_static(ty, &method, &variants) {
            Ok(v) => to_lua(lua, &v),
            Err(f) => Err(call_error(&type_name(ty), &text, &f, &args)),
        }
    })
}

/// Every builtin type Lua gets a global for (the rest are Lua's own types).
fn global_types() -> impl Iterator<Item = VariantType> {
    VariantType::values().iter().copied().filter(|ty| {
        !matches!(
            *ty,
            VariantType::NIL
                | VariantType::BOOL
                | VariantType::INT
                | VariantType::FLOAT
                | VariantType::STRING
                | VariantType::OBJECT
                | VariantType::STRING_NAME
        )
    })
}

/// Installs a global table for every builtin type that has none yet, and `pairs`/`ipairs`
/// that walk arrays and dictionaries.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    let globals = lua.globals();
    for ty in global_types() {
        let name = type_name(ty);
        if globals.raw_get::<Value>(name.as_str())?.is_nil() {
            globals.raw_set(name, type_table(lua, ty, None)?)?;
        }
    }
    lua.load(ITERATION)
        .set_name("=iteration")
        .call::<()>(lua.create_function(|_, ud: AnyUserData| {
            Ok(ud
                .borrow::<LuaVariant>()
                .map(|v| v.0.get_type() == VariantType::DICTIONARY)
                .unwrap_or(false))
        })?)?;
    Ok(())
}

/// `pairs` and `ipairs` that also walk Godot arrays (1-based, like tables) and dictionaries
/// (key order), on LuaJIT as on Lua 5.4. Written so that LuaJIT can compile a call of them as
/// the start of a trace (no closure made, no tail call to a builtin): see `vectors.lua`.
const ITERATION: &str = r#"
local is_dictionary = ...
local raw_pairs, raw_ipairs, type = pairs, ipairs, type
local function array_next(a, i)
  i = i + 1
  if i <= #a then return i, a[i] end
end
local function dictionary_next(walk)
  local i = walk.i + 1
  walk.i = i
  if i <= walk.n then
    local k = walk.keys[i]
    return k, walk.d:get(k)
  end
end
local function dictionary_pairs(d)
  local keys = d:keys()
  return dictionary_next, { d = d, keys = keys, i = 0, n = #keys }, nil
end
pairs = function(t)
  if type(t) == "userdata" then
    if is_dictionary(t) then return dictionary_pairs(t) end
    return array_next, t, 0
  end
  local f, s, k = raw_pairs(t)
  return f, s, k
end
ipairs = function(t)
  if type(t) == "userdata" then return array_next, t, 0 end
  local f, s, k = raw_ipairs(t)
  return f, s, k
end
"#;
