#!/usr/bin/env bash
# The repository's locks (locks/<id>.json, lib/storage/repo_lock.h) with the
# real binary on a local repository: a backup held open (its [agents]
# status_command waits for a file) holds a shared lock that prune refuses
# with exit 5 naming it, and leaves no lock when it ends or is stopped by
# SIGTERM; a restore/verify of another host (a planted shared lock) keeps
# prune from removing the set it reads; a stale exclusive lock refuses a
# backup with the --steal hint, `backup --steal` removes it, and --steal
# never removes a lock that is being refreshed; list and show never take
# locks/ for sets.  No check depends on how long anything takes: the held
# backup says when it holds its lock, and stale locks are planted with an
# old "refreshed" time.
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"

drctl_init_in "$T/base"
mkdir -p "$T/src"; seq 1 20000 >"$T/src/numbers.txt"
export DRCTL_FILES_PATHS="$T/src"
utc_ago() { date -u -d "@$(( $(date +%s) - $1 ))" +%Y-%m-%dT%H:%M:%SZ; }
plant() { # NAME KIND PURPOSE HOST PID REFRESHED
  mkdir -p "$REPO/locks"
  printf '{"host": "%s", "pid": %s, "purpose": "%s", "kind": "%s", "created": "%s", "refreshed": "%s"}\n' \
    "$4" "$5" "$3" "$2" "$6" "$6" >"$REPO/locks/$1.json"
}
locks_left() { ls "$REPO/locks" 2>/dev/null || true; }
set_files() { (cd "$REPO/backups/$1" && find . -type f | sort | xargs sha256sum); }
# prune refused (exit 5) by a lock: ERROR and HINT name its holder; $OLD is untouched.
expect_prune_locked() { # LABEL ERROR ERROR-NOTE HINT HINT-NOTE UNTOUCHED-NOTE
  local before
  before=$(set_files "$OLD")
  run d prune; expect_rc 5 "$1"
  expect_err "$2" "$3"
  expect_err "$4" "$5"
  [ "$(set_files "$OLD")" = "$before" ] || fail "prune refused, yet $OLD changed"
  pass_note "$6"
}

d backup --component files >/dev/null 2>&1
d backup --component files >/dev/null 2>&1
[ -z "$(locks_left)" ] || fail "backups left locks: $(locks_left)"
pass_note "two backups, no lock left behind"
export DRCTL_RETENTION_KEEP_LAST=1
# A set prune wants to remove: any but the newest (ids made within one
# second sort by their random part; a set that is not the newest never
# becomes it).
OLD=$(d --json list | jq -r '.[1].id')
[ -n "$OLD" ] && [ "$OLD" != null ] || fail "no second set in the list: $(d list)"

# --- a backup held open: prune waits for it ------------------------------------------------
# The status command of [agents] runs while the backup holds its lock: it
# says so, and returns once $T/release exists.
cat >"$T/agents-status" <<EOF
#!/bin/sh
touch "$T/holding"
while [ ! -e "$T/release" ]; do sleep 0.1; done
echo "agent-a 1"
EOF
chmod 755 "$T/agents-status"
# A failing check must not leave the held backup waiting.
# (The script's own exit status goes on to _testlib_cleanup, not kill's.)
trap 'rc=$?; touch "$T/release" 2>/dev/null; [ -z "${HELD:-}" ] || kill "$HELD" 2>/dev/null || true; (exit $rc); _testlib_cleanup' EXIT
held_backup() { # starts it; HELD is its pid
  rm -f "$T/holding" "$T/release"
  DRCTL_AGENTS_CONTROL=command DRCTL_AGENTS_STATUS_COMMAND="$T/agents-status" \
    "$DRCTL" --config "$CONF" backup --component files >"$T/held.out" 2>"$T/held.err" &
  HELD=$!
  while [ ! -e "$T/holding" ]; do
    kill -0 "$HELD" 2>/dev/null || fail "the held backup ended before its status command ran: $(cat "$T/held.err")"
    sleep 0.1
  done
}
held_backup
[ "$(locks_left | wc -l)" = 1 ] || fail "the held backup has $(locks_left | wc -l) lock objects, expected 1: $(locks_left)"
jq -e --argjson pid "$HELD" '.kind == "shared" and .pid == $pid and .purpose == "drctl backup" and (.refreshed | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$"))' \
  "$REPO/locks/"*.json >/dev/null || fail "the held backup's lock object: $(cat "$REPO/locks/"*.json)"
pass_note "a running backup holds one shared lock object naming it"
expect_prune_locked "prune while a backup runs" \
  "locked by drctl backup \(shared lock, pid $HELD on " "the error names the backup holding the lock" \
  "hint: .*wait for drctl backup \(pid $HELD" "the hint says to wait for it" "$OLD untouched"
run d backup --component files; expect_rc 0 "a second backup beside the running one (shared + shared)"
EXTRA=$OUT
touch "$T/release"
wait "$HELD" || fail "the held backup failed: $(cat "$T/held.err")"
[ -z "$(locks_left)" ] || fail "the backup ended, its lock is still there: $(locks_left)"
pass_note "the held backup finished and removed its lock"

