#!/usr/bin/env bash
# Runs every fuzz target for the given number of seconds each (default 600), one after another.
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). See docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-600}"
# Starting inputs: fuzz/seeds/<target>; the instrumenter starts from the project's own scripts.
seeds() {
  case "$1" in
  instrument) echo ../godot-project/scripts ../tests/godot/scripts ../tests/godot/scripts/lib ;;
  *) echo "seeds/$1" ;;
  esac
}
for target in sexp_compile bytecode_entry instrument; do
  mkdir -p "corpus/$target"
  echo "== $target: ${seconds}s"
  # shellcheck disable=SC2046 # one argument per seed directory
  cargo +nightly fuzz run -O "$target" "corpus/$target" $(seeds "$target") -- \
    -max_total_time="$seconds" -rss_limit_mb=4096 -timeout=10 -print_final_stats=1
done
