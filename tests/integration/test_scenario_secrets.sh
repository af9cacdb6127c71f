#!/usr/bin/env bash
# Secret rotation end to end: `drctl scenario run secrets-compromise` and
# `drctl rotate-secrets`, on a real PostgreSQL 15 (scram-sha-256 for the
# rotated roles), a real Redis 7 with an ACL user kept in an aclfile, and the
# Vault double; agents run by commands (tests/tools/agentctl.sh).
#
#  - after a run the new passwords work, the old ones are refused (PostgreSQL,
#    Redis), Vault holds the new values as the current version with the other
#    fields kept, nothing is pending, the aclfile holds only the new hash;
#  - the evidence (sessions, clients, token accessors, the journal) is in a
#    bundle that stock `age` decrypts, whose manifest `minisign -V` verifies,
#    taken before the sessions were terminated (a run killed once the bundle
#    is written keeps that bundle and signs it on resume); the listed Vault tokens are
#    revoked, drctl's own is not; the third-party key gate refuses --confirm
#    until Vault has a new value; the breach gates follow;
#  - `rotate-secrets` is SIGKILLed after every one of its journal records in
#    turn; at each instant every credential that works is readable from Vault
#    (the current version, or the pending one and the one before it), and
#    after resume PostgreSQL, Redis and Vault agree, one version further;
#  - a rotation failing at ALTER ROLE (a superuser role, a control role with
#    only CREATEROLE) leaves the old password working and Vault unchanged but
#    for a pending version; another run refuses to touch it; resume (fixed)
#    finishes it; abort writes the old value back and removes the marker;
#  - a Redis without ACL users (CONFIG SET requirepass);
#  - --dry-run and --when touch nothing;
#  - no old or new secret is in any output, journal, report, the decrypted
#    bundle, a child's argv or the PostgreSQL log (log_statement = all).
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
. "$DRCTL_SOURCE_DIR/tests/harness/services.sh"
require_tools jq curl age minisign zstd tar sha256sum redis-cli
harness_init
start_postgres

