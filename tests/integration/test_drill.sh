#!/usr/bin/env bash
# drctl drill end to end on real servers: a production PostgreSQL 15, Redis 7
# and Vault double, and a SECOND of each as the scratch targets.
#  - --when last-friday on a day that is not one (in a zone where it is not):
#    exit 0, nothing done; a bad zone is refused;
#  - a scratch target that is production (PostgreSQL through its socket,
#    Redis on another address of the same server, the Vault itself) is
#    refused before anything is touched;
#  - a drill with --keep: every database of the set and the globals on the
#    scratch server, equal to production; the Redis keys; Vault's snapshot
#    posted to the scratch Vault; the report in three forms; the HTML page
#    rendered by headless Chromium (a screenshot, the timeline's steps and
#    the history's points in the rendered DOM); the signed record in the
#    repository, which `minisign -V` verifies;
#  - a scratch Redis that holds keys is refused; a drill without --keep
#    leaves nothing on the scratch servers, and its history has two points;
#  - a tampered record is shown as not trusted;
#  - SIGKILL in the middle of the PostgreSQL restore, `drctl scenario
#    resume RUN`: the scratch copies are gone and the record is written once.
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
. "$DRCTL_SOURCE_DIR/tests/harness/services.sh"
require_tools jq minisign chromium redis-cli sha256sum curl
harness_init
DATA="$DRCTL_SOURCE_DIR/tests/data/postgres"

# --- production and scratch servers ---------------------------------------------
start_postgres
P_PORT=$PGPORT P_PW=$PG_ADMIN_PASSWORD_FILE P_SOCK=$PG_SOCKET_DIR
unset PG_PID
start_postgres
S_PORT=$PGPORT S_PW=$PG_ADMIN_PASSWORD_FILE
export PGPORT=$P_PORT # psql and createdb below: production
P_RPW=prod-redis-secret
start_redis --bind 127.0.0.1 127.0.0.2 --requirepass "$P_RPW" # a second address; a password the scratch must never get
P_R=$REDIS_PORT
unset REDIS_PID
start_redis
S_R=$REDIS_PORT
start_vault_double
P_V=$VAULT_ADDR
start_vault_double --cluster-seed drill-scratch --root-token scratch-root # its own token
S_V=$VAULT_ADDR S_VADMIN=$VAULT_DOUBLE_ADMIN S_VLOG=$VAULT_DOUBLE_ADMIN/log
export VAULT_ADDR=$P_V VAULT_TOKEN=root # production's

sums() { psql_ -p "$1" -At -d "$2" -f "$DATA/table-checksums.sql"; }
drill_dbs() { psql_ -p "$S_PORT" -At -d postgres -c "select datname from pg_database where datname like '%\\_drill\\_%' order by 1" | tr '\n' ' '; }
prod_dbs() { psql_ -At -d postgres -c "select datname from pg_database order by 1" | tr '\n' ' '; }
rcli() { redis-cli --no-auth-warning -p "$@"; }
prcli() { redis-cli --no-auth-warning -a "$P_RPW" -p "$P_R" "$@"; }
scratch_vault_fresh() { curl -sf -X POST -H 'Content-Type: application/json' --data-binary '{"reinitialize":{"cluster_seed":"drill-scratch-'"$1"'"}}' "$S_VADMIN/state" >/dev/null; }

harness_pg_fixture agents_db
"$PG_BIN/createdb" agents_audit
psql_ -d agents_audit -c "create table events (id bigint primary key, at timestamptz not null default now(), what text not null);
  insert into events (id, what) select g, repeat('event ', 8) || g from generate_series(1, 200000) g;
  create sequence audit_seq; select setval('audit_seq', 4242);" >/dev/null
