#!/usr/bin/env bash
# Backups into S3 (drctl's S3 double over HTTPS with its test CA, every
# request's SigV4 signature checked) under each fault the double can make in
# a multipart upload: 500 InternalError, 503 SlowDown, a connection reset in
# the middle of a part, a part whose answer never comes (past
# [repository] timeout_seconds), a CompleteMultipartUpload answered 200 with
# an <Error> inside or whose answer is lost, a part answered 400 BadDigest or
# 400 XAmzContentSHA256Mismatch (its bytes arrived damaged), the manifest's
# PutObject failing.  A fault that passes is
# retried: the backup completes and verifies deep, the log shows each retry
# with its reason, and only the failed part was sent again (the double's
# request log).  A fault that outlasts the retries fails the backup with the
# exit code of its cause, naming the object; the upload is aborted (the
# bucket lists no unfinished upload) and nothing looks complete (no
# manifest.json, `drctl list` shows no new set).  A wrong secret key is a
# credentials error naming the key id, never the secret.
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
. "$DRCTL_SOURCE_DIR/tests/harness/services.sh"
require_tools node curl jq
harness_init
BUCKET=drctl-faults
start_s3_double --tls --bucket "$BUCKET"

# Nothing from this machine's AWS setup: the double's keys (start_s3_double
# exported them) and the configuration below.
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_CA_BUNDLE
export AWS_SHARED_CREDENTIALS_FILE=$T/no-such-credentials AWS_CONFIG_FILE=$T/no-such-config HOME=$T/home
mkdir -p "$HOME" "$T/src" "$T/secrets"
PREFIX=it
export DRCTL_REPOSITORY_TYPE=s3 DRCTL_REPOSITORY_BUCKET=$BUCKET DRCTL_REPOSITORY_PREFIX=$PREFIX/ \
  DRCTL_REPOSITORY_ENDPOINT="$S3_DOUBLE_URL" DRCTL_REPOSITORY_REGION=us-east-1 DRCTL_REPOSITORY_FORCE_PATH_STYLE=true \
  DRCTL_REPOSITORY_CA_FILE="$S3_DOUBLE_CACERT" DRCTL_REPOSITORY_PART_SIZE=5242880 DRCTL_REPOSITORY_TIMEOUT_SECONDS=5
CONF=$T/etc/drctl.conf
"$DRCTL" --config "$CONF" init --state-dir "$T/state" >/dev/null
d() { "$DRCTL" --config "$CONF" "$@"; }
# 20 MiB that zstd cannot shrink: the files object has 5 parts of 5 MiB (the last one small).
head -c $((20 * 1024 * 1024 + 4321)) /dev/urandom >"$T/src/random.bin"
export DRCTL_FILES_PATHS="$T/src"
OBJ="files.tar.zst.age"
FAULT_PATH="/$BUCKET/$PREFIX/backups/*/$OBJ"

# Looking at the bucket the way S3's clients do: curl signs SigV4 (the keys in
# a 0600 file, not in argv).
printf 'user = "%s:%s"\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" >"$T/secrets/curl-s3.conf"
chmod 600 "$T/secrets/curl-s3.conf"
s3curl() {
  curl -sS --fail-with-body --cacert "$S3_DOUBLE_CACERT" -K "$T/secrets/curl-s3.conf" --aws-sigv4 "aws:amz:us-east-1:s3" \
    -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" "$@"
}
# (The query is written into the URL as S3 canonicalizes it: curl signs what it sends.)
s3keys() { # PREFIX: the keys under it, one a line (fewer than 1000 here); the listing must work
  local page
  page=$(s3curl "$S3_DOUBLE_URL/$BUCKET?list-type=2&prefix=$(jq -rn --arg p "$1" '$p | @uri')") ||
    fail "ListObjectsV2 of $1 failed: $page"
  grep -q '<ListBucketResult' <<<"$page" || fail "ListObjectsV2 of $1 is not a listing: $page"
  grep -o '<Key>[^<]*</Key>' <<<"$page" | sed 's/<[^>]*>//g' || true
}
unfinished_uploads() { # ListMultipartUploads of the bucket: the keys of the uploads it shows
  local page
  page=$(s3curl "$S3_DOUBLE_URL/$BUCKET?uploads=") || fail "ListMultipartUploads failed: $page"
  grep -q '<ListMultipartUploadsResult' <<<"$page" || fail "ListMultipartUploads is not a listing: $page"
  grep -o '<Upload><Key>[^<]*' <<<"$page" | sed 's/.*>//' || true
}
# The object's requests in the double's log: "OP PART STATUS" a line.
object_requests() {
  double_log s3 | jq -r --arg obj "$OBJ" '.requests[] | select((.key // "") | endswith("/" + $obj))
    | "\(.s3_op) \(.part_number // "-") \(.status // "none")"'
}
count_of() { grep -c "^$1 " <<<"$2" || true; }
complete_sets() { d list | awk '$2 == "complete" { print $1 }'; }
# expect_backup_log REGEX WHAT: the last backup_survives backup's stderr matches.
expect_backup_log() { grep -Eq -- "$1" <<<"$BACKUP_ERR" || fail "$2: the backup's log should match /$1/"; pass_note "$2"; }

