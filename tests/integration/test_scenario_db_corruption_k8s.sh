#!/usr/bin/env bash
# Scenario db-corruption end to end with [agents] control = kubernetes, on a
# real PostgreSQL 15 and the Kubernetes API double (tests/doubles/kubernetes,
# HTTPS, a service account token file): agents of different kinds and counts
# (planner a Deployment of 3, support a Deployment of 1, research a
# StatefulSet of 2; web, not an agent, never touched) stopped until no pod of
# them is left and brought back to their own recorded counts; `drctl health`
# and `scenario plan` against the double (plan writes nothing: the double's
# request log holds only GETs); a 403 on scale fails the step naming the verb,
# the resource and the rule to grant, the platform left as the report says,
# and a resume finishes once it is granted; a rollout that never finishes
# fails with kubectl's words; the token file rotated during a run is picked
# up (the double refuses the old token from then on); the token never in a
# log, journal or report.
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
. "$DRCTL_SOURCE_DIR/tests/harness/services.sh"
. "$DRCTL_SOURCE_DIR/tests/harness/db_corruption.sh"
require_tools jq sha256sum node curl openssl
harness_init
start_postgres
dbc_fixture

# --- the cluster ------------------------------------------------------------------
cat >"$T/seed.json" <<'EOF'
{"namespace": "ai-agents", "workloads": [
  {"name": "planner", "replicas": 3, "labels": {"app": "planner", "role": "agent"}},
  {"name": "support", "replicas": 1, "labels": {"app": "support", "role": "agent"}},
  {"name": "research", "kind": "StatefulSet", "replicas": 2, "labels": {"app": "research", "role": "agent"}},
  {"name": "web", "replicas": 2, "labels": {"app": "web", "tier": "frontend"}}
]}
EOF
start_kubernetes_double --seed "$T/seed.json" --converge-ms 400 --terminate-ms 600 --observed-lag-ms 150
start_double echo # answers the agents' health URLs
K8S=$KUBERNETES_DOUBLE_URL
k8s_get() { kubernetes_double_curl --fail "$K8S$1"; }
k8s_log() { double_log kubernetes; }
k8s_log_clear() { double_admin kubernetes DELETE /log >/dev/null; }
k8s_state() { double_admin kubernetes POST /state "$1" >/dev/null; }
# Every workload as NAME=SPEC/READY, the way kubectl get would show it.
agents_now() {
  { k8s_get "/apis/apps/v1/namespaces/ai-agents/deployments"; k8s_get "/apis/apps/v1/namespaces/ai-agents/statefulsets"; } |
    jq -r '.items[] | "\(.metadata.name)=\(.spec.replicas)/\(.status.readyReplicas // 0)"' | sort | tr '\n' ' '
}
AGENTS_BEFORE="planner=3/3 research=2/2 support=1/1 web=2/2 "
[ "$(agents_now)" = "$AGENTS_BEFORE" ] || fail "the seeded cluster is at [$(agents_now)]"

drctl_init_in "$T"
export DRCTL_CONFIG=$CONF
harness_drctl_postgres agents_db
export DRCTL_AGENTS_CONTROL=kubernetes DRCTL_AGENTS_NAMESPACE=ai-agents DRCTL_AGENTS_SELECTOR=role=agent
export DRCTL_AGENTS_WAIT_SECONDS=60 DRCTL_AGENTS_HEALTH_URL="$ECHO_DOUBLE_URL/echo/api/v1/agents/{name}/health"
TOKEN=$(cat "$DRCTL_KUBERNETES_TOKEN_FILE")
[ -n "$TOKEN" ] && [ -n "$DRCTL_KUBERNETES_CA_FILE" ] && [ "${DRCTL_KUBERNETES_API_URL#https://}" != "$DRCTL_KUBERNETES_API_URL" ] ||
  fail "the harness did not give an https API, a CA and a token"
no_token_in() { # label files...
  local label=$1
  shift
  if grep -qF -- "$TOKEN" "$@" 2>/dev/null || grep -qF -- "$TOKEN" <<<"$ERR$OUT"; then fail "$label: the token is there"; fi
}