for i in $(seq 1 300); do echo "SET key:$i value-$i"; done | prcli >/dev/null
prcli -n 3 SET sessions:1 alice >/dev/null
prcli HSET limits:planner rpm 60 >/dev/null
P_KEYS=$(prcli DBSIZE)
P_ALL=$((P_KEYS + $(prcli -n 3 DBSIZE)))
curl -sf -H "X-Vault-Token: root" -X POST --data-binary '{"data":{"api_key":"drill-secret-1"}}' "$P_V/v1/secret/data/agents/planner" >/dev/null

drctl_init_in "$T"
export DRCTL_CONFIG=$CONF
export DRCTL_POSTGRES_CONNINFO="host=127.0.0.1 port=$P_PORT user=$PG_ADMIN_USER dbname=postgres"
export DRCTL_POSTGRES_PASSWORD_FILE=$P_PW DRCTL_POSTGRES_DATABASES=agents_db,agents_audit
(umask 077 && echo "$P_RPW" >"$T/prod-redis-password")
export DRCTL_REDIS_URL="redis://127.0.0.1:$P_R" DRCTL_REDIS_PASSWORD_FILE="$T/prod-redis-password" DRCTL_VAULT_ADDRESS=$P_V
export DRCTL_SCRATCH_POSTGRES_CONNINFO="host=127.0.0.1 port=$S_PORT user=$PG_ADMIN_USER dbname=postgres"
export DRCTL_SCRATCH_POSTGRES_PASSWORD_FILE=$S_PW
export DRCTL_SCRATCH_REDIS_URL="redis://127.0.0.1:$S_R" DRCTL_SCRATCH_VAULT_ADDRESS=$S_V
(umask 077 && echo scratch-root >"$T/scratch-vault-token")
mkdir -p "$T/metrics"
export DRCTL_METRICS_TEXTFILE_DIR="$T/metrics" # node_exporter's textfile collector
PROM="$T/metrics/drctl_drill.prom"
metric() { awk -v m="$1" '$1 == m { print $2 }' "$PROM"; }
export DRCTL_SCRATCH_VAULT_TOKEN_FILE="$T/scratch-vault-token"

run "$DRCTL" backup
expect_rc 0 "backup of PostgreSQL, Redis and Vault"
SET=$OUT
GOOD_DB=$(sums "$P_PORT" agents_db)
GOOD_AUDIT=$(sums "$P_PORT" agents_audit)
PROD_DBS=$(prod_dbs)
runs() { ls "$T/state/runs" 2>/dev/null | wc -l; }
run_of_out() { grep -Eo 'run [0-9TZ]+-drill-[0-9a-f]+ \(drill\)' <<<"$OUT" | head -1 | cut -d' ' -f2; }
records() { find "$T/repo/drills" -name record.json 2>/dev/null | wc -l; }

# --- the drill is a scenario: listed, planned ----------------------------------------
run "$DRCTL" scenario list
expect_out '^drill +the monthly DR drill' "scenario list shows the drill"
run "$DRCTL" scenario plan drill
expect_rc 0 "scenario plan drill"
expect_out 'scratch PostgreSQL: the globals \(roles\), then a new database <database>_drill_<run time>' "the plan says what the drill creates"
expect_out "scratch Redis redis://127.0.0.1:$S_R \(it must be empty\)" "and where"
[ -z "$(drill_dbs)" ] && [ "$(runs)" = 0 ] || fail "planning touched something"

# --- --when last-friday on a day that is not one ----------------------------------
# Some zone has today's date on a day that is not its month's last Friday
# (the zones span 26 hours, so the last Friday is not everywhere at once).
is_last_friday() { # zone
  [ "$(TZ=$1 date +%u)" = 5 ] && [ "$(TZ=$1 date -d '+7 days' +%m)" != "$(TZ=$1 date +%m)" ]
}
ZONE=
for z in UTC Pacific/Kiritimati Etc/GMT+12 Asia/Tokyo America/New_York; do
  if ! is_last_friday "$z"; then ZONE=$z; break; fi
