#!/usr/bin/env bash
# drctl with its repository in an S3-compatible store (s3rver, started by
# the harness), end to end: init with [repository] type = s3 (the keys come
# from the environment and are written into the configuration; credentials
# from _file keys), a full backup of files, PostgreSQL and Redis with a files
# object of several multipart parts (part_size = 5 MiB), list, show, verify
# (quick and deep), restore of each component, compared with its source;
# the lock objects under locks/ (a prune elsewhere refuses a backup, naming
# it; the lock of a dead holder on this host is stale, and --steal removes
# it); 200 small sets (more than 1000 objects) listed and pruned; the
# break-glass way back with curl, minisign, sha256sum, age, zstd and tar; no
# secret and no Authorization header in any output, journal or error.
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
. "$DRCTL_SOURCE_DIR/tests/harness/services.sh"
require_tools node curl minisign sha256sum age zstd tar jq redis-cli
harness_init
start_s3rver drctl-it
start_postgres
start_redis
SRC_REDIS=$REDIS_PORT
unset REDIS_PID
start_redis
DST_REDIS=$REDIS_PORT
unset REDIS_PID
BUCKET=$S3RVER_BUCKET
PREFIX=prod/drctl
MAKE_SETS="$DRCTL_BUILD_DIR/tests/make_sets"
psql_() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
sums() { psql_ -At -d "$1" -f "$DRCTL_SOURCE_DIR/tests/data/postgres/table-checksums.sql"; }
rcli() { local p=$1; shift; redis-cli --no-auth-warning -p "$p" "$@"; }

# Nothing from this machine's AWS setup: the keys are files named by the
# configuration, as a Kubernetes Secret mount gives them.
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3
export AWS_SHARED_CREDENTIALS_FILE=$T/no-such-credentials AWS_CONFIG_FILE=$T/no-such-config
mkdir -p "$T/secrets"
printf '%s\n' "$S3RVER_ACCESS_KEY" >"$T/secrets/s3-key-id"
printf '%s\n' "$S3RVER_SECRET_KEY" >"$T/secrets/s3-secret"
chmod 600 "$T/secrets/"*

# curl speaks SigV4 too: the break-glass way, and how this test looks at
# the bucket behind drctl's back (the keys in a 0600 file, not in argv).
printf 'user = "%s:%s"\n' "$S3RVER_ACCESS_KEY" "$S3RVER_SECRET_KEY" >"$T/secrets/curl-s3.conf"
chmod 600 "$T/secrets/curl-s3.conf"
s3curl() { # CURL-ARGS... (GET unless told; the body's hash for a PUT in S3_BODY_SHA)
  curl -sS -K "$T/secrets/curl-s3.conf" --aws-sigv4 "aws:amz:us-east-1:s3" \
    -H "x-amz-content-sha256: ${S3_BODY_SHA:-e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855}" "$@"
}
s3keys() { # PREFIX: the keys under it, one a line
  local token='' page
  while :; do
    page=$(s3curl -G "$S3RVER_URL/$BUCKET" --data-urlencode list-type=2 --data-urlencode "prefix=$1" \
      ${token:+--data-urlencode "continuation-token=$token"})
    grep -o '<Key>[^<]*</Key>' <<<"$page" | sed 's/<[^>]*>//g' || true
    token=$(grep -o '<NextContinuationToken>[^<]*' <<<"$page" | sed 's/.*>//' || true)
    [ -n "$token" ] || break
  done
}
s3put() { # KEY FILE
  S3_BODY_SHA=$(sha256sum "$2" | cut -d' ' -f1) s3curl -o /dev/null -w '%{http_code}' -T "$2" "$S3RVER_URL/$BUCKET/$1"
}
no_secret_in() { # WHAT TEXT
  if grep -qE "Authorization|AWS4-HMAC-SHA256|Signature=|Credential=" <<<"$2"; then fail "$1 shows a signature or an Authorization header"; fi
  if grep -qF "$S3RVER_SECRET_KEY" <<<"$2"; then fail "$1 shows the secret access key"; fi
}

# --- init -------------------------------------------------------------------------
S3_ENV=(DRCTL_REPOSITORY_TYPE=s3 DRCTL_REPOSITORY_BUCKET="$BUCKET" DRCTL_REPOSITORY_PREFIX="$PREFIX/"
  DRCTL_REPOSITORY_ENDPOINT="$S3RVER_URL" DRCTL_REPOSITORY_REGION=us-east-1 DRCTL_REPOSITORY_FORCE_PATH_STYLE=true
  DRCTL_REPOSITORY_ACCESS_KEY_ID_FILE="$T/secrets/s3-key-id" DRCTL_REPOSITORY_SECRET_ACCESS_KEY_FILE="$T/secrets/s3-secret"
  DRCTL_REPOSITORY_PART_SIZE=5242880)
