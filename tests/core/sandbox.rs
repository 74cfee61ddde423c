//! What scripts cannot reach. Each test tries an escape and checks it fails.

use lua_runtime_core::LuaHost;

fn eval_str(host: &LuaHost, source: &str) -> String {
    let values = host.eval(source).expect("eval");
    match values.into_iter().next() {
        Some(mlua::Value::String(s)) => s.to_string_lossy(),
        other => format!("{other:?}"),
    }
}

#[test]
fn no_io_debug_ffi_or_package() {
    let host = LuaHost::new().expect("Lua state");
    for lib in [
        "io", "debug", "ffi", "package", "require", "dofile", "loadfile",
    ] {
        assert_eq!(
            eval_str(&host, &format!("type({lib})")),
            "nil",
            "{lib} is reachable"
        );
    }
}

#[test]
fn os_keeps_only_the_clock() {
    let host = LuaHost::new().expect("Lua state");
    for f in ["execute", "exit", "remove", "rename", "getenv", "tmpname"] {
        assert_eq!(
            eval_str(&host, &format!("type(os.{f})")),
            "nil",
            "os.{f} is reachable"
        );
    }
    for f in ["time", "clock", "date"] {
        assert_eq!(
            eval_str(&host, &format!("type(os.{f})")),
            "function",
            "os.{f} is missing"
        );
    }
}

#[test]
fn functions_cannot_be_dumped_to_bytecode() {
    let host = LuaHost::new().expect("Lua state");
    assert_eq!(eval_str(&host, "type(string.dump)"), "nil");
    assert_eq!(eval_str(&host, "type(('x').dump)"), "nil");
}

#[test]
fn binary_chunks_are_refused() {
    let host = LuaHost::new().expect("Lua state");
    let result = eval_str(
        &host,
        "(function() local f, err = load('\\27LuaJ fake bytecode') return tostring(f) .. ' ' .. tostring(err) end)()",
    );
    assert_eq!(result, "nil binary chunks are not allowed");
    // Text still loads.
    assert_eq!(eval_str(&host, "load('return \"ok\"')()"), "ok");
}

#[test]
fn script_modules_are_text_only() {
    let host = LuaHost::new().expect("Lua state");
    let err = host
        .load_module("res://bin.lua", "\x1bLua garbage")
        .unwrap_err();
    assert_eq!(err.path(), "res://bin.lua");
}
