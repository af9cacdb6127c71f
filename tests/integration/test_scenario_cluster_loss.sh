#!/usr/bin/env bash
# Scenario cluster-loss end to end.  The "old cluster" (PostgreSQL 15 with two
# databases and roles, Redis 7 with keys in two databases, a Vault double of
# cluster seed old-cluster with KV secrets, a folder of files, three agents
# run by commands at 3, 1 and 4 replicas) is backed up; then every one of its
# servers is stopped and its drctl folder (config, signing secret key, state)
# deleted: only the repository (an S3 bucket on s3rver), signing.pub and
# age-identity.txt survive (with the S3 credentials, in an "off-site" folder).  The new cluster is a FRESH PostgreSQL and Redis (new
# data directories) and a FRESH Vault double of another cluster seed that is
# not initialized, as `terraform apply` leaves it.  The run, from a new
# config that names only those three things and the new servers:
#   - the plan shows every step and what it touches, and touches nothing;
#   - gate provision-cluster (confirmed too early: restore-vault refuses a
#     Vault that is not initialized, nothing posted), the new Vault
#     initialized and unsealed with its own keys, its root token given;
#   - snapshot-force, gate unseal-vault with the OLD cluster's unseal key;
#   - the deploy hook (its output shown; it makes the agents at 2 and an
#     empty agents_db, as a postgres image does), which is kept, renamed;
#   - every database equal to the source's table by table (checksums), the
#     roles back, Redis key counts per database, the Vault secrets readable
#     with the old cluster's token, the files byte for byte;
#   - the agents at the counts RECORDED IN THE BACKUP SET (3, 1, 4), an agent
#     the backup did not know at the deploy's count;
#   - the report with the RTO and the RPO; no secret in journal or report.
# Then SIGKILL at a random step (and at the facts that matter: after the
# snapshot was posted, inside the PostgreSQL and the Redis restores), resume,
# and the end state is the same.  Set CLUSTER_LOSS_KILL_STEP to replay a
# random pick.  Last, one run with [agents] control = kubernetes: the backup
# of an old Kubernetes API double recorded a Deployment of 3, one of 1 and a
# StatefulSet of 4; on a new double the deploy makes them at 2 and the run
# brings them to the recorded counts.
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
. "$DRCTL_SOURCE_DIR/tests/harness/services.sh"
require_tools jq sha256sum curl node openssl
harness_init
start_s3rver drctl-cluster-loss # the off-site repository: it outlives the cluster
AGENTCTL="$DRCTL_SOURCE_DIR/tests/tools/agentctl.sh"
roles() { psql_ -At -d postgres -c "select rolname, rolcanlogin, rolcreatedb, rolconnlimit from pg_roles where rolname like 'app_%' order by 1" | tr '\n' ' '; }
keyspace() { redis-cli -p "$REDIS_PORT" info keyspace | grep '^db' | cut -d, -f1 | tr -d '\r' | tr '\n' ' '; }
vault_read() { # PATH TOKEN -> the secret's data, compact
  curl -sS -H "X-Vault-Token: $2" "$VAULT_ADDR/v1/secret/data/$1" | jq -c '.data.data'
}
vault_health() { curl -sS "$VAULT_ADDR/v1/sys/health?standbyok=true&sealedcode=200&uninitcode=200"; }

# --- the old cluster, and its backup --------------------------------------------------
start_postgres
harness_pg_fixture agents_db
"$PG_BIN/createdb" billing_db
psql_ -d billing_db -c "create table invoices (id serial primary key, amount numeric, note text);
  insert into invoices (amount, note) select g * 1.5, 'invoice ' || g from generate_series(1, 500) g;
  create sequence ledger_seq start 1000; select setval('ledger_seq', 4242);" >/dev/null
GOOD_AGENTS=$(harness_pg_sums agents_db)
GOOD_BILLING=$(harness_pg_sums billing_db)
GOOD_ROLES=$(roles)
start_redis
# enough keys that a restore takes a moment (a kill lands inside it below)
for i in $(seq 1 40000); do printf 'SET session:%s v%s\n' "$i" "$i"; done | redis-cli -p "$REDIS_PORT" --pipe >/dev/null
redis-cli -p "$REDIS_PORT" -n 2 hset rate:limits planner 10 support 20 >/dev/null
redis-cli -p "$REDIS_PORT" -n 2 set cache:long value EX 86400 >/dev/null
GOOD_KEYSPACE=$(keyspace)
start_vault_double --cluster-seed old-cluster
OLD_UNSEAL_KEY=$(vault_double_admin | jq -r '.unseal_keys_b64[0]')
OLD_CLUSTER_ID=$(vault_double_admin | jq -r '.cluster.id')
OLD_ROOT=$VAULT_TOKEN
curl -sS --fail -H "X-Vault-Token: $OLD_ROOT" -X POST "$VAULT_ADDR/v1/secret/data/platform/database" \
  -d '{"data":{"username":"agents_admin","password":"kv-db-secret-1"}}' >/dev/null
