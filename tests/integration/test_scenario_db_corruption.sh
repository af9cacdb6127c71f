#!/usr/bin/env bash
# Scenario db-corruption end to end on a real PostgreSQL 15, with agents
# controlled by commands (tests/tools/agentctl.sh; the Kubernetes control has
# its own test): the restored database equals the backup, the damaged one is
# kept byte for byte under a dated name, the agents come back at their own
# recorded counts (3, 1 and 2, not a fixed 2), nothing half-restored is left.
# Then: SIGKILL at every step boundary and at random instants inside the
# restore, resume, and the end state equals an uninterrupted run's; lock
# contention and a stale lock; a rollout that never finishes; a failure that
# the report describes; a torn journal record; abort; no run without --yes
# when nobody is at a terminal.
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
. "$DRCTL_SOURCE_DIR/tests/harness/services.sh"
. "$DRCTL_SOURCE_DIR/tests/harness/db_corruption.sh"
require_tools jq sha256sum
harness_init
start_postgres
dbc_fixture

drctl_init_in "$T"
export DRCTL_CONFIG=$CONF
harness_drctl_postgres agents_db
AGENTCTL="$DRCTL_SOURCE_DIR/tests/tools/agentctl.sh"
export AGENTCTL_DIR="$T/agents" DRCTL_AGENTS_CONTROL=command DRCTL_AGENTS_WAIT_SECONDS=20
export DRCTL_AGENTS_STATUS_COMMAND="$AGENTCTL status"
export DRCTL_AGENTS_STOP_COMMAND="$AGENTCTL stop {name}"
export DRCTL_AGENTS_START_COMMAND="$AGENTCTL start {name} {replicas}"
mkdir -p "$AGENTCTL_DIR"
agents_up() { echo 3 >"$AGENTCTL_DIR/planner"; echo 1 >"$AGENTCTL_DIR/support"; echo 2 >"$AGENTCTL_DIR/research"; }
agents_now() { "$AGENTCTL" status | sort | tr '\n' ' '; }
agents_up
AGENTS_BEFORE=$(agents_now)

run "$DRCTL" backup --component postgres
expect_rc 0 "backup of agents_db"
SET=$OUT

dbc_damage
fresh_damage() { # every round starts from the damaged platform
  dbc_fresh_damage
  agents_up
}

# The end state every run, interrupted or not, must reach.
expect_end_state() { # label
  local kept
  dbc_expect_restored_and_kept "$1"
  [ -z "$(psql_ -At -d postgres -c "select datname from pg_database where datname like '%_restore_%'")" ] ||
    fail "$1: a half-restored database is left: $(dbc_databases)"
  [ "$(agents_now)" = "$AGENTS_BEFORE" ] || fail "$1: agents are at [$(agents_now)], recorded [$AGENTS_BEFORE]"
  pass_note "$1: restored database equals the backup, damaged one kept byte for byte, agents at 3/1/2, no leftovers"
}

# --- plan, and no run without --yes when nobody is at a terminal ----------------
run "$DRCTL" scenario plan db-corruption
expect_rc 0 "scenario plan"
expect_out 'agent planner: 3 -> 0' "plan shows each agent's scale-down with its count"
expect_out 'renames agents_db to agents_db_corrupt_' "plan shows the swap"
[ "$(agents_now)" = "$AGENTS_BEFORE" ] || fail "plan touched the agents"
run "$DRCTL" scenario run db-corruption </dev/null
expect_rc 2 "run without --yes and no terminal"
expect_err 'nobody is at a terminal to confirm it; nothing was done' "says why it refuses"
expect_err 'add --yes' "says how"

# --- the whole scenario, uninterrupted ------------------------------------------
mkdir -p "$T/metrics"
run env DRCTL_METRICS_TEXTFILE_DIR="$T/metrics" "$DRCTL" scenario run db-corruption --yes
expect_rc 0 "scenario run db-corruption"
grep -hq '^drctl_scenario_last_status{scenario="db-corruption"} 1$' "$T"/metrics/*.prom ||
  fail "no drctl_scenario_last_status 1 in the textfile folder: $(cat "$T"/metrics/*.prom 2>/dev/null)"
grep -hq '^drctl_scenario_rto_seconds{scenario="db-corruption"} [0-9.]' "$T"/metrics/*.prom || fail "no scenario RTO metric"
pass_note "the run's status and RTO are published for monitoring"
RUN=$(jq -r '.run' "$T/state/runs"/*/report.json)
expect_out "run $RUN \\(db-corruption\\): done" "status line says done"
expect_end_state "uninterrupted run"
for f in report.md report.json report.html journal; do
  [ -s "$T/state/runs/$RUN/$f" ] || fail "run folder lacks $f"
