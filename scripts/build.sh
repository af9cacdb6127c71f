#!/usr/bin/env bash
# Configure and build drctl (and its tests):
#   build/       gcc, RelWithDebInfo, -Wall -Wextra -Werror
#   build-asan/  clang, Debug, AddressSanitizer + UndefinedBehaviorSanitizer,
#                and the libFuzzer targets
# usage: scripts/build.sh [all|normal|asan] [extra cmake -D options]
# (default: all).  Re-running only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}
[ $# -gt 0 ] && shift
JOBS=${JOBS:-2}

build() { # dir, cmake args...
	local dir=$1
	shift
	echo "build: configuring $dir ($*)"
	mkdir -p "$dir"
	cmake -S . -B "$dir" "$@" >"$dir/configure.log" 2>&1 || {
		cat "$dir/configure.log" >&2
		echo "build: configuring $dir failed" >&2
		return 1
	}
	echo "build: building $dir"
	cmake --build "$dir" -j "$JOBS"
}

case $which in
all | normal | asan) ;;
-h | --help)
	sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
*)
	echo "usage: scripts/build.sh [all|normal|asan] [cmake -D options]" >&2
	exit 2
	;;
esac

start=$SECONDS
if [ "$which" = all ] || [ "$which" = normal ]; then
	CC=${CC_NORMAL:-gcc} build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDRCTL_WERROR=ON "$@"
fi
if [ "$which" = all ] || [ "$which" = asan ]; then
	CC=clang build build-asan -DCMAKE_BUILD_TYPE=Debug -DDRCTL_WERROR=ON -DDRCTL_SANITIZE=ON -DDRCTL_FUZZ=ON "$@"
fi
echo "build: done in $((SECONDS - start))s"