secret_of() { head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
OLD_ADMIN="old-admin-$(secret_of)" OLD_WRITER="old-writer-$(secret_of)" OLD_REDIS="old-redis-$(secret_of)"
OLD_API="old-api-$(secret_of)" OLD_HOOK="old-hook-$(secret_of)" OLD_ANTHROPIC="old-anthropic-$(secret_of)"
SEEN="$T/seen-secrets" # every value a rotated secret ever had: nothing may show them
printf '%s\n' "$OLD_ADMIN" "$OLD_WRITER" "$OLD_REDIS" "$OLD_API" "$OLD_HOOK" "$OLD_ANTHROPIC" >"$SEEN"

sha() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
ACLFILE="$T/users.acl"
printf 'user default on nopass ~* &* +@all\nuser agents-app on #%s ~* &* +@all\n' "$(sha "$OLD_REDIS")" >"$ACLFILE"
start_redis --aclfile "$ACLFILE"
start_vault_double

psql_ -c "CREATE ROLE agents_admin LOGIN PASSWORD '$OLD_ADMIN'" -c "CREATE ROLE app_writer LOGIN PASSWORD '$OLD_WRITER'"
# From here on the server logs every statement: drctl's must hold no password.
psql_ -c "ALTER SYSTEM SET log_statement = 'all'" -c "SELECT pg_reload_conf()" >/dev/null

# --- Vault ------------------------------------------------------------------------
vcurl() { curl -sS -H "X-Vault-Token: $VAULT_TOKEN" "$@"; }
vput() { vcurl -f -X POST "$VAULT_ADDR/v1/secret/data/$1" -d "$2" >/dev/null; }
vdata() { vcurl "$VAULT_ADDR/v1/secret/data/$1${2:+?version=$2}"; }          # PATH [VERSION]
vfield() { vdata "$1" "${3:-}" | jq -r --arg f "$2" '.data.data[$f] // empty'; } # PATH FIELD [VERSION]
vcur() { vcurl "$VAULT_ADDR/v1/secret/metadata/$1" | jq -r '.data.current_version'; }
vmark() { vcurl "$VAULT_ADDR/v1/secret/metadata/$1" | jq -r '.data.custom_metadata.drctl_pending_version // empty'; }
# vmeta PATH: CUR (the current version) and MARK (drctl's pending version, or
# empty) from one read of the metadata.
vmeta() {
	local m
	m=$(vcurl "$VAULT_ADDR/v1/secret/metadata/$1" | jq -r '"\(.data.current_version) \(.data.custom_metadata.drctl_pending_version // "")"')
	read -r CUR MARK <<<"$m"
}
# vversion PATH FIELD VERSION: VAL, that version's field.  A KV v2 version's
# data never changes (drctl writes new versions, never destroys one), so
# each is asked of Vault once: the kill loop below reads every version
# several times per round.
declare -A VERSION_VALUES=()
vversion() {
	local k="$1|$2|$3"
	[ -n "${VERSION_VALUES[$k]+x}" ] || VERSION_VALUES[$k]=$(vfield "$1" "$2" "$3")
	VAL=${VERSION_VALUES[$k]}
}
vput platform/postgres/agents_admin "{\"data\":{\"password\":\"$OLD_ADMIN\",\"username\":\"agents_admin\"}}"
vput platform/postgres/app_writer "{\"data\":{\"password\":\"$OLD_WRITER\",\"username\":\"app_writer\"}}"
vput platform/redis/agents-app "{\"data\":{\"password\":\"$OLD_REDIS\"}}"
vput agents/internal-api "{\"data\":{\"api_key\":\"$OLD_API\",\"url\":\"http://internal-api:8080\"}}"
vput agents/webhook "{\"data\":{\"secret\":\"$OLD_HOOK\"}}"
vput agents/anthropic "{\"data\":{\"api_key\":\"$OLD_ANTHROPIC\",\"org\":\"acme\"}}"
token_accessor() { curl -sS -H "X-Vault-Token: $1" "$VAULT_ADDR/v1/auth/token/lookup-self" | jq -r .data.accessor; }
token_works() { [ "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Vault-Token: $1" "$VAULT_ADDR/v1/auth/token/lookup-self")" = 200 ]; }
LEAKED1="hvs.leaked-$(secret_of)" LEAKED2="hvs.leaked-$(secret_of)" KEPT="hvs.kept-$(secret_of)"
printf '%s\n' "$LEAKED1" "$LEAKED2" "$KEPT" >>"$SEEN"
vault_double_admin "{\"tokens\":[{\"id\":\"$LEAKED1\",\"policies\":[\"kv-read\"],\"display_name\":\"ci-deployer\"},{\"id\":\"$LEAKED2\",\"policies\":[\"kv-read\"],\"display_name\":\"laptop-of-someone\"},{\"id\":\"$KEPT\",\"policies\":[\"kv-read\"],\"display_name\":\"still-trusted\"}]}" >/dev/null
ACCESSORS="$T/revoke-accessors.txt"
{ echo "# tokens seen in the leaked CI log"; token_accessor "$LEAKED1"; echo; token_accessor "$LEAKED2"; token_accessor "$VAULT_TOKEN"; } >"$ACCESSORS"

# --- drctl ------------------------------------------------------------------------
drctl_init_in "$T"
export DRCTL_CONFIG=$CONF
harness_drctl_postgres postgres
export DRCTL_REDIS_URL="$REDIS_URL"
AGENTCTL="$DRCTL_SOURCE_DIR/tests/tools/agentctl.sh"
export AGENTCTL_DIR="$T/agents" AGENTCTL_LOG="$T/agentctl.log" DRCTL_AGENTS_CONTROL=command DRCTL_AGENTS_WAIT_SECONDS=20
export DRCTL_AGENTS_STATUS_COMMAND="$AGENTCTL status" DRCTL_AGENTS_RESTART_COMMAND="$AGENTCTL restart {name}"
mkdir -p "$AGENTCTL_DIR"
echo 3 >"$AGENTCTL_DIR/planner"; echo 1 >"$AGENTCTL_DIR/support"
restarts() { cat "$AGENTCTL_DIR/$1.restarts" 2>/dev/null || echo 0; }
export DRCTL_ROTATION_POSTGRES_ROLES="agents_admin, app_writer" DRCTL_ROTATION_REDIS_USERS=agents-app
export DRCTL_ROTATION_GENERATED="secret/agents/internal-api:api_key:token40, secret/agents/webhook:secret:hex64"
export DRCTL_ROTATION_MANUAL="secret/agents/anthropic:api_key:Anthropic console"
export DRCTL_ROTATION_REVOKE_TOKEN_ACCESSORS_FILE="$ACCESSORS"
mkdir -p "$T/metrics"
export DRCTL_METRICS_TEXTFILE_DIR="$T/metrics"
OUTPUTS="$T/all-output.log" # everything drctl printed, grepped for secrets at the end
drun() { run "$DRCTL" "$@"; printf '%s\n%s\n' "$OUT" "$ERR" >>"$OUTPUTS"; }
newest_run() { ls -t "$T/state/runs" | head -1; }

pg_login() { PGPASSWORD=$2 "$PG_BIN/psql" -X -h 127.0.0.1 -p "$PGPORT" -U "$1" -d postgres -Atc 'select 1' >/dev/null 2>&1; }
# (redis-cli goes on as the default user when AUTH fails: ask who it is.)
redis_login() { [ "$(REDISCLI_AUTH=$2 redis-cli --no-auth-warning -p "$REDIS_PORT" --user "$1" ACL WHOAMI 2>/dev/null)" = "$1" ]; }
# login KIND USER VALUE
login() { if [ "$1" = postgres ]; then pg_login "$2" "$3"; else redis_login "$2" "$3"; fi; }
# The credentials checked against their servers: kind user vault-path field
CREDS=("postgres agents_admin platform/postgres/agents_admin password"
	"postgres app_writer platform/postgres/app_writer password"
	"redis agents-app platform/redis/agents-app password")
remember_values() { # every version Vault holds of every rotated secret goes into $SEEN
	local p v cur
	for p in platform/postgres/agents_admin:password platform/postgres/app_writer:password platform/redis/agents-app:password \
		agents/internal-api:api_key agents/webhook:secret agents/anthropic:api_key platform/postgres/app_super:password \
		platform/redis/default:password; do
		vmeta "${p%%:*}"
		cur=$CUR
		[[ $cur =~ ^[0-9]+$ ]] || continue
		for v in $(seq $((cur > 3 ? cur - 3 : 1)) "$cur"); do
			vversion "${p%%:*}" "${p##*:}" "$v"
			printf '%s\n' "$VAL" >>"$SEEN"
		done
	done
	sort -u "$SEEN" -o "$SEEN"
}

# Every credential agrees: the current version works, the versions before it
# are refused, nothing is pending.  $1: label, $2: the version expected.
expect_agreement() {
	local c kind user path field cur v
	for c in "${CREDS[@]}"; do
		read -r kind user path field <<<"$c"
		vmeta "$path"
		cur=$CUR
		[ "$cur" = "$2" ] || fail "$1: $path is at version $cur, expected $2"
		[ -z "$MARK" ] || fail "$1: $path still has a pending marker"
		vversion "$path" "$field" "$cur"
		login "$kind" "$user" "$VAL" || fail "$1: $kind $user does not log in with the current value of $path"
		for v in $(seq $((cur > 3 ? cur - 3 : 1)) $((cur - 1))); do
			vversion "$path" "$field" "$v"
			! login "$kind" "$user" "$VAL" || fail "$1: $kind $user still logs in with version $v of $path"
		done
	done
	for path in agents/internal-api agents/webhook; do
		vmeta "$path"
		[ "$CUR" = "$2" ] || fail "$1: $path is at version $CUR, expected $2"
		[ -z "$MARK" ] || fail "$1: $path still has a pending marker"
	done
	pass_note "$1: PostgreSQL, Redis and Vault agree at version $2, old values refused, nothing pending"
}

# --- the plan touches nothing ------------------------------------------------------
drun rotate-secrets --dry-run
expect_rc 0 "rotate-secrets --dry-run"
expect_out 'PostgreSQL role agents_admin: a new password \(token32\) written first into secret/platform/postgres/agents_admin field password \(now at version 1\)' "the plan names each role, its secret and version"
expect_out 'Redis user agents-app: .*ACL SETUSER #<sha256>' "the plan says how Redis is rotated"
expect_out 'Vault secret/agents/webhook field secret: a new value \(hex64\)' "the plan names the generated values"
expect_out 'third-party-keys \(gate: a person acts\)' "the plan shows the third-party key gate"
[ ! -d "$T/state/runs" ] || fail "--dry-run started a run"
[ "$(vcur platform/postgres/agents_admin)" = 1 ] && [ -z "$(vmark platform/postgres/agents_admin)" ] || fail "--dry-run touched Vault"
pg_login agents_admin "$OLD_ADMIN" || fail "--dry-run changed a password"
pass_note "--dry-run wrote nothing: no run, Vault and PostgreSQL as they were"

# --- --when: another day exits 0 at once ---------------------------------------------
DAYS=(sunday monday tuesday wednesday thursday friday saturday)
TODAY=$(date -u +%w) DOM=$(date -u +%-d)
drun rotate-secrets --when "first-${DAYS[$(((TODAY + 3) % 7))]}" --timezone UTC
expect_rc 0 "--when on another weekday"
expect_err "not the first-${DAYS[$(((TODAY + 3) % 7))]} of the month: nothing to do" "says why it does nothing"
[ ! -d "$T/state/runs" ] || fail "--when on another day started a run"
drun rotate-secrets --when third-someday
expect_rc 2 "a --when that is not a rule"
drun rotate-secrets --when third-monday --timezone Mars/Olympus_Mons
expect_rc 2 "an unknown --timezone"
expect_err '"Mars/Olympus_Mons" is not a time zone' "names the time zone"
if [ "$DOM" -le 28 ]; then
	ORD=(first second third fourth)
	drun rotate-secrets --dry-run --when "${ORD[$(((DOM - 1) / 7))]}-${DAYS[$TODAY]}" --timezone UTC
	expect_rc 0 "--when on today's rule"
	expect_out 'scenario secrets-rotation' "today's rule goes on to the rotation"
fi

# --- the compromise: evidence, rotation, old access closed, agents, gates ----------------
# An agent session and a client holding the old credentials, and a leaked token.
PGPASSWORD=$OLD_ADMIN "$PG_BIN/psql" -X -h 127.0.0.1 -p "$PGPORT" -U agents_admin -d postgres \
	-c "select pg_sleep(300) /* agent-session */" >/dev/null 2>&1 &
OLD_SESSION=$!
harness_track_pid "$OLD_SESSION"
REDISCLI_AUTH=$OLD_REDIS redis-cli --no-auth-warning -p "$REDIS_PORT" --user agents-app BLPOP agent-queue 300 >/dev/null 2>&1 &
OLD_CLIENT=$!
harness_track_pid "$OLD_CLIENT"
for n in $(seq 1 100); do
	[ "$(psql_ -Atc "select count(*) from pg_stat_activity where usename = 'agents_admin'")" = 1 ] &&
		redis-cli -p "$REDIS_PORT" CLIENT LIST | grep -q 'user=agents-app' && break
	sleep 0.1
done
token_works "$LEAKED1" || fail "the leaked token does not work before the run"

drun scenario run secrets-compromise --yes
expect_rc 7 "secrets-compromise waits at the third-party key gate"
RUN=$(newest_run)
expect_err "run $RUN is waiting at step third-party-keys" "names the gate"
expect_err 'vault kv patch -mount=secret agents/anthropic api_key=-' "gives the exact command, without a value"
expect_err 'secret/agents/anthropic, field api_key \(issued by: Anthropic console\), now at version 1' "names the key, who issues it and its version"
remember_values
expect_agreement "secrets-compromise" 2
[ "$(vfield platform/postgres/agents_admin username)" = agents_admin ] || fail "the other field of agents_admin's secret was lost"
! pg_login agents_admin "$OLD_ADMIN" && ! pg_login app_writer "$OLD_WRITER" && ! redis_login agents-app "$OLD_REDIS" ||
	fail "an old password still works"
pass_note "the old PostgreSQL and Redis passwords are refused"
NEW_API=$(vfield agents/internal-api api_key)
[[ $NEW_API =~ ^[A-Za-z0-9]{40}$ ]] && [ "$NEW_API" != "$OLD_API" ] || fail "internal-api's new api_key is not a new token40"
[ "$(vfield agents/internal-api url)" = "http://internal-api:8080" ] || fail "the other field of internal-api was lost"
[[ $(vfield agents/webhook secret) =~ ^[0-9a-f]{64}$ ]] || fail "the webhook secret is not a hex64"
[ "$(vcur agents/anthropic)" = 1 ] || fail "drctl wrote the third-party key"
pass_note "generated values are new, of their generator's form, other fields kept; the third-party key untouched"
grep -q "^user agents-app on .*#$(sha "$(vfield platform/redis/agents-app password)")" "$ACLFILE" &&
	! grep -q "$(sha "$OLD_REDIS")" "$ACLFILE" || fail "the aclfile does not hold only the new password hash: $(cat "$ACLFILE")"
pass_note "Redis saved the rotation into its aclfile (ACL SAVE): only the new hash"
for n in $(seq 1 50); do kill -0 "$OLD_SESSION" 2>/dev/null || kill -0 "$OLD_CLIENT" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$OLD_SESSION" 2>/dev/null || fail "the agent's old PostgreSQL session was not terminated"
! kill -0 "$OLD_CLIENT" 2>/dev/null || fail "the agent's old Redis client was not killed"
pass_note "the sessions and clients opened with the old credentials are gone"
! token_works "$LEAKED1" && ! token_works "$LEAKED2" || fail "a listed Vault token still works"
token_works "$KEPT" && token_works "$VAULT_TOKEN" || fail "a token not listed (or drctl's own) was revoked"
grep -q "is drctl's own: not revoked" "$T/state/runs/$RUN/report.md" || fail "the report does not say drctl's own token was kept"
grep -q 'Vault: 2 token(s) revoked' "$T/state/runs/$RUN/report.md" || fail "the report does not count the revoked tokens"
pass_note "the listed Vault tokens are revoked, drctl's own and the others are not"
[ "$(restarts planner)" = 1 ] && [ "$(restarts support)" = 1 ] || fail "agents restarted $(restarts planner)/$(restarts support) times, expected once each"
pass_note "every agent restarted once"

# The evidence: taken before anything changed, signed, encrypted.
INC="$REPO/incidents/$RUN"
for f in bundle.tar.zst.age manifest.json manifest.json.minisig; do [ -s "$INC/$f" ] || fail "incidents/$RUN lacks $f"; done
minisign -Vq -p "$T/signing.pub" -m "$INC/manifest.json" || fail "minisign -V does not verify the incident manifest"
pass_note "the incident manifest verifies with minisign -V"
[ "$(jq -r .bundle.sha256 "$INC/manifest.json")" = "$(sha256sum "$INC/bundle.tar.zst.age" | cut -d' ' -f1)" ] ||
	fail "the manifest's SHA-256 is not the bundle's"
jq -e '.format == "drctl-incident/1" and .sources.postgres.collected and .sources.redis.collected and .sources.vault.collected and (.sources.kubernetes.collected | not)' "$INC/manifest.json" >/dev/null ||
	fail "the manifest does not say what each source gave: $(jq -c .sources "$INC/manifest.json")"
EVID="$T/evidence"
mkdir -p "$EVID"
age -d -i "$T/age-identity.txt" "$INC/bundle.tar.zst.age" | zstd -dq | tar -x -C "$EVID" || fail "stock age, zstd and tar do not open the bundle"
pass_note "stock age decrypts the bundle, its SHA-256 is in the signed manifest"
jq -e 'any(.[]; .usename == "agents_admin" and (.query | contains("agent-session")))' "$EVID/postgres/pg_stat_activity.json" >/dev/null ||
	fail "the evidence lacks the agent's PostgreSQL session (taken after it was terminated?)"
grep -q 'user=agents-app' "$EVID/redis/client-list.txt" || fail "the evidence lacks the Redis client of agents-app"
jq -e '(map(.display_name) | index("ci-deployer") and index("laptop-of-someone")) and all(.[]; has("id") | not)' "$EVID/vault/token-accessors.json" >/dev/null ||
	fail "the evidence lacks the tokens' display names, or holds token ids"
grep -q '"step":"collect-evidence"' "$EVID/journal" || fail "the evidence lacks the run's journal"
grep -q '"step":"rotate-secrets"' "$EVID/journal" && fail "the evidence was taken after the rotation began"
pass_note "the bundle holds the sessions, clients and tokens as they were before the rotation, and the journal"

# The third-party key: --confirm is refused until Vault has a new value.
drun scenario resume "$RUN" --confirm third-party-keys
expect_rc 2 "--confirm before a new key is written"
expect_err 'not confirmed: no new value yet in secret/agents/anthropic field api_key \(version 1\)' "names what is missing"
NEW_ANTHROPIC="new-anthropic-$(secret_of)"
echo "$NEW_ANTHROPIC" >>"$SEEN"
vput agents/anthropic "{\"options\":{\"cas\":1},\"data\":{\"api_key\":\"$NEW_ANTHROPIC\",\"org\":\"acme\"}}"
drun scenario resume "$RUN" --confirm third-party-keys
expect_rc 7 "confirmed: on to the breach gates"
expect_err "waiting at step audit-access-logs" "waits at the audit"
expect_err "incidents/$RUN/bundle.tar.zst.age" "the audit gate names the evidence"
[ "$(restarts planner)" = 2 ] && [ "$(restarts support)" = 2 ] || fail "the agents did not restart again for the new key"
pass_note "after the new third-party key the agents restart again"
for gate in audit-access-logs investigate-breach update-security-policies; do
	drun scenario resume "$RUN" --confirm "$gate"
done
expect_rc 0 "the last gate confirmed: the run is done"
jq -e '.state == "done" and (.steps | length == 11)' "$T/state/runs/$RUN/report.json" >/dev/null || fail "the report does not say the run is done"
grep -hq '^drctl_rotation_last_status{scenario="secrets-compromise"} 1$' "$T"/metrics/*.prom || fail "no drctl_rotation_last_status 1"
grep -hq '^drctl_rotation_last_success_timestamp_seconds{scenario="secrets-compromise"} [0-9]' "$T"/metrics/*.prom || fail "no rotation timestamp"
pass_note "the run ends done, and publishes drctl_rotation_* metrics"

# --- killed while the evidence is written: the resumed run publishes it once -------------
# The repository's objects appear whole (written aside, then linked in), so
# the bundle is complete once it is there.  The watch runs in this shell
# without forking, and drctl at a lower priority, so the kill lands between
# the bundle and the next step even on a loaded machine.
declare -A OLD_INCIDENTS=()
for d in "$REPO"/incidents/*/; do d=${d%/}; OLD_INCIDENTS[${d##*/}]=1; done
nice -n 15 "$DRCTL" scenario run secrets-compromise --yes >"$T/kill.out" 2>&1 &
pid=$!
KRUN=
while [ -z "$KRUN" ] && kill -0 "$pid" 2>/dev/null; do
	for b in "$REPO"/incidents/*/bundle.tar.zst.age; do
		d=${b%/*}; d=${d##*/}
		if [ -e "$b" ] && [ -z "${OLD_INCIDENTS[$d]:-}" ]; then KRUN=$d; break; fi
	done
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
cat "$T/kill.out" >>"$OUTPUTS"
[ -e "$REPO/incidents/$KRUN/bundle.tar.zst.age" ] || fail "the killed run wrote no bundle"
! grep -q '"step":"rotate-secrets"' "$T/state/runs/$KRUN/journal" || fail "the run was killed too late (after the evidence)"
BUNDLE_SUM=$(sha256sum "$REPO/incidents/$KRUN/bundle.tar.zst.age" | cut -d' ' -f1)
drun scenario resume "$KRUN"
expect_rc 7 "the run killed while writing its evidence resumes (to the third-party key gate)"
minisign -Vq -p "$T/signing.pub" -m "$REPO/incidents/$KRUN/manifest.json" || fail "the resumed run's manifest does not verify"
[ "$(sha256sum "$REPO/incidents/$KRUN/bundle.tar.zst.age" | cut -d' ' -f1)" = "$BUNDLE_SUM" ] || fail "the resumed run rewrote the bundle"
[ "$(jq -r .bundle.sha256 "$REPO/incidents/$KRUN/manifest.json")" = "$BUNDLE_SUM" ] || fail "the manifest does not name the bundle that was written first"
pass_note "killed after the bundle was written: resume keeps the first bundle and publishes its signed manifest"
drun scenario abort "$KRUN"
expect_rc 0 "abort of a run whose secrets are all rotated"
remember_values
expect_agreement "the killed compromise run, resumed then aborted" 3

# --- the monthly routine, SIGKILLed after each of its journal records -----------------
unset DRCTL_ROTATION_MANUAL DRCTL_ROTATION_REVOKE_TOKEN_ACCESSORS_FILE
drun rotate-secrets
expect_rc 0 "rotate-secrets, uninterrupted"
remember_values
expect_agreement "rotate-secrets" 4
RECORDS=$(grep -c '"type":"fact"' "$T/state/runs/$(newest_run)/journal")
[ "$RECORDS" -ge 25 ] || fail "only $RECORDS facts in a rotation run: the secrets are not journaled one state at a time"
grep -q 'rotation.postgres.agents_admin.*"state":"applying"' "$T/state/runs/$(newest_run)/journal" || fail "no applying state journaled"

# At any instant, every credential that works is readable from Vault: the
# current version when nothing is pending, else the pending one or the one
# before it; and at least one of them works.
check_invariant() { # label
	local c kind user path field cur p readable val works ok
	for c in "${CREDS[@]}"; do
		read -r kind user path field <<<"$c"
		vmeta "$path"
		cur=$CUR p=$MARK
		if [ -n "$p" ]; then readable="$p $((p - 1))"; else readable=$cur; fi
		works=0
		for v in $(seq $((cur > 4 ? cur - 4 : 1)) "$cur"); do
			vversion "$path" "$field" "$v"
			val=$VAL
			[ -n "$val" ] && login "$kind" "$user" "$val" || continue
			works=1 ok=0
			for r in $readable; do [ "$r" = "$v" ] && ok=1; done
			[ "$ok" = 1 ] || fail "$1: $kind $user logs in with version $v of $path, which is neither current nor pending (current $cur, pending ${p:-none})"
		done
		[ "$works" = 1 ] || fail "$1: no value readable in Vault logs in as $kind $user (current $cur, pending ${p:-none})"
	done
}
VERSION=4
LAST=$(newest_run)
# The watch below forks nothing (globs, read, [[ ]]) and drctl runs at a
# lower priority, so the kill lands right after record k even on a loaded
# machine; a fork per look let a busy machine's drctl run past the record.
declare -A SEEN_RUNS=()
remember_runs() { local d; for d in "$T"/state/runs/*/; do d=${d%/}; SEEN_RUNS[${d##*/}]=1; done; }
find_new_run() { # sets NEW_RUN: a run folder that was not there before
	local d
	NEW_RUN=
	for d in "$T"/state/runs/*/; do
		d=${d%/}
		d=${d##*/}
		[ -n "${SEEN_RUNS[$d]:-}" ] || { NEW_RUN=$d; return; }
	done
}
count_facts() { # sets FACTS: the fact records in journal $1
	local line
	FACTS=0
	[ -e "$1" ] || return 0
	while IFS= read -r line; do
		[[ $line == *'"type":"fact"'* ]] && FACTS=$((FACTS + 1))
	done <"$1"
	return 0
}
for k in $(seq 1 "$RECORDS"); do
	remember_runs
	nice -n 15 "$DRCTL" rotate-secrets >"$T/kill.out" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		find_new_run
		[ -n "$NEW_RUN" ] || continue
		count_facts "$T/state/runs/$NEW_RUN/journal"
		[ "$FACTS" -ge "$k" ] && break
	done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	cat "$T/kill.out" >>"$OUTPUTS"
	remember_values
	check_invariant "killed after record $k"
	run_id=$(newest_run)
	[ "$run_id" != "$LAST" ] || fail "killed after record $k: no run was started"
	! grep -q '"type":"end"' "$T/state/runs/$run_id/journal" || fail "killed after record $k: the run had ended already"
	for try in 1 2 3; do
		drun scenario resume "$run_id"
		[ "$RC" = 0 ] && break
		grep -q 'nothing to resume' <<<"$ERR" && break
	done
	jq -e '.state == "done"' "$T/state/runs/$run_id/report.json" >/dev/null || fail "killed after record $k: the resumed run is not done: $ERR"
	VERSION=$((VERSION + 1))
	remember_values
	expect_agreement "SIGKILL after record $k of $RECORDS, then resume" "$VERSION"
	LAST=$run_id