CONF="$T/etc/drctl.conf"
run env "${S3_ENV[@]}" "$DRCTL" --config "$T/other/drctl.conf" init --repository "$T/a-folder"
expect_rc 2 "init of an s3 repository with --repository (a folder)"
expect_err "--repository names a local folder" "init says --repository has no place with type = s3"
run env "${S3_ENV[@]}" DRCTL_REPOSITORY_BUCKET=no-such-bucket "$DRCTL" --config "$T/nobucket/drctl.conf" init --state-dir "$T/nobucket/state"
expect_rc 3 "init with a bucket that does not exist"
expect_err "NoSuchBucket" "the store's answer is named"
expect_err "s3://no-such-bucket" "the bucket is named"
run env "${S3_ENV[@]}" "$DRCTL" --config "$CONF" init --state-dir "$T/state"
expect_rc 0 "init with DRCTL_REPOSITORY_TYPE=s3"
expect_out "repository +S3 repository s3://$BUCKET/$PREFIX/" "init names the bucket and prefix"
for kv in "type = s3" "bucket = $BUCKET" "prefix = $PREFIX/" "endpoint = $S3RVER_URL" "force_path_style = true" \
  "secret_access_key_file = $T/secrets/s3-secret" "part_size = 5242880"; do
  grep -qxF "$kv" "$CONF" || fail "init did not write '$kv' into the configuration"
done
grep -qE '^path = ' "$CONF" && fail "the s3 configuration names a local path"
pass_note "init writes the s3 repository's keys into the configuration, and no local path"
[ ! -e "$T/etc/repository" ] || fail "init made a local repository folder"
export DRCTL_FILES_PATHS="$T/src"
harness_drctl_postgres appdb
export DRCTL_REDIS_URL="redis://127.0.0.1:$SRC_REDIS"
dp() { env -u PGUSER -u PGDATABASE "$DRCTL" --config "$CONF" "$@"; }

# --- the data ------------------------------------------------------------------------
mkdir -p "$T/src/conf/nested" "$T/src/big"
seq 1 50000 >"$T/src/conf/numbers.txt"
printf 'x' >"$T/src/conf/nested/with space.txt"
# Incompressible, so the files object is > 2 x part_size: three parts at least.
head -c $((12 * 1024 * 1024 + 12345)) /dev/urandom >"$T/src/big/random.bin"
psql_ -f "$DRCTL_SOURCE_DIR/tests/data/postgres/roles.sql"
"$PG_BIN/createdb" appdb
psql_ -d appdb -f "$DRCTL_SOURCE_DIR/tests/data/postgres/fixture.sql" >/dev/null
SRC_SUMS=$(sums appdb)
{
  for i in $(seq 1 300); do echo "SET key:$i value-$i"; done
  echo "HSET agent:1 status running replicas 2"
  echo "RPUSH queue a b c"
} | rcli "$SRC_REDIS" >/dev/null

# --- backup, list, show ------------------------------------------------------------
run dp -v backup
expect_rc 0 "backup of files, postgres and redis into S3"
ID=$OUT
no_secret_in "backup -v" "$ERR"
pass_note "no secret and no signature in the backup's log, even with -v"
keys=$(s3keys "$PREFIX/backups/$ID/")
for f in files.tar.zst.age postgres.tar.zst.age redis.tar.zst.age manifest.json manifest.json.minisig SHA256SUMS SHA256SUMS.minisig; do
  grep -qxF "$PREFIX/backups/$ID/$f" <<<"$keys" || fail "$f is not in the bucket under $PREFIX/backups/$ID/ (keys: $keys)"
done
pass_note "the set's objects are keys under [repository] prefix"
parts=$(grep -c "$PREFIX/backups/$ID/files.tar.zst.age?partNumber=" "$S3RVER_LOG" || true)
[ "$parts" -ge 3 ] || fail "the 12 MiB files object went up in $parts parts, expected 3 or more of 5 MiB"
pass_note "the files object was uploaded in $parts parts"
[ -z "$(s3keys "$PREFIX/locks/")" ] || fail "a lock object is still there after the backup: $(s3keys "$PREFIX/locks/")"
pass_note "the backup released its lock object"
grep -rqF "$S3RVER_SECRET_KEY" "$T/state" "$T/etc/drctl.conf" && fail "the secret key is in the state folder or the configuration"
pass_note "the secret is neither in the state folder nor in the configuration"
run dp list
expect_rc 0 "list"
expect_out "^$ID +complete" "list shows the set as complete"
run dp --json show "$ID"
expect_rc 0 "show"
jq -e '.components | has("files") and has("postgres") and has("redis")' <<<"$OUT" >/dev/null || fail "show lacks a component"
pass_note "show has the three components"

