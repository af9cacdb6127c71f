#!/usr/bin/env bash
# Conformance test of the Vault HTTP API double (tests/doubles/vault) against
# Vault's HTTP API documentation (https://developer.hashicorp.com/vault/api-docs)
# and source; tests/doubles/vault/README.md lists each behaviour and where it
# is specified.
# Runs standalone: bash tests/integration/test_vault_double_conformance.sh
set -u
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../harness/require.sh
source "$ROOT/tests/harness/require.sh"
require_tools curl jq openssl tar gzip sha256sum node
# shellcheck source=../harness/services.sh
source "$ROOT/tests/harness/services.sh"
# shellcheck source=../harness/checks.sh
source "$ROOT/tests/harness/checks.sh"
harness_init

T="$HARNESS_DIR/t"; mkdir -p "$T"

# req METHOD PATH [curl args...]  -> $ST (status), $BODY (body text), $HDR (headers file)
req() {
  local m="$1" p="$2"; shift 2
  ST=$(vault_double_curl -o "$T/body" -D "$T/hdr" -w '%{http_code}' -X "$m" -H "X-Vault-Token: $VAULT_TOKEN" "$@" "$VAULT_ADDR$p" 2>"$T/err")
  BODY=$(cat "$T/body" 2>/dev/null); HDR="$T/hdr"
}
noauth() {
  local m="$1" p="$2"; shift 2
  ST=$(vault_double_curl -o "$T/body" -D "$T/hdr" -w '%{http_code}' -X "$m" "$@" "$VAULT_ADDR$p" 2>"$T/err")
  BODY=$(cat "$T/body" 2>/dev/null); HDR="$T/hdr"
}
# fetch FILE PATH [curl args]: GET a binary body into FILE -> $ST
fetch() {
  local f="$1" p="$2"; shift 2
  ST=$(vault_double_curl -o "$f" -D "$T/hdr" -w '%{http_code}' -H "X-Vault-Token: $VAULT_TOKEN" "$@" "$VAULT_ADDR$p" 2>"$T/err"); HDR="$T/hdr"
}
health() { noauth GET "/v1/sys/health${1:-}"; }
j() { printf '%s' "$BODY" | jq -c "$1" 2>/dev/null; }
hdr() { tr -d '\r' <"$HDR" | awk -v h="$(echo "$1" | tr 'A-Z' 'a-z')" 'BEGIN{FS=": "} tolower($1)==h {print $2}' | tail -1; }
admin() { vault_double_admin "$1" || bad "admin call $1"; }
save() { eval "$1_ADDR=\$VAULT_ADDR; $1_PID=\$VAULT_DOUBLE_PID; $1_ADMIN=\$VAULT_DOUBLE_ADMIN"; }
use() { eval "VAULT_ADDR=\$$1_ADDR; VAULT_DOUBLE_PID=\$$1_PID; VAULT_DOUBLE_ADMIN=\$$1_ADMIN"; }
wait_health() { # wait until sys/health answers $1
  local _i; for _i in $(seq 1 200); do health; [ "$ST" = "$1" ] && return 0; sleep 0.05; done; return 1
}

echo "== starting doubles"
start_vault_double --cluster-seed A --k8s-role drctl=drctl-backup --k8s-jwt good.jwt.value \
  --approle role-1:secret-1:drctl-backup:backup --restore-delay-ms 500 || exit 1
save A
start_vault_double --cluster-seed B --restore-delay-ms 500 || exit 1
save B
use A

echo "== sys/health"
health; eq "health active 200" 200 "$ST"
for f in initialized sealed standby performance_standby replication_performance_mode replication_dr_mode server_time_utc version cluster_name cluster_id; do
  eq "health body has $f" true "$(j "has(\"$f\")")"
done
eq "health content-type" "application/json" "$(hdr Content-Type)"
noauth HEAD /v1/sys/health; eq "HEAD health 200" 200 "$ST"; eq "HEAD health no body" "" "$BODY"
health "?activecode=299"; eq "activecode" 299 "$ST"
for q in "?standbyok=yes" "?perfstandbyok=maybe" "?activecode=abc" "?sealedcode=" "?standbycode=4x" "?uninitcode=1.5" "?drsecondarycode=x" "?performancestandbycode=y"; do
  health "$q"; eq "bad param $q -> 400" 400 "$ST"; eq "bad param $q body" '{"errors":[]}' "$BODY"