done
pass_note "the invariant held at every one of the $RECORDS kill points"

# --- a rotation that fails at ALTER ROLE ---------------------------------------------------
CTL_PASSWORD_FILE="$T/rotator-password"
CTL_PASSWORD="rotator-$(secret_of)"
(umask 077 && echo "$CTL_PASSWORD" >"$CTL_PASSWORD_FILE")
OLD_SUPER="old-super-$(secret_of)"
echo "$OLD_SUPER" >>"$SEEN"
psql_ -c "ALTER SYSTEM SET log_statement = 'none'" -c "SELECT pg_reload_conf()" >/dev/null
psql_ -c "CREATE ROLE drctl_rotator LOGIN CREATEROLE PASSWORD '$CTL_PASSWORD'" -c "CREATE ROLE app_super LOGIN SUPERUSER PASSWORD '$OLD_SUPER'"
psql_ -c "ALTER SYSTEM SET log_statement = 'all'" -c "SELECT pg_reload_conf()" >/dev/null
vput platform/postgres/app_super "{\"data\":{\"password\":\"$OLD_SUPER\"}}"
as_rotator() {
	env DRCTL_POSTGRES_CONNINFO="host=127.0.0.1 port=$PGPORT user=drctl_rotator dbname=postgres" \
		DRCTL_POSTGRES_PASSWORD_FILE="$CTL_PASSWORD_FILE" DRCTL_ROTATION_POSTGRES_ROLES=app_super \
		DRCTL_ROTATION_REDIS_USERS= DRCTL_ROTATION_GENERATED= "$DRCTL" "$@"
}
fails_at_alter() { # label: a run that fails at ALTER ROLE; sets FAILED_RUN
	run as_rotator rotate-secrets
	printf '%s\n%s\n' "$OUT" "$ERR" >>"$OUTPUTS"
	expect_rc 1 "$1: rotate-secrets with a control role that cannot alter app_super"
	expect_err 'ALTER ROLE app_super PASSWORD: .*superuser' "$1: the server's refusal is named"
	expect_err 'the old password of app_super still works and the new one waits in secret/platform/postgres/app_super as a pending version' "$1: says what is left"
	FAILED_RUN=$(newest_run)
	remember_values
	pg_login app_super "$OLD_SUPER" || fail "$1: the old password of app_super stopped working"
	[ -n "$(vmark platform/postgres/app_super)" ] || fail "$1: no pending marker"
	[ "$(vfield platform/postgres/app_super password "$(vmark platform/postgres/app_super)")" != "$OLD_SUPER" ] || fail "$1: the pending version is not new"
	[ "$(vfield platform/postgres/app_super password "$(($(vmark platform/postgres/app_super) - 1))")" = "$OLD_SUPER" ] ||
		fail "$1: the version before the pending one is not the old value"
	grep -q 'app_super: the new value (version [0-9]* of secret/platform/postgres/app_super, pending) may or may not be in use' \
		"$T/state/runs/$FAILED_RUN/report.md" || fail "$1: the report does not say where app_super stands"
	pass_note "$1: the old password still works, Vault holds the new one only as a pending version, the report says so"
}
fails_at_alter "first failure"
SUPER_PENDING=$(vmark platform/postgres/app_super)
run as_rotator rotate-secrets
expect_rc 5 "another run while a secret is pending"
expect_err "has a pending version left by run $FAILED_RUN" "names the run that left it"
expect_err "drctl scenario resume $FAILED_RUN.*drctl scenario abort $FAILED_RUN" "hints resume or abort"
[ "$(vmark platform/postgres/app_super)" = "$SUPER_PENDING" ] || fail "the second run touched the pending secret"
psql_ -c "ALTER ROLE drctl_rotator SUPERUSER"
run as_rotator scenario resume "$FAILED_RUN"
printf '%s\n%s\n' "$OUT" "$ERR" >>"$OUTPUTS"
expect_rc 0 "resume once drctl's role may alter app_super"
remember_values
[ -z "$(vmark platform/postgres/app_super)" ] && [ "$(vcur platform/postgres/app_super)" = "$SUPER_PENDING" ] || fail "resume did not finish the pending version"
pg_login app_super "$(vfield platform/postgres/app_super password)" && ! pg_login app_super "$OLD_SUPER" ||
	fail "after resume the new password of app_super does not work, or the old one still does"