run "$DRCTL" backup --component postgres
expect_rc 0 "backup of agents_db"
dbc_damage
expect_end_state() { # label
  local kept
  dbc_expect_restored_and_kept "$1"
  [ "$(agents_now)" = "$AGENTS_BEFORE" ] || fail "$1: the cluster is at [$(agents_now)], recorded [$AGENTS_BEFORE]"
  pass_note "$1: agents_db equals the backup, the damaged one kept, planner 3, support 1, research 2 ready again, web untouched"
}
latest_run() { ls -t "$T/state/runs" | head -1; }

# --- drctl health against the double -----------------------------------------------
k8s_log_clear
run "$DRCTL" health
expect_rc 0 "drctl health"
for a in planner support research; do
  expect_out "^agent .*/echo/api/v1/agents/$a/health +HTTP 200" "health checks $a's URL, an agent found through the API"
done
if grep -q '/agents/web/' <<<"$OUT"; then fail "health checked web, which is not an agent"; fi
k8s_log | jq -e '[.requests[].method] | unique == ["GET"]' >/dev/null || fail "drctl health wrote to the cluster"
k8s_log | jq -e '[.requests[] | select(.k8s.verb == "list" and .k8s.label_selector == "role=agent") | .k8s.resource] | sort == ["deployments","statefulsets"]' >/dev/null ||
  fail "health did not list deployments and statefulsets by the selector: $(k8s_log | jq -c '[.requests[].k8s]')"
pass_note "health listed the agents with the selector and wrote nothing"

# --- plan: what it will touch, and no write ----------------------------------------
k8s_log_clear
run "$DRCTL" scenario plan db-corruption
expect_rc 0 "scenario plan"
expect_out 'deployment ai-agents/planner: 3 -> 0' "plan shows planner's scale-down with its count"
expect_out 'deployment ai-agents/support: 1 -> 0' "plan shows support's"
expect_out 'statefulset ai-agents/research: 2 -> 0' "plan shows the StatefulSet's"
if grep -q 'web' <<<"$OUT"; then fail "plan touches web, which the selector leaves out"; fi
k8s_log | jq -e '(.requests | length) > 0 and ([.requests[].method] | unique == ["GET"])' >/dev/null ||
  fail "plan made a write request (or none at all): $(k8s_log | jq -c '[.requests[] | [.method, .path]]')"
pass_note "plan made only GET requests"
[ "$(agents_now)" = "$AGENTS_BEFORE" ] || fail "plan changed the cluster"

# --- the whole scenario ---------------------------------------------------------------
k8s_log_clear
run "$DRCTL" -v scenario run db-corruption --yes
expect_rc 0 "scenario run db-corruption with the Kubernetes control"
RUN=$(latest_run)
expect_end_state "uninterrupted run"
run_err=$ERR
run "$DRCTL" scenario status "$RUN" --json
jq -e '(.facts.agents | map({(.name): {kind, namespace, replicas}}) | add) ==
  {"planner": {"kind": "Deployment", "namespace": "ai-agents", "replicas": 3},
   "support": {"kind": "Deployment", "namespace": "ai-agents", "replicas": 1},
   "research": {"kind": "StatefulSet", "namespace": "ai-agents", "replicas": 2}}' <<<"$OUT" >/dev/null ||
  fail "the journal does not hold each agent's kind and count: $OUT"
pass_note "the journal records each workload's kind, namespace and count before scaling"
LOG=$(k8s_log)
jq -e '[.requests[] | select(.k8s.verb == "patch" and .k8s.subresource == "scale") | [.k8s.resource, .k8s.name, .headers["content-type"], .status]] | sort ==
  [["deployments","planner","application/merge-patch+json",200], ["deployments","planner","application/merge-patch+json",200],
   ["deployments","support","application/merge-patch+json",200], ["deployments","support","application/merge-patch+json",200],
   ["statefulsets","research","application/merge-patch+json",200], ["statefulsets","research","application/merge-patch+json",200]]' <<<"$LOG" >/dev/null ||
  fail "not one merge patch of /scale down and one up per agent: $(jq -c '[.requests[] | select(.method == "PATCH") | [.path, .headers["content-type"], .status]]' <<<"$LOG")"