done
[ -n "$ZONE" ] || fail "every candidate zone says it is the last Friday"
run "$DRCTL" drill --when last-friday --timezone "$ZONE"
expect_rc 0 "--when last-friday on a day that is not one ($ZONE: $(TZ=$ZONE date +%F))"
expect_out "today, [A-Za-z]+ $(TZ=$ZONE date +%F) \\($ZONE\\), is not the last Friday of its month; the next one is Friday 20[0-9]{2}-[0-9]{2}-(2[5-9]|3[01])\\. Nothing was done" "says it is not the day, and when the next one is"
NEXT=$(grep -Eo 'Friday [0-9-]+\.' <<<"$OUT" | tr -d 'Friday .')
[ "$(date -d "$NEXT" +%u)" = 5 ] && [ "$(date -d "$NEXT +7 days" +%m)" != "$(date -d "$NEXT" +%m)" ] && [[ ! "$NEXT" < "$(TZ=$ZONE date +%F)" ]] ||
  fail "the next last Friday $NEXT is not a last Friday after today"
pass_note "the next date it names is a last Friday to come"
[ "$(runs)" = 0 ] && [ "$(records)" = 0 ] || fail "--when on another day started a run"
pass_note "nothing was started"
run "$DRCTL" drill --when last-friday --timezone Mars/Olympus_Mons
expect_rc 2 "an unknown time zone"
expect_err 'is not a time zone' "names the bad zone"
run "$DRCTL" drill --when monthly
expect_rc 2 "--when takes last-friday only"

# --- scratch targets that are production: refused, nothing touched ------------------
untouched() { # label
  [ "$(prod_dbs)" = "$PROD_DBS" ] || fail "$1: production's databases changed: $(prod_dbs)"
  [ "$(sums "$P_PORT" agents_db)" = "$GOOD_DB" ] || fail "$1: production's agents_db changed"
  [ "$(prcli DBSIZE)" = "$P_KEYS" ] || fail "$1: production's Redis changed"
  [ -z "$(drill_dbs)" ] || fail "$1: the scratch server has drill databases: $(drill_dbs)"
  [ "$(rcli "$S_R" DBSIZE)" = 0 ] || fail "$1: the scratch Redis was written"
  [ "$(records)" = 0 ] || fail "$1: a drill record was published"
  pass_note "$1: production and the scratch servers are untouched, no record"
}
run env DRCTL_SCRATCH_POSTGRES_CONNINFO="host=$P_SOCK port=$P_PORT user=postgres dbname=template1" "$DRCTL" drill
expect_rc 2 "scratch PostgreSQL = production through its socket"
expect_err 'postgres_conninfo is the production PostgreSQL: .* are one server \(the same system identifier [0-9]+\); the drill refuses and touched nothing' "refused by the system identifier"
untouched "PostgreSQL refusal"
run env DRCTL_SCRATCH_POSTGRES_CONNINFO="host=localhost port=$P_PORT user=$PG_ADMIN_USER dbname=agents_db" DRCTL_SCRATCH_POSTGRES_PASSWORD_FILE=$P_PW "$DRCTL" drill
expect_rc 2 "scratch PostgreSQL = production by another name and database"
expect_err 'is the production PostgreSQL' "refused"
untouched "PostgreSQL refusal (localhost, another database)"
run env DRCTL_SCRATCH_REDIS_URL="redis://127.0.0.2:$P_R" DRCTL_SCRATCH_REDIS_PASSWORD_FILE="$T/prod-redis-password" "$DRCTL" drill
expect_rc 2 "scratch Redis = production on another address"
expect_err "redis_url is the production Redis: redis://127.0.0.2:$P_R and production's redis://127.0.0.1:$P_R are one server \\(the same run_id [0-9a-f]{40}\\)" "refused by the run_id"
untouched "Redis refusal"
run env DRCTL_SCRATCH_VAULT_ADDRESS="$P_V" "$DRCTL" drill
expect_rc 2 "scratch Vault = production"
expect_err 'vault_address is the production Vault' "refused"
untouched "Vault refusal"