# --- verify -------------------------------------------------------------------------------
run dp verify "$ID"
expect_rc 0 "quick verify"
run dp verify --deep "$ID"
expect_rc 0 "deep verify"
expect_out "verified \(deep\)"
run dp list
expect_out "^$ID +complete +deep" "list shows the deep verification (kept in the state folder)"

# --- restore -------------------------------------------------------------------------------
run dp restore files --backup "$ID" --target "$T/restored"
expect_rc 0 "restore files"
diff -r "$T/src" "$T/restored$T/src" || fail "the restored tree differs from the source"
pass_note "files restored from S3 equal the source, the 12 MiB file included"
run dp --json restore postgres --backup "$ID" --target-database appdb_from_s3
expect_rc 0 "restore postgres"
[ "$(sums appdb_from_s3)" = "$SRC_SUMS" ] || fail "the database restored from S3 differs from the source"
pass_note "every table of the restored database has the source's checksum"
run dp --json restore redis --backup "$ID" --target "redis://127.0.0.1:$DST_REDIS"
expect_rc 0 "restore redis"
[ "$(rcli "$DST_REDIS" DBSIZE)" = "$(rcli "$SRC_REDIS" DBSIZE)" ] || fail "restored Redis has $(rcli "$DST_REDIS" DBSIZE) keys, the source $(rcli "$SRC_REDIS" DBSIZE)"
[ "$(rcli "$DST_REDIS" GET key:277)" = value-277 ] && [ "$(rcli "$DST_REDIS" HGET agent:1 replicas)" = 2 ] &&
  [ "$(rcli "$DST_REDIS" LRANGE queue 0 -1 | tr '\n' ' ')" = "a b c " ] || fail "restored Redis values differ"
pass_note "Redis restored from S3 has the source's keys and values"

# --- the break-glass way back, without drctl ------------------------------------------------
mkdir "$T/glass"
for k in $(s3keys "$PREFIX/backups/$ID/"); do
  s3curl -o "$T/glass/${k##*/}" "$S3RVER_URL/$BUCKET/$k"
done
(cd "$T/glass" && minisign -Vm manifest.json -p "$T/etc/signing.pub" >/dev/null && minisign -Vm SHA256SUMS -p "$T/etc/signing.pub" >/dev/null) ||
  fail "minisign rejects a signature fetched with curl"
(cd "$T/glass" && sha256sum -c --quiet SHA256SUMS) || fail "sha256sum -c SHA256SUMS fails on the objects fetched with curl"
age -d -i "$T/etc/age-identity.txt" "$T/glass/files.tar.zst.age" | zstd -dq | tar -xf - -C "$T/glass"
cmp "$T/src/big/random.bin" "$T/glass$T/src/big/random.bin" || fail "break-glass extraction differs"
pass_note "curl (SigV4), minisign, sha256sum, age, zstd and tar get the set back without drctl"

# --- the lock objects ------------------------------------------------------------------------
lock_note() { # PURPOSE KIND HOST PID REFRESHED
  printf '{"host": "%s", "pid": %s, "purpose": "%s", "kind": "%s", "created": "%s", "refreshed": "%s"}\n' "$3" "$4" "$1" "$2" "$5" "$5" >"$T/lock-note"
}
now_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)
lock_note "drctl prune" exclusive elsewhere.example 4242 "$now_utc"
[ "$(s3put "$PREFIX/locks/20260101T000000Z-elsewhere-4242-a.json" "$T/lock-note")" = 200 ] || fail "cannot put a lock object"
run dp backup --component files
expect_rc 5 "backup while a prune on another host holds the exclusive lock"
expect_err "locked by drctl prune \(exclusive lock, pid 4242 on elsewhere.example" "the holder is named"
expect_err "hint: .*wait for drctl prune \(pid 4242 on elsewhere.example\) to finish, then run \`drctl backup\` again" "the hint says what to do"
run dp prune --steal
expect_rc 5 "prune --steal while another host holds a live lock"
[ -n "$(s3keys "$PREFIX/locks/20260101T000000Z-elsewhere-4242-a.json")" ] || fail "--steal removed a live lock"
pass_note "a live lock is never stolen"
s3curl -X DELETE "$S3RVER_URL/$BUCKET/$PREFIX/locks/20260101T000000Z-elsewhere-4242-a.json"
(exit 0) &
dead=$!
wait "$dead"
lock_note "drctl prune" exclusive "$(hostname)" "$dead" "$now_utc"
[ "$(s3put "$PREFIX/locks/20260101T000000Z-here-$dead-b.json" "$T/lock-note")" = 200 ] || fail "cannot put a lock object"
run dp backup --component files
expect_rc 5 "backup with the lock of a process of this host that is gone"
expect_err "hint: the lock is stale \(its holder ran on this host and its process is gone\).*drctl backup --steal" "the dead holder's lock is stale, --steal named"
run dp backup --component files --steal
expect_rc 0 "backup --steal over the lock of a process of this host that is gone"
expect_err "removing the stale lock of drctl prune .*pid $dead on " "removing the dead holder's lock is said"
SECOND=$OUT
[ -z "$(s3keys "$PREFIX/locks/")" ] || fail "a lock object is still there after the backup: $(s3keys "$PREFIX/locks/")"
pass_note "the stolen lock and the backup's own are gone"

