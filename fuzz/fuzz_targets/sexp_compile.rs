//! The SEXP parser and compiler on any text: an error or a compiled expression, never a panic,
//! and a compiled expression keeps the text it came from.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lua_runtime_core::sexp::compile::{Strings, compile};

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let mut strings = Strings::default();
    let user = |name: &str| name.starts_with("user-");
    if let Ok(compiled) = compile(source, 1, &user, &mut strings) {
        assert_eq!(&*compiled.source, source);
    }
});