curl -sS --fail -H "X-Vault-Token: $OLD_ROOT" -X POST "$VAULT_ADDR/v1/secret/data/agents/openai" \
  -d '{"data":{"api_key":"sk-test-kv-2"}}' >/dev/null
GOOD_SECRET_DB=$(vault_read platform/database "$OLD_ROOT")
GOOD_SECRET_AI=$(vault_read agents/openai "$OLD_ROOT")
mkdir -p "$T/platform-etc/tls"
echo "listen 8443" >"$T/platform-etc/gateway.conf"
head -c 3000 /dev/urandom >"$T/platform-etc/tls/ca.pem"
GOOD_CA=$(sha256sum <"$T/platform-etc/tls/ca.pem")
mkdir -p "$T/old-agents"
echo 3 >"$T/old-agents/planner"; echo 1 >"$T/old-agents/support"; echo 4 >"$T/old-agents/research"

OFFSITE="$T/offsite"
mkdir -p "$OFFSITE" "$T/old"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3
export AWS_SHARED_CREDENTIALS_FILE=$T/no-such-credentials AWS_CONFIG_FILE=$T/no-such-config
printf '%s\n' "$S3RVER_ACCESS_KEY" >"$OFFSITE/s3-access-key-id"
printf '%s\n' "$S3RVER_SECRET_KEY" >"$OFFSITE/s3-secret-access-key"
chmod 600 "$OFFSITE"/s3-*
env DRCTL_REPOSITORY_TYPE=s3 DRCTL_REPOSITORY_BUCKET="$S3RVER_BUCKET" DRCTL_REPOSITORY_PREFIX=prod/ \
  DRCTL_REPOSITORY_ENDPOINT="$S3RVER_URL" DRCTL_REPOSITORY_REGION=us-east-1 DRCTL_REPOSITORY_FORCE_PATH_STYLE=true \
  DRCTL_REPOSITORY_ACCESS_KEY_ID_FILE="$OFFSITE/s3-access-key-id" DRCTL_REPOSITORY_SECRET_ACCESS_KEY_FILE="$OFFSITE/s3-secret-access-key" \
  "$DRCTL" --config "$T/old/drctl.conf" init --state-dir "$T/old/state" >/dev/null
old_drctl() {
  env DRCTL_POSTGRES_CONNINFO="host=127.0.0.1 port=$PGPORT user=$PG_ADMIN_USER dbname=postgres" \
    DRCTL_POSTGRES_PASSWORD_FILE="$PG_ADMIN_PASSWORD_FILE" DRCTL_POSTGRES_DATABASES=agents_db,billing_db \
    DRCTL_REDIS_URL="$REDIS_URL" DRCTL_VAULT_ADDRESS="$VAULT_ADDR" DRCTL_FILES_PATHS="$T/platform-etc" \
    AGENTCTL_DIR="$T/old-agents" DRCTL_AGENTS_CONTROL=command DRCTL_AGENTS_STATUS_COMMAND="${OLD_STATUS_COMMAND:-$AGENTCTL status}" \
    "$DRCTL" --config "$T/old/drctl.conf" "$@"
}
run old_drctl backup
expect_rc 0 "backup of the old cluster (files, postgres, redis, vault)"
SET=$OUT
MANIFEST="$T/manifest.json"
old_drctl show "$SET" --json >"$MANIFEST"
jq -e '.platform.agents | map({(.name): .replicas}) | add == {"planner":3,"support":1,"research":4}' "$MANIFEST" >/dev/null ||
  fail "the manifest does not record the agents' replicas: $(jq -c .platform "$MANIFEST")"
pass_note "the backup records each agent's replicas in the manifest (platform.agents)"
OLD_STATUS_COMMAND=/bin/false run old_drctl backup --component files
expect_rc 0 "a backup whose agents cannot be listed still succeeds"
expect_err 'the agents. replicas are not recorded in this set' "and warns that the agents are not recorded"
old_drctl show "$OUT" --json | jq -e '.platform.agents == null and (.platform.agents_error | length > 0)' >/dev/null ||
  fail "the manifest does not say why the agents are missing"