done
noauth HEAD "/v1/sys/health?standbyok=yes"; eq "HEAD bad param 400" 400 "$ST"
health "?standbyok=true&activecode=200"; eq "standbyok on active" 200 "$ST"

admin '{"mode":"standby"}'
health; eq "standby 429" 429 "$ST"; eq "standby body" true "$(j .standby)"; eq "standby has cluster_id" true "$(j 'has("cluster_id")')"
health "?standbyok=true"; eq "standbyok=true" 200 "$ST"
health "?standbyok=1"; eq "standbyok=1" 200 "$ST"
health "?standbyok"; eq "standbyok empty = false" 429 "$ST"
health "?standbycode=200"; eq "standbycode=200" 200 "$ST"
health "?standbycode=299&standbyok=true"; eq "standbyok wins over standbycode" 200 "$ST"
req GET /v1/secret/metadata/?list=true; notcontains "standby forwards ordinary requests" "rate limit" "$BODY"

admin '{"mode":"perfstandby"}'
health; eq "perf standby 473" 473 "$ST"; eq "perf standby flags" "true true" "$(j .standby) $(j .performance_standby)"
health "?perfstandbyok=true"; eq "perfstandbyok" 200 "$ST"
health "?standbyok=true"; eq "standbyok does not cover perf standby" 473 "$ST"
health "?performancestandbycode=298"; eq "performancestandbycode" 298 "$ST"

admin '{"mode":"drsecondary"}'
health; eq "dr secondary 472" 472 "$ST"; eq "dr mode" '"secondary"' "$(j .replication_dr_mode)"
health "?drsecondarycode=297"; eq "drsecondarycode" 297 "$ST"

admin '{"mode":"standby","sealed":true}'
health; eq "sealed (and standby) 503: sealed checked first" 503 "$ST"
eq "sealed body" true "$(j .sealed)"
eq "sealed: no cluster_name" false "$(j 'has("cluster_name")')"
eq "sealed: no cluster_id" false "$(j 'has("cluster_id")')"
health "?sealedcode=296"; eq "sealedcode" 296 "$ST"
req GET /v1/secret/metadata/?list=true; eq "sealed logical request 503" 503 "$ST"; eq "sealed message" '["Vault is sealed"]' "$(j .errors)"
req GET /v1/sys/storage/raft/snapshot; eq "sealed snapshot 503" 503 "$ST"
noauth GET /v1/sys/seal-status; eq "seal-status sealed" true "$(j .sealed)"

admin '{"initialized":false}'
health; eq "uninitialized 501 (checked before sealed)" 501 "$ST"; eq "uninit body" false "$(j .initialized)"
health "?uninitcode=295"; eq "uninitcode" 295 "$ST"
admin '{"initialized":true,"sealed":false,"mode":"active"}'
health; eq "back to active" 200 "$ST"

echo "== rate limit vs standby"
admin '{"rate_limited":true,"retry_after":7}'
req GET /v1/secret/data/x; eq "rate limited 429" 429 "$ST"
eq "rate limit message" '["request path \"secret/data/x\": rate limit quota exceeded"]' "$(j .errors)"
eq "Retry-After" 7 "$(hdr Retry-After)"
health; eq "health exempt from quota" 200 "$ST"
admin '{"rate_limited":false,"rate_limit_next":1}'
req GET /v1/sys/mounts; eq "rate_limit_next 1st" 429 "$ST"
req GET /v1/sys/mounts; eq "rate_limit_next 2nd" 200 "$ST"