pass_note "resume applies the pending version, proves it, removes the marker"

psql_ -c "ALTER ROLE drctl_rotator NOSUPERUSER"
OLD_SUPER=$(vfield platform/postgres/app_super password)
fails_at_alter "second failure"
SUPER_PENDING=$(vmark platform/postgres/app_super)
run as_rotator scenario abort "$FAILED_RUN"
printf '%s\n%s\n' "$OUT" "$ERR" >>"$OUTPUTS"
expect_rc 0 "abort of the failed rotation"
remember_values
[ -z "$(vmark platform/postgres/app_super)" ] || fail "abort left the marker"
[ "$(vcur platform/postgres/app_super)" = $((SUPER_PENDING + 1)) ] && [ "$(vfield platform/postgres/app_super password)" = "$OLD_SUPER" ] ||
	fail "abort did not write the old value back as the current version"
pg_login app_super "$OLD_SUPER" || fail "after abort the old password does not work"
grep -q "abort: app_super: the pending value (version $SUPER_PENDING) was never applied; the old value, still in use, is written back as version $((SUPER_PENDING + 1))" \
	"$T/state/runs/$FAILED_RUN/report.md" || fail "the report does not say what abort found and did"
pass_note "abort writes the old value back as the current version, removes the marker, and the report says exactly that"

