#!/usr/bin/env bash
# Runs the demo: builds the extension, provides Godot if the machine has none, and runs
# godot-project. With a display it opens the game window; without one it runs headless for
# a few seconds and prints what ran.
set -euo pipefail
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$repo_root"

tools/build.sh
godot=tools/godot.sh
# The first run imports the project (class cache, extension list).
"$godot" --headless --path godot-project --import >/dev/null 2>&1 || true
if [[ -n ${DISPLAY:-} || -n ${WAYLAND_DISPLAY:-} ]]; then
	exec "$godot" --path godot-project
else
	exec "$godot" --headless --path godot-project
fi
