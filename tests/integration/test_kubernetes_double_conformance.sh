#!/usr/bin/env bash
# Conformance test of the Kubernetes API server double (tests/doubles/kubernetes)
# against the Kubernetes API reference (https://kubernetes.io/docs/reference/kubernetes-api/),
# "API Concepts" (https://kubernetes.io/docs/reference/using-api/api-concepts/) and the
# API server's and controllers' source; tests/doubles/kubernetes/README.md lists each
# behaviour and where it is specified.  Rollouts are judged as "kubectl rollout status"
# judges them (kubernetes_rollout_status in tests/harness/doubles.sh, from kubectl's
# pkg/polymorphichelpers/rollout_status.go).
# Runs standalone: bash tests/integration/test_kubernetes_double_conformance.sh
set -u
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../harness/require.sh
source "$ROOT/tests/harness/require.sh"
require_tools curl jq openssl node
# shellcheck source=../harness/services.sh
source "$ROOT/tests/harness/services.sh"
# shellcheck source=../harness/checks.sh
source "$ROOT/tests/harness/checks.sh"
harness_init

T="$HARNESS_DIR/t"; mkdir -p "$T"

NS=ai-agents
APPS=/apis/apps/v1/namespaces/$NS
CORE=/api/v1/namespaces/$NS
USER_SA=system:serviceaccount:ai-agents:drctl
MERGE='Content-Type: application/merge-patch+json'
SMP='Content-Type: application/strategic-merge-patch+json'
JSONP='Content-Type: application/json-patch+json'

