#!/usr/bin/env bash
# A packager's build: a plain Release build (what `cmake -DCMAKE_BUILD_TYPE=Release`
# gives, gcc -O3, where -Wformat-truncation and friends wake up) compiles with
# no warning at all, and `cmake --install` puts drctl in <prefix>/bin.  The
# suite's own builds (RelWithDebInfo with gcc, Debug with clang) already run
# with DRCTL_WERROR; this covers the optimised one.
set -euo pipefail
source "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"

B="$T/release"
run env CC=gcc cmake -S "$DRCTL_SOURCE_DIR" -B "$B" -DCMAKE_BUILD_TYPE=Release
expect_rc 0 "configuring a Release build"
run cmake --build "$B" --target drctl -j 2
expect_rc 0 "building drctl in Release"
if echo "$OUT$ERR" | grep -E 'warning:'; then fail "the Release build printed warnings"; fi
pass_note "the Release build prints no warning"
run cmake --install "$B" --prefix "$T/prefix"
expect_rc 0 "cmake --install"
[ -x "$T/prefix/bin/drctl" ] || fail "cmake --install did not put drctl in bin/ (got: $(cd "$T/prefix" && find . -type f))"
pass_note "cmake --install puts drctl in bin/"
run "$T/prefix/bin/drctl" --version
expect_rc 0 "the installed drctl runs"
expect_out '^drctl [0-9]+\.[0-9]+\.[0-9]+' "the installed drctl says its version"
echo "$CHECKS passed, 0 failed"
