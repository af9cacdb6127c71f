#!/usr/bin/env bash
# drctl check, the morning check for monitoring, and its own exit codes:
# 0 when every component's newest complete set is younger than --max-age,
# 1 when one is older or has no complete set, 2 when the check cannot say
# (bad configuration, missing public key, repository gone, bad option), with
# the error's usual message; per component, as text and as --json.  A set
# whose signature no longer verifies never counts.
#
# The old sets have chosen ids (30 hours and 3 days ago), written by
# tests/tools/make_sets through lib/set with the configured keys; the fresh
# ones are real backups.
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
. "$DRCTL_SOURCE_DIR/tests/harness/services.sh"
require_tools jq
MAKE_SETS="$DRCTL_BUILD_DIR/tests/make_sets"
[ -x "$MAKE_SETS" ] || fail "$MAKE_SETS is missing: build the tests (scripts/build.sh normal)"
harness_init
start_redis

drctl_init_in "$T/main"
mkdir -p "$T/data"
echo "agent config" >"$T/data/agents.conf"
export DRCTL_FILES_PATHS="$T/data" DRCTL_REDIS_URL="$REDIS_URL"
ago() { echo "$(date -u -d "$1 ago" +%Y%m%dT%H%M%SZ)-$2"; }
OLD3D=$(ago "3 days" a003)
OLD30H=$(ago "30 hours" a030)

# --- no set at all -----------------------------------------------------------------
run d check; expect_rc 1 "check of an empty repository"
expect_out "^STALE: files: no complete set; redis: no complete set \(max age 26h\)$" "check says each component has no set"
run d --json check; expect_rc 1 "check --json of an empty repository"
[ "$(jq -c '[.ok, .max_age_seconds, .components.files, .components.redis]' <<<"$OUT")" = \
  '[false,93600,{"age_seconds":null,"ok":false,"set":null},{"age_seconds":null,"ok":false,"set":null}]' ] ||
  fail "check --json of an empty repository: $OUT"
pass_note "--json: ok false, max_age_seconds 93600, each component with set null"

# --- files: a set 3 days old, then one 30 hours old; redis: a fresh backup ------------
"$MAKE_SETS" "$CONF" "$OLD3D" "$OLD30H"
run d backup --component redis; expect_rc 0 "backup of redis"
REDIS_SET=$OUT
run d check; expect_rc 1 "check with files 30 hours old"
expect_out "^STALE: files $OLD30H, 1d6h old, too old; redis $REDIS_SET, [0-9]+s old \(max age 26h\)$" \
  "the line names each component's newest set and age, and which is too old"
run d --json check; expect_rc 1 "check --json with files 30 hours old"
jq -e --arg f "$OLD30H" --arg r "$REDIS_SET" '.ok == false and .max_age == "26h" and
  .components.files == {"set": $f, "age_seconds": .components.files.age_seconds, "ok": false} and
  .components.files.age_seconds >= 108000 and .components.files.age_seconds < 111600 and
  .components.redis.set == $r and .components.redis.ok == true and .components.redis.age_seconds < 3600' <<<"$OUT" >/dev/null ||
  fail "check --json: $OUT"
pass_note "--json: files stale at 30 hours (its newest set, not the 3-day one), redis fresh"

run d check --component redis; expect_rc 0 "check of redis alone"
expect_out "^ok: redis $REDIS_SET, [0-9]+s old \(max age 26h\)$" "check of redis alone is ok"
run d check --max-age 2d; expect_rc 0 "check with --max-age 2d"
expect_out "^ok: files $OLD30H, 1d6h old; redis " "with two days allowed, files is ok"
run d check --component files --max-age 30h; expect_rc 1 "check --max-age 30h of a set made 30 hours ago (younger than, not as old as)"
run d check --component postgres; expect_rc 1 "check of a component that was never backed up"
expect_out "^STALE: postgres: no complete set" "a component with no set is stale"

# --- a newer set whose signature fails never counts ------------------------------------
run d backup --component files; expect_rc 0 "backup of files"
NEW=$OUT
run d check --component files; expect_rc 0 "check of files after a fresh backup"
expect_out "^ok: files $NEW, " "the fresh set counts"
echo ' ' >>"$REPO/backups/$NEW/manifest.json"
run d check --component files; expect_rc 1 "check of files whose fresh set is tampered with"
expect_out "^STALE: files $OLD30H, 1d6h old, too old" "the tampered set does not count: the older one is checked"

# --- errors: exit 2, with the usual message ---------------------------------------------
run d check --max-age 26; expect_rc 2 "check --max-age 26 (no unit)"
expect_err 'error: --max-age "26" is not a duration longer than 0' "the message says what is wrong with --max-age"
run d check --max-age 0; expect_rc 2 "check --max-age 0"
run d check --component nosuch; expect_rc 2 "check of an unknown component"
expect_err 'unknown component "nosuch"' "the message names the component"
run d check --bogus; expect_rc 2 "check with an unknown option"

run env -u DRCTL_FILES_PATHS -u DRCTL_REDIS_URL "$DRCTL" --config "$CONF" check; expect_rc 2 "check with no component configured"
expect_err "nothing to check: no component is configured" "the message says nothing is configured"

cp "$CONF" "$T/bad.conf"
printf '[repository]\nno_such_key = 1\n' >>"$T/bad.conf"
run "$DRCTL" --config "$T/bad.conf" check; expect_rc 2 "check with a bad configuration"
expect_err "no_such_key" "the message names the unknown key"

PUB=$(sed -n 's/^public_key_file *= *//p' "$CONF")
case $PUB in /*) ;; *) PUB="$(dirname "$CONF")/$PUB" ;; esac
[ -f "$PUB" ] || fail "cannot find the public key file ($PUB) in $CONF"
mv "$PUB" "$PUB.away"
run d check; expect_rc 2 "check without the public key"
expect_err "$PUB" "the message names the missing public key file"
run d --json check; expect_rc 2 "check --json without the public key"
[ "$(jq '.error.exit_code' <<<"$OUT")" = 2 ] || fail "check --json's error says exit_code $(jq '.error.exit_code' <<<"$OUT"), not 2"
pass_note "--json: the error document says exit code 2, the status check exits with"
mv "$PUB.away" "$PUB"

mv "$REPO" "$REPO.away"
run d check; expect_rc 2 "check with the repository gone"
expect_err "$REPO" "the message names the repository"
mv "$REPO.away" "$REPO"
run d check --component redis; expect_rc 0 "check once the repository is back"

echo "$CHECKS passed, 0 failed"