# --- a drill with --keep -----------------------------------------------------------
run "$DRCTL" drill --keep
expect_rc 0 "drill --keep"
RUN1=$(run_of_out)
expect_out "run $RUN1 \\(drill\\): done" "the run is done"
expect_out 'RTO: total [0-9.]+ s.*, postgres [0-9.]+ s, redis [0-9.]+ s, vault [0-9.]+ s' "prints the RTO of each component"
expect_out "record: drills/$RUN1/record.json \\(signed\\)" "names the record"
R1="$T/state/runs/$RUN1"
for f in report.md report.json report.html journal; do [ -s "$R1/$f" ] || fail "the run folder lacks $f"; done
pass_note "journal and report in three forms"
jq -e --arg set "$SET" '.state == "done" and .drill.backup == $set and (.drill.rpo_seconds | type) == "number" and .drill.rpo_seconds >= 0
  and ([.drill.rto_seconds.total, .drill.rto_seconds.postgres, .drill.rto_seconds.redis, .drill.rto_seconds.vault] | all(type == "number" and . >= 0))
  and .drill.rto_seconds.total >= .drill.rto_seconds.postgres + .drill.rto_seconds.redis + .drill.rto_seconds.vault
  and .drill.kept == true and (.drill.history | length) == 1 and .drill.history[0].valid == true' "$R1/report.json" >/dev/null ||
  fail "report.json lacks the drill's RTO, RPO or history: $(jq -c .drill "$R1/report.json")"
pass_note "report.json: RPO, RTO per component and in total, one valid record in the history"
grep -Eq '^- RPO, the set.s age when the drill started: [0-9.]+ s' "$R1/report.md" && grep -q 'the measured RTO' "$R1/report.md" ||
  fail "report.md lacks RPO or RTO"
pass_note "report.md gives RPO and RTO"
run "$DRCTL" scenario status "$RUN1" --json
SCRATCH_DB=$(jq -r '.facts.scratch_databases.agents_db' <<<"$OUT")
SCRATCH_AUDIT=$(jq -r '.drill.databases.agents_audit' "$R1/report.json")
[ "$(sums "$S_PORT" "$SCRATCH_DB")" = "$GOOD_DB" ] && [ "$(sums "$S_PORT" "$SCRATCH_AUDIT")" = "$GOOD_AUDIT" ] ||
  fail "the kept scratch copies differ from production ($SCRATCH_DB, $SCRATCH_AUDIT)"
pass_note "--keep: both databases of the set are on the scratch server, equal to production ($SCRATCH_DB, $SCRATCH_AUDIT)"
[ "$(psql_ -p "$S_PORT" -At -d postgres -c "select count(*) from pg_roles where rolname in ('app_reader', 'app_writer', 'app_auditor')")" = 3 ] ||
  fail "the backup's roles are not on the scratch server"
psql_ -p "$S_PORT" -At -d "$SCRATCH_AUDIT" -c "select last_value from audit_seq" | grep -qx 4242 || fail "the scratch copy's sequence is not the backup's"
pass_note "the globals (roles) and sequences came along"
[ "$(rcli "$S_R" DBSIZE)" = "$P_KEYS" ] && [ "$(rcli "$S_R" -n 3 GET sessions:1)" = alice ] || fail "the scratch Redis does not hold the set's keys"
pass_note "--keep: the scratch Redis holds the set's keys (db 0 and db 3)"
curl -sf "$S_VADMIN/state" | jq -e '.restore.last.ok == true and .restore.last.force == true' >/dev/null || fail "the scratch Vault did not take the snapshot (forced)"
pass_note "the scratch Vault took the snapshot (snapshot-force)"
[ "$(prod_dbs)" = "$PROD_DBS" ] && [ "$(sums "$P_PORT" agents_db)" = "$GOOD_DB" ] && [ "$(prcli DBSIZE)" = "$P_KEYS" ] || fail "production changed during the drill"
pass_note "production is as it was"
for pw in "$P_PW" "$S_PW" "$T/prod-redis-password" "$T/scratch-vault-token"; do
  if grep -rqF "$(cat "$pw")" "$T/state/runs" "$T/repo/drills"; then fail "a database password is in a journal, report or record"; fi
