#!/usr/bin/env bash
# Batch-job metrics reach a real Prometheus Pushgateway and a node_exporter
# textfile folder: after a backup the Pushgateway's /metrics shows its status,
# duration, and each component's size (the manifest's) and success time;
# a partial backup and a failed one leave the other components' and the last
# success's values as they were; verify and prune push theirs without wiping
# backup's; a failed verify keeps its last success; a Pushgateway that
# answers an error or is down, and a missing textfile folder, give a warning
# naming it and change nothing of the job's exit status.  The textfile folder
# holds the same samples as the Pushgateway, in files that promtool accepts,
# with no temporary left behind.
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
. "$DRCTL_SOURCE_DIR/tests/harness/services.sh"
require_tools curl jq promtool prometheus-pushgateway
harness_init
start_pushgateway
start_redis

drctl_init_in "$T/main"
mkdir -p "$T/data" "$T/textfile"
echo "agent config" >"$T/data/agents.conf"
export DRCTL_FILES_PATHS="$T/data" DRCTL_REDIS_URL="$REDIS_URL"
export DRCTL_METRICS_PUSHGATEWAY_URL="$PUSHGATEWAY_URL" DRCTL_METRICS_INSTANCE=test-host
export DRCTL_METRICS_TEXTFILE_DIR="$T/textfile"
JOB='instance="test-host",job="drctl"'