pass_note "each agent was scaled through its /scale subresource with a merge patch, down and back"
jq -e '[.requests[] | select(.k8s.resource == "pods" and .k8s.verb == "list") | .k8s.label_selector] | unique | sort == ["app=planner,role=agent","app=research,role=agent","app=support,role=agent"]' <<<"$LOG" >/dev/null ||
  fail "the wait for zero did not list each agent's pods by its selector: $(jq -c '[.requests[] | select(.k8s.resource == "pods") | .k8s.label_selector]' <<<"$LOG")"
pass_note "stopping waited on each agent's pods, selected by its Scale's selector"
jq -e '[.requests[] | select(.k8s.name == "web")] | length == 0' <<<"$LOG" >/dev/null || fail "a request named web"
jq -e 'all(.requests[]; .secrets.authorization == true)' <<<"$LOG" >/dev/null || fail "a request without the bearer token"
pass_note "web was never asked for; every request carried the token"
grep -Eq 'kubernetes: PATCH /apis/apps/v1/namespaces/ai-agents/statefulsets/research/scale -> 200' <<<"$run_err" ||
  fail "-v does not log the Kubernetes requests: $(grep kubernetes: <<<"$run_err" | head -5)"
grep -Eq 'kubernetes: waiting: (Deployment|StatefulSet) ai-agents/[a-z]+: [0-9]+ pods .* still running or terminating' <<<"$run_err" ||
  fail "-v does not say what the wait for zero waits for"
grep -Eq 'kubernetes: waiting: (Waiting for deployment "(planner|support)" rollout to finish|Waiting for [0-9]+ pods to be ready|Waiting for (deployment|statefulset) spec update to be observed)' <<<"$run_err" ||
  fail "-v does not say, in kubectl's words, what the wait for the rollout waits for"