# backup_survives NAME FAULT-JSON PART REASON-REGEX [SENT]: the backup goes
# through the fault and verifies deep; the log gives the retry of PART (a
# part number, "-" for the completion, "begin" for CreateMultipartUpload)
# and its reason; the double saw each request of the object once but PART
# SENT times (default 2); no upload is left unfinished (one that a lost
# answer began is aborted).
backup_survives() {
  local name=$1 fault=$2 part=$3 reason=$4 sent=${5:-2} reqs id n keys left
  double_admin s3 DELETE /log >/dev/null
  double_fault s3 "$fault"
  run d -v backup --component files
  expect_rc 0 "$name: the backup"
  id=$OUT BACKUP_ERR=$ERR
  if [ "$part" = - ] || [ "$part" = begin ]; then
    local op=CompleteMultipartUpload
    [ "$part" = - ] || op=CreateMultipartUpload
    expect_err "retrying POST $S3_DOUBLE_URL/$BUCKET/$PREFIX/backups/$id/$OBJ \($op\) in [0-9.]+ s \(attempt 2 of 5\): $reason" \
      "$name: the log shows the $op retry and its reason"
  else
    expect_err "retrying PUT $S3_DOUBLE_URL/$BUCKET/$PREFIX/backups/$id/$OBJ \(UploadPart part $part\) in [0-9.]+ s \(attempt 2 of 5\): $reason" \
      "$name: the log shows part $part's retry and its reason"
  fi
  [ "$(double_admin s3 GET /faults | jq '[.faults[] | select(.remaining != 0)] | length')" = 0 ] ||
    fail "$name: the fault did not fire as often as it was set to"
  reqs=$(object_requests)
  want=1
  [ "$part" != begin ] || want=$sent
  [ "$(count_of CreateMultipartUpload "$reqs")" = "$want" ] || fail "$name: CreateMultipartUpload was sent other than $want times: $reqs"
  [ "$(count_of PutObject "$reqs")" = 0 ] || fail "$name: the object was sent whole: $reqs"
  for n in 1 2 3 4 5; do
    local want=1 got
    [ "$n" != "$part" ] || want=$sent
    got=$(grep -c "^UploadPart $n " <<<"$reqs" || true)
    [ "$got" = "$want" ] || fail "$name: part $n was sent $got times, expected $want: $reqs"
  done
  [ "$(grep -c '^UploadPart 6 ' <<<"$reqs" || true)" = 0 ] || fail "$name: the object has more than 5 parts: $reqs"
  want=1
  [ "$part" != - ] || want=$sent
  [ "$(count_of CompleteMultipartUpload "$reqs")" = "$want" ] || fail "$name: CompleteMultipartUpload was sent other than $want times: $reqs"
  want=0
  [ "$part" != begin ] || want=$((sent - 1))
  [ "$(count_of AbortMultipartUpload "$reqs")" = "$want" ] || fail "$name: AbortMultipartUpload was sent other than $want times: $reqs"
  pass_note "$name: only the failed request was sent again ($(grep -c . <<<"$reqs") requests for the object)"
  run d verify --deep "$id"
  expect_rc 0 "$name: verify --deep of the set"
  expect_out "verified \(deep\)" "$name: the set verified deep"
  keys=$(s3keys "$PREFIX/backups/$id/") || exit 1
  grep -qxF "$PREFIX/backups/$id/manifest.json" <<<"$keys" || fail "$name: the set has no manifest.json: $keys"
  left=$(unfinished_uploads) || exit 1
  [ -z "$left" ] || fail "$name: an unfinished upload is left: $left"
  double_admin s3 DELETE /faults >/dev/null
}