scrape() { curl -sS --fail "$PUSHGATEWAY_URL/metrics" >"$T/scrape" || fail "cannot scrape $PUSHGATEWAY_URL/metrics"; }
# value 'name{labels}': the sample's value in the last scrape ("" if absent).
value() { awk -v k="$1" '$1 == k { print $2 }' "$T/scrape"; }
expect_value() { # 'name{labels}' VALUE (compared as numbers)
  local got
  got=$(value "$1")
  [ -n "$got" ] || fail "the Pushgateway has no $1"
  awk -v a="$got" -v b="$2" 'BEGIN { exit !(a + 0 == b + 0) }' || fail "$1 is $got, expected $2"
}
expect_between() { # 'name{labels}' LOW HIGH
  local got
  got=$(value "$1")
  [ -n "$got" ] || fail "the Pushgateway has no $1"
  awk -v a="$got" -v lo="$2" -v hi="$3" 'BEGIN { exit !(a + 0 >= lo && a + 0 <= hi) }' ||
    fail "$1 is $got, expected between $2 and $3"
}
# Every sample of the textfile folder is in the Pushgateway with the same
# value (the grouping key's job and instance added), and promtool accepts
# every file; no temporary is left.
check_textfiles_match() {
  local f line name labels v key got n=0
  scrape
  for f in "$T/textfile"/*; do
    case $f in *.prom) ;; *) fail "$f is left in the textfile folder (only .prom files belong there)" ;; esac
    [ "$(stat -c %a "$f")" = 644 ] || fail "$f has mode $(stat -c %a "$f"), node_exporter needs 0644"
    promtool check metrics <"$f" >"$T/promtool.out" 2>&1 || { cat "$T/promtool.out" >&2; fail "promtool rejects $f"; }
    while read -r line; do
      case $line in "#"* | "") continue ;; esac
      name=${line%% *}; v=${line##* }
      # The Pushgateway shows labels sorted by name (no value here holds a comma).
      labels=$JOB
      if [[ $name == *"{"* ]]; then labels=${name#*\{}; labels="${labels%\}},$JOB"; fi
      key="${name%%\{*}{$(tr , '\n' <<<"$labels" | sort | paste -sd,)}"
      got=$(value "$key")
      [ -n "$got" ] || fail "$(basename "$f") has $name, the Pushgateway has no $key"
      awk -v a="$got" -v b="$v" 'BEGIN { exit !(a + 0 == b + 0) }' || fail "$key: textfile $v, Pushgateway $got"
      n=$((n + 1))
    done <"$f"
  done
  [ "$n" -gt 0 ] || fail "no sample in the textfile folder"
  pass_note "$1: $n textfile samples, each the same in the Pushgateway; promtool accepts the files; no temporary left"
}

# --- a backup of files and redis ------------------------------------------------
before=$(date +%s)
run d backup; expect_rc 0 "backup of files and redis"
after=$(date +%s)
d --json show latest >"$T/manifest.json"
scrape
expect_value "drctl_backup_last_status{$JOB}" 1
expect_between "drctl_backup_duration_seconds{$JOB}" 0 $((after - before + 1))
for c in files redis; do
  expect_between "drctl_backup_last_success_timestamp_seconds{component=\"$c\",$JOB}" "$before" $((after + 1))
  expect_value "drctl_backup_size_bytes{component=\"$c\",$JOB}" "$(jq ".components.$c.object_size" "$T/manifest.json")"
done
grep -qx '# TYPE drctl_backup_last_status gauge' "$T/scrape" || fail "no TYPE line for drctl_backup_last_status"
grep -q '^# HELP drctl_backup_size_bytes .' "$T/scrape" || fail "no HELP line for drctl_backup_size_bytes"
pass_note "the backup's status, duration, and each component's size and success time are in the Pushgateway"
[ "$(cd "$T/textfile" && ls)" = "$(printf 'drctl_backup-files.prom\ndrctl_backup-redis.prom\ndrctl_backup.prom')" ] ||
  fail "textfile folder holds: $(ls "$T/textfile")"
check_textfiles_match "after the backup"

# --- a partial backup, then a failed one ------------------------------------------
redis_ts=$(value "drctl_backup_last_success_timestamp_seconds{component=\"redis\",$JOB}")
files_ts=$(value "drctl_backup_last_success_timestamp_seconds{component=\"files\",$JOB}")
sleep 1 # a success time that can differ from the first one's
run d backup --component files; expect_rc 0 "backup of files alone"
scrape
[ "$(value "drctl_backup_last_success_timestamp_seconds{component=\"redis\",$JOB}")" = "$redis_ts" ] ||
  fail "a backup of files alone changed redis's last success time"
[ "$(value "drctl_backup_last_success_timestamp_seconds{component=\"files\",$JOB}")" != "$files_ts" ] ||
  fail "a backup of files did not update its last success time"
pass_note "a backup of files alone updates files and leaves redis's metrics as they were"

files_ts=$(value "drctl_backup_last_success_timestamp_seconds{component=\"files\",$JOB}")
files_size=$(value "drctl_backup_size_bytes{component=\"files\",$JOB}")
cp "$T/textfile/drctl_backup-files.prom" "$T/files.prom.before"
DRCTL_FILES_PATHS="$T/no-such-folder" run d backup
[ "$RC" != 0 ] || fail "a backup of a missing folder succeeded"
pass_note "a backup of a missing folder fails (exit $RC)"
scrape
expect_value "drctl_backup_last_status{$JOB}" 0
[ -n "$(value "drctl_backup_duration_seconds{$JOB}")" ] || fail "the failed backup pushed no duration"
[ "$(value "drctl_backup_last_success_timestamp_seconds{component=\"files\",$JOB}")" = "$files_ts" ] ||
  fail "the failed backup changed files's last success time"
[ "$(value "drctl_backup_size_bytes{component=\"files\",$JOB}")" = "$files_size" ] || fail "the failed backup changed files's size"
[ "$(value "drctl_backup_last_success_timestamp_seconds{component=\"redis\",$JOB}")" = "$redis_ts" ] ||
  fail "the failed backup changed redis's last success time"
pass_note "a failed backup pushes status 0 and its duration, and leaves every last success time and size as it was"
cmp -s "$T/files.prom.before" "$T/textfile/drctl_backup-files.prom" || fail "the failed backup rewrote drctl_backup-files.prom"
grep -qx 'drctl_backup_last_status 0' "$T/textfile/drctl_backup.prom" || fail "drctl_backup.prom does not say 0"
check_textfiles_match "after the failed backup"

# --- verify and prune push theirs; backup's stay ------------------------------------
run d verify latest; expect_rc 0 "verify latest"
scrape
expect_value "drctl_verify_last_status{$JOB}" 1
verify_ts=$(value "drctl_verify_last_success_timestamp_seconds{$JOB}")
[ -n "$verify_ts" ] || fail "verify pushed no success time"
expect_value "drctl_backup_last_status{$JOB}" 0
[ "$(value "drctl_backup_last_success_timestamp_seconds{component=\"files\",$JOB}")" = "$files_ts" ] ||
  fail "verify's push changed backup's metrics"
pass_note "verify pushes its status and success time; backup's metrics stay"

run d verify 20200101T000000Z-dead; expect_rc 3 "verify of a set that does not exist"
scrape
expect_value "drctl_verify_last_status{$JOB}" 0
[ "$(value "drctl_verify_last_success_timestamp_seconds{$JOB}")" = "$verify_ts" ] || fail "a failed verify changed the last success time"
grep -q '^drctl_verify_last_success_timestamp_seconds ' "$T/textfile/drctl_verify.prom" ||
  fail "a failed verify dropped the last success time from drctl_verify.prom"
grep -qx 'drctl_verify_last_status 0' "$T/textfile/drctl_verify.prom" || fail "drctl_verify.prom does not say 0"
pass_note "a failed verify pushes status 0 and keeps its last success time, in the Pushgateway and the textfile"

DRCTL_RETENTION_KEEP_LAST=1 run d prune; expect_rc 0 "prune keeping the last set"
scrape
expect_value "drctl_prune_last_status{$JOB}" 1
expect_value "drctl_prune_removed_sets{$JOB}" 1
expect_value "drctl_repository_sets{$JOB,state=\"complete\"}" 1
expect_value "drctl_repository_sets{$JOB,state=\"incomplete\"}" 0
expect_value "drctl_repository_sets{$JOB,state=\"invalid\"}" 0
[ -n "$(value "drctl_prune_last_success_timestamp_seconds{$JOB}")" ] || fail "prune pushed no success time"
expect_value "drctl_verify_last_status{$JOB}" 0
[ "$(value "drctl_verify_last_success_timestamp_seconds{$JOB}")" = "$verify_ts" ] || fail "prune's push changed verify's metrics"
expect_value "drctl_backup_last_status{$JOB}" 0
[ "$(value "drctl_backup_last_success_timestamp_seconds{component=\"redis\",$JOB}")" = "$redis_ts" ] ||
  fail "prune's push changed backup's metrics"
pass_note "prune pushes removed sets and the sets left by state; verify's and backup's metrics stay"
check_textfiles_match "after verify and prune"

# --- a Pushgateway that answers an error ----------------------------------------------
# Another job pushed the name as a counter: the Pushgateway refuses ours (400).
# (It keeps the first type it saw: drctl's group goes first.)
curl -sS --fail -X DELETE "$PUSHGATEWAY_URL/metrics/job/drctl/instance/test-host" || fail "cannot delete drctl's group"
printf '# TYPE drctl_verify_duration_seconds counter\ndrctl_verify_duration_seconds 1\n' |
  curl -sS --fail --data-binary @- "$PUSHGATEWAY_URL/metrics/job/someone-else" || fail "cannot push the conflicting metric"
run d verify latest; expect_rc 0 "verify with a Pushgateway that refuses the push"
expect_err "warning: metrics of this verify were not pushed: the Pushgateway at $PUSHGATEWAY_URL/metrics/job/drctl/instance/test-host answered 400" \
  "the warning names the Pushgateway's URL and its answer"
expect_out "verified" "verify's own output is unchanged"
curl -sS -X DELETE "$PUSHGATEWAY_URL/metrics/job/someone-else" || fail "cannot delete the conflicting group"

# --- a Pushgateway that is down, a textfile folder that is missing ----------------------
PORT=$PUSHGATEWAY_PORT
stop_pushgateway
run d backup --component files; expect_rc 0 "backup with the Pushgateway down"
expect_out '^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{4}$' "the backup still prints its id"
expect_err "warning: metrics of this backup were not pushed: .*http://127.0.0.1:$PORT/metrics/job/drctl/instance/test-host" \
  "the warning names the Pushgateway's URL"
expect_err "own result is unchanged" "the warning says the backup's result stands"
grep -qx 'drctl_backup_last_status 1' "$T/textfile/drctl_backup.prom" || fail "the textfile was not written while the Pushgateway was down"
pass_note "the textfile is written while the Pushgateway is down"
DRCTL_METRICS_TEXTFILE_DIR="$T/no-such-dir" run d backup --component files; expect_rc 0 "backup with a missing textfile folder"
expect_err "warning: metrics of this backup were not written: \[metrics\] textfile_dir $T/no-such-dir is not a folder" \
  "the warning names the missing folder"

echo "$CHECKS passed, 0 failed"