pass_note "-v logs each request and what each wait waits for"
ERR=$run_err
no_token_in "the run's stderr, journal and reports" "$T/state/runs/$RUN"/*
pass_note "the token is in no log, journal or report"

# --- a 403 on scale ------------------------------------------------------------------
dbc_fresh_damage
k8s_state '{"forbid_add": ["patch deployments/scale support"]}'
run "$DRCTL" scenario run db-corruption --yes
expect_rc 2 "a scale the service account may not do"
expect_err 'step stop-agents: .*forbids patch on deployments/scale \(API group "apps"\) in namespace ai-agents' "names the verb, the resource and the namespace"
expect_err 'cannot patch resource "deployments/scale" in API group "apps"' "carries the API's own message"
expect_err 'resources: \["deployments/scale"\], verbs: \["patch"\]' "the hint gives the rule to grant"
expect_err 'Kubernetes RBAC' "and points to the RBAC section"
FORBIDDEN=$(latest_run)
REPORT="$T/state/runs/$FORBIDDEN/report.md"
grep -q 'the damaged database agents_db is untouched' "$REPORT" || fail "the report does not say agents_db is untouched"
grep -q 'the agents may be stopped: resuming starts them at their recorded replicas' "$REPORT" || fail "the report does not say the agents may be stopped"
grep -q 'deployment ai-agents/support: recorded at 1 replicas' "$REPORT" || fail "the report does not give support's recorded count"
pass_note "the report says where the platform stands"
[ "$(dbc_dump_of agents_db)" = "$DAMAGED" ] || fail "agents_db changed although the run stopped before the restore"
planner=$(k8s_get /apis/apps/v1/namespaces/ai-agents/deployments/planner/scale | jq '.spec.replicas // 0')
support=$(k8s_get /apis/apps/v1/namespaces/ai-agents/deployments/support/scale | jq '.spec.replicas // 0')
research=$(k8s_get /apis/apps/v1/namespaces/ai-agents/statefulsets/research/scale | jq '.spec.replicas // 0')
[ "$planner/$support/$research" = "0/1/2" ] || fail "after the 403 the cluster is at planner/support/research $planner/$support/$research, expected 0/1/2"
pass_note "as the report says: planner stopped, support and research untouched, agents_db untouched"
k8s_state '{"forbid": []}'
run "$DRCTL" scenario resume "$FORBIDDEN"
expect_rc 0 "resume once the rule is granted"
expect_end_state "resumed after the 403"

# --- a rollout that never finishes ----------------------------------------------------
dbc_fresh_damage
double_admin kubernetes POST /workloads/deployments/planner '{"stuck": true}' >/dev/null
run env DRCTL_AGENTS_WAIT_SECONDS=4 "$DRCTL" scenario run db-corruption --yes
expect_rc 1 "an agent whose pods never become ready"
expect_err 'step wait-rollout: the agents did not reach their replicas within 4 s: Waiting for deployment "planner" rollout to finish: [0-9]+ of 3 updated replicas are available\.\.\.' "says what it waited for, in kubectl's words"
STUCK=$(latest_run)
grep -q 'agents_db is the restored one; the damaged one is kept as agents_db_corrupt_' "$T/state/runs/$STUCK/report.md" ||
  fail "the report does not say the database was already swapped"
pass_note "the report says the database is already the restored one"
double_admin kubernetes POST /workloads/deployments/planner '{"stuck": false}' >/dev/null
run "$DRCTL" scenario resume "$STUCK"
expect_rc 0 "resume once the pods can start"
expect_end_state "resumed after a rollout that did not finish"

# --- the token rotated during a run ---------------------------------------------------
dbc_fresh_damage
k8s_log_clear
# The new run is the folder that was not there before; the watch forks
# nothing and drctl runs niced, so the token is replaced while the run
# restores (after stop-agents, before start-agents) even on a busy machine.
declare -A OLD_RUNS=()
for d in "$T"/state/runs/*/; do d=${d%/}; OLD_RUNS[${d##*/}]=1; done
nice -n 15 "$DRCTL" scenario run db-corruption --yes >"$T/rotate.out" 2>&1 &
PID=$!
NEW_RUN= STOPPED=
while [ -z "$STOPPED" ] && kill -0 "$PID" 2>/dev/null; do
  if [ -z "$NEW_RUN" ]; then
    for d in "$T"/state/runs/*/; do d=${d%/}; d=${d##*/}; [ -n "${OLD_RUNS[$d]:-}" ] || NEW_RUN=$d; done
    continue
  fi
  [ -e "$T/state/runs/$NEW_RUN/journal" ] || continue
  while IFS= read -r line; do
    [[ $line == *'"event":"done"'*'"step":"stop-agents"'* ]] && STOPPED=1
  done <"$T/state/runs/$NEW_RUN/journal"
done
[ -n "$STOPPED" ] || fail "the run ended before the watch saw its agents stopped"
ROTATED_AT=$(k8s_log | jq '.requests | length')
OLD_TOKEN=$TOKEN
printf 'eyJhbGciOiJSUzI1NiIsImtpZCI6InJvdGF0ZWQifQ.%s.%s' "$(openssl rand -hex 24)" "$(openssl rand -hex 16)" >"$T/token.new"
chmod 600 "$T/token.new"
mv "$T/token.new" "$DRCTL_KUBERNETES_TOKEN_FILE" # as the kubelet does: a new file in place of the old
TOKEN=$(cat "$DRCTL_KUBERNETES_TOKEN_FILE")
[ "$(kubernetes_double_curl -o /dev/null -w '%{http_code}' "$K8S/apis/apps/v1/namespaces/ai-agents/deployments")" = 200 ] ||
  fail "the double does not take the new token"
wait "$PID" && RC=0 || RC=$?
ERR=$(cat "$T/rotate.out")
[ "$RC" = 0 ] || fail "the run with a rotated token failed ($RC): $(tail -5 "$T/rotate.out")"
pass_note "the run went on after the token file was replaced"
k8s_log | jq -e --argjson from "$ROTATED_AT" '[.requests[$from:][] | select(.k8s.verb == "patch" and .k8s.subresource == "scale")] | length == 3' >/dev/null ||
  fail "the agents were not started after the rotation: $(k8s_log | jq -c --argjson from "$ROTATED_AT" '[.requests[$from:][] | [.method, .path, .status]]')"
k8s_log | jq -e 'all(.requests[]; .status != 401)' >/dev/null || fail "a request was refused: drctl sent an old token"
pass_note "every request after the rotation carried the new token (the double refuses the old one)"
expect_end_state "a run across a token rotation"
no_token_in "the rotated run's output and journal" "$T/state/runs/$(latest_run)"/*
TOKEN=$OLD_TOKEN
no_token_in "the old token" "$T/state/runs/$(latest_run)"/*

echo "$CHECKS passed, 0 failed"