# backup_fails NAME FAULT-JSON RC REGEX [OBJECT]: the backup fails with RC
# and an error that matches REGEX and names OBJECT (default: the files
# object, whose multipart upload was then aborted); the bucket lists no
# unfinished upload, and the set looks nowhere complete: no manifest.json,
# indeed none of its objects left (the backup says nothing was published),
# and drctl list shows no new complete set.
backup_fails() {
  local name=$1 fault=$2 rc=$3 regex=$4 object=${5:-$OBJ} before reqs keys prefixes p left
  before=$(complete_sets)
  keys=$(s3keys "$PREFIX/backups/") || exit 1
  prefixes=$(cut -d/ -f3 <<<"$keys" | sort -u)
  double_admin s3 DELETE /log >/dev/null
  double_fault s3 "$fault"
  run d -v backup --component files
  expect_rc "$rc" "$name: the backup fails"
  expect_err "$regex" "$name: the error says why"
  expect_err "s3://$BUCKET/$PREFIX/backups/[^ /]+/$object" "$name: the error names the object"
  if [ "$object" = "$OBJ" ]; then
    reqs=$(object_requests)
    grep -Eq "^AbortMultipartUpload - 204$" <<<"$reqs" || fail "$name: no AbortMultipartUpload was answered: $reqs"
    pass_note "$name: the upload was aborted"
  fi
  left=$(unfinished_uploads) || exit 1
  [ -z "$left" ] || fail "$name: ListMultipartUploads still shows $left"
  pass_note "$name: ListMultipartUploads shows no unfinished upload"
  keys=$(s3keys "$PREFIX/backups/") || exit 1
  for p in $(cut -d/ -f3 <<<"$keys" | sort -u); do
    grep -qxF "$p" <<<"$prefixes" && continue
    ! grep -qxF "$PREFIX/backups/$p/manifest.json" <<<"$keys" || fail "$name: the failed set $p has a manifest.json"
    fail "$name: the failed set $p left objects: $(grep -F "/$p/" <<<"$keys")"
  done
  [ "$(complete_sets)" = "$before" ] || fail "$name: drctl list shows a new complete set: $(d list)"
  pass_note "$name: the failed set left no manifest.json (no object at all), and drctl list shows no new complete set"
  double_admin s3 DELETE /faults >/dev/null
}

# The listings see what they look for: an upload begun here, then aborted.
up=$(s3curl -X POST "$S3_DOUBLE_URL/$BUCKET/probe?uploads=" | grep -o '<UploadId>[^<]*' | sed 's/.*>//')
[ -n "$up" ] || fail "cannot begin a multipart upload on the double"
[ "$(unfinished_uploads)" = probe ] || fail "ListMultipartUploads does not show the upload just begun"
s3curl -X DELETE "$S3_DOUBLE_URL/$BUCKET/probe?uploadId=$up" >/dev/null
[ -z "$(unfinished_uploads)" ] || fail "ListMultipartUploads shows an aborted upload"
pass_note "ListMultipartUploads shows an upload until it is aborted"

# --- faults that pass ----------------------------------------------------------------------
backup_survives "500 InternalError" \
  "{\"method\": \"PUT\", \"path\": \"$FAULT_PATH\", \"query\": {\"partNumber\": \"2\"}, \"status\": 500}" \
  2 "500 InternalError: We encountered an internal error"
backup_survives "503 SlowDown twice" \
  "{\"method\": \"PUT\", \"path\": \"$FAULT_PATH\", \"query\": {\"partNumber\": \"3\"}, \"status\": 503, \"count\": 2}" \
  3 "503 SlowDown: Please reduce your request rate" 3
expect_backup_log "\(UploadPart part 3\) in [0-9.]+ s \(attempt 3 of 5\): 503 SlowDown" "503 SlowDown twice: the second retry is logged too"
backup_survives "a connection reset in the middle of part 2" \
  "{\"method\": \"PUT\", \"path\": \"$FAULT_PATH\", \"query\": {\"partNumber\": \"2\"}, \"action\": \"reset\", \"after_bytes\": 1048576}" \
  2 "Connection reset by peer|Broken pipe|Recv failure|Send failure"
backup_survives "part 4 stalled past timeout_seconds" \
  "{\"method\": \"PUT\", \"path\": \"$FAULT_PATH\", \"query\": {\"partNumber\": \"4\"}, \"action\": \"stall\"}" \
  4 "Operation too slow|timed out"
backup_survives "CompleteMultipartUpload 200 with an <Error>" \
  "{\"method\": \"POST\", \"path\": \"$FAULT_PATH\", \"query\": {\"uploadId\": true}, \"action\": \"flag\", \"name\": \"complete_error\"}" \
  - "200 with an <Error> inside: InternalError"
backup_survives "CompleteMultipartUpload's answer lost (the retry finds the object made)" \
  "{\"method\": \"POST\", \"path\": \"$FAULT_PATH\", \"query\": {\"uploadId\": true}, \"action\": \"cut\", \"after_bytes\": 0}" \
  - "transfer closed with [0-9]+ bytes remaining"