done
pass_note "the run folder holds its journal and its report in three forms"
jq -e --arg set "$SET" '.state == "done" and (.steps | length == 9) and all(.steps[]; .state == "done") and .seconds > 0' \
  "$T/state/runs/$RUN/report.json" >/dev/null || fail "report.json does not say every step is done"
grep -q 'the measured RTO' "$T/state/runs/$RUN/report.md" || fail "report.md gives no RTO"
grep -q '<svg' "$T/state/runs/$RUN/report.html" || fail "report.html has no timeline"
pass_note "the report gives the RTO and an SVG timeline"
run "$DRCTL" scenario status "$RUN" --json
jq -e --arg set "$SET" '.facts.backup_id == $set and (.facts.agents | map({(.name): .replicas}) | add) == {"planner":3,"support":1,"research":2}' <<<"$OUT" >/dev/null ||
  fail "the journal does not hold the backup set and the recorded counts: $OUT"
pass_note "the journal records the set and the replica counts"
if grep -q "$(cat "$PG_ADMIN_PASSWORD_FILE")" "$T/state/runs/$RUN/journal" "$T/state/runs/$RUN"/report.*; then
  fail "the database password is in the journal or the report"
fi
pass_note "no password in the journal or the report"

# --- SIGKILL anywhere, then resume --------------------------------------------
# kill_at STEP: SIGKILL the run just after STEP's "done" record (watching the
# journal), or after MS milliseconds inside the run (a number); then resume
# until the run is done.
kill_run() { # what
  local what=$1 pid journal n
  "$DRCTL" scenario run db-corruption --yes >"$T/kill.out" 2>&1 &
  pid=$!
  for n in $(seq 1 3000); do
    journal=$(ls -t "$T"/state/runs/*/journal 2>/dev/null | head -1)
    if [[ $what =~ ^[0-9]+$ ]]; then
      sleep "$(awk -v ms="$what" 'BEGIN { printf "%.3f", ms / 1000 }')"
      break
    fi
    if [ -n "$journal" ] && [ "$journal" != "${LAST_JOURNAL:-}" ] && grep -q "\"event\":\"done\".*\"step\":\"$what\"" "$journal"; then
      break
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
resume_until_done() { # label
  local run_id tries=0
  run_id=$(ls -t "$T/state/runs" | head -1)
  while :; do
    tries=$((tries + 1))
    [ "$tries" -le 3 ] || fail "$1: the run did not finish after 3 resumes: $ERR"
    if [ "$run_id" = "$LAST_RUN" ]; then # killed before the run existed: a new run
      run "$DRCTL" scenario run db-corruption --yes
    else
      run "$DRCTL" scenario resume "$run_id"
    fi
    [ "$RC" = 0 ] && break
    grep -q 'nothing to resume' <<<"$ERR" && break
  done
  LAST_RUN=$(ls -t "$T/state/runs" | head -1)
  LAST_JOURNAL="$T/state/runs/$LAST_RUN/journal"
  jq -e '.state == "done"' "$T/state/runs/$LAST_RUN/report.json" >/dev/null || fail "$1: the resumed run is not done"
}
LAST_RUN=$RUN
LAST_JOURNAL="$T/state/runs/$RUN/journal"
for step in preflight record-replicas stop-agents restore-database compare-fingerprints swap-databases start-agents wait-rollout; do
  fresh_damage
  kill_run "$step"
  resume_until_done "killed after $step"
  expect_end_state "SIGKILL after $step, then resume"
done
# inside the long steps: the restore takes most of the run
for ms in 900 1700 2600 $((300 + RANDOM % 3000)); do
  fresh_damage
  kill_run "$ms"
  resume_until_done "killed after ${ms} ms"
  expect_end_state "SIGKILL ${ms} ms into the run, then resume"
done

# --- lock contention and a stale lock -----------------------------------------
fresh_damage
SLOW="$T/slowctl.sh"
printf '#!/bin/sh\nsleep 3\nexec %s "$@"\n' "$AGENTCTL" >"$SLOW"
chmod +x "$SLOW"
DRCTL_AGENTS_STOP_COMMAND="$SLOW stop {name}" "$DRCTL" scenario run db-corruption --yes >"$T/first.out" 2>&1 &
FIRST=$!
for n in $(seq 1 200); do grep -q 'step stop-agents' "$T/first.out" 2>/dev/null && break; sleep 0.05; done
run "$DRCTL" scenario run db-corruption --yes
expect_rc 5 "a second run while one acts"
expect_err "run [0-9TZ]+-db-corruption-[0-9a-f]+ \\(host [^,]+, pid $FIRST, since" "names the holder's run, host and pid"
expect_err 'only one scenario run at a time' "says why"
kill -9 "$FIRST"; wait "$FIRST" 2>/dev/null || true
STALE=$(ls -t "$T/state/runs" | head -1)
run "$DRCTL" scenario run db-corruption --yes
expect_rc 5 "a new run after the holder died"
expect_err "the scenario lock is stale: run $STALE .* died without releasing it" "names the dead holder"
expect_err -- "--steal" "hints --steal"
expect_err "drctl scenario resume $STALE" "hints resuming the dead run"
run "$DRCTL" scenario resume "$STALE"
expect_rc 0 "the dead run resumes (its own lock)"
expect_end_state "resumed after its holder was killed"

# --- a rollout that never finishes ---------------------------------------------
fresh_damage
NOSTART="$T/nostart.sh"
printf '#!/bin/sh\n[ "$1" = start ] && exit 0\nexec %s "$@"\n' "$AGENTCTL" >"$NOSTART"
chmod +x "$NOSTART"
run env DRCTL_AGENTS_START_COMMAND="$NOSTART start {name} {replicas}" DRCTL_AGENTS_WAIT_SECONDS=2 "$DRCTL" scenario run db-corruption --yes
expect_rc 1 "agents that never come back"
expect_err 'step wait-rollout: the agents did not reach their replicas within 2 s: (planner|research|support) runs 0, wanted [0-9]' "names the agent that lags"
TIMED=$(ls -t "$T/state/runs" | head -1)
grep -q 'agents_db is the restored one; the damaged one is kept as agents_db_corrupt_' "$T/state/runs/$TIMED/report.md" ||
  fail "the report does not say the database was already swapped"
grep -q "next: fix the cause, then \`drctl scenario resume $TIMED\`" "$T/state/runs/$TIMED/report.md" || fail "the report gives no next command"
pass_note "the report says where the platform stands and the next command"
run "$DRCTL" scenario resume "$TIMED"
expect_rc 0 "resume once the agents can start"
expect_end_state "resumed after a rollout timeout"

# --- a failure before the swap leaves the damaged database untouched -----------
fresh_damage
run env DRCTL_POSTGRES_PG_RESTORE=/bin/false "$DRCTL" scenario run db-corruption --yes
[ "$RC" != 0 ] || fail "a failing pg_restore did not fail the run"
pass_note "a failing restore fails the run"
FAILED=$(ls -t "$T/state/runs" | head -1)
grep -q 'the damaged database agents_db is untouched' "$T/state/runs/$FAILED/report.md" || fail "the report does not say the damaged database is untouched"
[ "$(dbc_dump_of agents_db)" = "$DAMAGED" ] || fail "agents_db changed although the restore failed"
pass_note "a failed restore leaves agents_db as it was, and the report says so"

# --- a torn journal record, then abort --------------------------------------------
printf '0badc0de {"type":"step","step":"restore-da' >>"$T/state/runs/$FAILED/journal"
run "$DRCTL" scenario status "$FAILED"
expect_rc 0 "status of a run with a torn last record"
expect_err 'last record of run .* journal is torn' "warns about the torn record"
expect_out 'restore-database +failed' "the whole records still tell the state"
run "$DRCTL" scenario abort "$FAILED"
expect_rc 0 "abort"
expect_out 'aborted' "the run is aborted"
run "$DRCTL" scenario resume "$FAILED"
expect_rc 2 "resume of an aborted run"
expect_err 'is aborted; there is nothing to resume' "says the run is over"
run "$DRCTL" scenario resume 20991231T000000Z-db-corruption-0000
expect_rc 3 "resume of a run that does not exist"

echo "$CHECKS passed, 0 failed"
