#!/usr/bin/env bash
# Takes docs/images/bottom-panel.png: the editor in a virtual X display (Xvfb, software
# OpenGL) with the demo running from it and the "Lua" tab of the bottom panel open.
#
#   tools/screenshot.sh [OUT.png]      # default docs/images/bottom-panel.png
#
# Runs inside the Debian tree tools/godot.sh provides (it has Xvfb and ImageMagick), on a copy
# of godot-project with a small plugin that stages the scene (tools/screenshot/director).
set -euo pipefail
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
out=${1:-docs/images/bottom-panel.png}
work="$repo_root/target/screenshot"

tools/build.sh >/dev/null
rm -rf "$work"
mkdir -p "$work"
cp -rL godot-project "$work/project"
cp -r tools/screenshot/director "$work/project/addons/screenshot_director"
sed -i 's|^enabled=PackedStringArray(\(.*\))|enabled=PackedStringArray(\1, "res://addons/screenshot_director/plugin.cfg")|' \
	"$work/project/project.godot"
grep -q screenshot_director "$work/project/project.godot" || {
	echo "screenshot: could not enable the director plugin in project.godot" >&2
	exit 1
}
# The game's window: small, over the inspector, so editor and game show side by side.
cat >>"$work/project/project.godot" <<'SETTINGS'

[display]

window/size/window_width_override=560
window/size/window_height_override=315
window/size/initial_position_type=0
window/size/initial_position=Vector2i(1300, 100)
window/size/always_on_top=true
window/stretch/mode="canvas_items"
SETTINGS
# Import once headless, so the windowed editor starts on a ready project.
tools/godot.sh --headless --editor --path "$work/project" --quit >"$work/import.log" 2>&1 || true

cat >"$work/stage.sh" <<'STAGE'
set -u
work=$1
Xvfb :99 -screen 0 1920x1080x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
xvfb=$!
sleep 2
export DISPLAY=:99 SHOT_READY="$work/ready" SHOT_TAKEN="$work/taken" SHOT_SECONDS=${SHOT_SECONDS:-12}
godot --editor --path "$work/project" --rendering-driver opengl3 --position 0,0 --resolution 1920x1080 >"$work/editor.log" 2>&1 &
editor=$!
for _ in $(seq 1 240); do
	[ -f "$work/ready" ] && break
	kill -0 $editor 2>/dev/null || break
	sleep 0.5
done
status=1
if [ -f "$work/ready" ]; then
	sleep 1
	import -window root "$work/shot.png" && status=0
fi
touch "$work/taken"
for _ in $(seq 1 40); do kill -0 $editor 2>/dev/null || break; sleep 0.5; done
kill $editor 2>/dev/null
kill $xvfb 2>/dev/null
exit $status
STAGE
if ! tools/godot.sh --in-tree bash "$work/stage.sh" "$work"; then
	echo "screenshot: failed; logs in $work (editor.log, xvfb.log)" >&2
	exit 1
fi
mkdir -p "$(dirname "$out")"
cp "$work/shot.png" "$out"
echo "screenshot: $out"