echo "== tokens, envelope, errors"
noauth GET /v1/secret/data/x; eq "no token 403" 403 "$ST"; contains "no token: permission denied" "permission denied" "$BODY"
noauth GET /v1/secret/data/x -H "X-Vault-Token: nope"; eq "bad token 403" 403 "$ST"
contains "bad token: permission denied" "permission denied" "$BODY"; contains "bad token: invalid token" "invalid token" "$BODY"
noauth GET /v1/auth/token/lookup-self -H "Authorization: Bearer root"; eq "Bearer accepted" 200 "$ST"
noauth GET /v1/auth/token/lookup-self -H "Authorization: Bearer nope" -H "X-Vault-Token: root"; eq "X-Vault-Token wins" 200 "$ST"
req GET /v1/auth/token/lookup-self
for f in request_id lease_id renewable lease_duration data wrap_info warnings auth; do eq "envelope has $f" true "$(j "has(\"$f\")")"; done
eq "lookup-self policies" '["root"]' "$(j .data.policies)"
eq "lookup-self fields" true "$(j '.data|has("accessor") and has("ttl") and has("expire_time") and has("renewable")')"
req GET /v1/nonexistent/path; eq "unknown mount 404" 404 "$ST"; contains "unknown route message" "no handler for route" "$BODY"
req DELETE /v1/sys/mounts; eq "wrong method 405" 405 "$ST"
req FOO /v1/secret/data/x; eq "unknown HTTP method 405" 405 "$ST"
req GET /v1/secret/data/x -H "X-Vault-Namespace: team-a"
vault_double_admin >"$T/state.json"
eq "namespace recorded" '"team-a"' "$(jq -c '[.requests[]|select(.namespace!=null)]|last|.namespace' "$T/state.json")"
eq "token presence recorded, value not logged" "true" "$(jq -c '[.requests[]|select(.namespace=="team-a")]|last|.token_present' "$T/state.json")"
notcontains "token values never in log" '"root"' "$(jq -c .requests "$T/state.json")"

echo "== policies"
admin '{"tokens":[{"id":"ns-token","policies":["no-snapshot"]}]}'
noauth GET /v1/sys/storage/raft/snapshot -H "X-Vault-Token: ns-token"; eq "no-snapshot token: snapshot 403" 403 "$ST"; contains "no-snapshot message" "permission denied" "$BODY"
noauth GET /v1/sys/mounts -H "X-Vault-Token: ns-token"; eq "no-snapshot token: mounts 200" 200 "$ST"

echo "== token accessors (auth/token: accessors, lookup-accessor, revoke-accessor)"
admin '{"tokens":[{"id":"victim-token","policies":["kv-read"],"display_name":"agents"},{"id":"plain-token","policies":["kv-read"]}]}'
noauth GET /v1/auth/token/lookup-self -H "X-Vault-Token: victim-token"; VICTIM_ACC=$(printf '%s' "$BODY" | jq -r .data.accessor)
req LIST /v1/auth/token/accessors; eq "LIST accessors 200" 200 "$ST"
eq "accessors listed in data.keys" true "$(printf '%s' "$BODY" | jq --arg a "$VICTIM_ACC" '.data.keys|index($a)!=null')"
notcontains "accessors: no token ids" "victim-token" "$BODY"
req GET "/v1/auth/token/accessors?list=true"; eq "GET ?list=true accessors 200" 200 "$ST"
noauth GET "/v1/auth/token/accessors?list=true" -H "X-Vault-Token: plain-token"; eq "accessors need sudo: 403" 403 "$ST"
req POST /v1/auth/token/lookup-accessor -d "{\"accessor\":\"$VICTIM_ACC\"}"; eq "lookup-accessor 200" 200 "$ST"
eq "lookup-accessor blanks the id" '""' "$(j .data.id)"
eq "lookup-accessor display_name and policies" '["agents",["default","kv-read"]]' "$(j '[.data.display_name,.data.policies]')"
eq "lookup-accessor fields" true "$(j '.data|has("creation_time") and has("expire_time") and has("ttl") and has("path") and has("accessor")')"
req GET /v1/auth/token/lookup-accessor; eq "lookup-accessor GET 405" 405 "$ST"
req POST /v1/auth/token/lookup-accessor -d '{}'; eq "missing accessor 400" 400 "$ST"; eq "missing accessor message" '["missing accessor"]' "$(j .errors)"
req POST /v1/auth/token/lookup-accessor -d '{"accessor":"nope"}'; eq "unknown accessor 400" 400 "$ST"; eq "invalid accessor message" '["invalid accessor"]' "$(j .errors)"
noauth POST /v1/auth/token/revoke-accessor -H "X-Vault-Token: plain-token" -d "{\"accessor\":\"$VICTIM_ACC\"}"; eq "revoke-accessor without update capability 403" 403 "$ST"
req POST /v1/auth/token/revoke-accessor -d "{\"accessor\":\"$VICTIM_ACC\"}"; eq "revoke-accessor 204" 204 "$ST"; eq "revoke-accessor no body" "" "$BODY"
noauth GET /v1/auth/token/lookup-self -H "X-Vault-Token: victim-token"; eq "revoked token is invalid" 403 "$ST"; contains "revoked token: invalid token" "invalid token" "$BODY"
req POST /v1/auth/token/revoke-accessor -d "{\"accessor\":\"$VICTIM_ACC\"}"; eq "revoke again: invalid accessor 400" 400 "$ST"
req LIST /v1/auth/token/accessors; eq "revoked accessor no longer listed" false "$(printf '%s' "$BODY" | jq --arg a "$VICTIM_ACC" '.data.keys|index($a)!=null')"

