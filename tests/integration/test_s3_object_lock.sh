#!/usr/bin/env bash
# S3 Object Lock ([repository] object_lock_days, object_lock_mode) against
# the S3 double (tests/doubles/s3), which implements Object Lock as the
# Amazon S3 API Reference describes it (s3rver has none): every object a
# backup writes carries x-amz-object-lock-mode and a retain-until date N
# days ahead, with Content-MD5 (the double's request log shows what it
# received, its state what it stored); prune keeps a set the policy would
# remove while the store retains it, and says until when (dry run, text,
# JSON); once the retention has run out prune removes it, which in the
# versioned bucket leaves delete markers over the retained versions; a
# bucket without Object Lock is refused at open with exit 2 and the hint;
# a store that cannot say is asked object by object.
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
. "$DRCTL_SOURCE_DIR/tests/harness/services.sh"
require_tools node curl jq
harness_init
start_s3_double --lock-bucket locked --bucket plain
unset AWS_PROFILE AWS_SESSION_TOKEN
export AWS_SHARED_CREDENTIALS_FILE=$T/no-such-credentials AWS_CONFIG_FILE=$T/no-such-config
PREFIX=prod
state() { double_admin s3 GET /state; }
s3log() { double_log s3; }
clearlog() { double_admin s3 DELETE /log >/dev/null; }

S3_ENV=(DRCTL_REPOSITORY_TYPE=s3 DRCTL_REPOSITORY_BUCKET=locked DRCTL_REPOSITORY_PREFIX="$PREFIX/"
  DRCTL_REPOSITORY_ENDPOINT="$S3_DOUBLE_URL" DRCTL_REPOSITORY_REGION="$S3_DOUBLE_REGION"
  DRCTL_REPOSITORY_FORCE_PATH_STYLE=true DRCTL_REPOSITORY_PART_SIZE=5242880)
CONF="$T/etc/drctl.conf"
run env "${S3_ENV[@]}" DRCTL_REPOSITORY_OBJECT_LOCK_DAYS=1 "$DRCTL" --config "$CONF" init --state-dir "$T/state"
expect_rc 0 "init of an S3 repository in a bucket with Object Lock"
grep -qx 'object_lock_days = 1' "$CONF" || fail "init did not write object_lock_days into the configuration"
pass_note "init writes object_lock_days"
export DRCTL_FILES_PATHS="$T/src"
mkdir -p "$T/src"
seq 1 20000 >"$T/src/numbers.txt"
# Incompressible and > part_size: the files object goes up in a multipart upload.
head -c $((6 * 1024 * 1024 + 777)) /dev/urandom >"$T/src/random.bin"

