#!/usr/bin/env bash
# THE test command (CI runs exactly this, through .ci/run): install what is
# missing, build both builds (scripts/build.sh), then run the whole CTest
# suite in each:
#   build/       gcc, -Werror
#   build-asan/  clang, ASan + UBSan (leaks checked, first error aborts),
#                plus the libFuzzer targets for a bounded time
# Arguments go to both ctest runs, e.g.
#   scripts/test.sh -L unit          only the unit tests
#   scripts/test.sh -R services      tests whose name matches "services"
# TEST_BUILDS="normal" (or "asan") runs one build only.
# The last line is always "N passed, N failed" (both runs together); the
# exit status is non-zero if anything failed, a build included.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
TEST_BUILDS=${TEST_BUILDS:-normal asan}
start=$SECONDS
passed=0
failed=0
report=()

phase() { printf '\n==== %s\n' "$*"; }
elapsed() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

finish() {
	phase "summary ($(elapsed $((SECONDS - start))) in all)"
	local line
	for line in "${report[@]}"; do echo "  $line"; done
	echo "$passed passed, $failed failed"
	if [ "$failed" = 0 ]; then exit 0; else exit 1; fi
}

phase "dependencies"
t=$SECONDS
if ! scripts/install-deps.sh; then
	report+=("install-deps: FAILED")
	failed=$((failed + 1))
	finish
fi
report+=("install-deps: ok ($(elapsed $((SECONDS - t))))")

# ctest in one build folder; adds its counts to passed/failed.
run_ctest() { # name, build dir, ctest args...
	local name=$1 dir=$2 log rc p f total line
	shift 2
	log=$(mktemp "${TMPDIR:-/tmp}/drctl-ctest.XXXXXX")
	t=$SECONDS
	ctest --test-dir "$dir" -j2 --output-on-failure "$@" </dev/null 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	# "100% tests passed, 0 tests failed out of 12" / "No tests were found!!!"
	line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n1)
	if [ -n "$line" ]; then
		f=$(sed -E 's/.* ([0-9]+) tests? failed out of.*/\1/' <<<"$line")
		total=$(sed -E 's/.*failed out of ([0-9]+).*/\1/' <<<"$line")
		p=$((total - f))
	elif grep -q 'No tests were found' "$log" && [ "$rc" = 0 ]; then
		p=0 f=0
	else
		echo "test: ctest in $dir ended without a summary (exit status $rc)" >&2
		p=0 f=1
	fi
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		f=1 # ctest failed without a failing test (e.g. a bad argument)
	fi
	rm -f "$log"
	passed=$((passed + p))
	failed=$((failed + f))
	report+=("$name: $p passed, $f failed ($(elapsed $((SECONDS - t))))")
}

for b in $TEST_BUILDS; do
	case $b in
	normal) dir=build ;;
	asan) dir=build-asan ;;
	*)
		echo "test: unknown build \"$b\" in TEST_BUILDS (normal, asan)" >&2
		exit 2
		;;
	esac
	phase "build $dir"
	t=$SECONDS
	if ! scripts/build.sh "$b"; then
		report+=("build $dir: FAILED ($(elapsed $((SECONDS - t)))); its tests were not run")
		failed=$((failed + 1))
		continue
	fi
	report+=("build $dir: ok ($(elapsed $((SECONDS - t))))")

	phase "tests in $dir"
	if [ "$b" = asan ]; then
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
			UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
			run_ctest "tests $dir (ASan+UBSan)" "$ROOT/$dir" "$@"
	else
		run_ctest "tests $dir" "$ROOT/$dir" "$@"
	fi
done
finish