done
pass_note "no password in the journal, the report or the record"

# The metrics monitoring scrapes.
[ "$(metric drctl_drill_last_status)" = 1 ] || fail "drctl_drill.prom does not say the drill succeeded: $(cat "$PROM" 2>&1)"
awk -v rto="$(metric drctl_drill_rto_seconds)" -v want="$(jq '.drill.rto_seconds.total' "$R1/report.json")" \
  -v rpo="$(metric drctl_drill_rpo_seconds)" -v wrpo="$(jq '.drill.rpo_seconds' "$R1/report.json")" -v ts="$(metric drctl_drill_last_success_timestamp_seconds)" -v now="$(date +%s)" \
  'BEGIN { exit !(rto > 0 && rto >= want - 0.01 && rpo == wrpo && ts > now - 600 && ts <= now + 1) }' ||
  fail "the drill's metrics do not match its report: $(cat "$PROM")"
pass_note "drctl_drill_last_status 1, and the RTO, RPO and last success of the report, in the textfile collector"
RTO1=$(metric drctl_drill_rto_seconds)

# The record: signed, verified by stock minisign.
REC="$T/repo/drills/$RUN1/record.json"
[ -s "$REC" ] && [ -s "$REC.minisig" ] || fail "no record in the repository"
run minisign -Vm "$REC" -p "$T/signing.pub"
expect_rc 0 "minisign -V verifies the drill record"
jq -e --arg run "$RUN1" --arg set "$SET" '.format == "drctl-drill-record/1" and .run == $run and .backup == $set and .status == "passed"
  and (.rto_seconds.total | type) == "number" and (.rpo_seconds | type) == "number"' "$REC" >/dev/null || fail "the record lacks its facts: $(cat "$REC")"
pass_note "the record holds the run, the set, RTO and RPO"

# The HTML page, rendered by a browser.
chrome() { # OUT-FLAG... URL
  local profile
  profile=$(mktemp -d "$T/chromium.XXXXXX")
  timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --user-data-dir="$profile" --window-size=1200,900 "$@" 2>/dev/null
}
chrome --screenshot="$T/report1.png" "file://$R1/report.html" >/dev/null
[ -s "$T/report1.png" ] && [ "$(head -c 8 "$T/report1.png" | xxd -p)" = 89504e470d0a1a0a ] || fail "no PNG screenshot of the report"
pass_note "headless Chromium took a screenshot of the report ($(stat -c %s "$T/report1.png") bytes)"
chrome --dump-dom "file://$R1/report.html" >"$T/dom1.html"
for step in preflight verify-set restore-postgres restore-redis restore-vault drop-scratch record; do
  grep -q "<g class=\"step\" data-step=\"$step\" data-state=\"done\">" "$T/dom1.html" || fail "the rendered timeline lacks step $step, done"
