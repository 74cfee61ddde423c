//! The Lua host: loading scripts, running code, and locating errors in files.

use lua_runtime_core::{Error, LuaHost};
use mlua::{Table, Value};

fn host() -> LuaHost {
    LuaHost::new().expect("Lua state")
}

#[test]
fn a_script_returns_its_module() -> Result<(), Error> {
    let host = host();
    let module = host.load_module(
        "res://mover.lua",
        "return { speed = 3, _ready = function() end }",
    )?;
    assert_eq!(module.get::<i64>("speed").ok(), Some(3));
    assert!(host.module("res://mover.lua").is_some());
    assert_eq!(host.scripts_loaded(), 1);
    Ok(())
}

#[test]
fn a_syntax_error_names_file_and_line() {
    let host = host();
    let source = "return {\n  _ready = function(self)\n    local x = = 1\n  end\n}";
    let err = host.load_module("res://broken.lua", source).unwrap_err();
    assert_eq!(err.path(), "res://broken.lua");
    assert_eq!(err.line(), Some(3));
    assert!(err.to_string().starts_with("res://broken.lua:3: "), "{err}");
}

#[test]
fn a_runtime_error_names_file_line_and_has_a_traceback() -> Result<(), Error> {
    let host = host();
    let source =
        "local M = {}\nfunction M.boom()\n  local t = nil\n  return t.field\nend\nreturn M";
    let module = host.load_module("res://boom.lua", source)?;
    let boom: mlua::Function = module.get("boom").expect("function");
    let Err(Error::Script(err)) = host.call::<()>(&boom, (), "res://boom.lua") else {
        panic!("expected a script error");
    };
    assert_eq!((err.path.as_str(), err.line), ("res://boom.lua", Some(4)));
    assert!(err.message.contains("attempt to index"), "{}", err.message);
    assert!(
        err.traceback.contains("stack traceback:"),
        "{}",
        err.traceback
    );
    assert!(
        err.full_report().contains("res://boom.lua:4"),
        "{}",
        err.full_report()
    );
    Ok(())
}

#[test]
fn an_error_raised_by_a_rust_function_points_at_the_calling_line() -> Result<(), Error> {
    let host = host();
    let lua = host.lua();
    let fail = lua
        .create_function(|_, ()| -> mlua::Result<()> {
            Err(mlua::Error::runtime("Node2D has no property 'bogus'"))
        })
        .expect("function");
    lua.globals().set("fail", fail).expect("global");
    let module = host.load_module(
        "res://calls.lua",
        "return {\n f = function()\n\n  fail()\n end }",
    )?;
    let f: mlua::Function = module.get("f").expect("function");
    let err = host.call::<()>(&f, (), "res://calls.lua").unwrap_err();
    assert_eq!(err.line(), Some(4), "{err:?}");
    assert_eq!(err.message(), "Node2D has no property 'bogus'");
    Ok(())
}

#[test]
fn a_script_must_return_a_table() {
    let host = host();
    let err = host.load_module("res://num.lua", "return 42").unwrap_err();
    assert_eq!(
        err.to_string(),
        "res://num.lua: a script must return a table of callbacks, but it returned number"
    );
}

#[test]
fn only_res_and_user_lua_paths_load() {
    let host = host();
    for bad in [
        "/etc/passwd",
        "res://a.txt",
        "C:/x.lua",
        "res://a/../../x.lua",
    ] {
        assert!(
            matches!(
                host.load_module(bad, "return {}"),
                Err(Error::BadScriptPath { .. })
            ),
            "{bad} was accepted"
        );
    }
    assert!(host.load_module("user://mods/a.lua", "return {}").is_ok());
}

#[test]
fn eval_returns_expressions_and_blocks() -> Result<(), Error> {
    let host = host();
    let values = host.eval("1 + 2")?;
    assert_eq!(values.into_iter().next(), Some(Value::Integer(3)));
    let values = host.eval("local x = 1.5; return x * 2")?;
    assert_eq!(values.into_iter().next(), Some(Value::Number(3.0)));
    Ok(())
}

#[test]
fn exec_errors_are_located_in_the_inline_chunk() {
    let host = host();
    let err = host.exec("local a = 1\nerror('nope')").unwrap_err();
    assert_eq!(err.path(), "(inline)");
    assert_eq!(err.line(), Some(2));
    assert_eq!(err.message(), "nope");
}

