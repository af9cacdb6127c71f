#!/usr/bin/env bash
# The db-corruption scenario against a bare pg_restore, in one run on one
# throwaway PostgreSQL 15 (tests/harness):
#
#   stock:  pg_restore -j 2 of agents_db from a directory dump (pg_dump -Fd)
#           into an empty database: only the restore, nothing around it
#   drctl:  drctl scenario run db-corruption: preflight (signatures,
#           hashes, the identity), agents recorded, stopped and started again
#           (three agents run by commands), the restore into a new database
#           (--jobs from [postgres] jobs, 2), the fingerprint comparison, the
#           atomic swap, the rollout wait and the health checks
#
# Target: the scenario within 1.20x of the bare pg_restore: orchestration,
# verification and agent control cost at most a fifth on top.  Stock and
# drctl take turns, ROUNDS times (default 3), each from the same state (the
# previous restores dropped, checkpointed, synced); every round is printed
# and the medians are compared.
#
#   DRCTL=build/drctl SCALE=10 bash bench/bench_scenario.sh
set -euo pipefail
. "$(dirname "$0")/benchlib.sh"
bench_init SCALE=10 ROUNDS=3
start_postgres
W="$HARNESS_DIR/bench"; mkdir -p "$W/agents"

echo "# building agents_db at scale $SCALE" >&2
bench_make_agents_db

"$DRCTL" --config "$W/drctl.conf" init --repository "$W/repo" --state-dir "$W/state" >/dev/null
export DRCTL_CONFIG="$W/drctl.conf"
harness_drctl_postgres agents_db
AGENTCTL="$SRC_DIR/tests/tools/agentctl.sh"
export AGENTCTL_DIR="$W/agents" DRCTL_AGENTS_CONTROL=command
export DRCTL_AGENTS_STATUS_COMMAND="$AGENTCTL status"
export DRCTL_AGENTS_STOP_COMMAND="$AGENTCTL stop {name}"
export DRCTL_AGENTS_START_COMMAND="$AGENTCTL start {name} {replicas}"

echo "# backing up agents_db" >&2
"$DRCTL" backup --component postgres >/dev/null 2>&1
"$PG_BIN/pg_dump" -Fd -f "$W/dir" agents_db
"$PG_BIN/createdb" -T agents_db damaged_template

timed() { local s e; s=$(date +%s.%N); "$@" >"$W/out" 2>"$W/err" || { cat "$W/err" >&2; exit 1; }; e=$(date +%s.%N); echo "$e - $s" | bc; }
ratio() { echo "scale=3; $1 / $2" | bc; }
settle() { # every round from the same state: the damaged agents_db, agents up, no leftovers
  bench_drop_databases "datname like 'agents_db%' or datname = 'r_stock'"
  "$PG_BIN/createdb" -T damaged_template agents_db
  echo 3 >"$W/agents/planner"; echo 1 >"$W/agents/support"; echo 2 >"$W/agents/research"
  bench_settle_disk
}

stock=() scen=()
for ((round = 1; round <= ROUNDS; round++)); do
  settle
  "$PG_BIN/createdb" r_stock
  stock+=("$(timed "$PG_BIN/pg_restore" -j 2 -d r_stock "$W/dir")")
  settle
  scen+=("$(timed "$DRCTL" scenario run db-corruption --yes)")
  echo "# round $round: pg_restore -j 2 ${stock[-1]} s, scenario ${scen[-1]} s ($(ratio "${scen[-1]}" "${stock[-1]}")x)" >&2
done
t_stock=$(bench_median "${stock[@]}")
t_scen=$(bench_median "${scen[@]}")
cat <<EOT
agents_db scale $SCALE ($SIZE), PostgreSQL $("$PG_BIN/postgres" -V | awk '{print $3}'), $(nproc) cores, $ROUNDS alternating rounds
  pg_restore -j 2 (directory dump)       ${stock[*]} s   median $(printf %.2f "$t_stock") s
  drctl scenario run db-corruption       ${scen[*]} s   median $(printf %.2f "$t_scen") s
  ratio of the medians                   $(ratio "$t_scen" "$t_stock")   (target <= 1.20)
  per round                              $(for ((i = 0; i < ROUNDS; i++)); do printf '%s ' "$(ratio "${scen[$i]}" "${stock[$i]}")"; done)
EOT
