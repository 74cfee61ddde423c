#!/usr/bin/env bash
# Runs the engine tests in a real Godot, headless:
#   1. imports tests/godot (class cache, extension list);
#   2. opens it in the editor with the plugin enabled and quits (the extension must load in
#      the editor with no error);
#   3. runs the test runner scene, which quits with the number of failures;
#   4. runs the bytecode cache test that spans two engine runs (cache_runs_test.gd);
#   5. exports the project as a pack and checks its scripts load without compiling;
#   6. opens a copy of tests/editor in the editor, where a test plugin moves and deletes
#      scripts as the FileSystem dock does and checks that nodes follow.
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

# Runs the test runner: run_runner LOG LABEL [godot/runner arguments...]. Prints the runner's
# result lines, fails on a bad log or a non-zero exit code.
run_runner() {
	local log="$logs/$1.log" label=$2 code
	shift 2
	timeout 600 "$godot" --headless --path "$project" "$@" >"$log" 2>&1
	code=$?
	grep -E "^(PASS|FAIL|    [^ ])|passed, .* failed|TIMEOUT" "$log" | sed "s/^/$label/"
	check_log "$log" "${label:-engine tests}" || status=1
	if [[ $code != 0 ]]; then
		echo "${label:-engine tests}: Godot exited with $code (full log: $log)"
		status=1
	fi
}

echo "== engine tests"
run_runner tests "" -- "$@"

echo "== bytecode cache across two runs"
for run in 1 2; do
	run_runner "cache-run-$run" "[run $run] " -- --only=cache_runs_test --cache-run=$run
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
	run_runner export-run "" -- --only=export_runs_test "--pack=$pack"
fi
echo "== editor: scripts moved in the FileSystem dock"
# A fresh copy under the repository (the engine may run in a tree that sees only it): the
# test moves and deletes files.
editor_project="$repo_root/target/editor-tests/project"
rm -rf "$editor_project"
mkdir -p "$(dirname "$editor_project")"
cp -rL "$repo_root/tests/editor" "$editor_project"
timeout 300 "$godot" --headless --editor --path "$editor_project" >"$logs/editor-tests.log" 2>&1
code=$?
grep -E "^(PASS|FAIL) " "$logs/editor-tests.log"
check_log "$logs/editor-tests.log" "editor tests" || status=1
if [[ $code != 0 ]] || ! grep -q "^editor tests: 0 failed" "$logs/editor-tests.log"; then
	echo "FAIL editor tests: exit code $code (log: $logs/editor-tests.log)"
	status=1
fi
exit $status
