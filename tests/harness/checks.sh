# Counting checks for the doubles' conformance suites
# (tests/integration/test_*_double_conformance.sh): every check runs, each
# failure is printed, and checks_verdict ends the suite.
# shellcheck shell=bash

PASS=0 FAIL=0

ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); printf 'FAIL: %s\n' "$1"; }
# eq NAME EXPECTED GOT
eq() { if [ "$2" = "$3" ]; then ok; else bad "$1"; printf '  expected: %s\n  got:      %s\n' "$2" "$3"; fi; }
# contains NAME NEEDLE HAYSTACK
contains() { case "$3" in *"$2"*) ok ;; *) bad "$1"; printf '  expected to contain: %s\n  got: %s\n' "$2" "$3" ;; esac; }
notcontains() { case "$3" in *"$2"*) bad "$1"; printf '  expected NOT to contain: %s\n  got: %s\n' "$2" "$3" ;; *) ok ;; esac; }
# matches NAME ERE TEXT
matches() { if printf '%s' "$3" | grep -Eq "$2"; then ok; else bad "$1"; printf '  expected to match: %s\n  got: %s\n' "$2" "$3"; fi; }
# truthy NAME VALUE: VALUE is the word true
truthy() { if [ "$2" = true ]; then ok; else bad "$1"; printf '  got: %s\n' "$2"; fi; }

# checks_verdict WHAT: the counts; fails when any check failed.
checks_verdict() {
	echo
	echo "$1: $PASS passed, $FAIL failed"
	[ "$FAIL" = 0 ]
}
