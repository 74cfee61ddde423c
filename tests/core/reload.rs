//! Hot reload without an engine: the file watcher, `require` edges and module reloads.

use std::cell::Cell;
use std::collections::HashMap;
use std::fs;
use std::rc::Rc;
use std::time::{Duration, Instant};

use lua_runtime_core::LuaHost;
use lua_runtime_core::errors::Error;
use lua_runtime_core::host::require::{Libraries, calling_script};
use lua_runtime_core::reload::ScriptWatcher;
use mlua::{Function, Table, Value};

const WINDOW: Duration = Duration::from_millis(20);
const PATIENCE: Duration = Duration::from_secs(5);

fn chunk(host: &LuaHost, path: &str, source: &str) -> Result<Function, Error> {
    host.compile(path, source)
}

#[test]
fn a_saved_script_arrives_as_one_batch() {
    let dir = tempfile::tempdir().expect("dir");
    fs::create_dir(dir.path().join("lib")).expect("lib");
    let watcher = ScriptWatcher::start(dir.path(), "lua", WINDOW).expect("watch");
    let written = Instant::now();
    fs::write(dir.path().join("lib/enemy.lua"), "return {}").expect("write");
    // A second save straight after, as editors that write then touch do.
    fs::write(dir.path().join("lib/enemy.lua"), "return { v = 2 }").expect("write");
    fs::write(dir.path().join("notes.txt"), "not a script").expect("write");
    let batch = watcher.wait(PATIENCE).expect("a batch");
    assert_eq!(batch.paths, ["lib/enemy.lua"]);
    assert!(batch.noticed >= written);
    // The debounce window merged both saves: nothing else follows.
    assert_eq!(watcher.wait(WINDOW * 5), None);
    assert!(watcher.drain().is_empty());
}

#[test]
fn hidden_folders_and_other_files_are_ignored() {
    let dir = tempfile::tempdir().expect("dir");
    fs::create_dir(dir.path().join(".godot")).expect("hidden");
    let watcher = ScriptWatcher::start(dir.path(), "lua", WINDOW).expect("watch");
    fs::write(dir.path().join(".godot/cache.lua"), "x").expect("write");
    fs::write(dir.path().join("main.gd"), "x").expect("write");
    assert_eq!(watcher.wait(WINDOW * 10), None);
    // A rename into place (how many editors save) counts as a change of the target.
    fs::write(dir.path().join("tmp.txt"), "return {}").expect("write");
    fs::rename(dir.path().join("tmp.txt"), dir.path().join("saved.lua")).expect("rename");
    let batch = watcher.wait(PATIENCE).expect("a batch");
    assert_eq!(batch.paths, ["saved.lua"]);
}

#[test]
fn watching_a_missing_folder_is_an_error() {
    let dir = tempfile::tempdir().expect("dir");
    let missing = dir.path().join("nope");
    let Err(err) = ScriptWatcher::start(&missing, "lua", WINDOW) else {
        panic!("watching a missing folder succeeded");
    };
    assert!(matches!(err, Error::WatchFailed { .. }), "{err:?}");
    assert!(err.to_string().contains("nope"), "{err}");
}

#[test]
fn require_records_who_asked() -> mlua::Result<()> {
    let host = LuaHost::new()?;
    let lua = host.lua();
    let libraries = Rc::new(Libraries::default());
    let sources: HashMap<&str, &str> = [
        ("res://c.lua", "return { n = 1 }"),
        (
            "res://b.lua",
            "local c = require('res://c.lua') return { n = c.n + 1 }",
        ),
    ]
    .into_iter()
    .collect();
    let for_require = libraries.clone();
    let require = lua.create_function(move |lua, path: String| {
        let requirer = calling_script(lua);
        let load = |p: &str| {
            lua.load(sources[p])
                .set_name(format!("@{p}"))
                .into_function()
                .map_err(|e| Error::from(lua_runtime_core::ScriptError::from_lua(&e, p)))
        };
        for_require
            .require(&path, requirer.as_deref(), load)
            .map_err(|e| mlua::Error::runtime(e.to_string()))
    })?;
    lua.globals().set("require", require)?;
    // A node script (not itself required) requires b, which requires c.
    let script = chunk(
        &host,
        "res://a.lua",
        "local b = require('res://b.lua') return { n = b.n + 1 }",
    )
    .map_err(|e| mlua::Error::runtime(e.to_string()))?;
    let module: Table = script.call(())?;
    assert_eq!(module.get::<i64>("n")?, 3);
    assert_eq!(
        libraries.reload_order(&["res://c.lua".to_owned()]),
        ["res://c.lua", "res://b.lua", "res://a.lua"]
    );
    assert!(
        libraries
            .dependents_of("res://b.lua")
            .contains("res://a.lua")
    );
    Ok(())
}

#[test]
fn a_reloaded_module_replaces_its_value_and_a_broken_one_keeps_the_old() {
    let host = LuaHost::new().expect("lua");
    let libraries = Libraries::default();
    let path = "res://lib/m.lua";
    let runs = Cell::new(0);
    let first = libraries
        .require(path, Some("res://user.lua"), |p| {
            runs.set(runs.get() + 1);
            chunk(&host, p, "return { version = 1 }")
        })
        .expect("first load");
    let version = |v: &Value| match v {
        Value::Table(t) => t.get::<i64>("version").expect("version"),
        other => panic!("not a table: {other:?}"),
    };
    assert_eq!(version(&first), 1);
    let reloaded = libraries
        .reload(path, |p| chunk(&host, p, "return { version = 2 }"))
        .expect("reload")
        .expect("it was loaded");
    assert_eq!(version(&reloaded), 2);
    let again = libraries
        .require(path, None, |_| panic!("a loaded module is not run again"))
        .expect("require");
    assert_eq!(version(&again), 2, "later requires get the new version");

    let err = libraries
        .reload(path, |p| chunk(&host, p, "return {\n  version = = 3 }"))
        .expect_err("a syntax error");
    assert_eq!(err.line(), Some(2));
    let kept = libraries
        .require(path, None, |_| panic!("not run"))
        .expect("kept");
    assert_eq!(version(&kept), 2, "the old version keeps running");
    assert!(
        libraries.dependents_of(path).contains("res://user.lua"),
        "edges survive a failed reload"
    );
    assert_eq!(
        libraries
            .reload("res://never.lua", |_| panic!("not loaded, not run"))
            .expect("no-op"),
        None
    );
}
