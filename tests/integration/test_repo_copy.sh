#!/usr/bin/env bash
# drctl repo copy between the repositories a configuration names:
# [repository] (local, "default"), [repository.offsite] (S3, s3rver started
# by the harness) and [repository.back] (another local folder).  Local -> S3
# of one set, S3 -> local with --all, each copy verified deep and restored
# from; --all copies what is missing and a second run copies nothing; a
# source object that does not match its SHA256SUMS is refused with exit 4
# and leaves nothing in the target; the target's objects are never
# rewritten; the manifest is written last; unknown names and bad arguments
# are usage errors.
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
. "$DRCTL_SOURCE_DIR/tests/harness/services.sh"
require_tools node curl jq
harness_init
start_s3rver drctl-copy
start_s3_double --bucket watched
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3
export AWS_SHARED_CREDENTIALS_FILE=$T/no-such-credentials AWS_CONFIG_FILE=$T/no-such-config
mkdir -p "$T/secrets"
printf '%s\n' "$S3RVER_ACCESS_KEY" >"$T/secrets/key-id"
printf '%s\n' "$S3RVER_SECRET_KEY" >"$T/secrets/secret"
printf '%s\n' "$S3_DOUBLE_ACCESS_KEY" >"$T/secrets/double-key-id"
cp "$S3_DOUBLE_SECRET_FILE" "$T/secrets/double-secret"
chmod 600 "$T/secrets/"*

run "$DRCTL" --config "$T/etc/drctl.conf" init --repository "$T/repo" --state-dir "$T/state"
expect_rc 0 "init of the default (local) repository"
CONF="$T/etc/drctl.conf"
cat >>"$CONF" <<EOF

[repository.offsite]
$(s3rver_repository_conf copies/ "$T/secrets/key-id" "$T/secrets/secret")

[repository.back]
path = $T/repo-back

[repository.watched]
type = s3
bucket = watched
endpoint = $S3_DOUBLE_URL
region = $S3_DOUBLE_REGION
force_path_style = true
access_key_id_file = $T/secrets/double-key-id
secret_access_key_file = $T/secrets/double-secret
EOF
# The same repositories as [repository], for verify, list and restore.
at_offsite() { env DRCTL_REPOSITORY_TYPE=s3 DRCTL_REPOSITORY_BUCKET="$S3RVER_BUCKET" DRCTL_REPOSITORY_PREFIX=copies/ \
  DRCTL_REPOSITORY_ENDPOINT="$S3RVER_URL" DRCTL_REPOSITORY_REGION=us-east-1 DRCTL_REPOSITORY_FORCE_PATH_STYLE=true \
  DRCTL_REPOSITORY_ACCESS_KEY_ID_FILE="$T/secrets/key-id" DRCTL_REPOSITORY_SECRET_ACCESS_KEY_FILE="$T/secrets/secret" \
  "$DRCTL" --config "$CONF" "$@"; }
at_back() { env DRCTL_REPOSITORY_PATH="$T/repo-back" "$DRCTL" --config "$CONF" "$@"; }

export DRCTL_FILES_PATHS="$T/src"
mkdir -p "$T/src/conf"
seq 1 100000 >"$T/src/conf/numbers.txt"
head -c 3000000 /dev/urandom >"$T/src/blob.bin"
run d backup --component files
expect_rc 0 "first backup"
FIRST=$OUT
sleep 1
printf 'second\n' >"$T/src/conf/second.txt"
run d backup --component files
expect_rc 0 "second backup"
SECOND=$OUT

# --- arguments -----------------------------------------------------------------------
run d repo copy --from default --to nowhere latest
expect_rc 2 "a repository the configuration does not name"
expect_err 'no repository "nowhere"' "the error names it"
expect_err "default, offsite, back" "the hint lists the repositories there are"
run d repo copy --from default --to default latest
expect_rc 2 "the same repository twice"
run d repo copy --from default --to back
expect_rc 2 "neither a set nor --all"
run d repo copy --from default --to back latest --all
expect_rc 2 "a set and --all"
run d repo copy --from default --to back 20200101T000000Z-0000
expect_rc 3 "a set the source does not have"

# --- local -> S3, one set ----------------------------------------------------------------
run d repo copy --from default --to offsite "$FIRST"
expect_rc 0 "copy of one set from the local repository into S3"
expect_out "^copied $FIRST \(5 objects, [0-9]+ bytes\)" "it says what it copied (the archive, the sums, the manifest and their signatures)"
run at_offsite list
expect_rc 0 "list of the S3 repository"
expect_out "$FIRST +complete" "the copy is complete in S3"
if grep -qF "$SECOND" <<<"$OUT"; then fail "only $FIRST was asked for"; fi
pass_note "only the set asked for was copied"
run at_offsite verify --deep "$FIRST"
expect_rc 0 "verify --deep of the copy in S3"
run at_offsite restore files --backup "$FIRST" --target "$T/restored-s3"
expect_rc 0 "restore from the copy in S3"
cmp -s "$T/src/blob.bin" "$T/restored-s3$T/src/blob.bin" || fail "blob.bin restored from S3 differs"
cmp -s "$T/src/conf/numbers.txt" "$T/restored-s3$T/src/conf/numbers.txt" || fail "numbers.txt restored from S3 differs"
[ ! -e "$T/restored-s3$T/src/conf/second.txt" ] || fail "the first set should not hold second.txt"
pass_note "the files restored from the S3 copy are the first set's"

