# shellcheck shell=bash
# require_tools TOOL...: stop the test with a failure unless every TOOL is on
# PATH.  Tests never skip: scripts/install-deps.sh installs every tool they
# use, so a missing one is a broken setup, reported as such.  Sourced by
# testlib.sh, and by the tests that run without it.
require_tools() {
	local t missing=()
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "FAIL: ${0##*/} needs ${missing[*]}, not found on PATH: scripts/install-deps.sh installs it" >&2
	exit 1
}
