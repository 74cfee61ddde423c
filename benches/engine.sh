#!/usr/bin/env bash
# Engine-side benchmarks in a real Godot (headless), with the optimised library.
#   benches/engine.sh            every benchmark
#   benches/engine.sh bytecode   the bytecode cache at start-up
#   benches/engine.sh api        engine API calls from Lua against GDScript
#   benches/engine.sh reload     hot reload latency with 200 scripts, and idle CPU
#   benches/engine.sh queries    cached query.group against get_nodes_in_group, 100 scripts
#   benches/engine.sh per-frame  moving nodes and empty _process, Lua against GDScript; memory
#   benches/engine.sh compute    n-body, spectral-norm, mandelbrot, binary-trees, strings: Lua
#                                against GDScript, and against a standalone LuaJIT (medians
#                                over $COMPUTE_PAIRS pairs of processes, default 9)
#   benches/engine.sh expressions  1,000 SEXP triggers against Godot's Expression, 5% of inputs changing
#                                (`--changes=0`: none changing; `--scale=0.2`: a smaller mission)
#   benches/engine.sh soak       100,000 frames with a reload every 100: the Lua heap curve
#   benches/engine.sh gc         bytes the collector gets per frame: the demo, object-heavy scripts
# Prints the `BENCH` lines that docs/benchmarks.md records.
set -euo pipefail
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
project="$repo_root/benches/godot"
godot="$repo_root/tools/godot.sh"
logs="$repo_root/target/benches"
mkdir -p "$logs"
which=${1:-all}

"$repo_root/tools/build.sh" --release
"$godot" --provision-only
timeout 300 "$godot" --headless --path "$project" --import >"$logs/import.log" 2>&1 || true

run() {
	local name=$1
	shift
	timeout 900 "$godot" --headless --path "$project" "$@" >"$logs/$name.log" 2>&1
	grep "^BENCH" "$logs/$name.log" | sed "s/^/[$name] /" || {
		echo "[$name] no result; log: $logs/$name.log"
		tail -n 20 "$logs/$name.log"
		return 1
	}
}

if [[ $which == all || $which == bytecode ]]; then
	echo "== bytecode cache: 500 scripts, empty vs warm disk cache"
	run bytecode-cold -s res://bytecode_startup.gd -- --run=cold
	run bytecode-warm -s res://bytecode_startup.gd -- --run=warm
fi

if [[ $which == all || $which == api ]]; then
	echo "== engine API calls: Lua against GDScript, ns per call"
	run api-calls -s res://api_calls.gd
fi

if [[ $which == all || $which == reload ]]; then
	echo "== hot reload: 200 scripts, 100 reloads; idle CPU with the watcher on and off"
	run hot-reload -s res://hot_reload.gd
fi

if [[ $which == all || $which == queries ]]; then
	echo "== queries: 100 scripts ask for 1,000 enemies each frame, 1% of the tree changing"
	run queries -s res://queries.gd
fi

if [[ $which == all || $which == per-frame ]]; then
	echo "== per-frame path: N nodes moved by Lua against GDScript, empty _process, memory"
	run per-frame-memory -s res://per_frame.gd -- --memory-only
	run per-frame -s res://per_frame.gd -- "${@:2}"
	run per-frame-side -s res://per_frame.gd -- --side-by-side "${@:2}"
	run per-frame-unbatched -s res://per_frame.gd -- --unbatched --kinds=empty,mover --sizes=10000 "${@:2}"
fi

if [[ $which == all || $which == compute ]]; then
	echo "== compute kernels: Lua in Godot against GDScript, and against a standalone LuaJIT"
	# The same Lua file with a plain state of the same LuaJIT, outside Godot.
	cargo build --release --quiet -p lua_runtime_core --example standalone_lua
	# Its per-kernel times, each line made by the sed replacement $1 (\1 the kernel, \2 µs).
	standalone_lua() {
		"$repo_root/target/release/examples/standalone_lua" "$project/compute/kernels.lua" 7 |
			tee "$logs/compute-standalone.log" |
			sed -n "s/^BENCH-STANDALONE kernel=\([a-z_]*\) us=\([0-9]*\).*/$1/p"
	}
	standalone=$(standalone_lua '\1:\2' | paste -sd, -)
	sed "s/^/[compute-standalone] /" "$logs/compute-standalone.log"
	run compute -s res://compute.gd -- "--standalone=$standalone"
	# LuaJIT's trace choices differ from one process to the next, and with them a kernel's time
	# (see docs/benchmarks.md): one process of each says little. Alternate the standalone run and
	# the Lua-only Godot run in $COMPUTE_PAIRS pairs of processes and compare the medians.
	pairs=${COMPUTE_PAIRS:-9}
	: >"$logs/compute-pairs.txt"
	for ((pair = 1; pair <= pairs; pair++)); do
		standalone_lua 'standalone \1 \2' >>"$logs/compute-pairs.txt"
		run compute-lua-only -s res://compute.gd -- --lua-only >/dev/null
		sed -n 's/^BENCH kernel=\([a-z_]*\) .*lua_us=\([0-9]*\).*/godot \1 \2/p' \
			"$logs/compute-lua-only.log" >>"$logs/compute-pairs.txt"
	done
	# "median min max" of one side's times for one kernel.
	side_times() {
		awk -v w="$1" -v k="$2" '$1 == w && $2 == k { print $3 }' "$logs/compute-pairs.txt" |
			sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)], v[1], v[NR] }'
	}
	for kernel in nbody spectral_norm mandelbrot binary_trees strings; do
		read -r s s_min s_max < <(side_times standalone "$kernel")
		read -r g g_min g_max < <(side_times godot "$kernel")
		echo "[compute-pairs] BENCH kernel=$kernel pairs=$pairs standalone_median_us=$s ($s_min-$s_max)" \
			"godot_median_us=$g ($g_min-$g_max) lua_over_standalone=$(awk -v g="$g" -v s="$s" 'BEGIN { printf "%.2fx", g / s }')"
	done
fi

if [[ $which == all || $which == expressions ]]; then
	echo "== expressions: 1,000 mission triggers over 100 ships, cached SEXP against Expression"
	run expressions -s res://expressions.gd -- "${@:2}"
fi

if [[ $which == all || $which == soak ]]; then
	echo "== long soak: 100,000 frames, 20 nodes, a reload every 100 frames"
	run soak -s res://soak.gd -- "${@:2}"
fi

if [[ $which == all || $which == gc ]]; then
	echo "== garbage per frame: the demo's bouncers and object-heavy scripts, pool and heap cap on and off"
	run gc-per-frame -s res://gc_per_frame.gd
fi
