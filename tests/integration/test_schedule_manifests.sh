#!/usr/bin/env bash
# The Kubernetes manifests (schedules/kubernetes/, `drctl schedule render
# --kind cronjob`):
#  - the checked-in files are exactly the rendering of schedules/platform.conf;
#  - they parse as YAML and say what docs/schedules.md promises: the
#    backup CronJob (backup, then prune; Forbid; deadlines; history limits),
#    its configuration from the ConfigMap (which drctl loads), its keys from
#    Secrets as files, and no age identity; Friday's deep verify; the
#    drill every Friday with --when last-friday and the scratch targets'
#    credentials; the rotation every Monday with --when third-monday, the
#    platform's credentials only (no identity, no signing key, no
#    repository), never retried, its journal on the scenarios' claim; the
#    scenario Jobs with the state folder on a
#    PersistentVolumeClaim; non-root, read-only root file systems, limits;
#    commands as argv arrays, never a shell;
#  - RBAC is exactly the calls each job makes, namespaced, no wildcard;
#  - the rendering follows the configuration (namespaces, control = command,
#    a local repository, the image), and refuses a secret written into it.
set -euo pipefail
source "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
cd "$DRCTL_SOURCE_DIR"
require_tools python3 diff
DIR=schedules/kubernetes
RENDER_AGAIN="drctl --config schedules/platform.conf schedule render --kind cronjob --out-dir $DIR"

run "$DRCTL" --config schedules/platform.conf schedule render --kind cronjob --out-dir "$T/rendered"
expect_rc 0 "render --out-dir"
diff -ru "$DIR" "$T/rendered" >"$T/diff" ||
	{ cat "$T/diff" >&2; fail "$DIR differs from its rendering (above): run $RENDER_AGAIN"; }
pass_note "$DIR is the rendering of schedules/platform.conf"

# The ConfigMap's configuration is one drctl loads.
PATH=/usr/bin:$PATH python3 - "$DIR/configmap.yaml" "$T/cluster.conf" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
open(sys.argv[2], "w").write(doc["data"]["drctl.conf"])
PY
run "$DRCTL" --config "$T/cluster.conf" schedule render --kind crontab --drctl "$DRCTL"
expect_rc 0 "drctl loads the ConfigMap's drctl.conf"

