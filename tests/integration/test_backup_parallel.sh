#!/usr/bin/env bash
# drctl backup of PostgreSQL, Redis and Vault with the components captured at
# the same time ([backup] parallel), on real servers:
#  - parallel = 3: while pg_dump is held by a table lock (a session of the
#    test's holds ACCESS EXCLUSIVE on one table), Redis and Vault are
#    captured and finish; then the lock goes, PostgreSQL finishes, every
#    component logged "started" before the first "finished", and the set is
#    published; its manifest and SHA256SUMS list the components in component
#    order, not in the order they finished; verify --deep passes and each
#    component restores (PostgreSQL into a new database with equal
#    fingerprints, Redis into an empty server with every key, Vault's
#    snapshot posted to the double);
#  - a wrong Redis password with parallel = 3: the backup fails naming Redis,
#    PostgreSQL (which the lock keeps from finishing) is stopped, the error
#    says which components were captured and which were stopped, and no
#    manifest is published;
#  - --parallel 1 (and [backup] parallel = 1): the same lock, and each
#    component starts only after the one before it finished, in component
#    order;
#  - JSON log lines carry "component".
# Overlap is proven by the order of events (a lock only the test releases),
# never by how long anything took.
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
. "$DRCTL_SOURCE_DIR/tests/harness/services.sh"
require_tools jq redis-cli curl sha256sum
harness_init
DATA="$DRCTL_SOURCE_DIR/tests/data/postgres"

start_postgres
start_redis
SRC_R=$REDIS_PORT
unset REDIS_PID
start_redis
DST_R=$REDIS_PORT
start_vault_double
export VAULT_TOKEN=root

psql_() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
rcli() { redis-cli --no-auth-warning -p "$@"; }
psql_ -f "$DATA/roles.sql"
"$PG_BIN/createdb" agents_db
psql_ -d agents_db -f "$DATA/fixture.sql" >/dev/null
for i in $(seq 1 500); do echo "SET key:$i value-$i"; done | rcli "$SRC_R" >/dev/null
rcli "$SRC_R" -n 2 HSET limits:planner rpm 60 >/dev/null
R_KEYS=$(($(rcli "$SRC_R" DBSIZE) + $(rcli "$SRC_R" -n 2 DBSIZE)))
curl -sf -H "X-Vault-Token: root" -X POST --data-binary '{"data":{"api_key":"parallel-secret-1"}}' \
  "$VAULT_ADDR/v1/secret/data/agents/planner" >/dev/null

drctl_init_in "$T"
export DRCTL_CONFIG=$CONF
harness_drctl_postgres agents_db
export DRCTL_REDIS_URL="redis://127.0.0.1:$SRC_R" DRCTL_VAULT_ADDRESS=$VAULT_ADDR
dp() { env -u PGUSER -u PGDATABASE "$DRCTL" "$@"; }

# --- the lock that holds pg_dump -------------------------------------------------------
LOCK_PID=
lock_table() {
  "$PG_BIN/psql" -X -q -d agents_db -c "begin; lock table public.requests in access exclusive mode;
    select pg_sleep(3600);" >/dev/null 2>&1 &
  LOCK_PID=$!
  harness_on_exit "kill $LOCK_PID 2>/dev/null || true"
  wait_for "the test's session to hold the lock" \
    "[ \"\$(psql_ -At -d agents_db -c \"select count(*) from pg_locks where relation = 'public.requests'::regclass and mode = 'AccessExclusiveLock' and granted\")\" = 1 ]"
}
unlock_table() {
  psql_ -At -d postgres -c "select pg_terminate_backend(pid) from pg_locks
    where relation = (select oid from pg_class where relname = 'requests') and mode = 'AccessExclusiveLock' and granted" \
    -d agents_db >/dev/null
  wait "$LOCK_PID" 2>/dev/null || true
}
# pg_dump (or anything of the backup) waiting for the test's lock.
pg_dump_waits() {
  [ "$(psql_ -At -d agents_db -c "select count(*) from pg_locks where relation = 'public.requests'::regclass and not granted")" -ge 1 ]
}
# wait_for WHAT CONDITION: poll until CONDITION holds; a bound only so that
# a hang fails the test instead of the CTest timeout (nothing is timed).
wait_for() {
  local n=0
  until eval "$2"; do
    n=$((n + 1))
    [ $n -lt 1200 ] || fail "waited in vain for $1"
    sleep 0.1
  done
}
# The components in the order of their "started"/"finished" lines.
events() { grep -Eo '^drctl: (files|postgres|redis|vault): (started|finished)' "$1" | sed 's/^drctl: //; s/: / /' | tr '\n' ',' ; }
sets() { ls "$REPO/backups" 2>/dev/null | wc -l; }

