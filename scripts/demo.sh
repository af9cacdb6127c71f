#!/usr/bin/env bash
# THE demo command: install what is missing, build drctl, start a throwaway
# local platform (PostgreSQL and Redis on loopback, the Vault API double when
# present), and run drctl's main job against it: init, backup, list, verify,
# restore, and compare the restored files with the originals.  Every drctl
# command is printed before it runs ("+ drctl ..."), so this doubles as a
# tour of the CLI.  Everything is stopped and removed on exit, also when a
# step fails; DEMO_KEEP=1 keeps the work folder (config, keys, repository)
# for a look afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

step() { printf '\n### %s\n' "$*"; }
# Print a command (as a reader would type it), then run it.
run() {
	local shown=("$@")
	shown=("${shown[@]//"$W"/\$W}")
	printf '+ %s\n' "${shown[*]}"
	"$@" || {
		local rc=$?
		printf '\ndemo: FAILED (exit status %d): %s\n' "$rc" "$*" >&2
		exit "$rc"
	}
}

step "set-up: dependencies and build"
scripts/install-deps.sh
scripts/build.sh normal
[ -x "$ROOT/build/drctl" ] || {
	echo "demo: build/drctl was not built" >&2
	exit 1
}
export PATH="$ROOT/build:$PATH"

step "a throwaway platform on loopback"
# shellcheck source=tests/harness/services.sh
source tests/harness/services.sh
harness_init
start_postgres
start_redis
if double_available vault; then
	start_vault_double
fi

if [ -n "${DEMO_KEEP:-}" ]; then
	W=$(mktemp -d "${TMPDIR:-/tmp}/drctl-demo.XXXXXX")
	harness_on_exit "echo 'demo: kept the work folder $W'"
else
	W="$HARNESS_DIR/demo"
	mkdir -p "$W"
fi
W=$(cd "$W" && pwd -P)
echo "work folder: \$W = $W"

# Demo data for the files component: a (self-signed) TLS certificate and its
# key, an application config, and a nested folder.
mkdir -p "$W/files/tls" "$W/files/app/conf.d/nested"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-subj "/CN=demo.internal" -keyout "$W/files/tls/demo.key" -out "$W/files/tls/demo.crt" 2>/dev/null
chmod 0600 "$W/files/tls/demo.key"
cat >"$W/files/app/app.conf" <<EOF
# demo application config
listen = 0.0.0.0:8443
tls_cert = /etc/demo/tls/demo.crt
database = postgres://app@db.internal/app
EOF
printf 'feature_x = on\n' >"$W/files/app/conf.d/10-features.conf"
printf 'deeply nested\n' >"$W/files/app/conf.d/nested/notes.txt"
head -c 65536 /dev/urandom >"$W/files/app/conf.d/nested/blob.bin"
echo "demo files:"
(cd "$W/files" && find . -type f | sort | sed 's/^/  /')

step "drctl init: a config, a signing key and an age identity"
run drctl --config "$W/drctl.conf" init --repository "$W/repo" --state-dir "$W/state"
# The remaining commands find the config through DRCTL_CONFIG.  Any config
# key can also come from the environment as DRCTL_<SECTION>_<KEY>.
run export DRCTL_CONFIG="$W/drctl.conf"
run export DRCTL_FILES_PATHS="$W/files"

step "platform data: agents_db in PostgreSQL, sessions in Redis, secrets in Vault"
psql_() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
psql_ -f "$ROOT/tests/data/postgres/roles.sql"
"$PG_BIN/createdb" agents_db
psql_ -d agents_db -f "$ROOT/tests/data/postgres/fixture.sql" >/dev/null
echo "agents_db: $(psql_ -At -d agents_db -c 'select count(*) from requests') requests, $(psql_ -At -d agents_db -c 'select count(*) from agents') agents"
for i in $(seq 1 200); do printf 'SET session:%d token-%d EX 3600\r\nHSET agent:%d:state status running replicas 2\r\n' "$i" "$i" "$i"; done |
	redis-cli -p "$REDIS_PORT" --pipe >/dev/null