pass_note "the manifest says why the agents are not recorded"
FINISHED=$(jq -r .finished "$MANIFEST")

# The same platform with its agents on Kubernetes (an old API double): a set
# whose manifest records a Deployment of 3, one of 1 and a StatefulSet of 4.
cat >"$T/old-seed.json" <<'EOF'
{"namespace": "ai-agents", "workloads": [
  {"name": "planner", "replicas": 3, "labels": {"app": "planner", "role": "agent"}},
  {"name": "support", "replicas": 1, "labels": {"app": "support", "role": "agent"}},
  {"name": "research", "kind": "StatefulSet", "replicas": 4, "labels": {"app": "research", "role": "agent"}},
  {"name": "web", "replicas": 2, "labels": {"app": "web", "tier": "frontend"}}
]}
EOF
start_kubernetes_double --seed "$T/old-seed.json" --converge-ms 200 --terminate-ms 200
run env DRCTL_AGENTS_CONTROL=kubernetes DRCTL_AGENTS_NAMESPACE=ai-agents DRCTL_AGENTS_SELECTOR=role=agent \
  DRCTL_POSTGRES_CONNINFO="host=127.0.0.1 port=$PGPORT user=$PG_ADMIN_USER dbname=postgres" \
  DRCTL_POSTGRES_PASSWORD_FILE="$PG_ADMIN_PASSWORD_FILE" DRCTL_POSTGRES_DATABASES=agents_db,billing_db \
  DRCTL_REDIS_URL="$REDIS_URL" DRCTL_VAULT_ADDRESS="$VAULT_ADDR" DRCTL_FILES_PATHS="$T/platform-etc" \
  "$DRCTL" --config "$T/old/drctl.conf" backup
expect_rc 0 "backup of the old cluster with its agents on Kubernetes"
SET_K8S=$OUT
old_drctl show "$SET_K8S" --json | jq -e '.platform.agents | map({(.kind + "/" + .name): .replicas}) | add ==
  {"Deployment/planner":3,"Deployment/support":1,"StatefulSet/research":4}' >/dev/null ||
  fail "the manifest does not record the Kubernetes workloads: $(old_drctl show "$SET_K8S" --json | jq -c .platform)"
pass_note "the backup records the Kubernetes agent workloads (kind, name, replicas), not the workload outside the selector"
stop_double kubernetes

# --- the disaster: everything but the off-site copies is gone ---------------------------
stop_postgres
stop_redis
rm -rf "$REDIS_DIR"
stop_vault_double
cp "$T/old/signing.pub" "$T/old/age-identity.txt" "$OFFSITE/"
chmod 600 "$OFFSITE/age-identity.txt"
rm -rf "$T/old" "$T/old-agents" "$T/platform-etc"
ls "$OFFSITE" | sort | tr '\n' ' ' | grep -qx 'age-identity.txt s3-access-key-id s3-secret-access-key signing.pub ' ||
  fail "off-site holds more than the three things: $(ls "$OFFSITE")"
pass_note "only the repository (S3), the signing public key and the decryption identity survive"

# --- the new cluster ------------------------------------------------------------------
NEW="$T/recovery"
mkdir -p "$NEW"
cat >"$NEW/deploy.sh" <<'EOF'
#!/usr/bin/env bash
# The platform's deploy, as the test's new cluster has it: the agents at the
# manifests' 2 replicas (and one the backup never knew), an empty agents_db
# as the postgres image's POSTGRES_DB makes.  Safe to run twice.
set -euo pipefail
echo "deploying production $*"
echo run >>"$DEPLOY_COUNT"
if [ -n "${DEPLOY_KUBERNETES:-}" ]; then # the manifests applied: every workload at 2
  if ! curl -sS --fail --cacert "$KUBERNETES_DOUBLE_CACERT" "$KUBERNETES_DOUBLE_ADMIN/workloads" | grep -q '"planner"'; then
    curl -sS --fail --cacert "$KUBERNETES_DOUBLE_CACERT" -X POST "$KUBERNETES_DOUBLE_ADMIN/seed" --data-binary @"$DEPLOY_KUBERNETES" >/dev/null
  fi
else
  for a in planner support research scheduler; do [ -f "$AGENTCTL_DIR/$a" ] || echo 2 >"$AGENTCTL_DIR/$a"; done
fi
if [ -z "$("$PG_BIN/psql" -X -At -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -c "select 1 from pg_database where datname = 'agents_db'")" ]; then
  "$PG_BIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres agents_db