# check_manifests DIR NAMESPACE AGENTS_NAMESPACE CONTROL: the structural
# checks, in Python (PyYAML, Debian's python3-yaml).
check_manifests() {
	PATH=/usr/bin:$PATH python3 - "$@" <<'PY'
import os, sys, yaml

root, ns, agents_ns, control = sys.argv[1:5]
problems = []
def check(cond, what):
    if not cond:
        problems.append(what)

docs = {}
for base, _, files in os.walk(root):
    for name in sorted(files):
        path = os.path.join(base, name)
        rel = os.path.relpath(path, root)
        try:
            docs[rel] = [d for d in yaml.safe_load_all(open(path)) if d is not None]
        except yaml.YAMLError as e:
            problems.append(f"{rel} is not YAML: {e}")
everything = [(rel, d) for rel, ds in docs.items() for d in ds]
for rel, d in everything:
    meta = d.get("metadata", {})
    check(d.get("apiVersion") and d.get("kind"), f"{rel}: a document without apiVersion/kind")
    check(meta.get("name") or meta.get("generateName"), f"{rel}: {d.get('kind')} without a name")
    want = agents_ns if d["kind"] in ("Role", "RoleBinding") else ns
    check(meta.get("namespace") == want, f"{rel}: {d['kind']} {meta.get('name')} in namespace {meta.get('namespace')}, expected {want}")

def one(kind, name):
    found = [d for _, d in everything if d["kind"] == kind and d["metadata"].get("name", d["metadata"].get("generateName")) == name]
    check(len(found) == 1, f"expected one {kind} {name}, found {len(found)}")
    return found[0] if found else {}

def pod_of(d):
    spec = d["spec"]
    spec = spec["jobTemplate"]["spec"] if "jobTemplate" in spec else spec
    return spec, spec["template"]["spec"]

config_map = one("ConfigMap", "drctl-config")
config_text = config_map.get("data", {}).get("drctl.conf", "")
config = {}
section = None
for line in config_text.splitlines():
    line = line.strip()
    if line.startswith("["):
        section = line.strip("[]")
    elif "=" in line and not line.startswith("#"):
        k, v = (x.strip() for x in line.split("=", 1))
        config[(section, k)] = v
secret_files = {k: v for k, v in config.items() if v.startswith("/run/drctl/secrets/")}
check(config.get(("state", "dir")) == "/var/lib/drctl", "the ConfigMap's [state] dir is not /var/lib/drctl")

accounts = {d["metadata"]["name"]: d for _, d in everything if d["kind"] == "ServiceAccount"}

# Every pod: the common rules.
def check_pod(label, d, sa):
    job, pod = pod_of(d)
    check(pod.get("serviceAccountName") == sa, f"{label}: service account {pod.get('serviceAccountName')}, expected {sa}")
    check(sa in accounts, f"{label}: its service account {sa} is not defined")
    check(pod.get("automountServiceAccountToken") == accounts.get(sa, {}).get("automountServiceAccountToken"),
          f"{label}: automountServiceAccountToken differs from its service account's")
    check(pod.get("restartPolicy") == "Never", f"{label}: restartPolicy {pod.get('restartPolicy')}")
    sc = pod.get("securityContext", {})
    check(sc.get("runAsNonRoot") is True and isinstance(sc.get("runAsUser"), int) and sc["runAsUser"] > 0,
          f"{label}: the pod does not run as a non-root uid")
    check(isinstance(job.get("backoffLimit"), int), f"{label}: no backoffLimit")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    containers = pod.get("initContainers", []) + pod["containers"]
    for c in containers:
        cl = f"{label}, container {c['name']}"
        csc = c.get("securityContext", {})
        check(csc.get("readOnlyRootFilesystem") is True, f"{cl}: root file system not read-only")
        check(csc.get("allowPrivilegeEscalation") is False, f"{cl}: privilege escalation allowed")
        check(csc.get("capabilities", {}).get("drop") == ["ALL"], f"{cl}: capabilities not all dropped")
        res = c.get("resources", {})
        check(res.get("requests", {}).get("cpu") and res.get("requests", {}).get("memory") and
              res.get("limits", {}).get("cpu") and res.get("limits", {}).get("memory"), f"{cl}: no resource requests and limits")
        cmd = c.get("command")
        check(isinstance(cmd, list) and cmd and cmd[0] in ("drctl", "install") and "args" not in c,
              f"{cl}: command {cmd} is not a drctl (or install) argv array")
        check(not any(w in ("sh", "bash", "/bin/sh", "-c") for w in cmd or []), f"{cl}: runs a shell: {cmd}")
        for m in c.get("volumeMounts", []):
            v = volumes.get(m["name"])
            check(v is not None, f"{cl}: mounts undefined volume {m['name']}")
            if v and not m.get("readOnly"):
                check("emptyDir" in v or "persistentVolumeClaim" in v, f"{cl}: writes into volume {m['name']}, which is not an emptyDir or a claim")
        if cmd and cmd[0] == "drctl":
            env = {e["name"]: e.get("value") for e in c.get("env", [])}
            check(env.get("DRCTL_CONFIG") == "/etc/drctl/drctl.conf", f"{cl}: DRCTL_CONFIG is {env.get('DRCTL_CONFIG')}")
            mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
            check(volumes.get(mounts.get("/etc/drctl"), {}).get("configMap", {}).get("name") == "drctl-config",
                  f"{cl}: /etc/drctl is not the ConfigMap drctl-config")
            check("/var/lib/drctl" in mounts and "/tmp" in mounts, f"{cl}: no volume for the state folder or /tmp")
    # The files the pod's drctl reads from CLUSTER_SECRETS_DIR: copied by the
    # init container from Secret volumes (Kubernetes would make them root's
    # or group-readable, which drctl refuses).
    given = {}
    for v in volumes.values():
        s = v.get("secret")
        if s:
            check(s.get("defaultMode") == 0o440, f"{label}: Secret volume {v['name']} has mode {s.get('defaultMode')}, expected 0440")
            for item in s.get("items", []):
                given[item["path"]] = (s["secretName"], item["key"])
    copier = [c for c in pod.get("initContainers", []) if c["command"][0] == "install"]
    if given:
        check(len(copier) == 1 and pod["initContainers"][0] is copier[0], f"{label}: the Secret files are not copied first")
        cmd = copier[0]["command"] if copier else []
        check(cmd[:5] == ["install", "-m", "0400", "-t", "/run/drctl/secrets"], f"{label}: the copy is {cmd[:5]}")
        check(sorted(os.path.basename(p) for p in cmd[5:]) == sorted(given), f"{label}: the copy does not take every Secret file: {cmd[5:]}")
        mounts = {m["name"]: m["mountPath"] for m in copier[0].get("volumeMounts", [])} if copier else {}
        for p in cmd[5:]:
            secret = os.path.basename(os.path.dirname(p))
            vol = [v["name"] for v in volumes.values() if v.get("secret", {}).get("secretName") == secret]
            check(vol and mounts.get(vol[0]) == os.path.dirname(p), f"{label}: {p} is not where its Secret is mounted")
    return given

def files_of(given):
    return {(sec, key) for (sec, key), path in secret_files.items() if os.path.basename(path) in given}

def command_lines(d):
    _, pod = pod_of(d)
    return [c["command"] for c in pod.get("initContainers", []) + pod["containers"] if c["command"][0] == "drctl"]

def cronjob(name, schedule, lines, sa):
    d = one("CronJob", name)
    if not d:
        return d, {}
    spec = d["spec"]
    check(spec.get("schedule") == schedule, f"{name}: schedule {spec.get('schedule')!r}, expected {schedule!r}")
    check(spec.get("timeZone") == "Etc/UTC", f"{name}: timeZone {spec.get('timeZone')}")
    check(spec.get("concurrencyPolicy") == "Forbid", f"{name}: concurrencyPolicy {spec.get('concurrencyPolicy')}")
    for k in ("startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        check(isinstance(spec.get(k), int), f"{name}: no {k}")
    check(isinstance(spec["jobTemplate"]["spec"].get("activeDeadlineSeconds"), int), f"{name}: no activeDeadlineSeconds")
    check(command_lines(d) == lines, f"{name}: runs {command_lines(d)}, expected {lines}")
    return d, check_pod(name, d, sa)

all_files = set(secret_files)
identity = ("encryption", "identity_file")
check(identity in all_files and ("signing", "secret_key_file") in all_files, "the ConfigMap names no identity or signing key file")
_, backup = cronjob("drctl-backup", "0 2 * * *", [["drctl", "backup"], ["drctl", "prune"]], "drctl-backup")
want = {f for f in all_files if f != identity and f[0] != "scratch"}
check(files_of(backup) == want, f"drctl-backup gets {sorted(files_of(backup))}, expected {sorted(want)}: every file but the identity and the drill's")
backup_text = yaml.safe_dump(one("CronJob", "drctl-backup"))
check("identity" not in backup_text and "drctl-encryption" not in backup_text, "the backup CronJob mentions the age identity")
for want in [("signing", "secret_key_file"), ("repository", "access_key_id_file"), ("repository", "secret_access_key_file"),
             ("postgres", "password_file"), ("redis", "password_file"), ("vault", "token_file")]:
    check(want in files_of(backup), f"drctl-backup does not get [{want[0]}] {want[1]}")

_, verify = cronjob("drctl-verify", "0 3 * * 5", [["drctl", "verify", "latest", "--deep"]], "drctl-verify")
check(identity in files_of(verify), "drctl-verify has no identity: --deep decrypts")
check(("signing", "secret_key_file") not in files_of(verify), "drctl-verify gets the signing secret key, which checking never needs")
_, drill = cronjob("drctl-drill", "0 4 * * 5", [["drctl", "drill", "--when", "last-friday"]], "drctl-drill")
scratch = {f for f in all_files if f[0] == "scratch"}
check(scratch and scratch <= files_of(drill), "drctl-drill does not get the scratch targets' credentials")
check(not {f for f in files_of(drill) if f[0] in ("postgres", "redis", "vault")}, "drctl-drill gets the platform's own credentials")
check(identity in files_of(drill), "drctl-drill has no identity")

# The monthly rotation: every Monday, drctl's own guard for the third one; the
# credentials it rotates with (Vault token and CA, PostgreSQL and Redis admins)
# and nothing that reads or signs a backup; a person resumes a failed run from
# the journal on the scenarios' claim.
rotate, rotation = cronjob("drctl-rotate-secrets", "0 5 * * 1", [["drctl", "rotate-secrets", "--when", "third-monday"]],
                           "drctl-rotate-secrets")
want = {f for f in all_files if f[0] in ("postgres", "redis", "vault")}
check(want and files_of(rotation) == want,
      f"drctl-rotate-secrets gets {sorted(files_of(rotation))}, expected the platform's credentials {sorted(want)}")
for want in [("postgres", "password_file"), ("redis", "password_file"), ("vault", "token_file")]:
    check(want in files_of(rotation), f"drctl-rotate-secrets does not get [{want[0]}] {want[1]}")
rotate_text = yaml.safe_dump(rotate)
for word in ("identity", "drctl-encryption", "drctl-signing", "drctl-repository", "drctl-scratch"):
    check(word not in rotate_text, f"the rotation CronJob mentions {word}")
if rotate:
    job, pod = pod_of(rotate)
    check(job.get("backoffLimit") == 0, "drctl-rotate-secrets: Kubernetes retries a failed rotation")
    check(job.get("activeDeadlineSeconds") == 2 * 3600, f"drctl-rotate-secrets: activeDeadlineSeconds {job.get('activeDeadlineSeconds')}")
    check(rotate["spec"].get("startingDeadlineSeconds") == 3600, "drctl-rotate-secrets: a late start may leave the Monday")
    state = [v for v in pod["volumes"] if v["name"] == "state"]
    check(state and state[0].get("persistentVolumeClaim", {}).get("claimName") == "drctl-scenario-state",
          "drctl-rotate-secrets: its journal is not on the claim drctl-scenario-state")

# The scenario Jobs: started by a person (generateName), never retried, state on the claim.
claim = one("PersistentVolumeClaim", "drctl-scenario-state")
for rel, name, line in [("jobs/scenario-run-job.yaml", "drctl-scenario-db-corruption-", ["drctl", "scenario", "run", "db-corruption", "--yes"]),
                        ("jobs/scenario-resume-job.yaml", "drctl-scenario-resume-", ["drctl", "scenario", "resume", "$(DRCTL_RUN)"])]:
    d = one("Job", name)
    if not d:
        continue
    check(rel in docs, f"the Job {name} is not in {rel}")
    check(command_lines(d) == [line], f"{name}: runs {command_lines(d)}, expected {line}")
    check(d["spec"].get("backoffLimit") == 0, f"{name}: Kubernetes retries it")
    given = check_pod(name, d, "drctl-scenario")
    check(identity in files_of(given), f"{name}: no identity to restore with")
    _, pod = pod_of(d)
    state = [v for v in pod["volumes"] if v["name"] == "state"]
    check(state and state[0].get("persistentVolumeClaim", {}).get("claimName") == "drctl-scenario-state",
          f"{name}: the state folder is not the claim drctl-scenario-state")
    c = pod["containers"][0]
    check({m["mountPath"]: m["name"] for m in c["volumeMounts"]}.get(config[("state", "dir")]) == "state",
          f"{name}: the claim is not mounted at [state] dir")
resume = one("Job", "drctl-scenario-resume-")
if resume:
    env = {e["name"]: e.get("value") for e in pod_of(resume)[1]["containers"][0]["env"]}
    check("DRCTL_RUN" in env, "the resume Job has no DRCTL_RUN for its command")

# RBAC: namespaced, exactly the calls, no wildcard.
for _, d in everything:
    check(d["kind"] not in ("ClusterRole", "ClusterRoleBinding"), f"a {d['kind']}: drctl needs no cluster-wide role")
text = "\n".join(yaml.safe_dump(d) for _, d in everything if d["kind"] in ("Role", "RoleBinding"))
check("*" not in text, "a wildcard in RBAC")
def grants(role):
    return {(g, r, v) for rule in role.get("rules", []) for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]}
expected = {
    "drctl-backup": {("apps", r, v) for r in ("deployments", "statefulsets") for v in ("get", "list")},
    # Restart (a patch of the pod template), wait for the rollout; an agent
    # recorded at 0 replicas is waited for through its /scale and its pods.
    "drctl-rotate-secrets": {("apps", r, v) for r in ("deployments", "statefulsets") for v in ("get", "list", "patch")}
                          | {("apps", "deployments/scale", "get"), ("apps", "statefulsets/scale", "get"), ("", "pods", "list")},
    "drctl-scenario": {("apps", r, v) for r in ("deployments", "statefulsets") for v in ("get", "list", "patch")}
                    | {("apps", r, v) for r in ("deployments/scale", "statefulsets/scale") for v in ("get", "patch")}
                    | {("", "pods", "list"), ("", "events", "list")},
}
roles = {d["metadata"]["name"]: d for _, d in everything if d["kind"] == "Role"}
bindings = {d["metadata"]["name"]: d for _, d in everything if d["kind"] == "RoleBinding"}
if control == "kubernetes":
    check(set(roles) == set(expected), f"Roles {sorted(roles)}, expected {sorted(expected)}")
    for name, want in expected.items():
        got = grants(roles.get(name, {}))
        check(got == want, f"Role {name} grants {sorted(got - want)} more and {sorted(want - got)} less than it should")
        b = bindings.get(name, {})
        check(b.get("roleRef", {}).get("kind") == "Role" and b.get("roleRef", {}).get("name") == name, f"RoleBinding {name}: roleRef {b.get('roleRef')}")
        check(b.get("subjects") == [{"kind": "ServiceAccount", "name": name, "namespace": ns}], f"RoleBinding {name}: subjects {b.get('subjects')}")
    tokens = {n for n, a in accounts.items() if a.get("automountServiceAccountToken")}
    check(tokens == {"drctl-backup", "drctl-rotate-secrets", "drctl-scenario"}, f"service accounts with a token: {sorted(tokens)}")
else:
    check(not roles and not bindings, f"control = {control}, yet Roles {sorted(roles)}")
    check(not any(a.get("automountServiceAccountToken") for a in accounts.values()), "a token for a job that calls no API")

if problems:
    print("\n".join("FAIL: " + p for p in problems), file=sys.stderr)
    sys.exit(1)
print(f"{len(everything)} documents in {len(docs)} files checked")
PY
}

