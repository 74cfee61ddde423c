//! `require` and interned names, without an engine.

use std::cell::Cell;

use lua_runtime_core::LuaHost;
use lua_runtime_core::errors::Error;
use lua_runtime_core::host::names::NameCache;
use lua_runtime_core::host::require::{Libraries, resolve};
use mlua::Function;

fn chunk(host: &LuaHost, path: &str, source: &str) -> Result<Function, Error> {
    host.compile(path, source)
}

#[test]
fn a_module_runs_once_and_its_value_is_shared() {
    let host = LuaHost::new().expect("lua");
    let libraries = Libraries::default();
    let loads = Cell::new(0);
    let load = |path: &str| {
        loads.set(loads.get() + 1);
        chunk(
            &host,
            path,
            "counter = (counter or 0) + 1 return { n = counter }",
        )
    };
    let first = libraries
        .require("res://lib/a.lua", None, load)
        .expect("first");
    let second = libraries
        .require("res://lib/a.lua", None, load)
        .expect("second");
    assert_eq!(first, second);
    assert_eq!(loads.get(), 1);
    assert_eq!(libraries.count(), 1);
    let nothing = libraries
        .require("res://lib/empty.lua", None, |p| {
            chunk(&host, p, "local x = 1")
        })
        .expect("empty");
    assert_eq!(
        nothing,
        mlua::Value::Boolean(true),
        "a module returning nothing is true"
    );
    assert!(libraries.forget("res://lib/a.lua"));
}

#[test]
fn a_cycle_is_an_error_naming_every_module_in_it() {
    let host = LuaHost::new().expect("lua");
    let libraries = Libraries::default();
    // a requires b, b requires a: the inner require of a sees the cycle.
    let result = libraries.require("res://a.lua", None, |_| {
        libraries.require("res://b.lua", None, |_| {
            let inner = libraries.require("res://a.lua", None, |p| chunk(&host, p, "return 1"));
            match inner {
                Err(e) => Err(e),
                Ok(_) => chunk(&host, "res://b.lua", "return 2"),
            }
        })?;
        chunk(&host, "res://a.lua", "return 3")
    });
    let Err(Error::RequireCycle { cycle }) = result else {
        panic!("expected a cycle error, got {result:?}");
    };
    assert_eq!(cycle, ["res://a.lua", "res://b.lua", "res://a.lua"]);
    assert_eq!(
        Error::RequireCycle { cycle }.to_string(),
        "require cycle: res://a.lua -> res://b.lua -> res://a.lua"
    );
    // Nothing half-loaded was kept, and a later require starts clean.
    assert_eq!(libraries.count(), 0);
    let ok = libraries.require("res://a.lua", None, |p| chunk(&host, p, "return 'fine'"));
    assert!(ok.is_ok());
}

#[test]
fn an_error_in_a_module_is_located_in_it() {
    let host = LuaHost::new().expect("lua");
    let libraries = Libraries::default();
    let err = libraries
        .require("res://bad.lua", None, |p| {
            chunk(&host, p, "\nerror('broken module')")
        })
        .expect_err("an error");
    assert_eq!(err.path(), "res://bad.lua");
    assert_eq!(err.line(), Some(2));
    assert_eq!(libraries.count(), 0, "a failed module is not kept");
}

#[test]
fn dotted_names_resolve_under_res() {
    assert_eq!(
        resolve("enemies.ai.patrol").expect("name"),
        "res://enemies/ai/patrol.lua"
    );
    assert!(resolve("a/../../b").is_err());
}

#[test]
fn names_are_made_once_and_found_by_address_or_text() {
    let host = LuaHost::new().expect("lua");
    let lua = host.lua();
    let cache: NameCache<String> = NameCache::default();
    let made = Cell::new(0);
    let make = |t: &str| {
        made.set(made.get() + 1);
        t.to_uppercase()
    };
    let key = lua.create_string("position").expect("s");
    let a = cache.get(&key, make).expect("a");
    let same_text = lua.create_string("position").expect("s");
    let b = cache.get(&same_text, make).expect("b");
    let c = cache.by_text("position", make);
    assert_eq!(made.get(), 1, "the engine name is made once");
    assert_eq!((a.id, b.id, c.id), (0, 0, 0));
    assert_eq!(a.value, "POSITION");
    let other = cache
        .get(&lua.create_string("rotation").expect("s"), make)
        .expect("o");
    assert_eq!(other.id, 1);
    let stats = cache.stats();
    assert_eq!((stats.interned, stats.misses), (2, 2));
    assert!(stats.hits >= 2);
}

#[test]
fn the_editor_definitions_are_valid_lua() {
    // addons/lua_runtime/lua/godot.d.lua is read by language servers, never run, but a
    // syntax error in it would break completion for every user.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../addons/lua_runtime/lua/godot.d.lua");
    let source = std::fs::read_to_string(&path).expect("the definitions file");
    let host = LuaHost::new().expect("lua");
    host.lua()
        .load(source.as_str())
        .set_name("=godot.d.lua")
        .into_function()
        .expect("the definitions compile");
    for declared in [
        "function await(",
        "function require(",
        "---@class Node: Object",
    ] {
        assert!(source.contains(declared), "{declared}");
    }
}
