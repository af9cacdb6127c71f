# testlib.sh: assertions for integration tests that drive the real drctl.
# Source it; it sets `set -u`, makes a work folder $T removed at exit, and
# gives: run (captures $OUT, $ERR, $RC), expect_rc, expect_out/expect_err
# (grep -E), fail, pass_note, and drctl_init_in FOLDER.
set -u
: "${DRCTL:?DRCTL must point at the drctl binary (ctest sets it)}"
T=$(mktemp -d "${TMPDIR:-/tmp}/drctl-it.XXXXXX")
_testlib_cleanup() { local rc=$?; [ -n "${TESTLIB_KEEP:-}" ] || rm -rf "$T"; exit $rc; }
trap _testlib_cleanup EXIT
CHECKS=0

fail() { echo "FAIL: $*" >&2; [ -n "${OUT:-}" ] && echo "--- stdout:" >&2 && echo "$OUT" | tail -20 >&2; [ -n "${ERR:-}" ] && echo "--- stderr:" >&2 && echo "$ERR" | tail -20 >&2; exit 1; }
pass_note() { CHECKS=$((CHECKS + 1)); echo "ok $CHECKS - $*"; }

# run CMD...: runs it, keeping stdout in $OUT, stderr in $ERR, status in $RC.
run() {
  local o e
  o=$(mktemp "$T/out.XXXXXX"); e=$(mktemp "$T/err.XXXXXX")
  set +e; "$@" >"$o" 2>"$e"; RC=$?; set -e
  OUT=$(cat "$o"); ERR=$(cat "$e"); rm -f "$o" "$e"
}
expect_rc() { [ "$RC" = "$1" ] || fail "${2:-command}: exit status $RC, expected $1"; pass_note "${2:-command} exits $1"; }
# (grep reads a here-string, not a pipe: with pipefail, `echo | grep -q` fails
# at random when grep exits on an early line while echo still writes.)
expect_out() { grep -Eq -- "$1" <<<"$OUT" || fail "${2:-stdout} should match /$1/"; pass_note "${2:-stdout matches /$1/}"; }
expect_err() { grep -Eq -- "$1" <<<"$ERR" || fail "${2:-stderr} should match /$1/"; pass_note "${2:-stderr matches /$1/}"; }
expect_no_err() { if grep -Eq -- "$1" <<<"$ERR"; then fail "${2:-stderr} should not match /$1/"; fi; pass_note "${2:-stderr does not match /$1/}"; }

# drctl_init_in DIR: a fresh drctl setup (config, keys, repository) in DIR;
# sets CONF and REPO.
drctl_init_in() {
  CONF="$1/drctl.conf"; REPO="$1/repo"
  "$DRCTL" --config "$CONF" init --repository "$REPO" --state-dir "$1/state" >/dev/null
}
d() { "$DRCTL" --config "$CONF" "$@"; }