OUT= ERR=
check_manifests "$DIR" ai-agents ai-agents kubernetes || fail "the checked-in manifests (above)"
pass_note "the checked-in manifests hold what docs/schedules.md says"

# Another configuration: other namespaces, the image, agents by command.
sed -e 's/^namespace = ai-agents$/namespace = AGENTS_NS/' schedules/platform.conf |
	awk '/^\[kubernetes\]/ { print; getline; print "namespace = dr-jobs"; next } { print }' |
	sed -e 's/AGENTS_NS/agents-prod/' >"$T/other.conf"
grep -q '^namespace = dr-jobs$' "$T/other.conf" && grep -q '^namespace = agents-prod$' "$T/other.conf" ||
	fail "could not write the test configuration"
run "$DRCTL" --config "$T/other.conf" schedule render --kind cronjob --image registry.example/drctl:9 --out-dir "$T/other"
expect_rc 0 "render with other namespaces"
check_manifests "$T/other" dr-jobs agents-prod kubernetes || fail "the rendering with namespaces dr-jobs / agents-prod (above)"
grep -rq 'image: "registry.example/drctl:9"' "$T/other/backup-cronjob.yaml" || fail "--image is not the backup's image"
pass_note "namespaces and image follow the configuration and --image"

sed 's/^control = kubernetes$/control = command/' schedules/platform.conf >"$T/command.conf"
run "$DRCTL" --config "$T/command.conf" schedule render --kind cronjob --out-dir "$T/command"
expect_rc 0 "render with [agents] control = command"
[ ! -e "$T/command/rbac.yaml" ] || fail "control = command renders RBAC"
check_manifests "$T/command" ai-agents ai-agents command || fail "the rendering with control = command (above)"
pass_note "control = command: no Role, no token"