#[test]
fn a_reload_replaces_the_module() -> Result<(), Error> {
    let host = host();
    host.load_module("res://v.lua", "return { v = 1 }")?;
    host.load_module("res://v.lua", "return { v = 2 }")?;
    let module: Table = host.module("res://v.lua").expect("module");
    assert_eq!(module.get::<i64>("v").ok(), Some(2));
    assert_eq!(host.loaded_paths(), vec!["res://v.lua".to_owned()]);
    assert!(host.forget_module("res://v.lua"));
    assert!(host.module("res://v.lua").is_none());
    Ok(())
}

#[test]
fn garbage_collection_releases_memory() -> Result<(), Error> {
    let host = host();
    host.exec("junk = {} for i = 1, 100000 do junk[i] = {i} end")?;
    let full = host.memory_bytes();
    host.exec("junk = nil")?;
    host.collect_garbage().expect("gc");
    assert!(
        host.memory_bytes() < full / 2,
        "{} >= {}",
        host.memory_bytes(),
        full / 2
    );
    Ok(())
}

/// A Rust value handed to Lua, with an operator, like the runtime's Vector2.
#[derive(Clone, Copy)]
struct Pair(f32, f32);

impl mlua::UserData for Pair {
    fn add_fields<F: mlua::UserDataFields<Self>>(fields: &mut F) {
        fields.add_field_method_get("x", |_, this| Ok(this.0));
    }
    fn add_methods<M: mlua::UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_function(
            mlua::MetaMethod::Add,
            |_, (a, b): (mlua::AnyUserData, mlua::AnyUserData)| {
                let (a, b) = (*a.borrow::<Pair>()?, *b.borrow::<Pair>()?);
                Ok(Pair(a.0 + b.0, a.1 + b.1))
            },
        );
    }
}

#[test]
fn userdata_is_finalized_safely() -> Result<(), Error> {
    // Guards the build profile: with LuaJIT's debug assertions and optimised dependencies,
    // collecting a userdata crashed the process.
    let host = host();
    let lua = host.lua();
    let make = lua
        .create_function(|_, (x, y): (f32, f32)| Ok(Pair(x, y)))
        .expect("function");
    lua.globals().set("pair", make).expect("global");
    host.exec(
        "local sum = pair(0, 0) for i = 1, 1000 do sum = sum + pair(i, 1) end total = sum.x",
    )?;
    host.collect_garbage().expect("collect");
    host.collect_garbage().expect("collect");
    assert_eq!(
        host.eval("total")?.into_iter().next(),
        Some(Value::Integer(500500))
    );
    Ok(())
}

#[test]
fn collection_cycles_are_counted() -> Result<(), Error> {
    let host = host();
    let before = host.gc_cycles();
    for _ in 0..3 {
        host.collect_garbage().expect("collect");
    }
    // Each full collection completes at least one cycle (the sentinel re-arms itself).
    assert!(
        host.gc_cycles() >= before + 3,
        "{} -> {}",
        before,
        host.gc_cycles()
    );
    // Garbage made by scripts drives cycles on its own too.
    let counted = host.gc_cycles();
    // (Kept reachable for a moment, so the JIT cannot sink the allocation.)
    host.exec("local keep = {} for i = 1, 200000 do keep[i % 8] = { i } end")?;
    assert!(
        host.gc_cycles() > counted,
        "allocation-driven cycles counted"
    );
    Ok(())
}

#[test]
fn each_script_load_is_charged_its_heap() -> Result<(), Error> {
    let host = host();
    host.load_module("res://small.lua", "return {}")?;
    host.load_module(
        "res://big.lua",
        "local t = {} for i = 1, 10000 do t[i] = 'item' .. i end return { data = t }",
    )?;
    let by_script = host.memory_by_script();
    let (small, big) = (by_script["res://small.lua"], by_script["res://big.lua"]);
    assert!(big > 200_000, "10,000 strings in a table: {big} bytes");
    assert!(small < 2_000, "an empty module: {small} bytes");
    host.rename_module("res://big.lua", "res://moved.lua");
    assert!(host.memory_by_script().contains_key("res://moved.lua"));
    host.forget_module("res://moved.lua");
    assert!(!host.memory_by_script().contains_key("res://moved.lua"));
    Ok(())
}