redis-cli -p "$REDIS_PORT" -n 3 SET ratelimit:global 100 >/dev/null
echo "redis: $(redis-cli -p "$REDIS_PORT" DBSIZE) keys in db 0, $(redis-cli -p "$REDIS_PORT" -n 3 DBSIZE) in db 3"
VAULT_DEMO=0
if [ -n "${VAULT_ADDR:-}" ]; then
	VAULT_DEMO=1
	vault_put() { curl -sf -H "X-Vault-Token: $VAULT_TOKEN" -X POST --data-binary "{\"data\":$2}" "$VAULT_ADDR/v1/secret/data/$1" >/dev/null; }
	vault_get() { curl -sf -H "X-Vault-Token: $VAULT_TOKEN" "$VAULT_ADDR/v1/secret/data/$1" | jq -r "$2"; }
	vault_put agents/anthropic '{"api_key":"demo-key-1"}'
	vault_put agents/postgres '{"user":"agents_admin","password":"demo-password"}'
	echo "vault: 2 secrets under secret/agents/ at $VAULT_ADDR"
fi

step "point drctl at the platform (each key could also live in the config file)"
run export DRCTL_POSTGRES_CONNINFO="host=127.0.0.1 port=$PGPORT user=$PG_ADMIN_USER dbname=postgres"
run export DRCTL_POSTGRES_PASSWORD_FILE="$PG_ADMIN_PASSWORD_FILE"
run export DRCTL_POSTGRES_DATABASES=agents_db
run export DRCTL_REDIS_URL="$REDIS_URL"
if [ "$VAULT_DEMO" = 1 ]; then
	run export DRCTL_VAULT_ADDRESS="$VAULT_ADDR"   # the token comes from VAULT_TOKEN, as for the vault CLI
	run export DRCTL_VAULT_KV_MOUNTS=secret
fi

mkdir -p "$W/metrics"
run export DRCTL_METRICS_TEXTFILE_DIR="$W/metrics" # drctl_* metrics after every run, for node_exporter

step "back up every configured component into one signed, encrypted set"
run drctl backup --tag demo

step "list the backup sets, and show the newest"
run drctl list
run drctl show latest

step "verify the newest set: signatures and hashes, then every member too"
run drctl verify latest
run drctl verify latest --deep

step "restore the files into a new folder and compare"
run drctl restore files --backup latest --target "$W/restored"
# Files come back under their original absolute path inside the target.
run diff -r "$W/files" "$W/restored$W/files"
echo "restored files are identical to the originals"

step "restore agents_db into a new database; its fingerprints are compared with the backup's"
run drctl restore postgres --backup latest --database agents_db --target-database agents_db_demo_restore
echo "restored database: $(psql_ -At -d agents_db_demo_restore -c 'select count(*) from requests') requests"

step "restore Redis into an empty scratch server; key counts are compared with the backup's"
REDIS_SRC_PORT=$REDIS_PORT
unset REDIS_PID # a second server; the harness still stops both at the end
start_redis
run drctl restore redis --backup latest --target "$REDIS_URL"
echo "scratch server: $(redis-cli -p "$REDIS_PORT" DBSIZE) keys in db 0 (source: $(redis-cli -p "$REDIS_SRC_PORT" DBSIZE))"
echo "again, the fast way: the server loads the RDB as drctl's replica (committed only once all of it is proven)"
run drctl restore redis --backup latest --target "$REDIS_URL" --flush --method replication
echo "scratch server: $(redis-cli -p "$REDIS_PORT" DBSIZE) keys in db 0, role $(redis-cli -p "$REDIS_PORT" INFO replication | tr -d '\r' | sed -n 's/^role://p')"

if [ "$VAULT_DEMO" = 1 ]; then
	step "Vault: a secret is overwritten by mistake; restore the raft snapshot and read it back"
	vault_put agents/anthropic '{"api_key":"overwritten"}'
	echo "secret now: $(vault_get agents/anthropic .data.data.api_key)"
	run drctl restore vault --backup latest
	echo "secret after restore: $(vault_get agents/anthropic .data.data.api_key)"
	[ "$(vault_get agents/anthropic .data.data.api_key)" = demo-key-1 ] || { echo "demo: the secret did not come back" >&2; exit 1; }
fi

