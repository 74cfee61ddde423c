#!/usr/bin/env bash
# Runs the engine tests in a real Godot, headless:
#   1. imports tests/godot (class cache, extension list);
#   2. opens it in the editor with the plugin enabled and quits (the extension must load in
#      the editor with no error);
#   3. runs the test runner scene, which quits with the number of failures;
#   4. runs the bytecode cache test that spans two engine runs (cache_runs_test.gd);
#   5. exports the project as a pack and checks its scripts load without compiling.
# Any run whose log shows a GDScript error, a library that failed to load, or objects leaked
# at exit fails, whatever its exit code. Extra arguments go to the runner (--only=substring).
set -uo pipefail
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
project="$repo_root/tests/godot"
godot="$repo_root/tools/godot.sh"
logs="$repo_root/target/engine-tests"
mkdir -p "$logs"

fatal_patterns=(
	"SCRIPT ERROR:"
	"Can't open dynamic library"
	"Error loading extension"
	"ObjectDB instances leaked at exit"
	"Leaked instance"
	"Parse Error"
	"placeholder instance"
)

check_log() {
	local log=$1 what=$2 failed=0 pattern
	for pattern in "${fatal_patterns[@]}"; do
		if grep -qF -- "$pattern" "$log"; then
			echo "FAIL $what: the log contains '$pattern':"
			grep -F -B2 -A4 -- "$pattern" "$log" | head -n 30
			failed=1
		fi
	done
	return $failed
}

status=0

echo "== import"
timeout 300 "$godot" --headless --path "$project" --import >"$logs/import.log" 2>&1
import_code=$?
check_log "$logs/import.log" "import" || status=1
if [[ $import_code != 0 ]]; then
	echo "FAIL import: exit code $import_code (log: $logs/import.log)"
	status=1
fi

echo "== editor with the plugin enabled"
timeout 300 "$godot" --headless --editor --path "$project" --quit >"$logs/editor.log" 2>&1
editor_code=$?
check_log "$logs/editor.log" "editor" || status=1
if grep -E "^(ERROR|USER ERROR):" "$logs/editor.log" | grep -v "^ERROR: .*at: " >/dev/null; then
	echo "FAIL editor: errors while the editor loaded the extension and plugin:"
	grep -E -A2 "^(ERROR|USER ERROR):" "$logs/editor.log" | head -n 30
	status=1
elif [[ $editor_code != 0 ]]; then
	echo "FAIL editor: exit code $editor_code"
	status=1
else
	echo "PASS editor: extension and plugin load in the editor without errors"
fi

echo "== engine tests"
timeout 600 "$godot" --headless --path "$project" -- "$@" >"$logs/tests.log" 2>&1
code=$?
grep -E "^(PASS|FAIL|    [^ ])|passed, .* failed|TIMEOUT" "$logs/tests.log"
check_log "$logs/tests.log" "engine tests" || status=1
if [[ $code != 0 ]]; then
	echo "engine tests: Godot exited with $code (full log: $logs/tests.log)"
	status=1
fi
echo "== bytecode cache across two runs"
for run in 1 2; do
	timeout 300 "$godot" --headless --path "$project" -- --only=cache_runs_test --cache-run=$run \
		>"$logs/cache-run-$run.log" 2>&1
	code=$?
	grep -E "^(PASS|FAIL|    [^ ])" "$logs/cache-run-$run.log" | sed "s/^/[run $run] /"
	check_log "$logs/cache-run-$run.log" "cache run $run" || status=1
	if [[ $code != 0 ]]; then
		echo "cache run $run: Godot exited with $code (full log: $logs/cache-run-$run.log)"
		status=1
	fi
done
echo "== exported pack ships bytecode"
pack="$logs/tests.pck"
rm -f "$pack"
timeout 300 "$godot" --headless --path "$project" --export-pack Linux "$pack" >"$logs/export.log" 2>&1
code=$?
if [[ $code != 0 || ! -f $pack ]]; then
	echo "FAIL export: exit code $code, pack ${pack} (log: $logs/export.log)"
	status=1
else
	timeout 300 "$godot" --headless --path "$project" -- --only=export_runs_test "--pack=$pack" \
		>"$logs/export-run.log" 2>&1
	code=$?
	grep -E "^(PASS|FAIL|    [^ ])" "$logs/export-run.log"
	check_log "$logs/export-run.log" "exported pack" || status=1
	if [[ $code != 0 ]]; then
		echo "exported pack: Godot exited with $code (full log: $logs/export-run.log)"
		status=1
	fi
fi
exit $status