# req METHOD PATH [curl args] -> $ST $BODY, headers in $T/hdr (with the bearer token)
req() {
	local m=$1 p=$2; shift 2
	ST=$(kubernetes_double_curl -o "$T/body" -D "$T/hdr" -w '%{http_code}' -X "$m" "$@" "$KUBERNETES_DOUBLE_URL$p" 2>"$T/err") || ST=000
	BODY=$(cat "$T/body" 2>/dev/null)
}
# as req, with the Authorization header of file $1 (or none: "-")
req_as() {
	local h=$1 m=$2 p=$3; shift 3
	local a=(-sS -o "$T/body" -D "$T/hdr" -w '%{http_code}' --cacert "$KUBERNETES_DOUBLE_CACERT" -X "$m")
	[ "$h" = - ] || a+=(-H "@$h")
	ST=$(curl "${a[@]}" "$@" "$KUBERNETES_DOUBLE_URL$p" 2>"$T/err") || ST=000
	BODY=$(cat "$T/body" 2>/dev/null)
}
j() { printf '%s' "$BODY" | jq -c "$1" 2>/dev/null; }
jr() { printf '%s' "$BODY" | jq -r "$1" 2>/dev/null; }
hdr() { tr -d '\r' <"$T/hdr" | awk -v h="$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')" 'BEGIN{FS=": "} tolower($1)==h {print substr($0, length($1)+3)}' | tail -1; }
get() { kubernetes_double_curl "$KUBERNETES_DOUBLE_URL$1"; }
admin() { kubernetes_double_admin POST /state "$1" >/dev/null || bad "admin /state $1"; }
# header file for a token (never on a command line)
auth_file() { (umask 077; printf 'Authorization: %s %s\n' "$2" "$(cat "$3")" >"$1"); }
# wait_until SECONDS COMMAND...: poll until COMMAND succeeds
wait_until() { local end=$((SECONDS + $1)); shift; until "$@"; do [ "$SECONDS" -lt "$end" ] || return 1; sleep 0.05; done; }
# a Status object's fields: kind apiVersion status reason code
status_of() { j '[.kind, .apiVersion, .status, .reason, .code]'; }
# a continue token's JSON (base64url without padding)
b64url_json() { local s; s=$(printf '%s' "$1" | tr '_-' '/+'); while [ $((${#s} % 4)) != 0 ]; do s="$s="; done; printf '%s' "$s" | base64 -d | jq -c .; }

SEED="$HARNESS_DIR/seed.json"
cat >"$SEED" <<'EOF'
{"namespace": "ai-agents", "workloads": [
  {"name": "planner",    "replicas": 2, "labels": {"app": "planner", "role": "agent"}},
  {"name": "researcher", "replicas": 1, "labels": {"app": "researcher", "role": "agent"}, "paused": true},
  {"name": "critic",     "replicas": 1, "labels": {"app": "critic", "role": "agent", "tier": "gold"}},
  {"name": "executor",   "replicas": 1, "labels": {"app": "executor", "role": "agent", "tier": "silver"}},
  {"name": "slow",       "replicas": 2, "labels": {"app": "slow", "role": "agent"}, "progressDeadlineSeconds": 1},
  {"name": "web",        "replicas": 1, "labels": {"app": "web"}},
  {"name": "memory", "kind": "StatefulSet", "replicas": 2, "labels": {"app": "memory", "role": "agent"}}
]}
EOF

echo "== start (HTTPS, token file, seed, --forbid)"
start_kubernetes_double --seed "$SEED" --converge-ms 500 --observed-lag-ms 300 --terminate-ms 600 --forbid "delete deployments" || exit 1
matches "API URL is https" '^https://127\.0\.0\.1:[0-9]+$' "$DRCTL_KUBERNETES_API_URL"
eq "CA file exported" "$KUBERNETES_DOUBLE_CACERT" "${DRCTL_KUBERNETES_CA_FILE:-}"
eq "token file exported" "$KUBERNETES_DOUBLE_TOKEN_FILE" "$DRCTL_KUBERNETES_TOKEN_FILE"
eq "token file is private" 600 "$(stat -c %a "$DRCTL_KUBERNETES_TOKEN_FILE")"
TOKEN=$(cat "$DRCTL_KUBERNETES_TOKEN_FILE")

echo "== TLS"
code=0; curl -sS -o /dev/null "$KUBERNETES_DOUBLE_URL/version" 2>/dev/null || code=$?
eq "no CA: certificate refused (curl 60)" 60 "$code"
code=0; curl -sS -o /dev/null --cacert "$DOUBLES_TLS_DIR/other-ca.pem" "$KUBERNETES_DOUBLE_URL/version" 2>/dev/null || code=$?
eq "unrelated CA refused" 60 "$code"
req GET /version; eq "/version with the CA" 200 "$ST"; eq "gitVersion" '"v1.30.4"' "$(j .gitVersion)"

echo "== authentication"
req_as - GET "$APPS/deployments"
eq "no token -> 401" 401 "$ST"
eq "401 Status" '["Status","v1","Failure","Unauthorized",401]' "$(status_of)"
eq "401 message" '"Unauthorized"' "$(j .message)"
eq "401 metadata" '{}' "$(j .metadata)"
eq "401 content type" application/json "$(hdr Content-Type)"
printf 'not-the-token' >"$T/wrong.tok"
auth_file "$T/wrong.hdr" Bearer "$T/wrong.tok"
req_as "$T/wrong.hdr" GET "$APPS/deployments"; eq "wrong token -> 401" 401 "$ST"; eq "wrong token reason" '"Unauthorized"' "$(j .reason)"
auth_file "$T/lower.hdr" bearer "$DRCTL_KUBERNETES_TOKEN_FILE"
req_as "$T/lower.hdr" GET "$APPS/deployments"; eq "scheme is case-insensitive (bearer)" 200 "$ST"
auth_file "$T/basic.hdr" Basic "$DRCTL_KUBERNETES_TOKEN_FILE"
req_as "$T/basic.hdr" GET "$APPS/deployments"; eq "Basic is no bearer token -> 401" 401 "$ST"
auth_file "$T/old.hdr" Bearer "$DRCTL_KUBERNETES_TOKEN_FILE"
printf 'eyJhbGciOiJSUzI1NiJ9.rotated.%s' "$(openssl rand -hex 8)" >"$T/new.tok"
chmod 600 "$T/new.tok"; mv "$T/new.tok" "$DRCTL_KUBERNETES_TOKEN_FILE" # the kubelet replaces the file
req_as "$T/old.hdr" GET "$APPS/deployments"; eq "rotated: old token -> 401" 401 "$ST"
req GET "$APPS/deployments"; eq "rotated: token re-read from the file" 200 "$ST"
admin '{"anonymous_auth": true}'
req_as - GET "$APPS/deployments"
eq "anonymous: 403" 403 "$ST"
eq "anonymous message" '"deployments.apps is forbidden: User \"system:anonymous\" cannot list resource \"deployments\" in API group \"apps\" in the namespace \"ai-agents\""' "$(j .message)"
req_as - GET /version; eq "anonymous may read /version" 200 "$ST"
req_as - GET /apis; eq "anonymous may not read /apis" 403 "$ST"
eq "non-resource forbidden message" '"forbidden: User \"system:anonymous\" cannot get path \"/apis\""' "$(j .message)"
req_as "$T/wrong.hdr" GET /version; eq "anonymous on: a bad token is still 401" 401 "$ST"
admin '{"anonymous_auth": false}'
req_as - GET /version; eq "anonymous off: /version needs a token" 401 "$ST"

echo "== authorization (RBAC-like denials)"
req DELETE "$APPS/deployments/web"
eq "--forbid delete deployments -> 403" 403 "$ST"
eq "403 Status" '["Status","v1","Failure","Forbidden",403]' "$(status_of)"
eq "403 message" "\"deployments.apps \\\"web\\\" is forbidden: User \\\"$USER_SA\\\" cannot delete resource \\\"deployments\\\" in API group \\\"apps\\\" in the namespace \\\"ai-agents\\\"\"" "$(j .message)"
eq "403 details" '{"name":"web","group":"apps","kind":"deployments"}' "$(j .details)"
req DELETE "$APPS/deployments/no-such"; eq "authorization before existence: 403 not 404" 403 "$ST"
admin '{"forbid_add": ["patch deployments/scale", "list pods"]}'
req PATCH "$APPS/deployments/planner/scale" -H "$MERGE" --data '{"spec":{"replicas":3}}'
eq "forbidden scale patch -> 403" 403 "$ST"
eq "forbidden scale message (as the API server words it)" '"deployments.apps \"planner\" is forbidden: User \"system:serviceaccount:ai-agents:drctl\" cannot patch resource \"deployments/scale\" in API group \"apps\" in the namespace \"ai-agents\""' "$(j .message)"
eq "forbidden scale details" '{"name":"planner","group":"apps","kind":"deployments"}' "$(j .details)"
req GET "$APPS/deployments/planner/scale"; eq "get scale still allowed" 200 "$ST"
eq "the denied patch changed nothing" 2 "$(j .spec.replicas)"
req GET "$CORE/pods"
eq "forbidden list (core group, no name)" '"pods is forbidden: User \"system:serviceaccount:ai-agents:drctl\" cannot list resource \"pods\" in API group \"\" in the namespace \"ai-agents\""' "$(j .message)"
eq "forbidden list details" '{"kind":"pods"}' "$(j .details)"
printf 'eyJhbGciOiJSUzI1NiJ9.other.%s' "$(openssl rand -hex 8)" >"$T/other.tok"; chmod 600 "$T/other.tok"
auth_file "$T/other.hdr" Bearer "$T/other.tok"
kubernetes_double_admin POST /state "{\"forbid\": [\"delete deployments\", {\"verb\": \"get\", \"resource\": \"deployments\", \"user\": \"system:serviceaccount:ai-agents:readonly\"}], \"token_files\": [{\"file\": \"$DRCTL_KUBERNETES_TOKEN_FILE\", \"user\": \"$USER_SA\"}, {\"file\": \"$T/other.tok\", \"user\": \"system:serviceaccount:ai-agents:readonly\"}]}" >/dev/null || bad "admin token_files"
req_as "$T/other.hdr" GET "$APPS/deployments/planner"
eq "per-token rule denies the other user" 403 "$ST"
contains "other user named" 'User \"system:serviceaccount:ai-agents:readonly\" cannot get resource \"deployments\"' "$(j .message)"
req GET "$APPS/deployments/planner"; eq "per-token rule leaves drctl alone" 200 "$ST"
req PATCH "$APPS/deployments/planner/scale" -H "$MERGE" --data '{"spec":{"replicas":2}}'; eq "forbid replaced: scale patch allowed again" 200 "$ST"

echo "== lists, selectors, paging"
req GET "$APPS/deployments?labelSelector=role%3Dagent"
eq "list 200" 200 "$ST"
eq "list kind/apiVersion" '["DeploymentList","apps/v1"]' "$(j '[.kind, .apiVersion]')"
eq "role=agent" '["critic","executor","planner","researcher","slow"]' "$(j '[.items[].metadata.name]')"
matches "list resourceVersion is a string of digits" '^"[0-9]+"$' "$(j .metadata.resourceVersion)"
eq "items carry no kind/apiVersion" '[null,null]' "$(j '[.items[0].kind, .items[0].apiVersion]')"
eq "no paging without limit" '[null,null]' "$(j '[.metadata.continue, .metadata.remainingItemCount]')"
for sel in 'role!=agent|["web"]' 'role|["critic","executor","planner","researcher","slow"]' '!role|["web"]' \
	'tier in (gold,silver)|["critic","executor"]' 'role=agent,tier notin (gold)|["executor","planner","researcher","slow"]' \
	'app==web|["web"]' 'tier!=gold,role=agent|["executor","planner","researcher","slow"]'; do
	q=$(jq -rn --arg s "${sel%%|*}" '$s|@uri')
	req GET "$APPS/deployments?labelSelector=$q"; eq "labelSelector ${sel%%|*}" "${sel#*|}" "$(j '[.items[].metadata.name]')"
done
req GET "$APPS/deployments?labelSelector=role%3D%3D%3Dx"; eq "bad selector -> 400" 400 "$ST"; eq "bad selector reason" '"BadRequest"' "$(j .reason)"
req GET "$APPS/statefulsets?labelSelector=role%3Dagent"; eq "statefulsets list" '["StatefulSetList",["memory"]]' "$(j '[.kind, [.items[].metadata.name]]')"
req GET "/apis/apps/v1/deployments?labelSelector=app%3Dweb"; eq "all-namespaces list" '["web"]' "$(j '[.items[].metadata.name]')"

# paging with a selector: continue, no remainingItemCount (the count is unknown with selectors)
names='[]'; cont=''; pages=0; rvs=()
while :; do
	q="$APPS/deployments?labelSelector=role%3Dagent&limit=2"; [ -z "$cont" ] || q="$q&continue=$cont"
	req GET "$q"; pages=$((pages + 1))
	[ "$ST" = 200 ] || { bad "page $pages: $ST $BODY"; break; }
	[ "$(j '.items | length')" -le 2 ] || bad "page $pages has more than limit items"
	eq "selector page $pages: no remainingItemCount" null "$(j .metadata.remainingItemCount)"
	names=$(jq -cn --argjson a "$names" --argjson b "$(j '[.items[].metadata.name]')" '$a + $b')
	rvs+=("$(jr .metadata.resourceVersion)")
	cont=$(jr '.metadata.continue // empty')
	[ -n "$cont" ] || break
	[ "$pages" -lt 10 ] || { bad "paging never ends"; break; }
done
eq "paged names = unpaged names" '["critic","executor","planner","researcher","slow"]' "$names"
eq "3 pages of 2" 3 "$pages"
eq "every page at one resourceVersion" 1 "$(printf '%s\n' "${rvs[@]}" | sort -u | wc -l)"
# without a selector: remainingItemCount
req GET "$APPS/deployments?limit=2"
eq "remainingItemCount (6 deployments, 2 returned)" 4 "$(j .metadata.remainingItemCount)"
P1_RV=$(jr .metadata.resourceVersion); P1_CONT=$(jr .metadata.continue)
matches "continue token is base64url" '^[A-Za-z0-9_-]+$' "$P1_CONT"
eq "continue token content" "{\"v\":\"meta.k8s.io/v1\",\"rv\":$P1_RV,\"start\":\"executor\\u0000\"}" "$(b64url_json "$P1_CONT")"
WEB_RV_BEFORE=$(get "$APPS/deployments/web" | jq -r .metadata.resourceVersion)
req PATCH "$APPS/deployments/web" -H "$MERGE" --data '{"metadata":{"labels":{"touched":"yes"}}}'; eq "label patch" 200 "$ST"
eq "a metadata change keeps generation" 1 "$(j .metadata.generation)"
req GET "$APPS/deployments?limit=2&continue=$P1_CONT"
eq "page 2 at page 1's revision" "\"$P1_RV\"" "$(j .metadata.resourceVersion)"
eq "page 2 items" '["planner","researcher"]' "$(j '[.items[].metadata.name]')"
eq "page 2 remainingItemCount" 2 "$(j .metadata.remainingItemCount)"
req GET "$APPS/deployments?limit=2&continue=$(jr .metadata.continue)"
eq "last page: no continue" '[null,null]' "$(j '[.metadata.continue, .metadata.remainingItemCount]')"
eq "snapshot: web as of page 1 (old resourceVersion)" "\"$WEB_RV_BEFORE\"" "$(j '.items[] | select(.metadata.name=="web") | .metadata.resourceVersion')"
eq "snapshot: web without the later label" null "$(j '.items[] | select(.metadata.name=="web") | .metadata.labels.touched')"
req GET "$APPS/deployments?limit=2&continue=$P1_CONT&resourceVersion=5"; eq "continue + resourceVersion -> 400" 400 "$ST"
eq "message" '"specifying resource version is not allowed when using continue"' "$(j .message)"
req GET "$APPS/deployments?limit=2&continue=not%2Ba%2Btoken"; eq "malformed continue -> 400" 400 "$ST"; contains "invalid continue token" 'invalid continue token' "$(j .message)"
kubernetes_double_admin POST /state '{"compact": true}' >/dev/null
req GET "$APPS/deployments?limit=2&continue=$P1_CONT"
eq "compacted continue -> 410" 410 "$ST"
eq "410 Status" '["Status","v1","Failure","Expired",410]' "$(status_of)"
contains "410 message" 'The provided continue parameter is too old to display a consistent list result' "$(j .message)"
NEWC=$(jr '.metadata.continue // empty')
eq "410 offers a new token (rv -1)" '-1' "$(b64url_json "$NEWC" | jq -c .rv)"
req GET "$APPS/deployments?limit=2&continue=$NEWC"; eq "the 410's token continues at the latest revision" '["planner","researcher"]' "$(j '[.items[].metadata.name]')"
req GET "$APPS/deployments?resourceVersion=$P1_RV&resourceVersionMatch=Exact"; eq "Exact at a compacted revision -> 410" 410 "$ST"
req GET "$APPS/deployments?resourceVersion=0&limit=2"; eq "resourceVersion=0 ignores limit (watch cache)" 6 "$(j '.items | length')"

echo "== get one, 404, object shape"
req GET "$APPS/deployments/nope"
eq "missing -> 404" 404 "$ST"
eq "404 Status" '["Status","v1","Failure","NotFound",404]' "$(status_of)"
eq "404 message" '"deployments.apps \"nope\" not found"' "$(j .message)"
eq "404 details" '{"name":"nope","group":"apps","kind":"deployments"}' "$(j .details)"
req GET "$APPS/deployments/nope/scale"; eq "scale of missing -> 404" '[404,"deployments.apps \"nope\" not found"]' "[$ST,$(j .message)]"
req GET "$CORE/pods/nope"; eq "missing pod" '[404,"pods \"nope\" not found",{"name":"nope","kind":"pods"}]' "[$ST,$(j .message),$(j .details)]"
req GET "$APPS/statefulsets/nope"; eq "missing statefulset" '"statefulsets.apps \"nope\" not found"' "$(j .message)"
req GET "$APPS/cronjobs"; eq "unknown resource -> 404" '[404,"the server could not find the requested resource"]' "[$ST,$(j .message)]"
req POST "$APPS/deployments/planner/scale" -H 'Content-Type: application/json' --data '{}'; eq "unsupported verb -> 405" '[405,"MethodNotAllowed"]' "[$ST,$(j .reason)]"
req GET "$APPS/deployments/planner"
eq "kind/apiVersion" '["Deployment","apps/v1"]' "$(j '[.kind, .apiVersion]')"
eq "generation is a number, resourceVersion a string" '["number","string"]' "$(j '[(.metadata.generation|type), (.metadata.resourceVersion|type)]')"
eq "converged status" '{"observedGeneration":1,"replicas":2,"updatedReplicas":2,"readyReplicas":2,"availableReplicas":2}' "$(j '.status | del(.conditions)')"
eq "conditions" '[["Available","True","MinimumReplicasAvailable"],["Progressing","True","NewReplicaSetAvailable"]]' "$(j '[.status.conditions[] | [.type, .status, .reason]] | sort')"
matches "Progressing message" '^"ReplicaSet \\"planner-[bcdfghjklmnpqrstvwxz2456789]+\\" has successfully progressed\."$' "$(j '.status.conditions[] | select(.type=="Progressing") | .message')"
eq "revision annotation" '"1"' "$(j '.metadata.annotations["deployment.kubernetes.io/revision"]')"
eq "defaults" '["RollingUpdate","25%","25%",10,600]' "$(j '[.spec.strategy.type, .spec.strategy.rollingUpdate.maxUnavailable, .spec.strategy.rollingUpdate.maxSurge, .spec.revisionHistoryLimit, .spec.progressDeadlineSeconds]')"
eq "not paused: no paused field" null "$(j .spec.paused)"
req GET "$APPS/statefulsets/memory"
eq "statefulset status" '["memory","RollingUpdate",0,2,2,2,2,2,0]' "$(j '[.metadata.name, .spec.updateStrategy.type, .spec.updateStrategy.rollingUpdate.partition, .status.replicas, .status.readyReplicas, .status.currentReplicas, .status.updatedReplicas, .status.availableReplicas, .status.collisionCount]')"
truthy "currentRevision = updateRevision" "$(j '.status.currentRevision == .status.updateRevision and (.status.currentRevision | test("^memory-[bcdfghjklmnpqrstvwxz2456789]+$"))')"
eq "statefulset defaults" '["OrderedReady","memory"]' "$(j '[.spec.podManagementPolicy, .spec.serviceName]')"

echo "== pods"
req GET "$CORE/pods?labelSelector=app%3Dplanner"
eq "pod list kind" '"PodList"' "$(j .kind)"
eq "two planner pods" 2 "$(j '.items | length')"
PLANNER_HASH=$(get "$APPS/deployments/planner" | jq -r '.status.conditions[] | select(.type=="Progressing") | .message' | sed -E 's/.*planner-([a-z0-9]+).*/\1/')
for n in $(jr '.items[].metadata.name'); do matches "pod name $n" "^planner-$PLANNER_HASH-[bcdfghjklmnpqrstvwxz2456789]{5}\$" "$n"; done
eq "pod labels: template + pod-template-hash" "{\"app\":\"planner\",\"pod-template-hash\":\"$PLANNER_HASH\",\"role\":\"agent\"}" "$(j '.items[0].metadata.labels')"
eq "pods Running and Ready" '[["Running","True"],["Running","True"]]' "$(j '[.items[] | [.status.phase, (.status.conditions[] | select(.type=="Ready") | .status)]]')"
eq "owner: the ReplicaSet" "[\"ReplicaSet\",\"planner-$PLANNER_HASH\",true]" "$(j '.items[0].metadata.ownerReferences[0] | [.kind, .name, .controller]')"
eq "not terminating" '[null,null]' "$(j '[.items[].metadata.deletionTimestamp]')"
req GET "$CORE/pods?labelSelector=app%3Dmemory"; eq "statefulset pods" '["memory-0","memory-1"]' "$(j '[.items[].metadata.name]')"
eq "statefulset pod labels" '["0","memory-0"]' "$(j '[.items[0].metadata.labels["apps.kubernetes.io/pod-index"], .items[0].metadata.labels["statefulset.kubernetes.io/pod-name"]]')"
req GET "$CORE/pods?labelSelector=role%3Dagent&fieldSelector=status.phase%3DRunning"; eq "fieldSelector status.phase" 9 "$(j '.items | length')"
req GET "$CORE/pods?fieldSelector=spec.color%3Dblue"; eq "unsupported field -> 400" '[400,"field label not supported: spec.color"]' "[$ST,$(j .message)]"

echo "== scale subresource"
req GET "$APPS/deployments/planner/scale"
eq "Scale kind" '["Scale","autoscaling/v1"]' "$(j '[.kind, .apiVersion]')"
eq "Scale spec/status" '[{"replicas":2},{"replicas":2,"selector":"app=planner,role=agent"}]' "$(j '[.spec, .status]')"
eq "status.selector is a string" '"string"' "$(j '.status.selector|type')"
eq "Scale metadata fields" '["creationTimestamp","name","namespace","resourceVersion","uid"]' "$(j '.metadata | keys')"
eq "Scale resourceVersion = the Deployment's" "$(get "$APPS/deployments/planner" | jq -c .metadata.resourceVersion)" "$(j .metadata.resourceVersion)"
req GET "$APPS/statefulsets/memory/scale"; eq "statefulset Scale" '[2,"app=memory,role=agent"]' "$(j '[.spec.replicas, .status.selector]')"
for ct in 'application/json' 'text/plain' 'application/x-www-form-urlencoded'; do
	req PATCH "$APPS/deployments/planner/scale" -H "Content-Type: $ct" --data '{"spec":{"replicas":1}}'
	eq "PATCH $ct -> 415" 415 "$ST"
done
eq "415 Status" '["Status","v1","Failure","UnsupportedMediaType",415]' "$(status_of)"
eq "415 message" '"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml"' "$(j .message)"
req PATCH "$APPS/deployments/planner/scale" -H "$MERGE" --data '{"spec":{"replicas":-1}}'
eq "negative replicas -> 422" 422 "$ST"
eq "422 message" '"Scale.autoscaling \"planner\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"' "$(j .message)"
eq "422 details" '{"name":"planner","group":"autoscaling","kind":"Scale","causes":[{"reason":"FieldValueInvalid","message":"Invalid value: -1: must be greater than or equal to 0","field":"spec.replicas"}]}' "$(j .details)"
RV0=$(get "$APPS/deployments/planner" | jq -r .metadata.resourceVersion)
req PATCH "$APPS/deployments/planner/scale" -H "$MERGE" --data '{"spec":{"replicas":2}}'
eq "no-op patch: resourceVersion unchanged" "\"$RV0\"" "$(j .metadata.resourceVersion)"
eq "no-op patch: generation unchanged" 1 "$(get "$APPS/deployments/planner" | jq .metadata.generation)"
req PATCH "$APPS/deployments/planner/scale?dryRun=All" -H "$MERGE" --data '{"spec":{"replicas":5}}'
eq "dryRun answer" 5 "$(j .spec.replicas)"
eq "dryRun stored nothing" "[2,\"$RV0\"]" "$(get "$APPS/deployments/planner" | jq -c '[.spec.replicas, .metadata.resourceVersion]')"
req PATCH "$APPS/deployments/planner/scale" -H "$MERGE" --data '{"spec":{"replica":3}}'
eq "unknown field: 200, dropped" '[200,2]' "[$ST,$(j .spec.replicas)]"
eq "unknown field: Warning header" '299 - "unknown field \"spec.replica\""' "$(hdr Warning)"
req PATCH "$APPS/deployments/planner/scale?fieldValidation=Strict" -H "$MERGE" --data '{"spec":{"replica":3}}'
eq "unknown field, Strict -> 400" 400 "$ST"
req PATCH "$APPS/deployments/planner/scale" -H 'Content-Type: application/apply-patch+yaml' --data '{"apiVersion":"autoscaling/v1","kind":"Scale","spec":{"replicas":2}}'
eq "apply without fieldManager -> 422" '[422,"PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"]' "[$ST,$(j .message)]"
req PATCH "$APPS/deployments/planner/scale" -H "$JSONP" --data '[{"op":"test","path":"/spec/replicas","value":7}]'
eq "failing json-patch test -> 422" '[422,"Invalid"]' "[$ST,$(j .reason)]"

# PUT with a stale resourceVersion
SCALE=$(get "$APPS/deployments/planner/scale")
OLD_RV=$(printf '%s' "$SCALE" | jq -r .metadata.resourceVersion)
req PATCH "$APPS/deployments/planner" -H "$MERGE" --data '{"metadata":{"annotations":{"example.com/note":"bump"}}}'
req PUT "$APPS/deployments/planner/scale" -H 'Content-Type: application/json' --data "$(printf '%s' "$SCALE" | jq -c '.spec.replicas = 3')"
eq "stale PUT -> 409" 409 "$ST"
eq "409 Status" '["Status","v1","Failure","Conflict",409]' "$(status_of)"
eq "409 message" '"Operation cannot be fulfilled on deployments.apps \"planner\": the object has been modified; please apply your changes to the latest version and try again"' "$(j .message)"
eq "409 details" '{"name":"planner","group":"apps","kind":"deployments"}' "$(j .details)"
eq "stale PUT changed nothing" 2 "$(get "$APPS/deployments/planner" | jq .spec.replicas)"
req PUT "$APPS/deployments/planner/scale" -H 'Content-Type: application/json' --data '{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"other"},"spec":{"replicas":2}}'
eq "PUT with another name -> 400" '[400,"the name of the object (other) does not match the name on the URL (planner)"]' "[$ST,$(j .message)]"
req PUT "$APPS/deployments/planner/scale" -H 'Content-Type: text/plain' --data '{}'
eq "PUT text/plain -> 415" 415 "$ST"
SCALE=$(get "$APPS/deployments/planner/scale")
[ "$OLD_RV" != "$(printf '%s' "$SCALE" | jq -r .metadata.resourceVersion)" ] && ok || bad "the annotation patch changed the resourceVersion"
req PUT "$APPS/deployments/planner/scale" -H 'Content-Type: application/json' --data "$SCALE"
eq "PUT with the current resourceVersion -> 200" 200 "$ST"

echo "== scale to 0: observedGeneration lag, convergence, pods terminating"
admin '{"observed_lag_ms": 5000, "terminate_ms": 2500}'
GEN0=$(get "$APPS/deployments/planner" | jq .metadata.generation)
req PATCH "$APPS/deployments/planner/scale" -H "$MERGE" --data '{"spec":{"replicas":0}}'
eq "scale patch 200" 200 "$ST"
eq "scaled to 0: Scale spec is {} (replicas omitempty)" '{}' "$(j .spec)"
eq "status.replicas not yet changed" 2 "$(j .status.replicas)"
req GET "$APPS/deployments/planner"
eq "generation +1" "$((GEN0 + 1))" "$(j .metadata.generation)"
eq "Deployment spec.replicas 0 is present (a pointer)" 0 "$(j .spec.replicas)"
truthy "observedGeneration lags behind generation" "$(j '.status.observedGeneration < .metadata.generation')"
eq "kubectl: not observed yet" 'Waiting for deployment spec update to be observed...' "$(kubernetes_rollout_status deployment planner)"
admin '{"observed_lag_ms": 300}'
saw_gap=false
planner_gone() {
	local d p
	d=$(get "$APPS/deployments/planner"); p=$(get "$CORE/pods?labelSelector=app%3Dplanner")
	# status.replicas counts non-terminating pods only: 0 while pods still terminate
	if [ "$(jq -c '.status.replicas' <<<"$d")" = null ] && [ "$(jq '[.items[] | select(.metadata.deletionTimestamp != null)] | length' <<<"$p")" -gt 0 ]; then saw_gap=true; fi
	[ "$(jq '.items | length' <<<"$p")" = 0 ]
}
wait_until 20 planner_gone || bad "planner pods never went away"
truthy "status said 0 replicas while pods were still terminating" "$saw_gap"
req GET "$APPS/deployments/planner"
truthy "observed" "$(j '.status.observedGeneration == .metadata.generation')"
eq "status at 0: zero fields omitted" "{\"observedGeneration\":$((GEN0 + 1))}" "$(j '.status | del(.conditions)')"
eq "no readyReplicas field at all" false "$(j '.status | has("readyReplicas")')"
eq "Available at 0" '"MinimumReplicasAvailable"' "$(j '.status.conditions[] | select(.type=="Available") | .reason')"
eq "a scale is not a rollout: Progressing unchanged" '"NewReplicaSetAvailable"' "$(j '.status.conditions[] | select(.type=="Progressing") | .reason')"
eq "kubectl verdict at 0" 'deployment "planner" successfully rolled out' "$(kubernetes_rollout_status deployment planner)"
eq "Scale status at 0" '{"replicas":0,"selector":"app=planner,role=agent"}' "$(get "$APPS/deployments/planner/scale" | jq -c .status)"
admin '{"terminate_ms": 600}'
req GET "$CORE/events?fieldSelector=involvedObject.kind%3DDeployment,involvedObject.name%3Dplanner"
eq "event list kind" '["EventList","v1"]' "$(j '[.kind, .apiVersion]')"
contains "ScalingReplicaSet event" "Scaled down replica set planner-$PLANNER_HASH to 0 from 2" "$(j '[.items[] | select(.reason=="ScalingReplicaSet") | .message]')"
eq "fieldSelector kept only the Deployment's events" '["planner"]' "$(j '[.items[].involvedObject.name] | unique')"
eq "event source" '["deployment-controller","Normal"]' "$(j '.items[0] | [.source.component, .type]')"
req GET "$CORE/events"
contains "ReplicaSet deleted the pods" '"SuccessfulDelete"' "$(j '[.items[] | select(.involvedObject.kind=="ReplicaSet") | .reason]')"
contains "kubelet stopped the containers" 'Stopping container planner' "$(j '[.items[] | select(.involvedObject.kind=="Pod") | .message]')"
req GET "/apis/events.k8s.io/v1/namespaces/$NS/events?fieldSelector=regarding.name%3Dplanner"
eq "events.k8s.io list" '["EventList","events.k8s.io/v1"]' "$(j '[.kind, .apiVersion]')"
contains "events.k8s.io fields" "Scaled down replica set planner-$PLANNER_HASH to 0 from 2" "$(j '[.items[] | select(.reason=="ScalingReplicaSet") | [.regarding.kind, .reportingController, .note]]')"

echo "== scale back (strategic merge, JSON patch)"
req PATCH "$APPS/deployments/planner/scale" -H "$SMP" --data '{"spec":{"replicas":1}}'; eq "strategic-merge on scale" '[200,1]' "[$ST,$(j .spec.replicas)]"
req PATCH "$APPS/deployments/planner/scale" -H "$JSONP" --data '[{"op":"replace","path":"/spec/replicas","value":2}]'; eq "json-patch on scale" '[200,2]' "[$ST,$(j .spec.replicas)]"
kubernetes_rollout_wait deployment planner "" 20 || bad "planner did not come back to 2"
eq "back at 2" '[2,2,2]' "$(get "$APPS/deployments/planner" | jq -c '[.status.replicas, .status.readyReplicas, .status.availableReplicas]')"

echo "== restart (kubectl rollout restart) and kubectl's rollout verdicts"
OLD_PODS=$(get "$CORE/pods?labelSelector=app%3Dplanner" | jq -c '[.items[].metadata.name] | sort')
GEN0=$(get "$APPS/deployments/planner" | jq .metadata.generation)
admin '{"observed_lag_ms": 5000, "converge_ms": 1500}' # slow pods: every rollout state lasts
AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
req PATCH "$APPS/deployments/planner" -H "$SMP" --data "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"kubectl.kubernetes.io/restartedAt\":\"$AT\"}}}}}"
eq "restart patch 200" 200 "$ST"
eq "restart is a spec change" "$((GEN0 + 1))" "$(j .metadata.generation)"
eq "template annotation" "\"$AT\"" "$(j '.spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]')"
eq "first verdict" 'Waiting for deployment spec update to be observed...' "$(kubernetes_rollout_status deployment planner)"
admin '{"observed_lag_ms": 300}'
seen="$T/verdicts"; : >"$seen"
verdict_done() { local m rc=0; m=$(kubernetes_rollout_status deployment planner) || rc=$?; printf '%s\n' "$m" >>"$seen"; [ "$rc" = 0 ]; }
wait_until 30 verdict_done || bad "restart never finished"
admin '{"converge_ms": 500}'
contains "saw new replicas being updated" 'out of 2 new replicas have been updated' "$(cat "$seen")"
eq "final verdict" 'deployment "planner" successfully rolled out' "$(tail -1 "$seen")"
# "successfully rolled out" counts non-terminating pods: old ones may still be shutting down
old_pods_gone() { [ "$(get "$CORE/pods?labelSelector=app%3Dplanner" | jq '[.items[] | select(.metadata.deletionTimestamp != null)] | length')" = 0 ]; }
wait_until 20 old_pods_gone || bad "old planner pods never went away"
NEW_PODS=$(get "$CORE/pods?labelSelector=app%3Dplanner" | jq -c '[.items[].metadata.name] | sort')
[ "$OLD_PODS" != "$NEW_PODS" ] && ok || bad "the pods were not replaced"
req GET "$CORE/pods?labelSelector=app%3Dplanner"
eq "new pods carry restartedAt" "[\"$AT\",\"$AT\"]" "$(j '[.items[].metadata.annotations["kubectl.kubernetes.io/restartedAt"]]')"
NEW_HASH=$(jr '.items[0].metadata.labels["pod-template-hash"]')
[ "$NEW_HASH" != "$PLANNER_HASH" ] && ok || bad "new pod-template-hash expected"
req GET "$APPS/deployments/planner"
eq "revision 2" '"2"' "$(j '.metadata.annotations["deployment.kubernetes.io/revision"]')"
eq "Progressing after the rollout" "[\"True\",\"NewReplicaSetAvailable\",\"ReplicaSet \\\"planner-$NEW_HASH\\\" has successfully progressed.\"]" "$(j '.status.conditions[] | select(.type=="Progressing") | [.status, .reason, .message]')"
req GET "$APPS/replicasets?labelSelector=app%3Dplanner"
eq "old ReplicaSet kept at 0, new at 2" "[[\"planner-$PLANNER_HASH\",0],[\"planner-$NEW_HASH\",2]]" "$(j '[.items[] | [.metadata.name, .spec.replicas]] | sort_by(.[1])')"
contains "ScalingReplicaSet for the new ReplicaSet" "Scaled up replica set planner-$NEW_HASH" "$(get "$CORE/events?fieldSelector=involvedObject.name%3Dplanner" | jq -c '[.items[].message]')"

echo "== restart of a paused Deployment: accepted, no rollout"
RPODS=$(get "$CORE/pods?labelSelector=app%3Dresearcher" | jq -c '[.items[].metadata.name]')
req GET "$APPS/deployments/researcher"
eq "seeded paused (paused after its rollout: generation 2)" '[true,2,2]' "$(j '[.spec.paused, .metadata.generation, .status.observedGeneration]')"
eq "paused condition" '["Unknown","DeploymentPaused","Deployment is paused"]' "$(j '.status.conditions[] | select(.type=="Progressing") | [.status, .reason, .message]')"
req PATCH "$APPS/deployments/researcher" -H "$SMP" --data '{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2026-01-01T00:00:00Z"}}}}}'
eq "patch of a paused Deployment accepted" '[200,3]' "[$ST,$(j .metadata.generation)]"
res_observed() { [ "$(get "$APPS/deployments/researcher" | jq '.status.observedGeneration')" = 3 ]; }
wait_until 20 res_observed || bad "researcher change never observed"
sleep 1.5 # three converge times: a rollout would have started
eq "paused: same pods" "$RPODS" "$(get "$CORE/pods?labelSelector=app%3Dresearcher" | jq -c '[.items[].metadata.name]')"
rc=0; msg=$(kubernetes_rollout_status deployment researcher) || rc=$?
eq "kubectl verdict on the paused Deployment" '1 Waiting for deployment "researcher" rollout to finish: 0 out of 1 new replicas have been updated...' "$rc $msg"
req GET "$APPS/deployments/researcher"
eq "paused: no updatedReplicas (no new ReplicaSet)" '[1,null]' "$(j '[.status.replicas, .status.updatedReplicas]')"
req PATCH "$APPS/deployments/researcher" -H "$MERGE" --data '{"spec":{"paused":null}}'
eq "resume" '[200,null]' "[$ST,$(j .spec.paused)]"
kubernetes_rollout_wait deployment researcher "" 20 && ok || bad "resumed Deployment did not roll out"
[ "$RPODS" != "$(get "$CORE/pods?labelSelector=app%3Dresearcher" | jq -c '[.items[].metadata.name]')" ] && ok || bad "resumed: pods replaced"

echo "== a rollout that never finishes (ProgressDeadlineExceeded)"
kubernetes_double_admin POST /workloads/deployments/slow '{"stuck": true}' >/dev/null || bad "stuck switch"
req PATCH "$APPS/deployments/slow" -H "$SMP" --data '{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2026-01-02T00:00:00Z"}}}}}'
eq "restart accepted" 200 "$ST"
slow_failed() { local rc=0; kubernetes_rollout_status deployment slow >/dev/null || rc=$?; [ "$rc" = 2 ]; }
wait_until 30 slow_failed || bad "stuck rollout never failed"
rc=0; msg=$(kubernetes_rollout_status deployment slow) || rc=$?
eq "kubectl verdict" '2 error: deployment "slow" exceeded its progress deadline' "$rc $msg"
req GET "$APPS/deployments/slow"
truthy "updatedReplicas < replicas" "$(j '(.status.updatedReplicas // 0) < .spec.replicas')"
eq "old pods still serve" '[3,1,2]' "$(j '[.status.replicas, .status.updatedReplicas, .status.availableReplicas]')"
eq "Progressing False" '["False","ProgressDeadlineExceeded"]' "$(j '.status.conditions[] | select(.type=="Progressing") | [.status, .reason]')"
matches "timed-out message" '^"ReplicaSet \\"slow-[a-z0-9]+\\" has timed out progressing\."$' "$(j '.status.conditions[] | select(.type=="Progressing") | .message')"
eq "still Available (old pods)" '"True"' "$(j '.status.conditions[] | select(.type=="Available") | .status')"
req GET "$CORE/pods?labelSelector=app%3Dslow&fieldSelector=status.phase%3DPending"
eq "the new pod cannot pull its image" '["ImagePullBackOff"]' "$(j '[.items[].status.containerStatuses[0].state.waiting.reason]')"
kubernetes_double_admin POST /workloads/deployments/slow '{"stuck": false}' >/dev/null
# kubectl gives up at ProgressDeadlineExceeded; the controller does not: once
# the pod starts, progress resets the condition and the rollout completes
slow_done() { kubernetes_rollout_status deployment slow >/dev/null; }
wait_until 20 slow_done && ok || bad "unstuck rollout did not finish"
eq "recovered" '["True","NewReplicaSetAvailable"]' "$(get "$APPS/deployments/slow" | jq -c '.status.conditions[] | select(.type=="Progressing") | [.status, .reason]')"

echo "== StatefulSet: restart and scale"
OLD_REV=$(get "$APPS/statefulsets/memory" | jq -r .status.updateRevision)
admin '{"observed_lag_ms": 5000}'
kubernetes_double_admin POST /workloads/statefulsets/memory '{"stuck": true}' >/dev/null || bad "stuck switch (statefulset)"
req PATCH "$APPS/statefulsets/memory" -H "$MERGE" --data '{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2026-01-03T00:00:00Z"}}}}}'
eq "statefulset restart" '[200,2]' "[$ST,$(j .metadata.generation)]"
eq "statefulset not observed" 'Waiting for statefulset spec update to be observed...' "$(kubernetes_rollout_status statefulset memory)"
admin '{"observed_lag_ms": 300}'
# the highest ordinal is replaced first; its new pod cannot start (stuck): the update waits
sts_waiting() { [ "$(kubernetes_rollout_status statefulset memory)" = 'Waiting for 1 pods to be ready...' ]; }
wait_until 30 sts_waiting && ok || bad "statefulset update never waited for its new pod"
req GET "$APPS/statefulsets/memory"
eq "one pod updated, revisions differ" "[1,1,\"$OLD_REV\"]" "$(j '[.status.updatedReplicas, .status.currentReplicas, .status.currentRevision]')"
[ "$(jr .status.updateRevision)" != "$OLD_REV" ] && ok || bad "a new updateRevision"
eq "memory-1 is the new, unready pod" '[["memory-0",true],["memory-1",false]]' "$(get "$CORE/pods?labelSelector=app%3Dmemory" | jq -c '[.items[] | [.metadata.name, (.status.conditions[] | select(.type=="Ready") | .status == "True")]]')"
kubernetes_double_admin POST /workloads/statefulsets/memory '{"stuck": false}' >/dev/null
: >"$seen"
sts_done() { local m rc=0; m=$(kubernetes_rollout_status statefulset memory) || rc=$?; printf '%s\n' "$m" >>"$seen"; [ "$rc" = 0 ]; }
wait_until 30 sts_done || bad "statefulset restart never finished"
eq "statefulset final verdict" 'partitioned roll out complete: 2 new pods have been updated...' "$(tail -1 "$seen")"
req GET "$APPS/statefulsets/memory"
NEW_REV=$(jr .status.updateRevision)
[ "$NEW_REV" != "$OLD_REV" ] && ok || bad "updateRevision changed"
eq "currentRevision caught up" "\"$NEW_REV\"" "$(j .status.currentRevision)"
eq "pods at the new revision" "[\"$NEW_REV\",\"$NEW_REV\"]" "$(get "$CORE/pods?labelSelector=app%3Dmemory" | jq -c '[.items[].metadata.labels["controller-revision-hash"]]')"
admin '{"terminate_ms": 2500}'
req PATCH "$APPS/statefulsets/memory/scale" -H "$MERGE" --data '{"spec":{"replicas":0}}'; eq "statefulset scale to 0" 200 "$ST"
order_seen=false; counted=false
sts_gone() {
	local p s pods
	p=$(get "$CORE/pods?labelSelector=app%3Dmemory"); s=$(get "$APPS/statefulsets/memory")
	pods=$(jq -c '[.items[] | [.metadata.name, (.metadata.deletionTimestamp != null)]]' <<<"$p")
	# OrderedReady: memory-1 terminates while memory-0 still runs
	[ "$pods" != '[["memory-0",false],["memory-1",true]]' ] || order_seen=true
	# a StatefulSet's status.replicas counts terminating pods (a Deployment's does not)
	[ "$pods" != '[["memory-0",true]]' ] || [ "$(jq '.status.replicas' <<<"$s")" != 1 ] || counted=true
	[ "$pods" = '[]' ]
}
wait_until 30 sts_gone || bad "statefulset pods never went away"
truthy "highest ordinal first, one at a time" "$order_seen"
truthy "statefulset status.replicas counts the terminating pod" "$counted"
eq "statefulset at 0" '[0,0,null]' "$(get "$APPS/statefulsets/memory" | jq -c '[.status.replicas, .status.availableReplicas, .status.readyReplicas]')"
admin '{"terminate_ms": 600}'

echo "== validation"
req PATCH "$APPS/deployments/web" -H "$MERGE" --data '{"spec":{"selector":{"matchLabels":{"app":"other"}}}}'
eq "selector is immutable -> 422" '[422,"Invalid"]' "[$ST,$(j .reason)]"
contains "immutable message" 'spec.selector: Invalid value' "$(j .message)"
req PATCH "$APPS/deployments/web" -H "$MERGE" --data '{"spec":{"replicas":"two"}}'
eq "replicas of the wrong type -> 400" 400 "$ST"
req PATCH "$APPS/deployments/web" -H "$MERGE" --data '{"metadata":{"resourceVersion":"1"},"spec":{"replicas":3}}'
eq "stale resourceVersion in a patch -> 409" 409 "$ST"

echo "== deletion"
WEB_POD=$(get "$CORE/pods?labelSelector=app%3Dweb" | jq -r '.items[0].metadata.name')
req DELETE "$CORE/pods/$WEB_POD"
eq "pod delete answers the pod, terminating" "[200,\"$WEB_POD\",30]" "[$ST,$(j .metadata.name),$(j .metadata.deletionGracePeriodSeconds)]"
matches "deletionTimestamp set" '^"[0-9T:-]+Z"$' "$(j .metadata.deletionTimestamp)"
web_replaced() { [ "$(get "$CORE/pods?labelSelector=app%3Dweb" | jq -c --arg p "$WEB_POD" '[.items[] | select(.metadata.name != $p and .status.phase == "Running")] | length')" = 1 ] && [ "$(get "$CORE/pods?labelSelector=app%3Dweb" | jq '.items | length')" = 1 ]; }
wait_until 20 web_replaced && ok || bad "the ReplicaSet replaced the deleted pod"
admin '{"forbid": []}'
req DELETE "$APPS/deployments/web"
eq "deployment delete: Status Success" '["Status","Success","web","apps","deployments"]' "$(j '[.kind, .status, .details.name, .details.group, .details.kind]')"
req GET "$APPS/deployments/web"; eq "deleted" 404 "$ST"
web_gone() { [ "$(get "$CORE/pods?labelSelector=app%3Dweb" | jq '.items | length')" = 0 ]; }
wait_until 20 web_gone && ok || bad "a deleted Deployment's pods terminate"
eq "its ReplicaSets went with it" 0 "$(get "$APPS/replicasets?labelSelector=app%3Dweb" | jq '.items | length')"

echo "== faults"
double_fault kubernetes '{"method":"GET","path":"/apis/apps/v1/namespaces/ai-agents/deployments","status":500}'
req GET "$APPS/deployments"; eq "fault 500" 500 "$ST"; eq "500 Status" '["Status","v1","Failure","InternalError",500]' "$(status_of)"
req GET "$APPS/deployments"; eq "fault fired once" 200 "$ST"
double_fault kubernetes '{"path":"/apis/apps/v1/*","status":503,"count":2}'
req GET "$APPS/deployments/planner/scale"; eq "fault 503" '[503,"ServiceUnavailable"]' "[$ST,$(j .reason)]"
admin '{"too_many_requests": {"count": 2, "retry_after": 3}}'
req GET "$APPS/deployments/planner"; eq "still the 503 rule (rules before the double)" 503 "$ST"
req GET "$APPS/deployments/planner"; eq "429" 429 "$ST"
eq "429 Status" '["Status","v1","Failure","TooManyRequests",429]' "$(status_of)"
eq "429 message and details" '["Too many requests, please try again later.",{"retryAfterSeconds":3}]' "$(j '[.message, .details]')"
eq "Retry-After" 3 "$(hdr Retry-After)"
req GET "$APPS/deployments/planner"; eq "second 429" 429 "$ST"
req GET "$APPS/deployments/planner"; eq "then served" 200 "$ST"
double_fault kubernetes '{"method":"GET","path":"/api/v1/namespaces/ai-agents/pods","action":"reset","after_bytes":0}'
req GET "$CORE/pods"; eq "connection reset: no answer" 000 "$ST"
req GET "$CORE/pods"; eq "after the reset" 200 "$ST"

echo "== request log"
LOG=$(double_log kubernetes)
eq "scale PATCHes logged with merge-patch+json" '"application/merge-patch+json"' "$(jq -c '[.requests[] | select(.method=="PATCH" and .k8s.subresource=="scale")][0].headers["content-type"]' <<<"$LOG")"
eq "log names verb, resource, user" "[\"patch\",\"deployments\",\"scale\",\"planner\",\"$USER_SA\"]" "$(jq -c '[.requests[] | select(.method=="PATCH" and .k8s.subresource=="scale" and .status==200)][0].k8s | [.verb, .resource, .subresource, .name, .user]' <<<"$LOG")"
truthy "authorization header recorded as present" "$(jq '[.requests[] | select(.status==200)][0].secrets.authorization' <<<"$LOG")"
case "$LOG" in *"$TOKEN"* | *"$(cat "$DRCTL_KUBERNETES_TOKEN_FILE")"*) bad "a token reached the request log" ;; *) ok ;; esac
double_admin kubernetes DELETE /log >/dev/null
get "$APPS/deployments?labelSelector=role%3Dagent" >/dev/null; get "$APPS/deployments/planner/scale" >/dev/null; get "$CORE/pods" >/dev/null
eq "a read-only pass wrote nothing" '["GET"]' "$(double_log kubernetes | jq -c '[.requests[].method] | unique')"

echo "== reset"
double_reset kubernetes >/dev/null
seeded_again() { [ "$(get "$APPS/deployments/planner" | jq -c '[.metadata.generation, .spec.replicas, .status.readyReplicas]')" = '[1,2,2]' ]; }
wait_until 10 seeded_again && ok || bad "reset restores the seed"
eq "reset: events cleared" 0 "$(get "$CORE/events" | jq '.items | length')"

checks_verdict "kubernetes double conformance"