# --- parallel = 3: Redis and Vault finish while PostgreSQL is held --------------------------
export DRCTL_BACKUP_PARALLEL=3
lock_table
dp backup >"$T/p3.out" 2>"$T/p3.err" &
BACKUP_PID=$!
wait_for "Redis and Vault to finish while pg_dump waits for the lock" \
  "grep -q '^drctl: redis: finished' '$T/p3.err' && grep -q '^drctl: vault: finished' '$T/p3.err'"
pg_dump_waits || fail "pg_dump should be waiting for the table lock: $(cat "$T/p3.err")"
grep -q '^drctl: postgres: started' "$T/p3.err" || fail "postgres should have started: $(cat "$T/p3.err")"
grep -q '^drctl: postgres: finished' "$T/p3.err" && fail "postgres cannot have finished while its table is locked"
kill -0 "$BACKUP_PID" 2>/dev/null || fail "the backup should still be running, held by PostgreSQL"
pass_note "parallel=3: Redis and Vault captured while PostgreSQL was still in progress"
unlock_table
set +e; wait "$BACKUP_PID"; RC=$?; set -e
OUT=$(cat "$T/p3.out") ERR=$(cat "$T/p3.err")
expect_rc 0 "the parallel backup, once the lock is gone"
ID=$OUT
EV=$(events "$T/p3.err")
first_finished=$(tr ',' '\n' <<<"$EV" | grep -n finished | head -1 | cut -d: -f1)
last_started=$(tr ',' '\n' <<<"$EV" | grep -n started | tail -1 | cut -d: -f1)
[ "$(tr ',' '\n' <<<"$EV" | grep -c started)" = 3 ] && [ "$last_started" -lt "$first_finished" ] ||
  fail "all three components should start before the first finished: $EV"
pass_note "all three started before the first finished ($EV)"
expect_err '^drctl: backing up 3 components, 3 at a time' "the log says how many run at a time"
expect_err '^drctl: redis: taking the RDB of Redis' "a component's own lines carry its name"
[ "$(jq -r '.components | keys_unsorted | join(",")' "$REPO/backups/$ID/manifest.json")" = "postgres,redis,vault" ] ||
  fail "manifest components: $(jq -c '.components | keys_unsorted' "$REPO/backups/$ID/manifest.json")"
[ "$(awk '{print $2}' "$REPO/backups/$ID/SHA256SUMS" | tr '\n' ',')" = "postgres.tar.zst.age,vault.tar.zst.age,redis.tar.zst.age," ] ||
  fail "SHA256SUMS should list the objects in component order, not completion order: $(cat "$REPO/backups/$ID/SHA256SUMS")"
pass_note "SHA256SUMS in component order (postgres, vault, redis) although Redis and Vault finished first"
(cd "$REPO/backups/$ID" && sha256sum -c --quiet SHA256SUMS) || fail "sha256sum -c SHA256SUMS of the parallel set"
pass_note "sha256sum -c checks every object of the parallel set"

run dp verify --deep "$ID"
expect_rc 0 "verify --deep of the parallel set"
run dp --json restore postgres --backup "$ID"
expect_rc 0 "restore postgres from the parallel set"
jq -e '.fingerprints.differences == [] and .fingerprints.tables == 5' <<<"$OUT" >/dev/null ||
  fail "the restored database should match the manifest's fingerprints: $OUT"
pass_note "PostgreSQL restored with equal fingerprints"
run dp --json restore redis --backup "$ID" --target "redis://127.0.0.1:$DST_R"
expect_rc 0 "restore redis from the parallel set"
[ "$(($(rcli "$DST_R" DBSIZE) + $(rcli "$DST_R" -n 2 DBSIZE)))" = "$R_KEYS" ] || fail "the restored Redis should hold $R_KEYS keys"
[ "$(rcli "$DST_R" -n 2 HGET limits:planner rpm)" = 60 ] || fail "the restored Redis lacks limits:planner"
pass_note "Redis restored with all $R_KEYS keys"
RESTORES=$(vault_double_admin | jq -r '.restore.count')
run dp restore vault --backup "$ID"
expect_rc 0 "restore vault from the parallel set"
[ "$(vault_double_admin | jq -r '.restore.count')" = $((RESTORES + 1)) ] || fail "the Vault double should have taken one snapshot"
pass_note "Vault's snapshot restored"