echo "== KV v2"
req GET /v1/sys/mounts
eq "secret/ is kv" '"kv"' "$(j '.data["secret/"].type')"
eq "secret/ version is the string 2" '"2"' "$(j '.data["secret/"].options.version')"
eq "kv/ (v1) options null" 'null' "$(j '.data["kv/"].options')"
req POST /v1/secret/data/app/db -d '{"options":{"cas":0},"data":{"password":"one"}}'; eq "cas 0 create" 200 "$ST"; eq "write version" 1 "$(j .data.version)"
eq "write fields" true "$(j '.data|has("created_time") and has("deletion_time") and has("destroyed") and has("custom_metadata")')"
req POST /v1/secret/data/app/db -d '{"options":{"cas":0},"data":{"password":"x"}}'; eq "cas 0 on existing 400" 400 "$ST"
eq "cas mismatch message" '["check-and-set parameter did not match the current version"]' "$(j .errors)"
req PUT /v1/secret/data/app/db -d '{"options":{"cas":5},"data":{"password":"x"}}'; eq "wrong cas 400" 400 "$ST"
req POST /v1/secret/data/app/db -d '{"options":{"cas":1},"data":{"password":"two"}}'; eq "cas 1 ok" 2 "$(j .data.version)"
req POST /v1/secret/data/app/db -d '{"options":{}}'; eq "no data 400" 400 "$ST"; eq "no data message" '["no data provided"]' "$(j .errors)"
req GET /v1/secret/data/app/db; eq "read latest" '"two"' "$(j .data.data.password)"
eq "read metadata fields" true "$(j '.data.metadata|has("created_time") and has("custom_metadata") and has("deletion_time") and has("destroyed") and has("version")')"
req GET "/v1/secret/data/app/db?version=1"; eq "read version 1" '"one"' "$(j .data.data.password)"
req GET /v1/secret/metadata/app/db; eq "metadata current_version" 2 "$(j .data.current_version)"
eq "metadata fields" true "$(j '.data|has("oldest_version") and has("max_versions") and has("cas_required") and (.versions|has("1"))')"
req POST /v1/secret/metadata/app/db -d '{"custom_metadata":{"drctl_pending_version":"3","owner":"ops"}}'; eq "custom_metadata write 204" 204 "$ST"
req GET /v1/secret/metadata/app/db; eq "custom_metadata read back" '{"drctl_pending_version":"3","owner":"ops"}' "$(printf '%s' "$BODY" | jq -cS .data.custom_metadata)"
eq "custom_metadata write keeps the versions" 2 "$(j .data.current_version)"
req GET /v1/secret/data/app/db; eq "data read carries custom_metadata" '"3"' "$(j .data.metadata.custom_metadata.drctl_pending_version)"
req POST /v1/secret/metadata/app/db -d '{"custom_metadata":{}}'; req GET /v1/secret/metadata/app/db; eq "custom_metadata cleared" '{}' "$(j .data.custom_metadata)"
req POST /v1/secret/data/app/sub/inner -d '{"data":{"k":"v"}}'
req LIST /v1/secret/metadata/app; eq "LIST method" '["db","sub/"]' "$(j .data.keys)"
req GET "/v1/secret/metadata/app/?list=true"; eq "GET ?list=true" '["db","sub/"]' "$(j .data.keys)"
req LIST /v1/secret/metadata/empty/; eq "empty list 404" 404 "$ST"; eq "empty list body" '{"errors":[]}' "$BODY"
req GET /v1/secret/data/missing; eq "missing key 404" 404 "$ST"; eq "missing key body" '{"errors":[]}' "$BODY"
req DELETE /v1/secret/data/app/db; eq "soft delete 204" 204 "$ST"; eq "204 no body" "" "$BODY"
req GET /v1/secret/data/app/db; eq "deleted version 404" 404 "$ST"; eq "deleted: data.data null" null "$(j .data.data)"
eq "deleted: deletion_time set" true "$(j '.data.metadata.deletion_time != ""')"
for f in request_id lease_id renewable lease_duration data wrap_info warnings auth; do eq "deleted 404 envelope has $f" true "$(j "has(\"$f\")")"; done
req GET "/v1/secret/data/app/db?version=1"; eq "older version still readable" '"one"' "$(j .data.data.password)"
req DELETE /v1/secret/metadata/app/sub/inner; eq "metadata delete 204" 204 "$ST"
req GET /v1/secret/data/app/sub/inner; eq "after metadata delete 404" '{"errors":[]}' "$BODY"
req PUT /v1/kv/legacy -d '{"v":"1"}'; eq "kv v1 write 204" 204 "$ST"
req GET /v1/kv/legacy; eq "kv v1 read" '"1"' "$(j .data.v)"

