#!/usr/bin/env bash
# schedules/alerts.yaml, the Prometheus rules for drctl's schedules:
#  - plain Prometheus loads it (promtool check rules);
#  - each alert fires when it should, with its labels and annotations, and
#    not before its `for:` nor otherwise (promtool test rules with
#    schedules/alerts_test.yaml);
#  - every rule has a `for:`, a severity, a summary, a description and the
#    next command; every alert is exercised by the test file; the rules use
#    only the metric names drctl pushes (the table in lib/report/metrics.c),
#    each listed in docs/schedules.md and docs/monitoring.md, and pick no
#    group by its job label.
set -euo pipefail
source "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
cd "$DRCTL_SOURCE_DIR/schedules"
require_tools promtool python3

run promtool check rules alerts.yaml
expect_rc 0 "promtool check rules alerts.yaml"
run promtool test rules alerts_test.yaml
[ "$RC" = 0 ] || { echo "$OUT" >&2; fail "promtool test rules alerts_test.yaml (above)"; }
pass_note "promtool test rules alerts_test.yaml: $(grep -c 'alertname:' alerts_test.yaml) expectations hold"

# The metrics drctl pushes: the table every publisher goes through
# (lib/report/metrics.c); the Pushgateway adds push_time_seconds and
# push_failure_time_seconds.
PATH=/usr/bin:$PATH python3 - "$DRCTL_SOURCE_DIR" <<'PY' || fail "alerts.yaml (above)"
import os, re, sys, yaml
source = sys.argv[1]
table = open(os.path.join(source, "lib/report/metrics.c")).read()
metrics = set(re.findall(r'^\s*F\("(drctl_[a-z0-9_]+)"', table, re.M))
if len(metrics) < 20:
    sys.exit(f"only {len(metrics)} metrics found in lib/report/metrics.c: {sorted(metrics)}")
docs = {d: open(os.path.join(source, "docs", d)).read() for d in ("schedules.md", "monitoring.md")}
pushgateway = {"push_time_seconds", "push_failure_time_seconds"}
functions = {"time", "max", "absent", "on", "group_left", "by", "and"}
rules = [r for g in yaml.safe_load(open("alerts.yaml"))["groups"] for r in g["rules"]]
tests = yaml.safe_load(open("alerts_test.yaml"))["tests"]
tested = {(t["alertname"], bool(t["exp_alerts"])) for test in tests for t in test["alert_rule_test"]}
problems = []
for r in rules:
    name = r["alert"]
    for key in ("for",):
        if not r.get(key):
            problems.append(f"{name}: no {key}:")
    if r.get("labels", {}).get("severity") not in ("critical", "warning"):
        problems.append(f"{name}: severity {r.get('labels', {}).get('severity')}")
    for a in ("summary", "description", "command"):
        if not r.get("annotations", {}).get(a):
            problems.append(f"{name}: no {a} annotation")
    expr = re.sub(r'"[^"]*"', '""', r["expr"])
    for word in sorted(set(re.findall(r"\b[a-z_][a-z0-9_]*\b", expr))):
        if word.startswith("drctl_") and word not in metrics:
            problems.append(f"{name}: {word} is not a metric drctl pushes")
        elif word.startswith("drctl_"):
            for d, text in docs.items():
                if f"`{word}" not in text:
                    problems.append(f"{name}: {word} is not listed in docs/{d}")
        elif not word.startswith("drctl_") and word not in pushgateway | functions | {"job", "instance", "component", "scenario", "__name__"}:
            problems.append(f"{name}: unexpected word {word} in its expression")
    if re.search(r"\bjob\s*=", r["expr"]):
        problems.append(f"{name}: picks a group by its job label")
    for fires in (True, False):
        if (name, fires) not in tested:
            problems.append(f"{name}: alerts_test.yaml never checks that it {'fires' if fires else 'stays quiet'}")
if problems:
    print("\n".join("FAIL: " + p for p in problems), file=sys.stderr)
    sys.exit(1)
print(f"{len(rules)} rules checked")
PY
pass_note "every rule: for, severity, summary, description, command; known metrics; tested both ways"
echo "$CHECKS passed, 0 failed"
