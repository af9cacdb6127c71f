#!/usr/bin/env bash
# The Role of the rotation CronJob (drctl-rotate-secrets in
# schedules/kubernetes/rbac.yaml) is exactly what `drctl rotate-secrets`
# calls: a real run with [agents] control = kubernetes against the Kubernetes
# API double (agents of both kinds, two of them at 0 replicas, whose wait
# reads /scale and lists pods; a workload that is no agent), real PostgreSQL
# and Redis (health checks) and the Vault double.  Every request the run made
# is granted by the Role, in the Role's namespace, and every grant of the Role
# was used: nothing is missing and nothing is spare.
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
. "$DRCTL_SOURCE_DIR/tests/harness/services.sh"
require_tools jq node curl openssl python3
harness_init
start_postgres
start_redis
start_vault_double

cat >"$T/seed.json" <<'EOF'
{"namespace": "ai-agents", "workloads": [
  {"name": "planner", "replicas": 2, "labels": {"app": "planner", "role": "agent"}},
  {"name": "idle", "replicas": 0, "labels": {"app": "idle", "role": "agent"}},
  {"name": "memory", "kind": "StatefulSet", "replicas": 2, "labels": {"app": "memory", "role": "agent"}},
  {"name": "archive", "kind": "StatefulSet", "replicas": 0, "labels": {"app": "archive", "role": "agent"}},
  {"name": "web", "replicas": 1, "labels": {"app": "web", "tier": "frontend"}}
]}
EOF
start_kubernetes_double --seed "$T/seed.json" --converge-ms 200 --terminate-ms 300 --observed-lag-ms 100
start_double echo # answers the agents' health URLs

curl -sS -f -H "X-Vault-Token: $VAULT_TOKEN" -X POST "$VAULT_ADDR/v1/secret/data/agents/webhook" \
	-d '{"data":{"secret":"old-webhook-secret"}}' >/dev/null || fail "could not seed Vault"

drctl_init_in "$T"
export DRCTL_CONFIG=$CONF
harness_drctl_postgres postgres
export DRCTL_REDIS_URL="$REDIS_URL"
export DRCTL_AGENTS_CONTROL=kubernetes DRCTL_AGENTS_NAMESPACE=ai-agents DRCTL_AGENTS_SELECTOR=role=agent
export DRCTL_AGENTS_WAIT_SECONDS=60 DRCTL_AGENTS_HEALTH_URL="$ECHO_DOUBLE_URL/echo/api/v1/agents/{name}/health"
export DRCTL_ROTATION_GENERATED="secret/agents/webhook:secret:hex64"

double_admin kubernetes DELETE /log >/dev/null
run "$DRCTL" rotate-secrets
expect_rc 0 "rotate-secrets with the agents on Kubernetes"
double_log kubernetes >"$T/k8s-log.json"
NEW=$(curl -sS -H "X-Vault-Token: $VAULT_TOKEN" "$VAULT_ADDR/v1/secret/data/agents/webhook" | jq -r .data.data.secret)
[ -n "$NEW" ] && [ "$NEW" != old-webhook-secret ] || fail "Vault's secret was not rotated"
pass_note "the secret was rotated and the agents restarted"

PATH=/usr/bin:$PATH python3 - "$DRCTL_SOURCE_DIR/schedules/kubernetes/rbac.yaml" "$T/k8s-log.json" <<'PY' ||
import json, sys, yaml
roles = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "Role" and d["metadata"]["name"] == "drctl-rotate-secrets"]
assert len(roles) == 1, "no Role drctl-rotate-secrets in rbac.yaml"
role = roles[0]
grants = {(g, r, v) for rule in role["rules"] for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]}
log = json.load(open(sys.argv[2]))
requests = [q["k8s"] for q in (log["requests"] if isinstance(log, dict) else log) if q.get("k8s", {}).get("resource")]
assert requests, "the run made no Kubernetes request"
used, problems = set(), []
for k in requests:
    resource = k["resource"] + ("/" + k["subresource"] if k.get("subresource") else "")
    call = (k.get("group") or "", resource, k["verb"])
    used.add(call)
    if call not in grants:
        problems.append(f"{k['verb']} {resource} ({call[0] or 'core'}) {k.get('name') or ''}: not granted")
    if k.get("namespace") != role["metadata"]["namespace"]:
        problems.append(f"{k['verb']} {resource} in namespace {k.get('namespace')}, the Role's is {role['metadata']['namespace']}")
for g in sorted(grants - used):
    problems.append(f"the Role grants {g[2]} {g[1]} ({g[0] or 'core'}), which the run never used")
for want in [("apps", "deployments", "patch"), ("apps", "statefulsets", "patch")]:
    if want not in used:
        problems.append(f"the run never made {want}: the restart was not exercised")
if problems:
    print("\n".join("FAIL: " + p for p in dict.fromkeys(problems)), file=sys.stderr)
    sys.exit(1)
print(f"{len(requests)} requests, {len(used)} kinds of call, all granted, every grant used")
PY
	fail "the Role and the calls differ (above)"
pass_note "every call of the run is granted by the Role drctl-rotate-secrets, and it grants nothing more"
echo "$CHECKS passed, 0 failed"
