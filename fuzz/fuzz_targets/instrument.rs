//! The time budget's source instrumentation on any text: Lua accepts the instrumented source
//! exactly when it accepts the original, and reports its error at the same line (except errors
//! at the end of the text, where the wrapper's closing `end` stands).
#![no_main]

use libfuzzer_sys::fuzz_target;
use lua_runtime_core::host::instrument::wrap;
use mlua::{Lua, LuaOptions, StdLib};

thread_local! {
    static LUA: Lua = Lua::new_with(StdLib::NONE, LuaOptions::default()).expect("Lua");
}

fn compile(lua: &Lua, text: &str) -> Result<(), String> {
    lua.load(text)
        .set_name("=fuzz")
        .set_mode(mlua::chunk::ChunkMode::Text)
        .into_function()
        .map(drop)
        .map_err(|e| e.to_string())
}

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    // A chunk starting with ESC (after a `#` first line, which Lua skips) is a binary chunk
    // to Lua: refused either way, with other words.
    let body = match source.strip_prefix('#') {
        Some(rest) => rest
            .find(['\n', '\r'])
            .map_or("", |at| rest[at + 1..].trim_start_matches(['\n', '\r'])),
        None => source,
    };
    if body.starts_with('\x1b') {
        return;
    }
    let Ok(wrapped) = wrap(source) else {
        return;
    };
    LUA.with(|lua| {
        let original = compile(lua, source);
        let instrumented = compile(lua, &wrapped);
        match (&original, &instrumented) {
            (Ok(()), Ok(())) => {}
            (Err(a), Err(b)) => {
                // Same line; the token the message quotes may be a tick for code already wrong.
                let line = |m: &str| m.split(':').nth(2).map(str::to_owned);
                if !a.contains("<eof>") {
                    assert_eq!(line(a), line(b), "{a} / {b}, source: {source:?}");
                }
            }
            _ => panic!("original {original:?}, instrumented {instrumented:?}, source: {source:?}"),
        }
    });
});