backup_survives "CreateMultipartUpload's answer lost (the upload it began is aborted)" \
  "{\"method\": \"POST\", \"path\": \"$FAULT_PATH\", \"query\": {\"uploads\": true}, \"action\": \"cut\", \"after_bytes\": 0}" \
  begin "transfer closed with [0-9]+ bytes remaining"
expect_backup_log "aborted upload [^ ]+ of s3://$BUCKET/$PREFIX/backups/[^ ]+/$OBJ, begun by an attempt whose answer was lost" \
  "CreateMultipartUpload's answer lost: the log says which upload was aborted"
backup_survives "400 BadDigest" \
  "{\"method\": \"PUT\", \"path\": \"$FAULT_PATH\", \"query\": {\"partNumber\": \"1\"}, \"action\": \"flag\", \"name\": \"bad_content_md5\"}" \
  1 "400 BadDigest: The Content-MD5 you specified did not match"
backup_survives "400 XAmzContentSHA256Mismatch" \
  "{\"method\": \"PUT\", \"path\": \"$FAULT_PATH\", \"query\": {\"partNumber\": \"5\"}, \"action\": \"flag\", \"name\": \"bad_content_sha256\"}" \
  5 "400 XAmzContentSHA256Mismatch: The provided 'x-amz-content-sha256' header does not match"

# --- faults that outlast the retries -----------------------------------------------------
backup_fails "503 SlowDown on every attempt" \
  "{\"method\": \"PUT\", \"path\": \"$FAULT_PATH\", \"query\": {\"partNumber\": \"3\"}, \"status\": 503, \"always\": true}" \
  6 "part 3: S3 UploadPart of s3://[^ ]+ failed: 503 SlowDown"
expect_err "\(attempt 5 of 5\): 503 SlowDown" "503 SlowDown: all five attempts were made"
expect_err "hint: the store is failing or throttling after 5 attempts" "503 SlowDown every time: the hint says to come back later"
backup_fails "a connection reset on every attempt" \
  "{\"method\": \"PUT\", \"path\": \"$FAULT_PATH\", \"query\": {\"partNumber\": \"2\"}, \"action\": \"reset\", \"after_bytes\": 1048576, \"always\": true}" \
  6 "after 4 retries"
backup_fails "CompleteMultipartUpload 200 with an <Error> every time" \
  "{\"method\": \"POST\", \"path\": \"$FAULT_PATH\", \"query\": {\"uploadId\": true}, \"action\": \"flag\", \"name\": \"complete_error\", \"always\": true}" \
  6 "S3 CompleteMultipartUpload of s3://[^ ]+ failed: 200 with an <Error> inside, InternalError"
backup_fails "400 BadDigest every time" \
  "{\"method\": \"PUT\", \"path\": \"$FAULT_PATH\", \"query\": {\"partNumber\": \"1\"}, \"action\": \"flag\", \"name\": \"bad_content_md5\", \"always\": true}" \
  6 "part 1: S3 UploadPart of s3://[^ ]+ failed: 400 BadDigest"
expect_err "hint: after 5 attempts the store still received other bytes than drctl sent .*alters request bodies" "BadDigest every time: the hint says the bytes are altered on the way"
backup_fails "the manifest's PutObject 503 every time" \
  "{\"method\": \"PUT\", \"path\": \"/$BUCKET/$PREFIX/backups/*/manifest.json\", \"status\": 503, \"always\": true}" \
  6 "S3 PutObject of s3://[^ ]+/manifest.json failed: 503 SlowDown" manifest.json

# --- a wrong secret key --------------------------------------------------------------------
WRONG=wrongSecret0123456789abcdefghijklmnopqrstu
AWS_SECRET_ACCESS_KEY=$WRONG run d backup --component files
expect_rc 2 "a wrong secret key: a credentials (configuration) error"
expect_err "S3 refused the credentials of access key id $AWS_ACCESS_KEY_ID .*403 SignatureDoesNotMatch" "the error names the key id and S3's code"
expect_err "hint: .*secret access key from environment .*does not belong to access key id $AWS_ACCESS_KEY_ID" "the hint says to check the secret of that key id"
expect_no_err "$WRONG" "the wrong secret is not shown"
expect_no_err "$AWS_SECRET_ACCESS_KEY" "the right secret is not shown"
expect_no_err "Signature=|AWS4-HMAC-SHA256" "no signature is shown"
[ "$(double_log s3 | jq '[.requests[] | select(.status == 403)] | length')" -gt 0 ] || fail "the double did not refuse the signature"
pass_note "the double answered 403 to the wrong signature"

echo "PASS test_s3_faults ($CHECKS checks)"
