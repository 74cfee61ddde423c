#!/usr/bin/env bash
# Builds the GDExtension and puts the library where the addon's .gdextension file expects it.
#   tools/build.sh            debug build (what the tests use)
#   tools/build.sh --release  optimised build (benchmarks, shipping)
set -euo pipefail
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

profile=debug
cargo_args=(build -p lua_runtime)
if [[ ${1:-} == --release ]]; then
	profile=release
	cargo_args+=(--release)
fi
cargo "${cargo_args[@]}"

case "$(uname -s)" in
Linux) lib=liblua_runtime.so ;;
Darwin) lib=liblua_runtime.dylib ;;
*) lib=lua_runtime.dll ;;
esac
target_dir=${CARGO_TARGET_DIR:-$repo_root/target}
mkdir -p addons/lua_runtime/bin
# Copy to a temporary name first: a running editor may have the old library mapped.
cp "$target_dir/$profile/$lib" "addons/lua_runtime/bin/.$lib.tmp"
mv -f "addons/lua_runtime/bin/.$lib.tmp" "addons/lua_runtime/bin/$lib"
echo "built addons/lua_runtime/bin/$lib ($profile)"
