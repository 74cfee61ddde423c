#!/usr/bin/env bash
# Runs a Godot 4 engine with the given arguments, providing one when the machine has none.
#
# Order of preference:
#   1. $GODOT, when set (it must be a Godot 4.x binary);
#   2. a `godot` (or `godot4`) on PATH whose --version is 4.x;
#   3. on Linux, Godot from Debian sid inside a small debootstrap tree kept in a cache folder
#      outside the repository ($LUA_RUNTIME_CACHE, default ~/.cache/godot-lua-runtime), made once
#      and reused. Debian 12 ships only Godot 3, and sid's Godot needs a newer glibc, hence the tree.
#
# Inside the tree, the repository (and the current directory) are bind-mounted at the same
# absolute paths, so paths given on the command line mean the same thing inside and out. The
# mounts live in a private mount namespace and disappear when Godot exits.
#
#   tools/godot.sh --version
#   tools/godot.sh --headless --path tests/godot
#   tools/godot.sh --provision-only      # make the tree and exit
#   tools/godot.sh --in-tree CMD ARGS... # run any command in the tree (Linux, no native Godot)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache_dir=${LUA_RUNTIME_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/godot-lua-runtime}
tree="$cache_dir/debian-sid"

log() { echo "[godot.sh] $*" >&2; }

is_godot4() {
	local v
	v=$("$1" --version 2>/dev/null | tail -n 1) || return 1
	[[ $v == 4.* ]]
}

find_native_godot() {
	if [[ -n ${GODOT:-} ]]; then
		if is_godot4 "$GODOT"; then
			echo "$GODOT"
			return 0
		fi
		log "GODOT=$GODOT is not a Godot 4 binary"
		exit 2
	fi
	local candidate
	for candidate in godot godot4; do
		if command -v "$candidate" >/dev/null 2>&1 && is_godot4 "$(command -v "$candidate")"; then
			command -v "$candidate"
			return 0
		fi
	done
	return 1
}

apt_mirror() {
	local uri=""
	if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
		uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)
	fi
	if [[ -z $uri && -f /etc/apt/sources.list ]]; then
		uri=$(awk '/^deb / && $0 !~ /security/ { print $2; exit }' /etc/apt/sources.list)
	fi
	if [[ -z $uri ]]; then
		log "cannot find a Debian mirror in the host's apt configuration"
		exit 2
	fi
	echo "$uri"
}

# Godot itself, CA certificates (the editor loads them at start), and what the editor needs
# to render into a virtual display for screenshots. Changing this list updates existing trees.
tree_packages="godot ca-certificates xvfb xauth libgl1-mesa-dri libgl1 libegl1 imagemagick"

provision_tree() {
	if [[ -x $tree/usr/bin/godot && -f $tree/.provisioned ]]; then
		[[ $(cat "$tree/.provisioned") == "$tree_packages" ]] && return 0
		log "updating the packages of $tree"
		chroot "$tree" apt-get -o Acquire::Check-Valid-Until=false -qq update >/dev/null
		chroot "$tree" env DEBIAN_FRONTEND=noninteractive apt-get -o Acquire::Check-Valid-Until=false \
			-o APT::Install-Recommends=false -qq install -y $tree_packages >"$cache_dir/apt.log" 2>&1 || {
			tail -n 20 "$cache_dir/apt.log" >&2
			log "updating the tree failed (full log: $cache_dir/apt.log)"
			exit 2
		}
		echo "$tree_packages" >"$tree/.provisioned"
		return 0
	fi
	if [[ $(uname -s) != Linux ]]; then
		log "no Godot 4 found: install Godot 4.6 and set GODOT=/path/to/godot"
		exit 2
	fi
	if [[ $(id -u) != 0 ]]; then
		log "no Godot 4 found, and making the Debian tree needs root: set GODOT=/path/to/godot"
		exit 2
	fi
	log "no Godot 4 on this machine: making a Debian sid tree with Godot in $tree (once)"
	if ! command -v debootstrap >/dev/null 2>&1; then
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
	fi
	local mirror
	mirror=$(apt_mirror)
	rm -rf "$tree.partial"
	mkdir -p "$cache_dir"
	debootstrap --variant=minbase sid "$tree.partial" "$mirror" >"$cache_dir/debootstrap.log" 2>&1 || {
		tail -n 20 "$cache_dir/debootstrap.log" >&2
		log "debootstrap failed (full log: $cache_dir/debootstrap.log)"
		exit 2
	}
	local apt=(apt-get -o Acquire::Check-Valid-Until=false -o APT::Install-Recommends=false -qq)
	chroot "$tree.partial" "${apt[@]}" update >/dev/null
	chroot "$tree.partial" env DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y \
		$tree_packages >"$cache_dir/apt.log" 2>&1 || {
		tail -n 20 "$cache_dir/apt.log" >&2
		log "installing Godot in the tree failed (full log: $cache_dir/apt.log)"
		exit 2
	}
	echo "$tree_packages" >"$tree.partial/.provisioned"
	rm -rf "$tree"
	mv "$tree.partial" "$tree"
	log "Godot $(run_in_tree godot --version 2>/dev/null | tail -n 1) ready"
}

# Runs a command inside the tree with the repository, the current directory, /proc, /dev and
# the X11 socket visible at their usual paths. Mounts are private to this process.
run_in_tree() {
	local binds=("$repo_root")
	[[ $PWD != "$repo_root"* ]] && binds+=("$PWD")
	[[ -d /tmp/.X11-unix ]] && binds+=("/tmp/.X11-unix")
	local extra
	for extra in ${LUA_RUNTIME_BIND:-}; do binds+=("$extra"); done
	local script='set -e
tree=$1; shift
n=$1; shift
for ((i = 0; i < n; i++)); do
	mkdir -p "$tree$1"
	mount --rbind "$1" "$tree$1"
	shift
done
mount -t proc proc "$tree/proc"
mount --rbind /dev "$tree/dev"
cwd=$1; shift
exec chroot "$tree" /bin/sh -c '"'"'cd "$0" && exec "$@"'"'"' "$cwd" "$@"'
	exec unshare --mount --propagation private bash -c "$script" run_in_tree \
		"$tree" "${#binds[@]}" "${binds[@]}" "$PWD" env HOME=/root DISPLAY="${DISPLAY:-}" "$@"
}

if [[ ${1:-} == --in-tree ]]; then
	# Any command inside the tree (which also has Xvfb and ImageMagick), for tools/screenshot.sh.
	shift
	provision_tree
	run_in_tree "$@"
fi

if [[ ${1:-} == --provision-only ]]; then
	if find_native_godot >/dev/null; then exit 0; fi
	provision_tree
	exit 0
fi

if native=$(find_native_godot); then
	exec "$native" "$@"
fi
provision_tree
run_in_tree godot "$@"
