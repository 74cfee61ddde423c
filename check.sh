#!/usr/bin/env bash
# Runs every test, exactly as CI does: formatting, lints, the engine-free core under both Lua
# flavours, the extension build, and the engine tests inside a real headless Godot 4 (which
# tools/godot.sh provides when the machine has none).
set -euo pipefail
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$repo_root"

step() { printf '\n== %s\n' "$*"; }

step "format"
cargo fmt --all -- --check

step "clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "core tests (LuaJIT)"
cargo test -p lua_runtime_core

step "core tests (Lua 5.4)"
# A target directory of its own, so switching flavours does not rebuild the other one.
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo_root/target}/lua54" cargo test -p lua_runtime_core --no-default-features --features lua54

step "build the extension"
tools/build.sh

step "engine tests (real Godot, headless)"
tools/godot.sh --provision-only
tools/engine-tests.sh

printf '\nall checks passed\n'