# A local repository is a volume every job that uses it mounts at its path
# (the rotation does not).
sed -e 's/^type = s3$/type = local/' -e 's,^bucket = .*,path = /srv/drctl-repo,' schedules/platform.conf >"$T/local.conf"
run "$DRCTL" --config "$T/local.conf" schedule render --kind cronjob
expect_rc 0 "render with a local repository"
printf '%s\n' "$OUT" >"$T/local.yaml"
PATH=/usr/bin:$PATH python3 - "$T/local.yaml" <<'PY' || fail "a local repository's volume (above)"
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
claims = [d for d in docs if d["kind"] == "PersistentVolumeClaim" and d["metadata"]["name"] == "drctl-repository"]
assert claims and claims[0]["spec"]["accessModes"] == ["ReadWriteMany"], "no ReadWriteMany claim drctl-repository"
for d in docs:
    if d["kind"] not in ("CronJob", "Job"):
        continue
    spec = d["spec"]["jobTemplate"]["spec"] if d["kind"] == "CronJob" else d["spec"]
    pod = spec["template"]["spec"]
    vols = {v["name"]: v for v in pod["volumes"]}
    rotation = d["metadata"].get("name") == "drctl-rotate-secrets"
    assert not rotation or not any("persistentVolumeClaim" in v and v["persistentVolumeClaim"]["claimName"] == "drctl-repository"
                                   for v in vols.values()), "the rotation mounts the repository"
    for c in pod.get("initContainers", []) + pod["containers"]:
        if c["command"][0] != "drctl":
            continue
        m = {x["mountPath"]: x["name"] for x in c["volumeMounts"]}
        if rotation:
            assert "/srv/drctl-repo" not in m, c["name"]
            continue
        assert vols[m["/srv/drctl-repo"]]["persistentVolumeClaim"]["claimName"] == "drctl-repository", c["name"]