echo "== logins"
noauth POST /v1/auth/kubernetes/login -d '{"role":"drctl","jwt":"good.jwt.value"}'; eq "k8s login 200" 200 "$ST"
eq "k8s auth fields" true "$(j '.auth|has("client_token") and has("accessor") and has("policies") and has("token_policies") and has("metadata") and has("lease_duration") and has("renewable") and has("entity_id") and has("token_type") and has("orphan")')"
K8S_TOKEN=$(j .auth.client_token | tr -d '"')
noauth GET /v1/auth/token/lookup-self -H "X-Vault-Token: $K8S_TOKEN"; eq "k8s token works" 200 "$ST"; contains "k8s token policy" drctl-backup "$(j .data.policies)"
ST=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Vault-Token: $K8S_TOKEN" "$VAULT_ADDR/v1/sys/storage/raft/snapshot"); eq "drctl-backup token may snapshot" 200 "$ST"
noauth POST /v1/auth/kubernetes/login -d '{"role":"nope","jwt":"good.jwt.value"}'; eq "k8s unknown role 400" 400 "$ST"
noauth POST /v1/auth/kubernetes/login -d '{"role":"drctl","jwt":"forged"}'; eq "k8s bad jwt 403" 403 "$ST"; contains "bad jwt message" "permission denied" "$BODY"
noauth POST /v1/auth/approle/login -d '{"role_id":"role-1","secret_id":"secret-1"}'; eq "approle login 200" 200 "$ST"; eq "approle token_type" '"service"' "$(j .auth.token_type)"
noauth POST /v1/auth/approle/login -d '{"role_id":"role-1","secret_id":"wrong"}'; eq "approle bad 400" 400 "$ST"; eq "approle message" '["invalid role or secret ID"]' "$(j .errors)"

echo "== transit"
req POST /v1/transit/keys/drctl-sign -d '{"type":"ed25519"}'; eq "create ed25519 key" 200 "$ST"
req GET /v1/transit/keys/drctl-sign; PUB=$(j '.data.keys["1"].public_key' | tr -d '"')
eq "public key is 32 raw bytes" 32 "$(printf '%s' "$PUB" | base64 -d | wc -c | tr -d ' ')"
req GET /v1/transit/keys/missing; eq "missing transit key (Vault source: 404, not 400)" 404 "$ST"
printf 'backup manifest bytes\n' >"$T/msg"
req POST /v1/transit/sign/drctl-sign -d "{\"input\":\"$(base64 -w0 <"$T/msg")\"}"; SIG=$(j .data.signature | tr -d '"')
contains "signature prefix" "vault:v1:" "$SIG"
{ printf '302a300506032b6570032100' | xxd -r -p 2>/dev/null || printf '\x30\x2a\x30\x05\x06\x03\x2b\x65\x70\x03\x21\x00'; printf '%s' "$PUB" | base64 -d; } >"$T/pub.der"
printf '%s' "${SIG#vault:v1:}" | base64 -d >"$T/sig.bin"
openssl pkey -pubin -inform DER -in "$T/pub.der" -out "$T/pub.pem" 2>/dev/null
if openssl pkeyutl -verify -pubin -inkey "$T/pub.pem" -rawin -in "$T/msg" -sigfile "$T/sig.bin" >/dev/null 2>&1; then ok; else bad "openssl verifies the transit Ed25519 signature"; fi
req POST /v1/transit/sign/missing -d '{"input":"aGk="}'; eq "sign with missing key 400" 400 "$ST"