# --- every object written carries the retention ---------------------------------------
clearlog
run d backup --component files
expect_rc 0 "backup into the Object Lock bucket with object_lock_days = 1"
OLD=$OUT
today_plus_1=$(date -u -d '+1 day' +%Y-%m-%d)
# The lock object is the one object drctl must be able to delete: it goes without retention.
is_lock_key='test("(^|/)lock$") or test("(^|/)locks/")'
writes=$(s3log | jq -c "[.requests[] | select(.s3_op == \"PutObject\" or .s3_op == \"CreateMultipartUpload\") | select(.key | $is_lock_key | not)]")
[ "$(jq length <<<"$writes")" -ge 5 ] || fail "expected the set's objects among the writes, got $writes"
jq -e 'any(.[]; .s3_op == "CreateMultipartUpload")' <<<"$writes" >/dev/null || fail "the files object should have gone up in parts: $writes"
bad=$(jq -c --arg d "$today_plus_1" '[.[] | select(.headers["x-amz-object-lock-mode"] != "GOVERNANCE"
  or ((.headers["x-amz-object-lock-retain-until-date"] // "") | test("^" + $d + "T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$") | not))]' <<<"$writes")
[ "$bad" = "[]" ] || fail "writes without GOVERNANCE until $today_plus_1 (ISO 8601, Z): $bad"
pass_note "every PutObject and CreateMultipartUpload of the set carries x-amz-object-lock-mode GOVERNANCE and a retain-until date a day ahead, in UTC with Z"
bad=$(s3log | jq -c '[.requests[] | select(.s3_op == "PutObject" or .s3_op == "UploadPart") | select(.headers["content-md5"] == null) | .key]')
[ "$bad" = "[]" ] || fail "PutObject or UploadPart without Content-MD5: $bad"
pass_note "every PutObject and UploadPart carries Content-MD5"
[ "$(s3log | jq '[.requests[] | select(.s3_op == "GetObjectLockConfiguration")] | length')" -ge 1 ] ||
  fail "drctl did not ask the bucket for its Object Lock configuration"
pass_note "drctl asked the bucket for its Object Lock configuration"
retained=$(state | jq -r --arg p "$PREFIX/backups/$OLD/" '[.buckets[] | select(.name == "locked") | .objects[]
  | select(.key | startswith($p)) | .versions[0].retention | select(.mode == "GOVERNANCE" and .active)] | length')
[ "$retained" -ge 5 ] || fail "the double should hold every object of $OLD under GOVERNANCE retention, holds $retained"
pass_note "the store holds every object of the set under retention ($retained objects)"
run d verify --deep "$OLD"
expect_rc 0 "verify --deep of the retained set"

# A second set, an hour younger by its id: keep_last = 1 would remove the first.
sleep 1
run d backup --component files
expect_rc 0 "a second backup"
NEW=$OUT
[ "$NEW" != "$OLD" ] || fail "the second backup has the first's id"

# --- prune keeps what the store retains, and says until when ---------------------------
until_re="$today_plus_1"'T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'
run env DRCTL_RETENTION_KEEP_LAST=1 "$DRCTL" --config "$CONF" prune --dry-run
expect_rc 0 "prune --dry-run with keep_last = 1"
expect_out "^$OLD kept: under Object Lock until $until_re\$" "the dry run says the old set is kept under Object Lock, and until when"
expect_out "^keep +$OLD +complete +protected: under Object Lock until $until_re" "the dry run's table keeps it, for that reason"
expect_out "would keep 2 sets and remove 0" "the dry run removes nothing"
clearlog
run env DRCTL_RETENTION_KEEP_LAST=1 "$DRCTL" --config "$CONF" prune
expect_rc 0 "prune with keep_last = 1 while the old set is retained"
expect_out "^$OLD kept: under Object Lock until $until_re\$" "prune says it keeps the old set under Object Lock, and until when"
expect_out "kept 2 sets, removed 0" "prune removed nothing"
deletes=$(s3log | jq '[.requests[] | select(.s3_op == "DeleteObject") | select(.key | test("(^|/)lock$") or test("(^|/)locks/") | not)] | length')
[ "$deletes" = 0 ] || fail "prune tried $deletes DeleteObject of retained objects"
pass_note "prune sent no DeleteObject for a retained set"
run env DRCTL_RETENTION_KEEP_LAST=1 "$DRCTL" --config "$CONF" --json prune --dry-run
expect_rc 0 "prune --dry-run --json"
[ "$(jq -r --arg id "$OLD" '.sets[] | select(.id == $id) | "\(.action) \(.rules | join(",")) \(.object_lock_until)"' <<<"$OUT" | grep -Ec "^keep protected $until_re\$")" = 1 ] ||
  fail "the JSON should keep $OLD as protected with object_lock_until: $OUT"
pass_note "the JSON names the rule and object_lock_until"
run d list
expect_out "$OLD" "the retained set is still listed"

# --- after the retention, prune removes; the versions stay behind delete markers ------
double_admin s3 POST /state '{"age_seconds": 172800}' >/dev/null
run env DRCTL_RETENTION_KEEP_LAST=1 "$DRCTL" --config "$CONF" prune
expect_rc 0 "prune once the retention has run out"
expect_out "removed $OLD" "the old set is removed"
if grep -q "kept: under Object Lock" <<<"$OUT"; then fail "nothing is retained any more: $OUT"; fi
pass_note "no set is said to be retained any more"
run d list
if grep -qF "$OLD" <<<"$OUT"; then fail "$OLD is still listed after prune"; fi
pass_note "the removed set is no longer listed"
markers=$(state | jq -r --arg k "$PREFIX/backups/$OLD/manifest.json" '.buckets[] | select(.name == "locked") | .objects[]
  | select(.key == $k) | "\(.versions[0].delete_marker) \(.versions | length)"')
[ "$markers" = "true 2" ] || fail "the manifest of $OLD should be a delete marker over its version, got [$markers]"
pass_note "in the versioned bucket the DELETE left a delete marker over the retained version"
run d verify --deep "$NEW"
expect_rc 0 "the newest set still verifies"

# --- COMPLIANCE ----------------------------------------------------------------------
clearlog
run env DRCTL_REPOSITORY_OBJECT_LOCK_MODE=COMPLIANCE "$DRCTL" --config "$CONF" backup --component files
expect_rc 0 "backup with object_lock_mode = COMPLIANCE"
COMPLIANCE_SET=$OUT
modes=$(s3log | jq -r "[.requests[] | select(.s3_op == \"PutObject\" or .s3_op == \"CreateMultipartUpload\") | select(.key | $is_lock_key | not) | .headers[\"x-amz-object-lock-mode\"]] | unique | join(\",\")")
[ "$modes" = COMPLIANCE ] || fail "object_lock_mode = COMPLIANCE should send COMPLIANCE on every write, sent [$modes]"
pass_note "object_lock_mode = COMPLIANCE is what every write asks for"

# --- a bucket without Object Lock is refused at open -------------------------------------
clearlog
run env DRCTL_REPOSITORY_BUCKET=plain "$DRCTL" --config "$CONF" backup --component files
expect_rc 2 "backup into a bucket without Object Lock, object_lock_days = 1"
expect_err "bucket plain has no Object Lock enabled, but \[repository\] object_lock_days = 1" "the error names the bucket and the key"
expect_err "hint: .*--object-lock-enabled-for-bucket.*object_lock_days = 0" "the hint gives both ways out"
[ "$(s3log | jq '[.requests[] | select(.s3_op == "PutObject" or .s3_op == "CreateMultipartUpload")] | length')" = 0 ] ||
  fail "the refused backup wrote into the bucket"
pass_note "nothing was written into the bucket without Object Lock"
clearlog
run env DRCTL_REPOSITORY_BUCKET=plain DRCTL_REPOSITORY_OBJECT_LOCK_DAYS=0 "$DRCTL" --config "$CONF" backup --component files
expect_rc 0 "the same bucket with object_lock_days = 0"
[ "$(s3log | jq '[.requests[] | select(.headers["x-amz-object-lock-mode"] != null)] | length')" = 0 ] ||
  fail "object_lock_days = 0 sent lock headers"
pass_note "object_lock_days = 0 sends no lock headers"

# --- a store that does not say: retention is read object by object ------------------------
# A newer set, so keep_last = 1 would remove the retained COMPLIANCE one.
sleep 1
run d backup --component files
expect_rc 0 "one more backup"
clearlog
double_fault s3 '{"method": "GET", "path": "/locked", "query": {"object-lock": true}, "status": 403, "always": true}' >/dev/null
run env DRCTL_REPOSITORY_OBJECT_LOCK_DAYS=0 DRCTL_RETENTION_KEEP_LAST=1 "$DRCTL" --config "$CONF" prune --dry-run
expect_rc 0 "prune --dry-run when GetObjectLockConfiguration is refused"
expect_out "^$COMPLIANCE_SET kept: under Object Lock until $until_re\$" "the retained set is found by its objects' HEADs"
expect_out "^remove +$NEW " "the set whose retention ran out would go"
[ "$(s3log | jq '[.requests[] | select(.s3_op == "HeadObject")] | length')" -ge 1 ] || fail "prune did not HEAD the objects"
pass_note "prune read the retention with HEAD"
echo "all checks passed ($CHECKS)"