# --- S3 -> local, --all -------------------------------------------------------------------
run d repo copy --from offsite --to back --all
expect_rc 0 "copy of every set from S3 into another local repository"
expect_out "^copied $FIRST " "the one set in S3 is copied"
expect_out "copied 1 set from offsite to back, skipped 0" "the summary counts it"
run at_back verify --deep "$FIRST"
expect_rc 0 "verify --deep of the copy of the copy"
run at_back restore files --backup "$FIRST" --target "$T/restored-back"
expect_rc 0 "restore from the local copy"
cmp -s "$T/src/blob.bin" "$T/restored-back$T/src/blob.bin" || fail "blob.bin restored from the local copy differs"
pass_note "the local copy restores the same bytes"
cmp -s "$T/repo/backups/$FIRST/manifest.json" "$T/repo-back/backups/$FIRST/manifest.json" ||
  fail "the manifest differs after two copies"
for f in "$T/repo/backups/$FIRST"/*; do
  cmp -s "$f" "$T/repo-back/backups/$FIRST/${f##*/}" || fail "${f##*/} differs after two copies"
done
pass_note "every object of the set is byte for byte the original after local -> S3 -> local"

# --- --all copies what is missing; a second run nothing ----------------------------------------
stamp_before=$(stat -c '%i %Y' "$T/repo-back/backups/$FIRST/manifest.json")
run d repo copy --from default --to back --all
expect_rc 0 "--all from the default repository into back"
expect_out "^skipped $FIRST: complete in the target already" "the set already there is skipped"
expect_out "^copied $SECOND " "the missing one is copied"
[ "$stamp_before" = "$(stat -c '%i %Y' "$T/repo-back/backups/$FIRST/manifest.json")" ] ||
  fail "the manifest of $FIRST in the target was rewritten"
pass_note "the set already in the target was not rewritten"
run d --json repo copy --from default --to back --all
expect_rc 0 "a second --all"
[ "$(jq -r '"\(.copied) \(.skipped)"' <<<"$OUT")" = "0 2" ] || fail "a second --all should copy nothing and skip 2: $OUT"
pass_note "a second --all copies nothing (JSON: copied 0, skipped 2)"

# --- the manifest is written last (the S3 double's request log) ----------------------------------
run d repo copy --from default --to watched "$SECOND"
expect_rc 0 "copy of the second set into the S3 double"
order=$(double_log s3 | jq -r --arg p "backups/$SECOND/" '[.requests[] | select(.s3_op == "PutObject" or .s3_op == "CreateMultipartUpload")
  | select(.key | startswith($p)) | .key | sub(".*/"; "")] | join(" ")')
[ "$order" = "files.tar.zst.age SHA256SUMS SHA256SUMS.minisig manifest.json.minisig manifest.json" ] ||
  fail "the objects should be written archive first, manifest.json last; the order was: $order"
pass_note "the copy writes the archive, SHA256SUMS, the signatures, and manifest.json last"

# --- a damaged source object: exit 4, nothing in the target ----------------------------------------
sleep 1
run d backup --component files
expect_rc 0 "a third backup"
THIRD=$OUT
obj="$T/repo/backups/$THIRD/files.tar.zst.age"
printf '\xff' | dd of="$obj" bs=1 seek=1000 conv=notrunc status=none
run d repo copy --from default --to offsite "$THIRD"
expect_rc 4 "copy of a set whose archive object does not match SHA256SUMS"
expect_err "files.tar.zst.age of backup set $THIRD .* has SHA-256 [0-9a-f]{64}, but its signed SHA256SUMS says" "the error names the object and both hashes"
expect_err "nothing of it was left" "the error says the target holds nothing of it"
run at_offsite list
if grep -qF "$THIRD" <<<"$OUT"; then fail "the damaged set appears in the target: $OUT"; fi
pass_note "the damaged set is not in the S3 target, not even incomplete"
run d repo copy --from default --to back "$THIRD"
expect_rc 4 "the same into a local repository"
[ ! -e "$T/repo-back/backups/$THIRD/manifest.json" ] || fail "a manifest of the damaged set was written"
run at_back list
if grep -qF "$THIRD" <<<"$OUT"; then fail "the damaged set appears in the local target: $OUT"; fi
pass_note "nothing that looks like the damaged set is in the local target"
echo "all checks passed ($CHECKS)"
