#!/usr/bin/env bash
# Redis restore by replication ([redis] restore_method = replication, or
# --method replication) on a real Redis 7: the target is made drctl's replica
# for one full synchronisation and loads the RDB itself.  Proven here:
#  - into an empty server by a restore-only ACL user (+replicaof): every key
#    equal to the source's (DUMP or sorted contents, expiry to the ms), the
#    function library, the stream's pending entries; the server is a primary
#    again afterwards and no replication link is left;
#  - a server holding keys: refused without --flush, nothing changed; with
#    --flush the set is proven first, then the keys are replaced;
#  - a damaged set into an empty server: the load is never committed (no end
#    mark), the server is left a primary with nothing in it, and the error
#    says it kept its data set;
#  - a target that is itself a replica is refused, nothing changed;
#  - an address drctl cannot listen on: refused before REPLICAOF is sent.
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
. "$DRCTL_SOURCE_DIR/tests/harness/services.sh"
. "$DRCTL_SOURCE_DIR/tests/harness/redis_data.sh"
harness_init

redis_start_source_and_target

redis_restore_user "$DST" +replicaof
drctl_init_in "$T/etc"
export DRCTL_REDIS_URL="redis://127.0.0.1:$SRC"
run d backup --component redis --tag replication
expect_rc 0 "backup"
ID=$OUT
TARGET="redis://drctl-restore@127.0.0.1:$DST"
role_of() { cli "$1" INFO replication | tr -d '\r' | sed -n 's/^role://p'; }

# --- into an empty server --------------------------------------------------------------
restore_ --json restore redis --backup "$ID" --target "$TARGET" --method replication
expect_rc 0 "restore by replication into an empty server"
expect_err "by replication: it connects to drctl at 127\.0\.0\.1:[0-9]+" "says how and where the server connects"
echo "$ERR" | grep -q "restore-secret" && fail "the password reached the log"
want=$(( $(cli "$SRC" -n 0 DBSIZE) + $(cli "$SRC" -n 3 DBSIZE) ))
echo "$OUT" | jq -e --argjson n "$want" '.method == "replication" and .keys_restored == $n' >/dev/null ||
  fail "report should say method replication and $want keys: $(echo "$OUT" | jq -c '{method, keys_restored}')"
pass_note "report: method replication, $want keys"
redis_compare_servers "$SRC" "$DST" "restore by replication"
[ "$(cli "$DST" FCALL agent_ping 0)" = pong ] || fail "restored function does not run"
[ "$(cli "$DST" XPENDING events:1 workers | head -1)" = 10 ] || fail "pending entries not restored"
[ "$(role_of "$DST")" = master ] || fail "the target should be a primary again, it is $(role_of "$DST")"
cli "$DST" SET written-after 1 >/dev/null || fail "the target should take writes again"
cli "$DST" DEL written-after >/dev/null
pass_note "function runs, pending entries there, the target is a primary that takes writes"

# --- a server holding keys ---------------------------------------------------------------
cli "$DST" -n 5 SET extra 1 >/dev/null
restore_ restore redis --backup "$ID" --target "$TARGET" --method replication
expect_rc 2 "replication into a server holding keys without --flush"
expect_err "not empty: it holds [0-9]+ keys .*db5=1.*Nothing was changed"
[ "$(cli "$DST" -n 5 GET extra)" = 1 ] && [ "$(role_of "$DST")" = master ] || fail "the refused restore touched the target"
pass_note "refused without --flush: the key is there, the server still a primary"
restore_ restore redis --backup "$ID" --target "$TARGET" --method replication --flush
expect_rc 0 "replication with --flush"
expect_err "proving backup set" "the set is proven before the keys are replaced"
[ -z "$(cli "$DST" -n 5 GET extra)" ] || fail "--flush left the extra key"
redis_compare_servers "$SRC" "$DST" "replication with --flush"

# --- a damaged set: never committed ----------------------------------------------------------
SET="$REPO/backups/$ID"
cp -a "$SET" "$T/set-kept"
OBJ="$SET/redis.tar.zst.age"
chmod u+w "$OBJ"
obj_bytes=$(stat -c %s "$OBJ")
printf '\xff' | dd of="$OBJ" bs=1 seek=$((obj_bytes - 70000)) conv=notrunc status=none
start_redis
EMPTY=$REDIS_PORT
unset REDIS_PID
run d restore redis --backup "$ID" --target "redis://127.0.0.1:$EMPTY" --method replication
[ "$RC" -ne 0 ] || fail "a damaged set should not restore"
pass_note "a damaged set fails (exit $RC)"
expect_err "not committed, so redis://127\.0\.0\.1:$EMPTY kept its data set" "the error says the server kept its data"
[ "$(cli "$EMPTY" DBSIZE)" = 0 ] || fail "the server loaded part of a damaged set: $(cli "$EMPTY" DBSIZE) keys"
[ "$(role_of "$EMPTY")" = master ] || fail "the server was left a replica"
pass_note "nothing loaded, the server is a primary again"
rm -rf "$SET" && mv "$T/set-kept" "$SET"

# --- a replica as the target; an address drctl cannot listen on -------------------------------
cli "$EMPTY" REPLICAOF 127.0.0.1 "$SRC" >/dev/null
run d restore redis --backup "$ID" --target "redis://127.0.0.1:$EMPTY" --method replication
expect_rc 2 "a replica as the target"
expect_err "is a replica \(role:slave\); nothing was changed"
[ "$(role_of "$EMPTY")" = slave ] || fail "the refused restore changed the replica"
cli "$EMPTY" REPLICAOF NO ONE >/dev/null
cli "$EMPTY" FLUSHALL >/dev/null
run env DRCTL_REDIS_REPLICATION_ADDRESS=192.0.2.1 "$DRCTL" --config "$CONF" restore redis --backup "$ID" \
  --target "redis://127.0.0.1:$EMPTY" --method replication
[ "$RC" -ne 0 ] || fail "an address drctl cannot listen on should fail"
expect_err "cannot listen on 192\.0\.2\.1" "names the address"
[ "$(role_of "$EMPTY")" = master ] && [ "$(cli "$EMPTY" DBSIZE)" = 0 ] || fail "the target was touched"
pass_note "refused before the target was told anything"

echo "$CHECKS passed, 0 failed"
