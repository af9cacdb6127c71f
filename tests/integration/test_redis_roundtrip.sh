#!/usr/bin/env bash
# Redis end to end on a real Redis 7: every data type the platform uses (a
# stream with a consumer group and pending entries, hashes, lists, sets and
# sorted sets in both encodings, a string over 10 MB, keys with and without
# TTL in db 0 and db 3, a function library) is backed up over the replication
# protocol by an ACL user that has only +psync +replconf, verified deeply,
# restored by a restore-only ACL user into an empty server, and compared key
# by key: DUMP equal (sorted members for hash-table encodings, whose DUMP
# order depends on the server's hash seed) and PEXPIRETIME equal to the ms.
# Then break-glass: age -d | zstd -d | tar -x, cat the parts, redis-check-rdb,
# and a stock redis-server started on the file has the same keys; the same
# for --rdb-file.  Also: non-empty target refused, --flush, an RDB newer than
# the target refused before anything is touched.
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
. "$DRCTL_SOURCE_DIR/tests/harness/services.sh"
. "$DRCTL_SOURCE_DIR/tests/harness/redis_data.sh"
harness_init

redis_start_source_and_target
pass_note "source has every type, db 0 and db 3, TTLs, a $(cli "$SRC" STRLEN big:blob)-byte key, pending stream entries, a function"

# --- ACL users: backup with +psync +replconf only; restore with its own rights -----------
printf 'backup-secret-%s\n' "$RANDOM" > "$T/backup.pw"; chmod 600 "$T/backup.pw"
cli "$SRC" ACL SETUSER drctl-backup on ">$(cat "$T/backup.pw")" +psync +replconf >/dev/null
redis_restore_user "$DST"

drctl_init_in "$T/etc"
export DRCTL_REDIS_URL="redis://drctl-backup@127.0.0.1:$SRC" DRCTL_REDIS_PASSWORD_FILE="$T/backup.pw"

run d backup --component redis --tag redis-roundtrip
expect_rc 0 "backup by the +psync +replconf user"
ID=$OUT
echo "$ERR" | grep -q "backup-secret" && fail "the password reached the log"
pass_note "the password never reaches the log"
run d --json show "$ID"
echo "$OUT" | jq -e '.components.redis.rdb | .version == 10 and .crc == "verified" and .functions == 1' >/dev/null ||
  fail "manifest should record RDB version 10, CRC verified, 1 function"
echo "$OUT" | jq -e '.components.redis.compression_level == 1' >/dev/null ||
  fail "the redis object should be compressed at [redis] compression_level's default, 1"
want0=$(cli "$SRC" -n 0 DBSIZE); want3=$(cli "$SRC" -n 3 DBSIZE)
echo "$OUT" | jq -e --argjson a "$want0" --argjson b "$want3" \
  '.components.redis.rdb.databases | (map(select(.db == 0))[0].keys == $a) and (map(select(.db == 3))[0].keys == $b) and (map(select(.db == 3))[0].expires == 25)' >/dev/null ||
  fail "manifest per-database counts should be db0=$want0, db3=$want3 (25 expiring)"
echo "$OUT" | jq -e '.components.redis.source | .redis_version == "7.0.15" and (.url | test("drctl-backup@")) and (.url | test("secret") | not)' >/dev/null ||
  fail "manifest source should name version and URL without password"
[ "$(echo "$OUT" | jq '.components.redis.streams["redis/dump.rdb"].parts')" -ge 2 ] || fail "an RDB over 8 MiB should be stored in parts"
pass_note "manifest records RDB version, CRC, per-db key and expiry counts, functions, source without password"

run d verify "$ID" --deep
expect_rc 0 "verify --deep re-walks the RDB"

# --- restore into an empty server by the restore user -----------------------------------
restore_ --json restore redis --backup "$ID" --target "redis://drctl-restore@127.0.0.1:$DST"
expect_rc 0 "restore into an empty server"
echo "$OUT" | jq -e --argjson n $((want0 + want3)) '.keys_restored == $n and .functions_restored == 1' >/dev/null || fail "restore report should count $((want0 + want3)) keys and 1 function"

redis_compare_servers "$SRC" "$DST" "restore into a running server"
[ "$(cli "$DST" FCALL agent_ping 0)" = pong ] || fail "restored function does not run"
pass_note "restored function runs"
[ "$(cli "$DST" XPENDING events:1 workers | head -1)" = 10 ] || fail "pending entries not restored"
pass_note "stream consumer group and its 10 pending entries restored"