# --- many sets: more than 1000 objects, listed and pruned ----------------------------------------
ids=()
for i in $(seq 1 200); do ids+=("$(date -u -d "2025-01-01 + $i hours" +%Y%m%dT%H%M%SZ)-$(printf '%04x' "$i")"); done
"$MAKE_SETS" "$CONF" "${ids[@]}" >/dev/null || fail "make_sets could not write 200 sets into the S3 repository"
n_objects=$(s3keys "$PREFIX/backups/" | wc -l)
[ "$n_objects" -gt 1000 ] || fail "only $n_objects objects under backups/"
run dp --json list
expect_rc 0 "list of 202 sets"
[ "$(jq length <<<"$OUT")" = 202 ] || fail "list shows $(jq length <<<"$OUT") sets, 202 were written"
[ "$(jq -r '[.[] | select(.state == "complete")] | length' <<<"$OUT")" = 202 ] || fail "not every set is complete"
pass_note "202 sets ($n_objects objects) listed, all complete"
# An unfinished upload a killed writer would leave (s3rver does not list them).
s3curl -X POST "$S3RVER_URL/$BUCKET/$PREFIX/backups/orphan/x?uploads" >/dev/null
run env DRCTL_RETENTION_KEEP_LAST=2 "$DRCTL" --config "$CONF" prune
expect_rc 0 "prune to the 2 newest sets"
expect_out "removed 200" "prune says it removed 200 sets"
expect_err "does not list unfinished multipart uploads" "prune says the store cannot list unfinished uploads"
left=$(s3keys "$PREFIX/backups/" | cut -d/ -f4 | sort -u | tr '\n' ' ')
[ "$left" = "$(printf '%s\n' "$ID" "$SECOND" | sort | tr '\n' ' ')" ] || fail "after prune the bucket holds the sets $left"
pass_note "prune removed every object of the 200 old sets and nothing of the 2 kept"
run dp verify --deep latest
expect_rc 0 "the newest set still verifies after prune"

# --- errors name the bucket and the key, never a secret -----------------------------------------
s3curl -X DELETE "$S3RVER_URL/$BUCKET/$PREFIX/backups/$SECOND/files.tar.zst.age"
run dp restore files --backup "$SECOND" --target "$T/r2"
# (A set whose signed manifest lists an object the store does not have is
# damaged: an integrity verdict, as with a local repository.)
expect_rc 4 "restore of a set whose object is gone"
expect_err "backups/$SECOND/files.tar.zst.age is missing from S3 repository s3://$BUCKET/$PREFIX/" "the missing object and the bucket are named"
no_secret_in "a failed restore" "$ERR"
run env DRCTL_REPOSITORY_ENDPOINT="http://127.0.0.1:$(harness_free_port)" "$DRCTL" --config "$CONF" list
expect_rc 6 "list with nothing listening at the endpoint"
expect_err "S3 ListObjectsV2 of s3://$BUCKET" "the failed request names the bucket"
expect_err "retrying GET" "each retry is logged"
no_secret_in "a connection failure" "$ERR"
printf 'wrong\n' >"$T/secrets/wrong-key-id"
chmod 600 "$T/secrets/wrong-key-id"
run env DRCTL_REPOSITORY_ACCESS_KEY_ID_FILE="$T/secrets/wrong-key-id" "$DRCTL" --config "$CONF" list
expect_rc 2 "list with an access key id the store does not know"
expect_err "InvalidAccessKeyId" "S3's code is named"
expect_err "wrong-key-id" "the hint names where the credentials came from"
no_secret_in "a refused key" "$ERR"

echo "$CHECKS passed, 0 failed"
