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

/// The runtime keeps LuaJIT's `ffi` for itself; no global path leads a script to it.
#[cfg(feature = "luajit")]
#[test]
fn ffi_is_kept_for_the_runtime_only() {
    let host = LuaHost::new().expect("Lua state");
    let ffi: mlua::Table = host
        .lua()
        .named_registry_value(lua_runtime_core::host::FFI_REGISTRY_KEY)
        .expect("the runtime keeps ffi");
    assert!(ffi.contains_key("cast").expect("ffi.cast"));
    assert_eq!(
        eval_str(
            &host,
            "local found = 'nil' \
             for k, v in pairs(_G) do \
               if type(v) == 'table' and rawget(v, 'cdef') then found = k end \
             end \
             return found"
        ),
        "nil"
    );
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

#[test]
fn collectgarbage_only_counts_and_steps() {
    let host = LuaHost::new().expect("Lua state");
    assert_eq!(eval_str(&host, "type(collectgarbage('count'))"), "number");
    assert_eq!(eval_str(&host, "type(collectgarbage('step'))"), "boolean");
    for option in ["", "'collect'", "'stop'", "'setpause', 1000"] {
        let err = host
            .eval(&format!("collectgarbage({option})"))
            .expect_err("refused");
        assert!(
            err.to_string().contains("is not allowed in scripts"),
            "{option}: {err}"
        );
    }
}

#[cfg(feature = "luajit")]
#[test]
fn jit_only_describes_itself() {
    let host = LuaHost::new().expect("Lua state");
    assert_eq!(eval_str(&host, "type(jit.version)"), "string");
    for f in ["off", "on", "flush", "attach", "opt", "util"] {
        assert_eq!(
            eval_str(&host, &format!("type(jit.{f})")),
            "nil",
            "jit.{f} is reachable"
        );
    }
}

#[cfg(feature = "luajit")]
#[test]
fn environments_of_other_functions_are_out_of_reach() {
    let host = LuaHost::new().expect("Lua state");
    // A script's own functions and level 1 are fine.
    assert_eq!(
        eval_str(
            &host,
            "(function() local f = function() return x end setfenv(f, {x = 'own'}) return f() end)()"
        ),
        "own"
    );
    assert_eq!(
        eval_str(
            &host,
            "(function() setfenv(1, {tostring = tostring}) return tostring(type) end)()"
        ),
        "nil"
    );
    // Built-in and runtime functions, and other levels, are refused.
    for (code, expected) in [
        ("getfenv(print)", "not a script's own"),
        ("setfenv(load, {})", "not a script's own"),
        ("getfenv(2)", "take a function or level 1"),
        ("setfenv(0, {})", "take a function or level 1"),
    ] {
        let err = host.eval(code).expect_err(code);
        assert!(err.to_string().contains(expected), "{code}: {err}");
    }
    // A chunk from load() is the script's own: its environment can be set.
    assert_eq!(
        eval_str(
            &host,
            "(function() local f = load('return who') setfenv(f, {who = 'loaded'}) return f() end)()"
        ),
        "loaded"
    );
}
