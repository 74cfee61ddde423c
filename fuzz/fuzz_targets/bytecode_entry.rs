//! The bytecode cache's entry reader on any bytes: a rejection or an entry, never a panic, and
//! an entry it accepts is exactly one the writer could have written.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lua_runtime_core::bytecode::entry::{Expect, decode, encode};
use lua_runtime_core::bytecode::flavour_tag;

fuzz_target!(|data: &[u8]| {
    for stripped in [false, true] {
        let expect = Expect {
            path: "res://fuzz.lua",
            tag: flavour_tag(),
            stripped,
            source_hash: None,
        };
        if let Ok(bytecode) = decode(data, expect) {
            assert_eq!(encode(&bytecode, flavour_tag(), stripped), data);
        }
    }
});