assert any(d["kind"] == "CronJob" and d["metadata"]["name"] == "drctl-rotate-secrets" for d in docs), "no rotation CronJob"
PY
pass_note "a local repository is the claim drctl-repository, mounted at [repository] path (not by the rotation)"

# The printed form is the same documents as the files.
run "$DRCTL" --config schedules/platform.conf schedule render --kind cronjob
expect_rc 0 "render to stdout"
printf '%s\n' "$OUT" >"$T/printed.yaml"
PATH=/usr/bin:$PATH python3 - "$T/printed.yaml" "$DIR" <<'PY' || fail "the printed manifests differ from the files"
import os, sys, yaml
printed = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
files = []
for name in ["serviceaccounts.yaml", "rbac.yaml", "configmap.yaml", "backup-cronjob.yaml", "verify-cronjob.yaml",
             "drill-cronjob.yaml", "rotate-secrets-cronjob.yaml", "scenario-state-pvc.yaml", "jobs/scenario-run-job.yaml", "jobs/scenario-resume-job.yaml"]:
    files += [d for d in yaml.safe_load_all(open(os.path.join(sys.argv[2], name))) if d]
assert printed == files, "differ"
PY
pass_note "the printed stream holds the same documents"

# A secret written into the configuration is refused: a ConfigMap is not for secrets.
refused() { # WHAT CONFIGURATION [VARIABLE=VALUE...]
	local what=$1
	printf "$2" >"$T/secret.conf"
	shift 2
	run env "$@" "$DRCTL" --config "$T/secret.conf" schedule render --kind cronjob
	expect_rc 2 "render refuses $what"
	[ -z "$OUT" ] || fail "render printed manifests although it refused $what"
	if grep -q s3cret <<<"$ERR"; then fail "the error shows the secret"; fi
}
refused "[redis] password" '[redis]\nurl = redis://r:6379\npassword = s3cret\n'
expect_err '\[redis\] password' "the error names [redis] password"
expect_err 'password_file' "the hint names password_file"
refused DRCTL_VAULT_TOKEN '[vault]\naddress = http://v:8200\n' DRCTL_VAULT_TOKEN=s3cret
expect_err '\[vault\] token' "the error names [vault] token"
refused "a conninfo with a password" '[postgres]\nconninfo = host=db password=s3cret dbname=agents_db\n'
expect_err '\[postgres\] conninfo' "the error names [postgres] conninfo"
refused "a conninfo URI with a password" '[scratch]\npostgres_conninfo = postgresql://drill:s3cret@db/postgres\n'
expect_err '\[scratch\] postgres_conninfo' "the error names [scratch] postgres_conninfo"
printf '[repository]\npath = /srv/drctl-repo\n[postgres]\nconninfo = postgresql://drill@db:5432/agents_db\n' >"$T/ok.conf"
run "$DRCTL" --config "$T/ok.conf" schedule render --kind cronjob
expect_rc 0 "a conninfo URI with a user but no password is rendered"

run "$DRCTL" --config schedules/platform.conf schedule render --kind kubernetes
expect_rc 2 "an unknown --kind"
expect_err 'cronjob' "the hint lists the kinds"
run "$DRCTL" --config schedules/platform.conf schedule render --kind cronjob --scenario no-such
expect_rc 2 "an unknown --scenario"
echo "$CHECKS passed, 0 failed"
