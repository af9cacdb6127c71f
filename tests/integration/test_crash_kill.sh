#!/usr/bin/env bash
# A backup killed with SIGKILL at random moments never leaves a set that list
# calls complete or that verify accepts; the complete sets already there stay
# good; the next backup succeeds; prune removes the debris once it is older
# than [retention] incomplete_grace.
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"

drctl_init_in "$T/base"
SRC="$T/src"; mkdir -p "$SRC"
for i in 1 2 3 4; do head -c 8000000 /dev/urandom > "$SRC/part$i.bin"; done
seq 1 2000000 > "$SRC/numbers.txt"
export DRCTL_FILES_PATHS="$SRC"
GOOD=$(d backup --component files 2>/dev/null)

start=$(date +%s%N); d backup --component files >/dev/null 2>&1; took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "# one backup takes ${took_ms} ms; killing at random points within it"
ROUNDS=${CRASH_ROUNDS:-10}
for round in $(seq 1 "$ROUNDS"); do
  delay_ms=$(( (RANDOM * 7919 + round * 104729) % (took_ms + 50) ))
  # drctl itself, not a shell function around it: SIGKILL must hit the writer.
  "$DRCTL" --config "$CONF" backup --component files >/dev/null 2>&1 &
  pid=$!
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  # Every set is either complete and verifies, or is not called complete.
  d --json list > "$T/list.json"
  for id in $(jq -r '.[] | select(.state == "complete") | .id' "$T/list.json"); do
    d verify "$id" >/dev/null 2>&1 || fail "round $round (kill at ${delay_ms} ms): set $id is listed complete but does not verify"
  done
  for id in $(jq -r '.[] | select(.state != "complete") | .id' "$T/list.json"); do
    run d verify "$id"
    [ "$RC" != 0 ] || fail "round $round: incomplete set $id passes verify"
    expect_err "incomplete|no signed manifest" "round $round: verify of debris $id says it is incomplete"
  done
done
pass_note "$ROUNDS kills: no complete-looking debris"
run d verify "$GOOD" --deep; expect_rc 0 "the set made before the kills still verifies deeply"
run d backup --component files; expect_rc 0 "the next backup succeeds"
NEXT=$OUT
run d verify "$NEXT"; expect_rc 0 "and verifies"
incomplete=$(d --json list | jq '[.[] | select(.state == "incomplete")] | length')
run d prune --dry-run; expect_rc 0 "prune --dry-run"
[ "$incomplete" = 0 ] || expect_out "^keep +[^ ]+ +incomplete +incomplete, younger than 24h" "prune --dry-run says why it keeps young debris"
[ "$(d --json list | jq '[.[] | select(.state == "incomplete")] | length')" = "$incomplete" ] || fail "prune --dry-run removed something"
# Each killed backup left its shared lock (locks/*.json): not refreshed any
# more, and its process on this host is gone, so prune finds it stale and
# takes it away only with --steal.
locks_left() { ls "$REPO/locks" 2>/dev/null | grep -v '\.tmp-' || true; }
if [ -n "$(locks_left)" ]; then
  run d prune; expect_rc 5 "prune with the locks of killed backups left"
  expect_err "locked by drctl backup \(shared lock, pid [0-9]+ on " "the lock error names the killed backup"
  expect_err "its process is gone.*drctl prune --steal" "the hint names --steal"
fi
# The debris is minutes old: it could be a backup still running elsewhere,
# so prune keeps it for [retention] incomplete_grace (24h) ...
run d prune --steal; expect_rc 0 "prune --steal within the grace period"
[ -z "$(locks_left)" ] || fail "prune --steal left locks: $(locks_left)"
[ "$(d --json list | jq '[.[] | select(.state == "incomplete")] | length')" = "$incomplete" ] || fail "prune removed debris younger than incomplete_grace"
# ... and removes it once it is older than that.
run env DRCTL_RETENTION_INCOMPLETE_GRACE=0 "$DRCTL" --config "$CONF" prune; expect_rc 0 "prune with incomplete_grace = 0"
[ "$(d --json list | jq '[.[] | select(.state != "complete")] | length')" = 0 ] || fail "prune left debris"
ls "$REPO/backups"/*/ 2>/dev/null | grep -q 'tmp-' && fail "temporary files left after prune"
pass_note "prune removed $incomplete incomplete set(s) and kept every complete one"
run d verify "$GOOD"; expect_rc 0 "complete sets survive prune"

# The lock: a backup is refused while a prune elsewhere holds the
# exclusive lock (an object it refreshed a moment ago).
mkdir -p "$REPO/locks"
printf '{"host": "elsewhere.example", "pid": 4242, "purpose": "drctl prune", "kind": "exclusive", "created": "%s", "refreshed": "%s"}' \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$REPO/locks/20260101T000000Z-elsewhere-4242-0.json"
run d backup --component files; expect_rc 5 "backup while the repository is locked"
expect_err "locked by drctl prune \(exclusive lock, pid 4242 on elsewhere.example" "the lock error says who holds it"
rm "$REPO/locks/20260101T000000Z-elsewhere-4242-0.json"
echo "$CHECKS passed, 0 failed"