done
pass_note "the rendered DOM has every step of the timeline, each done"
[ "$(grep -o '<g class="point" data-run="[^"]*" data-valid="true">' "$T/dom1.html" | wc -l)" = 1 ] || fail "the history chart should have one point"
pass_note "the rendered history chart has one point"

# --- a scratch Redis that holds keys is refused; then a drill without --keep ----------
run "$DRCTL" drill
expect_rc 2 "a drill into a scratch Redis that holds keys"
expect_err "the scratch Redis redis://127.0.0.1:$S_R holds $P_ALL keys; the drill restores only into an empty one" "says why"
[ "$(rcli "$S_R" DBSIZE)" = "$P_KEYS" ] || fail "the refused drill changed the scratch Redis"
pass_note "the scratch Redis was not flushed by the refused drill"
[ "$(metric drctl_drill_last_status)" = 0 ] && [ "$(metric drctl_drill_rto_seconds)" = "$RTO1" ] ||
  fail "a failed drill should publish status 0 and leave the last success's RTO: $(cat "$PROM")"
pass_note "a failed drill publishes drctl_drill_last_status 0 and leaves the last success's RTO as it was"
for db in $(drill_dbs); do "$PG_BIN/dropdb" -p "$S_PORT" "$db"; done
rcli "$S_R" FLUSHALL >/dev/null
scratch_vault_fresh 2
run "$DRCTL" drill
expect_rc 0 "drill without --keep"
RUN2=$(run_of_out)
[ -z "$(drill_dbs)" ] || fail "without --keep, scratch databases are left: $(drill_dbs)"
[ "$(rcli "$S_R" DBSIZE)" = 0 ] && [ "$(rcli "$S_R" -n 3 DBSIZE)" = 0 ] || fail "without --keep, the scratch Redis still holds keys"
pass_note "without --keep the scratch databases are dropped and the Redis databases flushed"
R2="$T/state/runs/$RUN2"
jq -e '.drill.dropped == true and (.drill.history | length) == 2 and all(.drill.history[]; .valid)' "$R2/report.json" >/dev/null ||
  fail "the second drill's history does not hold two valid records"
chrome --dump-dom "file://$R2/report.html" >"$T/dom2.html"
[ "$(grep -o '<g class="point" data-run="[^"]*" data-valid="true">' "$T/dom2.html" | wc -l)" = 2 ] || fail "the history chart should have two points"
grep -q "data-run=\"$RUN1\"" "$T/dom2.html" && grep -q "data-run=\"$RUN2\"" "$T/dom2.html" || fail "the two points are not the two drills"
pass_note "the second drill's rendered history chart has both drills"

# --- a tampered record is not trusted -------------------------------------------------
jq '.rto_seconds.total = 1' "$REC" >"$T/forged.json" && cat "$T/forged.json" >"$REC"
run minisign -Vm "$REC" -p "$T/signing.pub"
[ "$RC" != 0 ] || fail "minisign accepts the tampered record"
pass_note "minisign -V rejects the tampered record"
for db in $(drill_dbs); do "$PG_BIN/dropdb" -p "$S_PORT" "$db"; done
run env -u DRCTL_SCRATCH_VAULT_ADDRESS "$DRCTL" drill
expect_rc 0 "a third drill, with no scratch Vault"
RUN3=$(run_of_out)
R3="$T/state/runs/$RUN3"
jq -e --arg bad "$RUN1" '(.drill.history | length) == 3 and ([.drill.history[] | select(.valid | not) | .run] == [$bad])
  and (.drill.history[] | select(.run == $bad) | .reason | test("signature does not verify")) and .drill.rto_seconds.vault == null' "$R3/report.json" >/dev/null ||
  fail "the tampered record is not shown as invalid: $(jq -c '.drill.history' "$R3/report.json")"
grep -q "| $RUN1 | - | - | - | NOT TRUSTED: the signature does not verify" "$R3/report.md" || fail "report.md does not mark the tampered record"
chrome --dump-dom "file://$R3/report.html" >"$T/dom3.html"
grep -q "<g class=\"point invalid\" data-run=\"$RUN1\" data-valid=\"false\">" "$T/dom3.html" || fail "the chart does not show the tampered record as invalid"
[ "$(grep -o '<g class="point" data-run="[^"]*" data-valid="true">' "$T/dom3.html" | wc -l)" = 2 ] || fail "the chart should trust two records"
pass_note "the tampered record is shown as not trusted, without its values; the other two are trusted"
grep -q 'the snapshot.s deep check is the proof' "$R3/report.md" || fail "without a scratch Vault the report does not say how Vault was proven"
pass_note "without a scratch Vault the snapshot's deep check is the proof, and the report says so"

# --- SIGKILL in the middle of the PostgreSQL restore, then resume ---------------------
SLOW="$T/slow-pg-restore.sh"
printf '#!/bin/sh\ncase "$1" in --version) ;; *) sleep 2 ;; esac\nexec %s "$@"\n' "$PG_BIN/pg_restore" >"$SLOW"
chmod +x "$SLOW"
scratch_vault_fresh 4
DRCTL_POSTGRES_PG_RESTORE=$SLOW "$DRCTL" drill >"$T/killed.out" 2>&1 &
PID=$!
for n in $(seq 1 600); do
  [ -n "$(drill_dbs)" ] && break
  kill -0 "$PID" 2>/dev/null || break
  sleep 0.05
done
[ -n "$(drill_dbs)" ] || { cat "$T/killed.out" >&2; fail "the drill never created its scratch database"; }
# While it restores: a second drill waits its turn; a disaster scenario does not.
run "$DRCTL" drill
expect_rc 5 "a second drill while one runs"
expect_err 'is running: only one drill run at a time' "names the drill lock"
run "$DRCTL" scenario run db-corruption --yes
[ "$RC" != 5 ] && ! grep -q 'only one' <<<"$ERR" || fail "a drill kept a disaster scenario waiting: $ERR"
pass_note "a running drill does not hold the platform's scenario lock"
kill -9 "$PID"
wait "$PID" 2>/dev/null || true
RUN4=$(ls -t "$T/state/runs" | grep -- -drill- | head -1)
[ "$RUN4" != "$RUN3" ] || fail "the killed drill has no run"
run "$DRCTL" scenario status "$RUN4" --json
jq -e '.state == "running" and .at_step == "restore-postgres"' <<<"$OUT" >/dev/null || fail "the killed run is not in restore-postgres: $OUT"
pass_note "SIGKILL in the middle of restore-postgres (a scratch database half made: $(drill_dbs))"
echo 'drctl_drill_last_status 0' >"$PROM" # what the kill left unsaid; the resume says it
run "$DRCTL" scenario resume "$RUN4"
expect_rc 0 "scenario resume of the killed drill"
[ "$(metric drctl_drill_last_status)" = 1 ] && [ ! -e "$T/metrics/drctl_scenario-drill.prom" ] ||
  fail "a drill resumed with scenario resume publishes no drill metrics: $(ls "$T/metrics"; cat "$PROM")"
pass_note "scenario resume of a drill publishes the drill's metrics (not a disaster scenario's)"
[ -z "$(drill_dbs)" ] && [ "$(rcli "$S_R" DBSIZE)" = 0 ] || fail "after the resume, scratch copies are left: $(drill_dbs)"
pass_note "after the resume the scratch copies are gone"
[ "$(find "$T/repo/drills/$RUN4" -type f | wc -l)" = 2 ] || fail "the resumed drill's record is not one record and one signature: $(find "$T/repo/drills/$RUN4")"
minisign -Vqm "$T/repo/drills/$RUN4/record.json" -p "$T/signing.pub" || fail "the resumed drill's record does not verify"
jq -e '.steps[] | select(.name == "restore-postgres") | (.attempts | length) == 2' "$T/state/runs/$RUN4/report.json" >/dev/null ||
  fail "restore-postgres should show two attempts"
jq -e '.steps[] | select(.name == "record") | (.attempts | length) == 1' "$T/state/runs/$RUN4/report.json" >/dev/null ||
  fail "the record step ran more than once"
grep -q 'dropped .*_drill_.*, this drill.s unfinished restore of an earlier attempt' "$T/state/runs/$RUN4/report.md" ||
  fail "the resume did not say it dropped the half-made copy"
pass_note "the record is written once (one record, one signature, one attempt) and verifies; the half-made copy was dropped"
run "$DRCTL" scenario resume "$RUN4"
expect_rc 2 "resuming a finished drill"
expect_err 'nothing to resume' "says it is done"

echo "$CHECKS passed, 0 failed"