echo "== raft snapshot"
req POST /v1/secret/data/restore/me -d '{"data":{"value":"old"}}'
fetch "$T/a.snap" /v1/sys/storage/raft/snapshot
eq "snapshot 200" 200 "$ST"; eq "snapshot content-type" application/gzip "$(hdr Content-Type)"
if gzip -t "$T/a.snap" 2>/dev/null; then ok; else bad "snapshot is complete gzip"; fi
eq "tar member order" "meta.json state.bin SHA256SUMS SHA256SUMS.sealed" "$(tar -tzf "$T/a.snap" | tr '\n' ' ' | sed 's/ $//')"
mkdir -p "$T/x" && tar -xzf "$T/a.snap" -C "$T/x"
if (cd "$T/x" && sha256sum -c --quiet SHA256SUMS); then ok; else bad "sha256sum -c SHA256SUMS"; fi
if [ -s "$T/x/SHA256SUMS.sealed" ]; then ok; else bad "SHA256SUMS.sealed non-empty"; fi
req POST /v1/secret/data/restore/me -d '{"data":{"value":"new"}}'
req GET /v1/secret/data/restore/me; eq "changed before restore" '"new"' "$(j .data.data.value)"
# A restore long enough that the health request surely lands inside it,
# however busy the machine.
admin '{"restore_delay_ms":3000}'
req POST /v1/sys/storage/raft/snapshot --data-binary "@$T/a.snap"; eq "restore 204" 204 "$ST"
health; eq "during restore: standby 429" 429 "$ST"
wait_health 200 || bad "health back to 200 after restore"
admin '{"restore_delay_ms":300}'
req GET /v1/secret/data/restore/me; eq "restored old value" '"old"' "$(j .data.data.value)"
req POST /v1/sys/storage/raft/snapshot -H "Transfer-Encoding: chunked" --data-binary "@$T/a.snap"; eq "chunked upload restore 204" 204 "$ST"
wait_health 200 || bad "health after chunked restore"
head -c 300 "$T/a.snap" >"$T/trunc.snap"
req POST /v1/sys/storage/raft/snapshot --data-binary "@$T/trunc.snap"; eq "truncated snapshot rejected (Vault: 500)" 500 "$ST"; contains "truncated message" "failed to read snapshot file" "$BODY"
printf 'not a snapshot' >"$T/garbage"
req POST /v1/sys/storage/raft/snapshot --data-binary "@$T/garbage"; eq "garbage rejected" 500 "$ST"
health; eq "failed restore leaves node active" 200 "$ST"

echo "== different cluster: key mismatch, snapshot-force, unseal"
A_UNSEAL=$(vault_double_admin | jq -r '.unseal_keys_b64[0]')
A_CLUSTER=$(vault_double_admin | jq -r '.cluster.id')
use B
req POST /v1/sys/storage/raft/snapshot --data-binary "@$T/a.snap"; eq "other cluster: 400" 400 "$ST"
contains "mismatch mentions unseal keys" "different set of unseal keys" "$BODY"; contains "mismatch mentions snapshot-force" "snapshot-force" "$BODY"
req POST /v1/sys/storage/raft/snapshot-force --data-binary "@$T/a.snap"; eq "snapshot-force 204" 204 "$ST"
wait_health 503 || bad "after force restore the node is sealed"
noauth PUT /v1/sys/unseal -d '{"key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}'; eq "wrong unseal key 400" 400 "$ST"
noauth PUT /v1/sys/unseal -d "{\"key\":\"$A_UNSEAL\"}"; eq "unseal with snapshot's key" false "$(j .sealed)"
health; eq "active after unseal" 200 "$ST"; eq "cluster id is the snapshot's" "\"$A_CLUSTER\"" "$(j .cluster_id)"
req GET /v1/secret/data/restore/me; eq "B holds A's data" '"old"' "$(j .data.data.value)"