fi
echo "platform deployed" >&2
EOF
chmod +x "$NEW/deploy.sh"
export DEPLOY_COUNT="$NEW/deploy-count" AGENTCTL_DIR="$NEW/agents"

# new_cluster N [kubernetes]: fresh PostgreSQL, Redis and Vault (not
# initialized), no agents (or a new Kubernetes API double with none).
new_cluster() {
  stop_postgres; stop_redis; rm -rf "${REDIS_DIR:-/nonexistent}"; stop_vault_double
  start_postgres
  start_redis
  start_vault_double --cluster-seed "new-cluster-$1" --state uninitialized
  AGENT_MODE=${2:-command}
  if [ "$AGENT_MODE" = kubernetes ]; then
    start_kubernetes_double --converge-ms 200 --terminate-ms 200
    export DEPLOY_KUBERNETES="$NEW/manifests.json"
  fi
  unset VAULT_TOKEN NEW_ROOT NEW_UNSEAL_KEY
  rm -rf "$AGENTCTL_DIR" "$NEW/restored" "$DEPLOY_COUNT"
  mkdir -p "$AGENTCTL_DIR"
  export DRCTL_STATE_DIR="$NEW/state-$1"
  write_config
}
agents_config() {
  if [ "$AGENT_MODE" = kubernetes ]; then
    printf '[agents]\ncontrol = kubernetes\nnamespace = ai-agents\nselector = role=agent\nwait_seconds = 60\n\n'
    printf '[kubernetes]\napi_url = %s\ntoken_file = %s\nca_file = %s\n' "$DRCTL_KUBERNETES_API_URL" \
      "$DRCTL_KUBERNETES_TOKEN_FILE" "$DRCTL_KUBERNETES_CA_FILE"
  else
    printf '[agents]\ncontrol = command\nstatus_command = %s status\nstop_command = %s stop {name}\n' "$AGENTCTL" "$AGENTCTL"
    printf 'start_command = %s start {name} {replicas}\nwait_seconds = 30\n' "$AGENTCTL"
  fi
}
write_config() {
  cat >"$NEW/drctl.conf" <<EOF
# Everything drctl needs to rebuild the platform: the three off-site things
# and the new cluster's addresses.
[repository]
$(s3rver_repository_conf prod/ "$OFFSITE/s3-access-key-id" "$OFFSITE/s3-secret-access-key")

[state]
dir = $NEW/state

[signing]
public_key_file = $OFFSITE/signing.pub

[encryption]
identity_file = $OFFSITE/age-identity.txt

[postgres]
conninfo = host=127.0.0.1 port=$PGPORT user=$PG_ADMIN_USER dbname=postgres
password_file = $PG_ADMIN_PASSWORD_FILE

[redis]
url = $REDIS_URL

[vault]
address = $VAULT_ADDR

$(agents_config)

[scenario]
deploy_command = $NEW/deploy.sh full
files_target = $NEW/restored
services_wait_seconds = 60
vault_wait_seconds = 60
EOF
}
export DRCTL_CONFIG="$NEW/drctl.conf"

# The person's part at each gate.
provision_new_vault() { # terraform apply is done: init and unseal the NEW Vault with its own keys
  local init
  if [ "$(vault_health | jq -r .initialized)" = false ]; then
    init=$(curl -sS --fail -X PUT "$VAULT_ADDR/v1/sys/init" -d '{"secret_shares":1,"secret_threshold":1}')
    NEW_ROOT=$(jq -r .root_token <<<"$init") NEW_UNSEAL_KEY=$(jq -r '.keys_base64[0]' <<<"$init")
  fi
  if [ "$(vault_health | jq -r .sealed)" = true ]; then
    curl -sS --fail -X PUT "$VAULT_ADDR/v1/sys/unseal" -d "{\"key\":\"$NEW_UNSEAL_KEY\"}" >/dev/null
  fi
  export VAULT_TOKEN=$NEW_ROOT
}
unseal_with_old_key() {
  curl -sS --fail -X PUT "$VAULT_ADDR/v1/sys/unseal" -d "{\"key\":\"$OLD_UNSEAL_KEY\"}" >/dev/null
}

newest_run() { ls -t "$DRCTL_STATE_DIR/runs" 2>/dev/null | head -1 || true; }