# --- a failing component stops the others; nothing is published ---------------------------------
printf 'wrong-password\n' >"$T/wrong.pw"
chmod 600 "$T/wrong.pw"
rcli "$SRC_R" CONFIG SET requirepass right-password >/dev/null
BEFORE=$(sets)
lock_table
DRCTL_REDIS_PASSWORD_FILE=$T/wrong.pw dp backup >"$T/fail.out" 2>"$T/fail.err" &
BACKUP_PID=$!
# PostgreSQL cannot finish while the lock is held: it is stopped, at its
# next write (before pg_dump reaches the lock, or once it got past it).
wait_for "Redis to fail while PostgreSQL is held" "grep -q '^drctl: redis: warning: failed' '$T/fail.err'"
grep -q '^drctl: postgres: finished' "$T/fail.err" && fail "postgres cannot have finished while its table is locked"
unlock_table
set +e; wait "$BACKUP_PID"; RC=$?; set -e
OUT=$(cat "$T/fail.out") ERR=$(cat "$T/fail.err")
expect_rc 2 "a backup with a wrong Redis password (classified as the password error it is)"
expect_err 'error: backup [0-9A-Za-z-]+ failed, nothing was published.*backup of redis: .*refused the password' "the error names Redis and its cause"
expect_err 'redis failed; captured: [a-z, ]+; stopped: postgres' "the error says what was captured and that PostgreSQL was stopped"
expect_err '^drctl: postgres: warning: stopped: ' "PostgreSQL logs that it stopped"
expect_no_err 'wrong-password' "the password is not echoed"
[ "$(sets)" = "$BEFORE" ] || fail "the failed backup left a set folder: $(ls "$REPO/backups")"
[ -z "$(find "$REPO/backups" -name manifest.json -newer "$T/wrong.pw")" ] || fail "a manifest was published by the failed backup"
pass_note "no manifest published, no object left"
rcli "$SRC_R" -a right-password --no-auth-warning CONFIG SET requirepass "" >/dev/null

# --- parallel = 1: one after another, in component order ----------------------------------
for how in flag config; do
  lock_table
  if [ $how = flag ]; then
    dp backup --parallel 1 >"$T/p1.out" 2>"$T/p1.err" &
  else
    DRCTL_BACKUP_PARALLEL=1 dp backup >"$T/p1.out" 2>"$T/p1.err" &
  fi
  BACKUP_PID=$!
  wait_for "pg_dump to wait for the lock" pg_dump_waits
  grep -Eq '^drctl: (redis|vault): started' "$T/p1.err" && fail "$how: Redis or Vault started beside PostgreSQL: $(cat "$T/p1.err")"
  unlock_table
  set +e; wait "$BACKUP_PID"; RC=$?; set -e
  OUT=$(cat "$T/p1.out") ERR=$(cat "$T/p1.err")
  expect_rc 0 "$how: the sequential backup"
  EV=$(events "$T/p1.err")
  [ "$EV" = "postgres started,postgres finished,vault started,vault finished,redis started,redis finished," ] ||
    fail "$how: parallel=1 should capture one after another in component order: $EV"
  pass_note "$how: parallel=1 keeps the sequential order ($EV)"
  expect_err '^drctl: backing up 3 components, 1 at a time' "$how: the log says one at a time"
done
run dp verify --deep latest
expect_rc 0 "verify --deep of the sequential set"

run dp --log-format json backup --component vault,redis
expect_rc 0 "a backup with JSON log lines"
jq -se 'map(select(.component == "redis" and (.message | startswith("finished")))) | length == 1' <<<"$ERR" >/dev/null &&
  jq -se 'map(select(.component == "vault" and (.message | startswith("started")))) | length == 1' <<<"$ERR" >/dev/null ||
  fail "JSON log lines should carry \"component\": $ERR"
pass_note "JSON log lines carry the component"

run dp backup --parallel 0
expect_rc 2 "--parallel 0 is refused"
expect_err 'parallel 0 is out of range' "the error names --parallel"
run env DRCTL_BACKUP_PARALLEL=40 "$DRCTL" backup
expect_rc 2 "[backup] parallel = 40 is refused"
echo "all $CHECKS checks passed"
