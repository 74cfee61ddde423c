//! The Lua `sexp` library.
//!
//! - `sexp.eval(text, node)`: the value of the expression in `node` (cached);
//! - `sexp.compile(text)`: a `LuaExpression` (`expr:evaluate(node)`);
//! - `sexp.define(name, fn, {pure = true})`: a user operator (impure unless `pure`);
//! - `sexp.set_var(name, value)`, `sexp.get_var(name)`: runtime variables for `(var name)`.
//!
//! Errors (syntax, unknown operator, evaluation) are raised as Lua errors.

use godot::classes::Node;
use godot::obj::Gd;
use mlua::{Function, Lua, Table, Value};

use super::Implementation;
use super::object::LuaExpression;
use super::world::id_of;
use crate::bridge::object::receiver_object;
use crate::bridge::{convert, describe, text_argument};
use crate::state::running;

pub fn install(lua: &Lua) -> mlua::Result<()> {
    let sexp = lua.create_table()?;
    sexp.raw_set(
        "eval",
        lua.create_function(|lua, (text, node): (Value, Value)| {
            let text = text_argument("sexp.eval", 1, "an expression", &text)?;
            let context = context_argument("sexp.eval", &node)?;
            let state = running()?;
            let compiled = state
                .expressions
                .compile(&text)
                .map_err(failure("sexp.eval"))?;
            let value = state
                .expressions
                .evaluate(&state, &compiled, context.as_ref().map_or(0, id_of), true)
                .map_err(failure("sexp.eval"))?;
            convert::to_lua(lua, &value)
        })?,
    )?;
    sexp.raw_set(
        "compile",
        lua.create_function(|lua, text: Value| {
            let text = text_argument("sexp.compile", 1, "an expression", &text)?;
            let state = running()?;
            let compiled = state
                .expressions
                .compile(&text)
                .map_err(failure("sexp.compile"))?;
            let object = LuaExpression::new_gd(compiled);
            convert::to_lua(lua, &godot::meta::ToGodot::to_variant(&object))
        })?,
    )?;
    sexp.raw_set(
        "define",
        lua.create_function(
            |lua, (name, function, options): (Value, Function, Option<Table>)| {
                let name = text_argument("sexp.define", 1, "an operator name", &name)?;
                let pure = match options {
                    Some(options) => options.get::<Option<bool>>("pure")?.unwrap_or(false),
                    None => false,
                };
                let key = lua.create_registry_value(function)?;
                running()?
                    .expressions
                    .define(&name, Implementation::Lua(key), pure)
                    .map_err(|m| mlua::Error::runtime(format!("sexp.define: {m}")))
            },
        )?,
    )?;
    sexp.raw_set(
        "set_var",
        lua.create_function(|_, (name, value): (Value, Value)| {
            let name = text_argument("sexp.set_var", 1, "a variable name", &name)?;
            let value = convert::from_lua(&value)?;
            running()?.expressions.set_var(&name, &value);
            Ok(())
        })?,
    )?;
    sexp.raw_set(
        "get_var",
        lua.create_function(|lua, name: Value| {
            let name = text_argument("sexp.get_var", 1, "a variable name", &name)?;
            let value = running()?.expressions.cache.borrow().var(&name);
            convert::to_lua(lua, &super::world::to_variant(&value))
        })?,
    )?;
    lua.globals().raw_set("sexp", sexp)
}

/// An expression's error as a Lua error from `function`.
fn failure(function: &'static str) -> impl Fn(lua_runtime_core::Error) -> mlua::Error {
    move |e| match e {
        lua_runtime_core::Error::Expression { text, error } => {
            mlua::Error::runtime(format!("{function}: {error} in {text}"))
        }
        other => mlua::Error::runtime(format!("{function}: {other}")),
    }
}

/// The context node: a node, a script's `self` (its node), or nil.
fn context_argument(function: &str, value: &Value) -> mlua::Result<Option<Gd<Node>>> {
    if value.is_nil() {
        return Ok(None);
    }
    let expected = || {
        mlua::Error::runtime(format!(
            "{function}: argument #2: expected a Node or nil, got {}",
            describe(value)
        ))
    };
    let object = receiver_object(value).ok_or_else(expected)??;
    object.try_cast::<Node>().map(Some).map_err(|_| expected())
}