echo "== standby redirect"
admin "{\"mode\":\"standby\",\"active_address\":\"$A_ADDR\"}"
req GET /v1/sys/storage/raft/snapshot; eq "standby snapshot 307" 307 "$ST"; eq "Location" "$A_ADDR/v1/sys/storage/raft/snapshot" "$(hdr Location)"
req POST /v1/sys/storage/raft/snapshot --data-binary "@$T/a.snap"; eq "standby restore 307" 307 "$ST"
fetch "$T/followed.snap" /v1/sys/storage/raft/snapshot -L; eq "following the 307 yields the snapshot" 200 "$ST"
req GET /v1/secret/data/restore/me; eq "standby serves ordinary requests" 200 "$ST"
admin '{"mode":"active","storage":"inmem"}'
req GET /v1/sys/storage/raft/snapshot; eq "not raft 400" 400 "$ST"; eq "not raft message" '["raft storage is not in use"]' "$(j .errors)"
admin '{"storage":"raft"}'

echo "== snapshot faults"
admin '{"snapshot_omit_sealed":true}'
fetch "$T/nosealed.snap" /v1/sys/storage/raft/snapshot
eq "omit sealed" "meta.json state.bin SHA256SUMS" "$(tar -tzf "$T/nosealed.snap" | tr '\n' ' ' | sed 's/ $//')"
admin '{"snapshot_omit_sealed":false,"snapshot_pad_bytes":3000000,"snapshot_pad_kind":"random","snapshot_cut_after_bytes":100000}'
ST=$(vault_double_curl -o "$T/cut.snap" -w '%{http_code}' -H "X-Vault-Token: $VAULT_TOKEN" "$VAULT_ADDR/v1/sys/storage/raft/snapshot" 2>/dev/null); RC=$?
eq "cut stream: status was 200" 200 "$ST"
if [ "$RC" -ne 0 ]; then ok; else bad "cut stream: curl reports an error"; fi
eq "cut stream: exactly N bytes" 100000 "$(wc -c <"$T/cut.snap" | tr -d ' ')"
if gzip -t "$T/cut.snap" 2>/dev/null; then bad "cut stream: gzip -t must fail"; else ok; fi
admin '{"snapshot_cut_after_bytes":null}'
fetch "$T/pad.snap" /v1/sys/storage/raft/snapshot
# The random filler goes out in stored blocks: still one complete gzip member
# whose CRC-32 and size gzip checks.
if gzip -t "$T/pad.snap" 2>/dev/null; then ok; else bad "padded random snapshot is complete gzip"; fi
rm -rf "$T/p" && mkdir -p "$T/p" && tar -xzf "$T/pad.snap" -C "$T/p"
if (cd "$T/p" && sha256sum -c --quiet SHA256SUMS); then ok; else bad "padded snapshot hashes"; fi
eq "state.bin carries the filler" true "$([ "$(wc -c <"$T/p/state.bin")" -gt 3000000 ] && echo true || echo false)"
req POST /v1/sys/storage/raft/snapshot --data-binary "@$T/pad.snap"; eq "padded snapshot restores" 204 "$ST"
wait_health 200 || bad "health after padded restore"
admin '{"snapshot_pad_bytes":0,"snapshot_bad_hash":true}'
fetch "$T/badhash.snap" /v1/sys/storage/raft/snapshot
rm -rf "$T/b" && mkdir -p "$T/b" && tar -xzf "$T/badhash.snap" -C "$T/b"
if (cd "$T/b" && sha256sum -c --quiet SHA256SUMS >/dev/null 2>&1); then bad "bad-hash fault must break SHA256SUMS"; else ok; fi
# Throttling and delays change when the bytes arrive, never which bytes: a
# throttled snapshot is whole and checks, a delayed request answers as an
# undelayed one.  How much slower they make things is measured, not tested:
# bench/bench_vault_double.sh.
admin '{"snapshot_bad_hash":false,"snapshot_bps":40000}'
fetch "$T/slow.snap" /v1/sys/storage/raft/snapshot; eq "throttled snapshot: status" 200 "$ST"
rm -rf "$T/s" && mkdir -p "$T/s" && tar -xzf "$T/slow.snap" -C "$T/s"
if (cd "$T/s" && sha256sum -c --quiet SHA256SUMS); then ok; else bad "throttled snapshot hashes"; fi
eq "throttled snapshot: same members" "meta.json state.bin SHA256SUMS SHA256SUMS.sealed" "$(tar -tzf "$T/slow.snap" | tr '\n' ' ' | sed 's/ $//')"
req GET /v1/sys/mounts; UNDELAYED=$(j '.data | map_values({type, options})')
admin '{"snapshot_bps":0,"delay_ms":250}'
req GET /v1/sys/mounts; eq "delayed request: status" 200 "$ST"
eq "delayed request: same answer" "$UNDELAYED" "$(j '.data | map_values({type, options})')"
admin '{"delay_ms":0}'