# --- SIGTERM: the lock goes with the command -----------------------------------------------
# (SIGTERM: a non-interactive shell starts its background jobs with SIGINT
# ignored, and drctl leaves an ignored signal ignored.)  The release after
# 120 s only keeps a broken build from hanging here; it fails the check.
# The guard holds none of the test's output: ctest waits until every
# process holding it has ended, which kept this test 120 s.
held_backup
(exec >/dev/null 2>&1; sleep 120; touch "$T/release") &
guard=$!
kill -TERM "$HELD"
set +e; wait "$HELD"; rc=$?; set -e
touch "$T/release"; kill "$guard" 2>/dev/null || true
[ "$rc" = 143 ] || fail "the backup stopped by SIGTERM exits $rc, expected 143: $(cat "$T/held.err")"
grep -q "stopped by SIGTERM: removing the lock locks/" "$T/held.err" || fail "the stopped backup does not say it removes its lock: $(cat "$T/held.err")"
[ -z "$(locks_left)" ] || fail "SIGTERM left the lock: $(locks_left)"
pass_note "a backup stopped by SIGTERM removes its lock"
d --json list | jq -e --arg e "$EXTRA" 'length == 4 and all(.[]; .state == "complete") and any(.[]; .id == $e)' >/dev/null ||
  fail "after the stopped backup, list does not show the 4 complete sets: $(d list)"

# --- a restore elsewhere: prune keeps off the set ------------------------------------------
plant 20260101T000000Z-dr-host-777-a shared "drctl restore postgres" dr-host.example 777 "$(utc_ago 30)"
expect_prune_locked "prune while a restore on another host reads" \
  "locked by drctl restore postgres \(shared lock, pid 777 on dr-host.example" "the holder is named" \
  "hint: .*wait for drctl restore postgres \(pid 777 on dr-host.example\) to finish, then run \`drctl prune\` again" \
  "the hint gives the next command" "the set being restored is untouched"
run d prune --steal; expect_rc 5 "prune --steal does not steal a lock refreshed 30 s ago"
[ -e "$REPO/locks/20260101T000000Z-dr-host-777-a.json" ] || fail "prune --steal removed a live lock"
pass_note "a live lock is never stolen"
run d --json list; expect_rc 0 "list beside a lock"
jq -e 'length == 4 and all(.[]; .id | test("^[0-9]{8}T[0-9]{6}Z-"))' <<<"$OUT" >/dev/null || fail "list shows something other than the 4 sets: $OUT"
run d show "$OLD"; expect_rc 0 "show beside a lock"
pass_note "list and show do not see locks/"
run d verify "$OLD"; expect_rc 0 "verify beside another shared lock"
run d prune --dry-run; expect_rc 0 "prune --dry-run takes a shared lock only"
expect_out "^remove +$OLD" "the dry run would remove $OLD"
rm "$REPO/locks/20260101T000000Z-dr-host-777-a.json"
run d prune; expect_rc 0 "prune once the restore is over"
[ ! -e "$REPO/backups/$OLD" ] || fail "prune did not remove $OLD once it could"
pass_note "the refusal was the lock: prune then removed $OLD"

# --- a stale exclusive lock: --steal ----------------------------------------------------------
KEPT=$(ls "$REPO/backups")
[ "$(wc -w <<<"$KEPT")" = 1 ] || fail "keep_last = 1 left $(wc -w <<<"$KEPT") sets: $KEPT"
plant 20260101T000000Z-old-host-31337-b exclusive "drctl prune" old-host.example 31337 "$(utc_ago 7200)"
run d backup --component files; expect_rc 5 "backup with a stale exclusive lock"
expect_err "locked by drctl prune \(exclusive lock, pid 31337 on old-host.example, last refreshed 120 min" "the stale holder and its age are named"
expect_err "hint: .*stale.*run \`drctl backup --steal\`" "the hint names --steal"
run d restore files --backup "$KEPT" --target "$T/restored"; expect_rc 5 "restore with a stale exclusive lock"
expect_err "hint: .*run \`drctl prune --dry-run --steal\` .*then \`drctl restore files\`" "restore's hint names the command that steals"
run d verify "$KEPT"; expect_rc 5 "verify with a stale exclusive lock"
run d prune --dry-run --steal; expect_rc 0 "prune --dry-run --steal"
[ -z "$(locks_left)" ] || fail "prune --dry-run --steal left the stale lock: $(locks_left)"
[ -e "$REPO/backups/$KEPT" ] || fail "prune --dry-run --steal removed a set"
pass_note "prune --dry-run --steal removed the stale exclusive lock and no set"
plant 20260101T000000Z-old-host-31337-b exclusive "drctl prune" old-host.example 31337 "$(utc_ago 7200)"
run d backup --component files --steal; expect_rc 0 "backup --steal"
expect_err "removing the stale lock of drctl prune .*pid 31337 on old-host.example" "the steal is said"
[ -z "$(locks_left)" ] || fail "backup --steal left locks: $(locks_left)"
pass_note "backup --steal removed the stale lock and released its own"
# lock_stale_minutes decides what is stale.
plant 20260101T000000Z-old-host-31337-c exclusive "drctl prune" old-host.example 31337 "$(utc_ago 300)"
run d backup --component files --steal; expect_rc 5 "--steal of a lock refreshed 5 min ago (stale after 30)"
run env DRCTL_REPOSITORY_LOCK_STALE_MINUTES=2 "$DRCTL" --config "$CONF" backup --component files --steal
expect_rc 0 "--steal of the same lock with lock_stale_minutes = 2"
[ -z "$(locks_left)" ] || fail "the steal left locks: $(locks_left)"
pass_note "lock_stale_minutes decides staleness"

echo "$CHECKS passed, 0 failed"