# --- a Redis without ACL users: CONFIG SET requirepass ---------------------------------------
OLD_REQUIREPASS="old-requirepass-$(secret_of)"
echo "$OLD_REQUIREPASS" >>"$SEEN"
ACL_REDIS_PORT=$REDIS_PORT
unset REDIS_PID # a second server; the harness stops both at the end
start_redis --requirepass "$OLD_REQUIREPASS"
vput platform/redis/default "{\"data\":{\"password\":\"$OLD_REQUIREPASS\"}}"
(umask 077 && echo "$OLD_REQUIREPASS" >"$T/requirepass")
run env DRCTL_REDIS_URL="$REDIS_URL" DRCTL_REDIS_PASSWORD_FILE="$T/requirepass" DRCTL_ROTATION_REDIS_REQUIREPASS=true \
	DRCTL_ROTATION_REDIS_USERS= DRCTL_ROTATION_POSTGRES_ROLES= DRCTL_ROTATION_GENERATED= "$DRCTL" rotate-secrets
printf '%s\n%s\n' "$OUT" "$ERR" >>"$OUTPUTS"
expect_rc 0 "rotate-secrets of a requirepass (the health check logs in with the new one)"
remember_values
NEW_REQUIREPASS=$(vfield platform/redis/default password)
[ "$(REDISCLI_AUTH=$NEW_REQUIREPASS redis-cli --no-auth-warning -p "$REDIS_PORT" PING)" = PONG ] || fail "the new requirepass does not work"
[ "$(REDISCLI_AUTH=$OLD_REQUIREPASS redis-cli --no-auth-warning -p "$REDIS_PORT" PING 2>&1)" != PONG ] || fail "the old requirepass still works"
pass_note "requirepass rotated: the new one works, the old one is refused"
REDIS_PORT=$ACL_REDIS_PORT

