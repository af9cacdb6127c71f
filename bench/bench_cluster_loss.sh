#!/usr/bin/env bash
# The cluster-loss scenario against the bare stock restores of the same data,
# in one run on one machine (tests/harness):
#
#   stock:  pg_restore -j 2 of agents_db from a directory dump (pg_dump -Fd)
#           into an empty database, plus a Redis cold load (a redis-server
#           started on the RDB, until loading:0): only the two loads
#   drctl:  drctl scenario run cluster-loss from the repository (s3rver on
#           loopback, or a local folder with REPO=local), the gates
#           confirmed at once: preflight (signatures, every object's
#           size), Vault's snapshot forced onto a new, freshly initialized
#           Vault double and unsealed with the old keys, the deploy hook
#           (`true`), three agents held and started by commands, the roles
#           and agents_db restored (--jobs from [postgres] jobs, 2) and their
#           fingerprints compared, every Redis key restored into an empty
#           server and the counts compared, the health checks
#
# Data: agents_db at SCALE (default 10, ~1.3 GB: bench/make-agents-db.sql)
# and the Redis set of bench/make-redis-data.sh with N (default 1000000,
# ~1.25 M keys).  Target: the scenario within 1.30x of the sum of the two
# stock loads.  Stock and drctl take turns, ROUNDS times (default 3), each
# from the same state (restored databases dropped, checkpointed, synced; the
# target Redis emptied; a new Vault); every round is printed, then the medians.
#
#   DRCTL=build/drctl SCALE=10 N=1000000 ROUNDS=3 bash bench/bench_cluster_loss.sh
set -euo pipefail
. "$(dirname "$0")/benchlib.sh"
bench_init SCALE=10 N=1000000 ROUNDS=3 REPO=s3
# s3rver's continuation tokens are DES: OpenSSL 3 has it in the legacy provider.
export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--openssl-legacy-provider"
W="$HARNESS_DIR/bench"; mkdir -p "$W/secrets" "$W/agents"
AGENTCTL="$SRC_DIR/tests/tools/agentctl.sh"

start_postgres
start_redis; SRC_REDIS=$REDIS_PORT; unset REDIS_PID
start_redis; DST_REDIS=$REDIS_PORT; unset REDIS_PID
echo "# building agents_db at scale $SCALE and $N Redis sessions" >&2
bench_make_agents_db
bash "$SRC_DIR/bench/make-redis-data.sh" "$SRC_REDIS" "$N" >/dev/null
KEYS=$(redis-cli -p "$SRC_REDIS" DBSIZE)
start_vault_double --cluster-seed bench-old-cluster
OLD_VAULT=$VAULT_ADDR OLD_ROOT=$VAULT_TOKEN OLD_VAULT_PID=$VAULT_DOUBLE_PID
OLD_UNSEAL_KEY=$(vault_double_admin | jq -r '.unseal_keys_b64[0]')

# The repository, and a config that names only it, the two keys and the servers.
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3
if [ "$REPO" = s3 ]; then
	start_s3rver drctl-bench
	printf '%s\n' "$S3RVER_ACCESS_KEY" >"$W/secrets/id"
	printf '%s\n' "$S3RVER_SECRET_KEY" >"$W/secrets/secret"
	chmod 600 "$W/secrets/"*
	env DRCTL_REPOSITORY_TYPE=s3 DRCTL_REPOSITORY_BUCKET="$S3RVER_BUCKET" DRCTL_REPOSITORY_PREFIX=bench/ \
		DRCTL_REPOSITORY_ENDPOINT="$S3RVER_URL" DRCTL_REPOSITORY_REGION=us-east-1 DRCTL_REPOSITORY_FORCE_PATH_STYLE=true \
		DRCTL_REPOSITORY_ACCESS_KEY_ID_FILE="$W/secrets/id" DRCTL_REPOSITORY_SECRET_ACCESS_KEY_FILE="$W/secrets/secret" \
		"$DRCTL" --config "$W/drctl.conf" init --state-dir "$W/state" >/dev/null ||
		{ echo "this drctl cannot make an S3 repository (no S3 driver?); REPO=local measures against a local folder" >&2; exit 2; }
	REPO_DESC="s3rver on loopback (bucket $S3RVER_BUCKET)"
else
	"$DRCTL" --config "$W/drctl.conf" init --repository "$W/repo" --state-dir "$W/state" >/dev/null
	REPO_DESC="a local folder"
fi
export DRCTL_CONFIG="$W/drctl.conf"
harness_drctl_postgres agents_db
export DRCTL_POSTGRES_JOBS=2
# Redis loads the RDB as drctl's replica ([redis] restore_method; loopback here).
export DRCTL_REDIS_RESTORE_METHOD=${REDIS_RESTORE_METHOD:-replication}
export AGENTCTL_DIR="$W/agents" DRCTL_AGENTS_CONTROL=command
export DRCTL_AGENTS_STATUS_COMMAND="$AGENTCTL status"
export DRCTL_AGENTS_STOP_COMMAND="$AGENTCTL stop {name}"
export DRCTL_AGENTS_START_COMMAND="$AGENTCTL start {name} {replicas}"
echo 3 >"$W/agents/planner"; echo 1 >"$W/agents/support"; echo 4 >"$W/agents/research"

echo "# backing up agents_db, Redis and Vault into $REPO_DESC" >&2
env DRCTL_REDIS_URL="redis://127.0.0.1:$SRC_REDIS" DRCTL_VAULT_ADDRESS="$OLD_VAULT" \
	"$DRCTL" backup --component postgres,redis,vault >/dev/null 2>"$W/backup.err" || { cat "$W/backup.err" >&2; exit 1; }