journal_has() { local j; j="$DRCTL_STATE_DIR/runs/$(newest_run)/journal"; [ -f "$j" ] && grep -Eq "$1" "$j"; }
# When to SIGKILL, once per round: a step has started (plus up to 90 ms)...
kill_in_step() { journal_has "\"event\":\"start\".*\"step\":\"$KILL_STEP\"" && sleep "0.0$((RANDOM % 10))"; }
# ...Vault took the snapshot, and the run has not journaled it...
kill_after_post() { journal_has '"key":"vault_posted"' && ! journal_has '"key":"vault_restored"' &&
  vault_double_admin | jq -e '.restore.in_progress or .restore.count > 0' >/dev/null; }
# ...pg_restore is loading agents_db...
kill_in_pg_load() { journal_has '"key":"pg_attempt:agents_db"' && ! journal_has '"key":"pg_restored:agents_db"' &&
  [ -n "$(psql_ -At -d postgres -c "select 1 from pg_database where datname = 'agents_db'")" ]; }
# ...or Redis holds part of the keys.
kill_in_redis_load() { journal_has '"key":"redis_attempt"' && [ "$(redis-cli -p "$REDIS_PORT" dbsize)" -gt 0 ]; }

# invoke ARGS: drctl in the background, SIGKILLed when the function KILL_WHEN
# says so (once per round); $RC, $OUT, $ERR as `run` sets them.
invoke() {
  local pid
  "$DRCTL" "$@" >"$T/inv.out" 2>"$T/inv.err" &
  pid=$!
  if [ -n "${KILL_WHEN:-}" ] && [ "$KILLED" = 0 ]; then
    while kill -0 "$pid" 2>/dev/null; do
      if "$KILL_WHEN"; then
        kill -9 "$pid" 2>/dev/null || true
        KILLED=1
        break
      fi
      sleep 0.01
    done
  fi
  set +e; wait "$pid"; RC=$?; set -e
  OUT=$(cat "$T/inv.out"); ERR=$(cat "$T/inv.err")
}