step "disaster: agents_db is corrupted; the db-corruption scenario, with agents run by commands"
# Three agents with their own replica counts, run by a stand-in controller
# ([agents] control = command): the scenario records 3, 1 and 2 and brings
# them back at those counts, not at a fixed 2.
export AGENTCTL_DIR="$W/agents"
mkdir -p "$AGENTCTL_DIR"
echo 3 >"$AGENTCTL_DIR/planner"; echo 1 >"$AGENTCTL_DIR/support"; echo 2 >"$AGENTCTL_DIR/research"
AGENTCTL="$ROOT/tests/tools/agentctl.sh"
run export DRCTL_AGENTS_CONTROL=command
run export DRCTL_AGENTS_STATUS_COMMAND="$AGENTCTL status"
run export DRCTL_AGENTS_STOP_COMMAND="$AGENTCTL stop {name}"
run export DRCTL_AGENTS_START_COMMAND="$AGENTCTL start {name} {replicas}"
export DRCTL_REDIS_URL="redis://127.0.0.1:$REDIS_SRC_PORT" # the platform's Redis for the health checks
psql_ -d agents_db -c "update requests set status = 0 where id % 3 = 0" >/dev/null
echo "agents_db damaged: $(psql_ -At -d agents_db -c 'select count(*) from requests where status = 0') requests overwritten"
run drctl health
run drctl scenario plan db-corruption
run drctl scenario run db-corruption --yes
echo "agents now: $("$AGENTCTL" status | tr '\n' ' ')"
echo "databases: $(psql_ -At -d postgres -c "select string_agg(datname, ' ' order by datname) from pg_database where datname like 'agents_db%'")"
[ "$(psql_ -At -d agents_db -c 'select count(*) from requests where status = 0')" = 0 ] || { echo "demo: agents_db was not restored" >&2; exit 1; }
run drctl scenario status

step "the monthly drill: the newest set restored into scratch servers, proven, RTO and RPO measured"
# Scratch servers of their own (the drill refuses production's): a second
# PostgreSQL cluster and an empty Redis.
PROD_PGPORT=$PGPORT PROD_PG_PASSWORD_FILE=$PG_ADMIN_PASSWORD_FILE
unset PG_PID REDIS_PID # more servers; the harness still stops them all at the end
start_postgres
SCRATCH_PGPORT=$PGPORT SCRATCH_PG_PASSWORD_FILE=$PG_ADMIN_PASSWORD_FILE
export PGPORT=$PROD_PGPORT PG_ADMIN_PASSWORD_FILE=$PROD_PG_PASSWORD_FILE
start_redis
run export DRCTL_SCRATCH_POSTGRES_CONNINFO="host=127.0.0.1 port=$SCRATCH_PGPORT user=$PG_ADMIN_USER dbname=postgres"
run export DRCTL_SCRATCH_POSTGRES_PASSWORD_FILE="$SCRATCH_PG_PASSWORD_FILE"
run export DRCTL_SCRATCH_REDIS_URL="$REDIS_URL"
run export DRCTL_REDIS_RESTORE_METHOD=replication # the scratch Redis loads the RDB as the replica of drctl
run drctl drill
[ "$(find "$W/repo/drills" -name record.json | wc -l)" = 1 ] || { echo "demo: the drill published no record" >&2; exit 1; }
echo "drill record: $(cd "$W/repo" && ls drills/*/record.json); report: $(ls "$W"/state/runs/*-drill-*/report.html)"

step "unattended operation: the morning check, retention, metrics, the schedules"
run drctl backup --tag demo-second
run drctl check --max-age 26h
run export DRCTL_RETENTION_KEEP_LAST=1
run drctl prune --dry-run
echo "metrics for node_exporter's textfile collector ($W/metrics):"
grep -h '^drctl_\(backup_last_status\|drill_rto_seconds\|drill_rpo_seconds\|repository_sets\)' "$W"/metrics/*.prom | sed 's/^/  /'
run drctl schedule render --kind crontab

step "cluster-loss: what rebuilding the platform on a new cluster would do, touching nothing"
# The plan reads only the repository: the set it would restore, Vault's
# snapshot, every database, the Redis keys, the agents' recorded counts.
run export DRCTL_SCENARIO_DEPLOY_COMMAND="./infrastructure/scripts/deploy.sh production full"
run drctl scenario plan cluster-loss
step "the monthly secret rotation, planned: what drctl rotate-secrets would do, touching nothing"
run export DRCTL_ROTATION_POSTGRES_ROLES="app_writer, app_reader"
run export DRCTL_ROTATION_GENERATED="secret/agents/internal-api:api_key:token32"
run export DRCTL_ROTATION_MANUAL="secret/agents/anthropic:api_key:Anthropic console"
run drctl rotate-secrets --dry-run

step "done"
echo "demo OK: backed up every component, verified the set (deep), restored files, agents_db, Redis$([ "$VAULT_DEMO" = 1 ] && echo " and Vault"), ran the db-corruption scenario and the drill"
echo "(cleaning up: stopping the servers and removing the temporary folders)"