"$PG_BIN/pg_dump" -Fd -f "$W/dir" agents_db
redis-cli -p "$SRC_REDIS" --rdb "$W/stock.rdb" >/dev/null 2>&1
"$PG_BIN/dropdb" agents_db
stop_vault_double "$OLD_VAULT_PID"
redis-cli -p "$SRC_REDIS" shutdown nosave >/dev/null 2>&1 || true

# The new cluster's addresses for the scenario.
export DRCTL_REDIS_URL="redis://127.0.0.1:$DST_REDIS" DRCTL_SCENARIO_DEPLOY_COMMAND=true
unset DRCTL_VAULT_ADDRESS

timed() { local s e; s=$(date +%s.%N); "$@" >"$W/out" 2>"$W/err" || { cat "$W/err" >&2; exit 1; }; e=$(date +%s.%N); echo "$e - $s" | bc; }
ratio() { echo "scale=3; $1 / $2" | bc; }
settle() { # every round from the same state
	bench_drop_databases "datname like 'agents_db%' or datname = 'r_stock'"
	redis-cli -p "$DST_REDIS" FLUSHALL >/dev/null
	echo 0 >"$W/agents/planner"; echo 0 >"$W/agents/support"; echo 0 >"$W/agents/research"
	bench_settle_disk
}
stock_pg() { "$PG_BIN/createdb" r_stock && "$PG_BIN/pg_restore" -j 2 -d r_stock "$W/dir"; }
stock_redis() { bench_redis_cold_load "$W/stock.rdb" "$KEYS"; }
# The new Vault of this round: started outside the timing, as terraform
# apply leaves it (not initialized).
new_vault() {
	[ -z "${NEW_VAULT_PID:-}" ] || stop_vault_double "$NEW_VAULT_PID"
	start_vault_double --cluster-seed "bench-new-$1" --state uninitialized >/dev/null 2>&1
	NEW_VAULT_PID=$VAULT_DOUBLE_PID
	export DRCTL_VAULT_ADDRESS=$VAULT_ADDR
	unset VAULT_TOKEN
}
# The whole scenario, the gates confirmed as soon as the run waits.
scenario() {
	local run init
	export DRCTL_STATE_DIR="$W/state-$1"
	"$DRCTL" scenario run cluster-loss --yes || [ $? = 7 ]
	run=$(ls "$DRCTL_STATE_DIR/runs")
	init=$(curl -sS --fail -X PUT "$VAULT_ADDR/v1/sys/init" -d '{"secret_shares":1,"secret_threshold":1}')
	curl -sS --fail -X PUT "$VAULT_ADDR/v1/sys/unseal" -d "{\"key\":\"$(jq -r '.keys_base64[0]' <<<"$init")\"}" >/dev/null
	VAULT_TOKEN=$(jq -r .root_token <<<"$init") "$DRCTL" scenario resume "$run" --confirm provision-cluster || [ $? = 7 ]
	curl -sS --fail -X PUT "$VAULT_ADDR/v1/sys/unseal" -d "{\"key\":\"$OLD_UNSEAL_KEY\"}" >/dev/null
	"$DRCTL" scenario resume "$run" --confirm unseal-vault
	cp "$DRCTL_STATE_DIR/runs/$run/report.json" "$W/report-$1.json"
}

s_pg=() s_redis=() stock=() scen=()
for ((round = 1; round <= ROUNDS; round++)); do
	settle
	s_pg+=("$(timed stock_pg)")
	s_redis+=("$(stock_redis)")
	stock+=("$(echo "${s_pg[-1]} + ${s_redis[-1]}" | bc)")
	settle
	new_vault "$round"
	scen+=("$(timed scenario "$round")")
	[ "$(redis-cli -p "$DST_REDIS" DBSIZE)" = "$KEYS" ] || echo "warning: the scenario restored $(redis-cli -p "$DST_REDIS" DBSIZE) keys, the source had $KEYS" >&2
	steps=$(jq -r '[.steps[] | select(.seconds > 0.5) | "\(.name) \(.seconds * 10 | round / 10)"] | join(", ")' "$W/report-$round.json")
	echo "# round $round: pg_restore -j 2 ${s_pg[-1]} s + cold load ${s_redis[-1]} s = ${stock[-1]} s; scenario ${scen[-1]} s ($(ratio "${scen[-1]}" "${stock[-1]}")x): $steps" >&2
done
t_stock=$(bench_median "${stock[@]}")
t_scen=$(bench_median "${scen[@]}")
cat <<EOT
agents_db scale $SCALE ($SIZE) + $KEYS Redis keys, repository: $REPO_DESC, PostgreSQL $("$PG_BIN/postgres" -V | awk '{print $3}'), Redis $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p'), $(nproc) cores, $ROUNDS alternating rounds
  pg_restore -j 2 (directory dump)       ${s_pg[*]} s
  redis-server cold load of the RDB      ${s_redis[*]} s
  stock sum                              ${stock[*]} s   median $(printf %.2f "$t_stock") s
  drctl scenario run cluster-loss        ${scen[*]} s   median $(printf %.2f "$t_scen") s
  ratio of the medians                   $(ratio "$t_scen" "$t_stock")   (target <= 1.30)
  per round                              $(for ((i = 0; i < ROUNDS; i++)); do printf '%s ' "$(ratio "${scen[$i]}" "${stock[$i]}")"; done)
EOT