echo "== 500 injection and request log"
vault_double_admin '{"clear_log":true}'
admin '{"fail_next":2}'
req GET /v1/secret/data/restore/me; eq "fail 1" 500 "$ST"; eq "500 body" '["internal error"]' "$(j .errors)"
req GET /v1/secret/data/restore/me; eq "fail 2" 500 "$ST"
req GET /v1/secret/data/restore/me; eq "then ok" 200 "$ST"
eq "log shows the retries" "[500,500,200]" "$(vault_double_admin | jq -c '[.requests[]|select(.path=="/v1/secret/data/restore/me")|.status]')"
# The library's generic fault rules (tests/doubles/lib) answer in Vault's error envelope.
RULE=$(vault_double_curl --fail-with-body -X POST --data-binary '{"method":"GET","path":"/v1/secret/data/*","status":502}' "$VAULT_DOUBLE_ADMIN/faults" | jq -r '.faults[0].id')
req GET /v1/secret/data/restore/me; eq "generic fault rule" 502 "$ST"; eq "in Vault's error envelope" "[\"injected fault (rule $RULE)\"]" "$(j .errors)"
eq "log entry: Vault's fields, the token only as present" "x-vault-token true true" \
  "$(vault_double_admin | jq -r '[.requests[]|select(.status==502)]|last|"\(.token_source) \(.token_present) \(.secrets["x-vault-token"])"')"
req GET /v1/secret/data/restore/me; eq "generic rule used up" 200 "$ST"

echo "== restore failure seals the node"
admin '{"restore_fail":true}'
req POST /v1/sys/storage/raft/snapshot-force --data-binary "@$T/a.snap"; eq "force accepted" 204 "$ST"
wait_health 503 || bad "failed restore seals the node"
admin '{"restore_fail":false,"sealed":false}'

echo "== TLS"
start_vault_double_tls --mtls || exit 1
save C
noauth GET /v1/sys/health --cacert "$VAULT_CACERT" --cert "$VAULT_CLIENT_CERT" --key "$VAULT_CLIENT_KEY"; eq "TLS with the right CA and client cert" 200 "$ST"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$VAULT_DOUBLE_TLS_DIR/other-ca.pem" --cert "$VAULT_CLIENT_CERT" --key "$VAULT_CLIENT_KEY" "$VAULT_ADDR/v1/sys/health"); rc=$?
eq "TLS with a wrong CA fails (curl 60)" "60 000" "$rc $code"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$VAULT_CACERT" "$VAULT_ADDR/v1/sys/health"); rc=$?
if [ "$rc" -ne 0 ]; then ok; else bad "mTLS: no client cert must fail (got $code)"; fi
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$VAULT_CACERT" --cert "$VAULT_CLIENT_CERT" --key "$VAULT_CLIENT_KEY" "https://localhost:${VAULT_ADDR##*:}/v1/sys/health"); eq "TLS by name localhost" 200 "$code"
req LIST /v1/secret/metadata/; eq "LIST over TLS (empty) 404" 404 "$ST"

checks_verdict "vault double conformance"