# drive: from a new run to its end, doing the person's part at each gate.
drive() { # label
  local tries=0 run_id state at
  invoke scenario run cluster-loss --yes --backup "$SCENARIO_SET"
  while :; do
    tries=$((tries + 1))
    [ "$tries" -le 10 ] || fail "$1: the run did not end after 10 attempts"
    run_id=$(newest_run)
    if [ -z "$run_id" ]; then invoke scenario run cluster-loss --yes --backup "$SCENARIO_SET"; continue; fi
    state=$("$DRCTL" scenario status "$run_id" --json | jq -r .state)
    at=$("$DRCTL" scenario status "$run_id" --json | jq -r '.at_step // ""')
    case $state/$at in
    done/*)
      # Killed between the run's last record and its report: resuming a
      # finished run renders the report again from the journal.
      jq -e '.state == "done"' "$DRCTL_STATE_DIR/runs/$run_id/report.json" >/dev/null 2>&1 ||
        invoke scenario resume "$run_id"
      break ;;
    waiting/provision-cluster) provision_new_vault; invoke scenario resume "$run_id" --confirm provision-cluster ;;
    waiting/unseal-vault) unseal_with_old_key; invoke scenario resume "$run_id" --confirm unseal-vault ;;
    *) invoke scenario resume "$run_id" ;;
    esac
  done
  RUN=$run_id
}

# The agents as NAME=REPLICAS (NAME=SPEC/READY of every workload on Kubernetes).
agents_now() {
  if [ "$AGENT_MODE" = kubernetes ]; then
    { kubernetes_double_curl --fail "$KUBERNETES_DOUBLE_URL/apis/apps/v1/namespaces/ai-agents/deployments"
      kubernetes_double_curl --fail "$KUBERNETES_DOUBLE_URL/apis/apps/v1/namespaces/ai-agents/statefulsets"; } |
      jq -r '.items[] | "\(.metadata.name)=\(.spec.replicas)/\(.status.readyReplicas // 0)"' | sort | tr '\n' ' '
  else
    "$AGENTCTL" status | sort | sed 's/ /=/' | tr '\n' ' '
  fi
}
agents_want() { # the recorded counts; scheduler (and web, not an agent) as the deploy made them
  if [ "$AGENT_MODE" = kubernetes ]; then echo "planner=3/3 research=4/4 scheduler=2/2 support=1/1 web=2/2 "
  else echo "planner=3 research=4 scheduler=2 support=1 "; fi
}

expect_end_state() { # label
  local kept
  [ "$(harness_pg_sums agents_db)" = "$GOOD_AGENTS" ] || fail "$1: agents_db does not equal the source"
  [ "$(harness_pg_sums billing_db)" = "$GOOD_BILLING" ] || fail "$1: billing_db does not equal the source"
  [ "$(roles)" = "$GOOD_ROLES" ] || fail "$1: the roles are [$(roles)], the source had [$GOOD_ROLES]"
  kept=$(psql_ -At -d postgres -c "select datname from pg_database where datname like 'agents_db_prior_%'")
  [ "$(wc -w <<<"$kept")" = 1 ] || fail "$1: expected the deploy's agents_db kept once, found [$kept]"
  [ -z "$(psql_ -At -d "$kept" -c "select 1 from pg_tables where schemaname = 'public'")" ] || fail "$1: $kept is not the deploy's empty database"
  [ "$(keyspace)" = "$GOOD_KEYSPACE" ] || fail "$1: Redis holds [$(keyspace)], the source [$GOOD_KEYSPACE]"
  [ "$(vault_health | jq -r '.cluster_id + " " + (.sealed | tostring)')" = "$OLD_CLUSTER_ID false" ] ||
    fail "$1: Vault is not the unsealed old cluster: $(vault_health)"
  [ "$(vault_read platform/database "$OLD_ROOT")" = "$GOOD_SECRET_DB" ] && [ "$(vault_read agents/openai "$OLD_ROOT")" = "$GOOD_SECRET_AI" ] ||
    fail "$1: the Vault secrets do not read back with the old cluster's token"
  [ "$(agents_now)" = "$(agents_want)" ] || fail "$1: the agents are at [$(agents_now)], not [$(agents_want)]"
  cmp -s "$NEW/restored$T/platform-etc/gateway.conf" <(echo "listen 8443") &&
    [ "$(sha256sum <"$NEW/restored$T/platform-etc/tls/ca.pem")" = "$GOOD_CA" ] || fail "$1: the files are not restored"
  jq -e '.state == "done" and all(.steps[]; .state == "done")' "$DRCTL_STATE_DIR/runs/$RUN/report.json" >/dev/null ||
    fail "$1: the report does not say every step is done"
  pass_note "$1: databases equal the source, roles back, the deploy's agents_db kept, Redis keys, Vault secrets with the old token, files, agents at 3/1/4 (+ scheduler at the deploy's 2)"
}

# --- the plan: every step and what it touches, touching nothing ------------------------------
SCENARIO_SET=$SET
cat >"$NEW/manifests.json" <<'EOF'
{"namespace": "ai-agents", "workloads": [
  {"name": "planner", "replicas": 2, "labels": {"app": "planner", "role": "agent"}},
  {"name": "support", "replicas": 2, "labels": {"app": "support", "role": "agent"}},
  {"name": "research", "kind": "StatefulSet", "replicas": 2, "labels": {"app": "research", "role": "agent"}},
  {"name": "scheduler", "replicas": 2, "labels": {"app": "scheduler", "role": "agent"}},
  {"name": "web", "replicas": 2, "labels": {"app": "web", "tier": "frontend"}}
]}
EOF
new_cluster 1
run "$DRCTL" scenario plan cluster-loss --backup "$SET"
expect_rc 0 "scenario plan cluster-loss"
for step in preflight provision-cluster restore-vault unseal-vault wait-vault deploy-platform hold-agents wait-services \
  restore-postgres restore-redis restore-files check-services start-agents health-checks; do
  grep -Eq "^[0-9]+\. $step" <<<"$OUT" || fail "the plan lacks step $step"
done
pass_note "the plan lists all fourteen steps"
expect_out "reads backup set $SET \\(finished $FINISHED" "the plan names the set and when it finished"
expect_out "posts the raft snapshot of set $SET .* cluster vault-cluster-[0-9a-f]+ $OLD_CLUSTER_ID\\) to $VAULT_ADDR with snapshot-force" "the plan names the snapshot, its cluster and the target"
expect_out "provision-cluster \\(gate: a person acts\\)" "the gates are marked"
expect_out "runs \`$NEW/deploy.sh full\` \\(no shell, at most 1800 s\\)" "the plan shows the deploy command"
expect_out "creates database agents_db from the set and compares [0-9]+ tables" "the plan names agents_db"
expect_out "creates database billing_db from the set" "the plan names every database of the set"
expect_out "restores 40002 keys into \\[redis\\] url" "the plan gives Redis' key count"
expect_out "writes [0-9]+ members under $NEW/restored" "the plan says where the files go"
expect_out "agent planner: started at 3 replicas \\(recorded in the backup set\\)" "the plan gives the recorded agent counts"
[ "$(double_log vault | jq '.requests // . | length')" = 0 ] || fail "the plan sent requests to Vault: $(double_log vault)"
[ -z "$(psql_ -At -d postgres -c "select datname from pg_database where datname not in ('postgres','template0','template1')")" ] ||
  fail "the plan created a database"
[ "$(redis-cli -p "$REDIS_PORT" dbsize)" = 0 ] && [ ! -e "$DEPLOY_COUNT" ] && [ -z "$(ls "$AGENTCTL_DIR")" ] &&
  [ ! -e "$NEW/restored" ] && [ ! -e "$DRCTL_STATE_DIR/runs" ] || fail "the plan touched Redis, the deploy, the agents, the files or the state"
pass_note "the plan touched nothing: no Vault request, no database, no key, no deploy, no agent, no run"

# --- a truncated object: refused before anything is provisioned -----------------------------
# The preflight reads no object (each restore step checks its members' signed
# hashes as it reads them); it stats each one against its signed size.
OBJ=$(find "$S3RVER_DIR/$S3RVER_BUCKET/prod/backups/$SET" -name '*redis*._S3rver_object' | head -1)
[ -n "$OBJ" ] || fail "no Redis object of set $SET under $S3RVER_DIR"
cp "$OBJ" "$T/redis-object.saved"
truncate -s -1 "$OBJ"
run "$DRCTL" scenario run cluster-loss --yes --backup "$SET"
expect_rc 4 "cluster-loss from a set with a truncated object"
expect_err "backup set $SET FAILED verification" "the preflight says the set failed"
expect_err "redis[^ ]* is [0-9]+ bytes, the signed manifest says [0-9]+ \(truncated or extended\)" "it names the object and both sizes"
expect_err "nothing was provisioned, posted or restored.*\`drctl scenario abort $(newest_run)\`.*\`drctl scenario run cluster-loss --backup ID\`" \
  "it says nothing was done and gives the next commands"
[ "$(double_log vault | jq '.requests // . | length')" = 0 ] && [ ! -e "$DEPLOY_COUNT" ] ||
  fail "the refused run reached Vault or the deploy"
run "$DRCTL" scenario abort "$(newest_run)"
expect_rc 0 "abort the refused run"
cp "$T/redis-object.saved" "$OBJ"
pass_note "a truncated object stops the run at the preflight, before Vault or the deploy"

# --- the whole scenario ----------------------------------------------------------------
run "$DRCTL" scenario run cluster-loss --yes --backup "$SET"
expect_rc 7 "the run stops at the first gate"
RUN=$(newest_run)
expect_err "run $RUN is waiting at step provision-cluster" "it says where it waits"
expect_err 'terraform apply' "the gate says to run terraform apply"
expect_err "VAULT_ADDR=$VAULT_ADDR vault operator init" "the gate says to initialize the new Vault"
expect_err "drctl scenario resume $RUN --confirm provision-cluster" "the gate gives the command that goes on"
# Confirmed before the new Vault is initialized: nothing is posted.
run "$DRCTL" scenario resume "$RUN" --confirm provision-cluster
expect_rc 1 "restore-vault with a Vault that is not initialized"
expect_err "Vault at $VAULT_ADDR is not initialized; the snapshot was not posted" "it says nothing was posted"
expect_err "vault operator init.*drctl scenario resume $RUN" "and what to do, then resume"
[ "$(vault_double_admin | jq '.restore.count')" = 0 ] || fail "a snapshot reached the uninitialized Vault"
provision_new_vault
run "$DRCTL" scenario resume "$RUN"
expect_rc 7 "after the restore the run waits at the unseal gate"
expect_err "now holds the snapshot of cluster vault-cluster-[0-9a-f]+ \\($OLD_CLUSTER_ID\\)" "the gate names the snapshot's cluster"
expect_err "Unseal it with the unseal keys of THAT cluster, the old one" "the gate says which keys"
[ "$(vault_health | jq -r .sealed)" = true ] || fail "Vault is not sealed after the forced restore"
jq -e '.restore.last.force == true' <<<"$(vault_double_admin)" >/dev/null || fail "the restore was not snapshot-force"
pass_note "the snapshot went to the new cluster with snapshot-force, which then waits for the old keys"
unseal_with_old_key
run "$DRCTL" scenario resume "$RUN" --confirm unseal-vault
expect_rc 0 "the run goes to its end"
expect_err '^deploy[|] deploying production full' "the deploy's output is shown"
expect_err '^deploy[|] platform deployed' "its stderr too"
[ "$(wc -l <"$DEPLOY_COUNT")" = 1 ] || fail "the deploy ran $(wc -l <"$DEPLOY_COUNT") times"
expect_end_state "uninterrupted run"
REPORT="$DRCTL_STATE_DIR/runs/$RUN"
grep -q 'the measured RTO' "$REPORT/report.md" || fail "report.md gives no RTO"
grep -Eq "^- RPO: .* backup set $SET finished at $FINISHED; the disaster is taken as the run's start" "$REPORT/report.md" ||
  fail "report.md gives no RPO: $(grep -i rpo "$REPORT/report.md")"
RPO=$(jq -r '.rpo.seconds' "$REPORT/report.json")
START=$(jq -r '.started' "$REPORT/report.json")
WANT_RPO=$(( $(date -d "${RUN:0:4}-${RUN:4:2}-${RUN:6:2}T${RUN:9:2}:${RUN:11:2}:${RUN:13:2}Z" +%s) - $(date -d "$FINISHED" +%s) ))
[ "${RPO%.*}" = "$WANT_RPO" ] || fail "the RPO is $RPO s, the set finished $WANT_RPO s before the run ($START)"
grep -q 'id="rpo"' "$REPORT/report.html" || fail "report.html gives no RPO"
pass_note "the report gives the RTO (the run's total) and the RPO (set finished -> run start)"
grep -q 'database agents_db was already there (made by the deploy?): kept as agents_db_prior_' "$REPORT/report.md" ||
  fail "the report does not say the deploy's agents_db was kept"
pass_note "the report says where the deploy's empty agents_db went"
for secret in "$(cat "$PG_ADMIN_PASSWORD_FILE")" "$NEW_ROOT" "$OLD_UNSEAL_KEY" "$S3RVER_SECRET_KEY" kv-db-secret-1 sk-test-kv-2; do
  if grep -qF -- "$secret" "$REPORT/journal" "$REPORT"/report.*; then fail "a secret is in the journal or the report"; fi
done
pass_note "no password, token, unseal key, S3 secret or KV value in the journal or the report"

# --- SIGKILL, then resume: the same end state ----------------------------------------------
STEPS=(preflight restore-vault wait-vault deploy-platform hold-agents wait-services restore-postgres restore-redis restore-files check-services start-agents health-checks)
KILL_STEP=${CLUSTER_LOSS_KILL_STEP:-${STEPS[$((RANDOM % ${#STEPS[@]}))]}}
echo "# random kill step: $KILL_STEP (CLUSTER_LOSS_KILL_STEP=$KILL_STEP replays it)"
round=1
# when to kill | what the resumed run must have noticed
for kill in "kill_in_step|" \
  "kill_after_post|is sealed after an earlier attempt posted the snapshot" \
  "kill_in_pg_load|dropping agents_db, the unfinished restore of an earlier attempt of this run" \
  "kill_in_redis_load|holds [0-9]+ keys \\(an earlier attempt's\\): emptied once the backup is proven"; do
  round=$((round + 1))
  new_cluster "$round"
  KILL_WHEN=${kill%%|*} KILLED=0
  label=$KILL_WHEN
  [ "$label" != kill_in_step ] || label="kill_in_step $KILL_STEP"
  drive "$label"
  [ "$KILLED" = 1 ] || fail "round $round: the run was never killed ($label)"
  KILL_WHEN=
  expect_end_state "SIGKILL ($label), then resume"
  if [ -n "${kill#*|}" ]; then
    grep -Eq "${kill#*|}" "$DRCTL_STATE_DIR/runs/$RUN/report.md" || fail "round $round: the resumed run did not say /${kill#*|}/"
    pass_note "the resumed run recognised what the killed one left: ${kill#*|}"
  fi
done

# --- the agents on Kubernetes ---------------------------------------------------------------
new_cluster k8s kubernetes
SCENARIO_SET=$SET_K8S
drive "agents on Kubernetes"
expect_end_state "agents on Kubernetes"
double_log kubernetes | jq -e '[.requests[] | select(.method != "GET") | .path] | length > 0 and
  all(test("/(deployments|statefulsets)/(planner|support|research|scheduler)/scale$"))' >/dev/null ||
  fail "the run wrote something else than the agents' scale: $(double_log kubernetes | jq -c '[.requests[] | select(.method != "GET") | .method + " " + .path]')"
pass_note "on Kubernetes only the agents' /scale was written (web, outside the selector, untouched)"

echo "$CHECKS passed, 0 failed"