# --- no secret anywhere -----------------------------------------------------------------------
remember_values
SCAN="$T/scan"
mkdir -p "$SCAN"
cat "$T"/state/runs/*/journal >"$SCAN/journals"
cat "$T"/state/runs/*/report.* >"$SCAN/reports"
cat "$OUTPUTS" >"$SCAN/outputs"
cat "$AGENTCTL_LOG" >"$SCAN/agent-commands"
find "$EVID" -type f -exec cat {} + >"$SCAN/bundle"
cat "$REPO"/incidents/*/manifest.json >"$SCAN/manifests"
# drctl's statements (quoted role names): every one carries a SCRAM verifier.
grep 'statement: ALTER ROLE "' "$PG_DATA_DIR/../postgres.log" >"$T/drctl-alters" || fail "no ALTER ROLE of drctl in the PostgreSQL log"
! grep -v "PASSWORD 'SCRAM-SHA-256\$4096:" "$T/drctl-alters" >/dev/null || fail "an ALTER ROLE of drctl sends no SCRAM verifier: $(grep -v SCRAM "$T/drctl-alters" | head -1)"
pass_note "every ALTER ROLE drctl sent ($(wc -l <"$T/drctl-alters")) carries a SCRAM-SHA-256 verifier, never a password"
grep -v "CREATE ROLE" "$PG_DATA_DIR/../postgres.log" >"$SCAN/postgres-log" # (the test's own)
while read -r s; do
	[ -n "$s" ] || continue
	if grep -rlF -- "$s" "$SCAN" >/dev/null; then
		fail "a secret (${s:0:6}...) is in $(grep -rlF -- "$s" "$SCAN" | xargs -n1 basename | tr '\n' ' ')"
	fi
done <"$SEEN"
pass_note "none of the $(wc -l <"$SEEN") old and new secrets is in an output, a journal, a report, the bundle, a child's argv or the PostgreSQL log"

echo "$CHECKS passed, 0 failed"