# --- non-empty target: refused, then --flush ------------------------------------------------
cli "$DST" -n 5 SET extra 1 >/dev/null
restore_ restore redis --backup "$ID" --target "redis://drctl-restore@127.0.0.1:$DST"
expect_rc 2 "restore into a non-empty server without --flush"
expect_err "not empty: it holds [0-9]+ keys .*db5=1.*Nothing was changed" "refusal names the key count"
[ "$(cli "$DST" -n 5 GET extra)" = 1 ] || fail "refused restore touched the target"
restore_ restore redis --backup "$ID" --target "redis://drctl-restore@127.0.0.1:$DST" --flush
expect_rc 0 "restore --flush"
expect_err "proving backup set" "--flush proves the backup before flushing"
[ -z "$(cli "$DST" -n 5 GET extra)" ] || fail "--flush left the extra key"
redis_compare_servers "$SRC" "$DST" "restore --flush"

# --- an RDB newer than the target: refused before anything is touched -------------------------
SET="$REPO/backups/$ID"
cp -a "$SET" "$T/set-backup"
jq '.components.redis.rdb.version = 11' "$SET/manifest.json" > "$T/m.json" && cp "$T/m.json" "$SET/manifest.json"
rm -f "$SET/manifest.json.minisig"
minisign -S -s "$T/etc/signing.key" -m "$SET/manifest.json" </dev/null >/dev/null
cli "$DST" -n 5 SET marker 1 >/dev/null
restore_ restore redis --backup "$ID" --target "redis://drctl-restore@127.0.0.1:$DST" --flush
expect_rc 2 "restore of an RDB newer than the target"
expect_err "runs Redis 7.0.15, which loads RDB version 10 at most; the backup is RDB version 11" "names both versions"
[ "$(cli "$DST" -n 5 GET marker)" = 1 ] || fail "version refusal touched the target"
pass_note "nothing touched on a version refusal"
rm -rf "$SET" && mv "$T/set-backup" "$SET"

# --- break-glass with stock tools only -----------------------------------------------------------
mkdir -p "$T/bg"
age -d -i "$T/etc/age-identity.txt" "$SET/redis.tar.zst.age" | zstd -dq | tar -xf - -C "$T/bg"
cat "$T"/bg/redis/dump.rdb.part-* > "$T/bg/dump.rdb"
redis-check-rdb "$T/bg/dump.rdb" > "$T/check.log" 2>&1 || { cat "$T/check.log"; fail "redis-check-rdb rejects the break-glass RDB"; }
grep -q "Checksum OK" "$T/check.log" || fail "redis-check-rdb did not report the checksum OK"
pass_note "stock redis-check-rdb accepts the RDB from age -d | zstd -d | tar -x"
start_stock_on() { # DIR -> BG_PORT
  BG_PORT=$(harness_free_port)
  redis-server --port "$BG_PORT" --bind 127.0.0.1 --dir "$1" --dbfilename dump.rdb --save "" --appendonly no \
    --logfile "$1/redis.log" </dev/null >/dev/null 2>&1 &
  harness_track_pid $!
  for _ in $(seq 100); do [ "$(cli "$BG_PORT" PING 2>/dev/null)" = PONG ] && return 0; sleep 0.1; done
  fail "stock redis-server did not start on $1"
}
start_stock_on "$T/bg"
redis_compare_servers "$SRC" "$BG_PORT" "stock redis-server started on the break-glass RDB"

# --- --rdb-file -------------------------------------------------------------------------------------
mkdir -p "$T/rf"
run d restore redis --backup "$ID" --rdb-file "$T/rf/dump.rdb"
expect_rc 0 "restore --rdb-file"
cmp "$T/rf/dump.rdb" "$T/bg/dump.rdb" || fail "--rdb-file differs from the break-glass RDB"
run d restore redis --backup "$ID" --rdb-file "$T/rf/dump.rdb"
expect_rc 2 "--rdb-file onto an existing file"
expect_err "already exists; not overwritten"
start_stock_on "$T/rf"
redis_compare_servers "$SRC" "$BG_PORT" "stock redis-server started on the --rdb-file RDB"
[ -z "$(ls -A "$T/rf" | grep drctl)" ] || fail "temporary files left next to the RDB"

echo "$CHECKS passed, 0 failed"
