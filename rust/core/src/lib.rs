//! Engine-free core of Godot Lua Runtime.
//!
//! Everything here runs without Godot, so `cargo test` and the criterion benches cover it on
//! any machine: the sandboxed Lua host ([`host`]), the bytecode cache ([`bytecode`]), hot reload's watcher and dependency graph ([`reload`]), cached scene-tree queries ([`query`]), SEXP expressions with their result cache ([`sexp`]), script-to-script events ([`events`]), the hash that names an engine method's signature ([`method_hash`]), the error model that turns Lua failures into
//! `res://file.lua:LINE: message` reports ([`errors`]), and the statistics snapshot that every
//! view of the runtime shares ([`stats`]). The GDExtension crate is a thin bridge over this one.

#[cfg(all(feature = "luajit", feature = "lua54"))]
compile_error!("choose one Lua flavour: the `luajit` and `lua54` features are exclusive");
#[cfg(not(any(feature = "luajit", feature = "lua54")))]
compile_error!("choose a Lua flavour: enable the `luajit` (default) or `lua54` feature");

pub mod bytecode;
pub mod errors;
pub mod events;
pub mod host;
pub mod method_hash;
pub mod query;
pub mod reload;
pub mod sexp;
pub mod stats;

pub use bytecode::BytecodeCache;
pub use errors::{Error, ScriptError};
pub use host::LuaHost;
pub use stats::StatsSnapshot;

/// The Lua flavour this build runs, as shown in statistics and error reports.
pub const LUA_FLAVOUR: &str = if cfg!(feature = "luajit") {
    "LuaJIT"
} else {
    "Lua 5.4"
};
