#!/usr/bin/env bash
# Redis faults: every one a clear error, a non-zero exit, and the repository
# as it was (the earlier set still listed complete and deep-verified, no
# debris).  Real servers for: server down, wrong password, no password,
# missing ACL rule (NOPERM -> the rule and the ACL line), -NOMASTERLINK from a
# replica without its master, a transfer cut by killing the server mid-RDB,
# disk-based ($len) sync.  A scripted fake master (python3, only for what a
# real Redis will not do on demand) for: an old server without rdb-only and
# PSYNC (SYNC fallback, replication stream after the RDB), newlines before
# the payload, $EOF with bytes after the end mark, a bad CRC64, a cut $len
# payload.
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
require_tools python3
. "$DRCTL_SOURCE_DIR/tests/harness/services.sh"
harness_init
cli() { local p=$1; shift; redis-cli --no-auth-warning -p "$p" "$@"; }

start_redis
SRC=$REDIS_PORT; SRC_PID=$REDIS_PID
unset REDIS_PID
for i in $(seq 1 2000); do echo "SET k:$i v$i"; done | cli "$SRC" >/dev/null
drctl_init_in "$T/etc"
export DRCTL_REDIS_URL="redis://127.0.0.1:$SRC"
run d backup --component redis
expect_rc 0 "a good backup first"
GOOD=$OUT
repo_unchanged() { # WHAT
  local sets
  sets=$(ls "$REPO/backups")
  [ "$sets" = "$GOOD" ] || fail "$1: the repository should hold only $GOOD, holds: $sets"
  run d verify "$GOOD" --deep
  [ "$RC" = 0 ] || fail "$1: the earlier set no longer verifies"
  pass_note "$1: repository as it was (only $GOOD, which still deep-verifies)"
}

# --- server down -------------------------------------------------------------------------------
DOWN=$(harness_free_port)
run env DRCTL_REDIS_URL="redis://127.0.0.1:$DOWN" "$DRCTL" --config "$CONF" backup --component redis
expect_rc 6 "backup from a server that is down"
expect_err "cannot connect to Redis on redis://127.0.0.1:$DOWN" "names the server"
repo_unchanged "server down"

# --- passwords and ACL -------------------------------------------------------------------------
cli "$SRC" ACL SETUSER drctl-backup on '>right-password' +psync +replconf >/dev/null
cli "$SRC" ACL SETUSER half on '>right-password' +psync >/dev/null
printf 'wrong-password\n' > "$T/wrong.pw"; chmod 600 "$T/wrong.pw"
printf 'right-password\n' > "$T/right.pw"; chmod 600 "$T/right.pw"
run env DRCTL_REDIS_URL="redis://drctl-backup@127.0.0.1:$SRC" DRCTL_REDIS_PASSWORD_FILE="$T/wrong.pw" "$DRCTL" --config "$CONF" backup --component redis
expect_rc 2 "wrong password"
expect_err "refused the password for user drctl-backup" "wrong password is named as such"
expect_no_err "wrong-password" "the password is not echoed"
run env DRCTL_REDIS_URL="redis://half@127.0.0.1:$SRC" DRCTL_REDIS_PASSWORD_FILE="$T/right.pw" "$DRCTL" --config "$CONF" backup --component redis
expect_rc 2 "user without +replconf"
expect_err "user half .* lacks the ACL rule \+replconf" "NOPERM names the missing rule"
expect_err "ACL SETUSER drctl-backup on >PASSWORD \+psync \+replconf" "and gives the ACL line"
chmod 644 "$T/right.pw"
run env DRCTL_REDIS_URL="redis://drctl-backup@127.0.0.1:$SRC" DRCTL_REDIS_PASSWORD_FILE="$T/right.pw" "$DRCTL" --config "$CONF" backup --component redis
[ "$RC" != 0 ] || fail "a password file readable by others was accepted"
pass_note "a password file readable by others is refused"
chmod 600 "$T/right.pw"
cli "$SRC" CONFIG SET requirepass default-password >/dev/null
run d backup --component redis
expect_rc 2 "no password configured for a server that needs one"
expect_err "needs a password and none was configured"
cli "$SRC" -a default-password CONFIG SET requirepass "" >/dev/null 2>&1
repo_unchanged "password and ACL errors"

# --- restore-side permission ------------------------------------------------------------------
start_redis
DST=$REDIS_PORT
unset REDIS_PID
cli "$DST" ACL SETUSER norestore on '>right-password' '~*' +info +select +dbsize >/dev/null
run env DRCTL_REDIS_PASSWORD_FILE="$T/right.pw" "$DRCTL" --config "$CONF" restore redis --target "redis://norestore@127.0.0.1:$DST"
[ "$RC" != 0 ] || fail "restore by a user without +restore succeeded"
expect_err "lacks the ACL rule \+restore" "restore NOPERM names +restore"
run d restore redis --target "redis://127.0.0.1:$DOWN"
expect_rc 6 "restore into a server that is down"

# --- -NOMASTERLINK: a replica whose master is gone ------------------------------------------------
start_redis --replicaof 127.0.0.1 "$DOWN"
REPLICA=$REDIS_PORT
unset REDIS_PID
run env DRCTL_REDIS_URL="redis://127.0.0.1:$REPLICA" "$DRCTL" --config "$CONF" backup --component redis
expect_rc 6 "backup from a replica without its master"
expect_err "is a replica whose link to its master is down" "NOMASTERLINK explained"
repo_unchanged "NOMASTERLINK"

# --- disk-based sync: the \$len payload ----------------------------------------------------------------
cli "$SRC" CONFIG SET repl-diskless-sync no >/dev/null
run d backup --component redis
expect_rc 0 "backup over a disk-based sync"
run d --json show "$OUT"
echo "$OUT" | jq -e '.components.redis.source.transfer == "disk" and .components.redis.rdb.keys == 2000' >/dev/null ||
  fail "disk-based transfer should be recorded with 2000 keys"
pass_note "disk-based (\$len) transfer recorded"
rm -rf "$REPO/backups/$(echo "$OUT" | jq -r .id)"
cli "$SRC" CONFIG SET repl-diskless-sync yes >/dev/null

# --- a transfer cut halfway: the server is killed mid-RDB ---------------------------------------------------
cli "$SRC" CONFIG SET repl-diskless-sync-delay 0 >/dev/null
cli "$SRC" CONFIG SET rdb-key-save-delay 3000 >/dev/null # 2000 keys * 3 ms: a 6 s transfer
( set +e; d backup --component redis >"$T/cut.out" 2>"$T/cut.err"; echo $? >"$T/cut.rc" ) &
BG=$!
for _ in $(seq 100); do
  [ "$(cli "$SRC" INFO replication 2>/dev/null | grep -c 'state=wait_bgsave\|state=send_bulk')" -gt 0 ] && break
  sleep 0.1
done
sleep 1
kill -9 "$SRC_PID"
wait "$BG" || true
RC=$(cat "$T/cut.rc"); ERR=$(cat "$T/cut.err"); OUT=""
expect_rc 6 "backup whose server is killed mid-transfer"
expect_err "transfer cut|closed the connection" "says the transfer was cut"
expect_err "nothing was published" "says nothing was published"
repo_unchanged "transfer cut"

# --- a scripted master for what real servers do not do on demand -------------------------------------------------
cli "$DST" FLUSHALL >/dev/null
for i in $(seq 1 300); do echo "SET f:$i $i"; done | cli "$DST" >/dev/null
redis-cli -p "$DST" --rdb "$T/src.rdb" >/dev/null 2>&1
cat > "$T/fake_master.py" <<'PY'
import socket, sys, time
port, mode, rdb = int(sys.argv[1]), sys.argv[2], open(sys.argv[3], 'rb').read()
mark = b'0123456789abcdef0123456789abcdef01234567'
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('127.0.0.1', port)); srv.listen(1)
print('ready', flush=True)
c, _ = srv.accept(); f = c.makefile('rb')
def command():
    n = int(f.readline()[1:]); args = []
    for _ in range(n):
        ln = int(f.readline()[1:]); args.append(f.read(ln + 2)[:-2].decode())
    return args
while True:
    a = command(); name = a[0].upper()
    if name == 'INFO':
        body = b'# Server\r\nredis_version:6.0.16\r\n'; c.sendall(b'$%d\r\n%s\r\n' % (len(body), body))
    elif name == 'REPLCONF' and a[1] == 'rdb-only':
        c.sendall(b"-ERR Unrecognized REPLCONF option: rdb-only\r\n")
    elif name == 'REPLCONF':
        c.sendall(b'+OK\r\n')
    elif name == 'PSYNC' and mode == 'old':
        c.sendall(b"-ERR unknown command 'PSYNC'\r\n")
    elif name in ('PSYNC', 'SYNC'):
        break
if name == 'PSYNC':
    c.sendall(b'+FULLRESYNC ' + b'f' * 40 + b' 0\r\n')
c.sendall(b'\n'); time.sleep(0.3); c.sendall(b'\n\n')
if mode == 'old':      # length framing, then the replication stream goes on
    c.sendall(b'$%d\r\n' % len(rdb) + rdb + b'*1\r\n$4\r\nPING\r\n'); time.sleep(1)
elif mode == 'eof':    # end mark split across writes, bytes after it
    c.sendall(b'$EOF:' + mark + b'\r\n' + rdb[:len(rdb) // 2]); time.sleep(0.2)
    c.sendall(rdb[len(rdb) // 2:] + mark[:13]); time.sleep(0.2)
    c.sendall(mark[13:] + b'*1\r\n$4\r\nPING\r\n'); time.sleep(1)
elif mode == 'badcrc':
    bad = rdb[:-1] + bytes([rdb[-1] ^ 0x55])
    c.sendall(b'$EOF:' + mark + b'\r\n' + bad + mark); time.sleep(1)
elif mode == 'short':
    c.sendall(b'$%d\r\n' % len(rdb) + rdb[:len(rdb) // 2])
c.close()
PY
fake() { # MODE -> runs a backup against the fake master
  local port
  port=$(harness_free_port)
  python3 "$T/fake_master.py" "$port" "$1" "$T/src.rdb" >"$T/fake.out" 2>&1 &
  harness_track_pid $!
  for _ in $(seq 50); do grep -q ready "$T/fake.out" 2>/dev/null && break; sleep 0.1; done
  run env DRCTL_REDIS_URL="redis://127.0.0.1:$port" "$DRCTL" --config "$CONF" backup --component redis
}
fake old
expect_rc 0 "old server: SYNC fallback, \$len payload, replication stream after it"
expect_err "does not know REPLCONF rdb-only" "warns about rdb-only"
expect_err "does not know PSYNC; using SYNC" "falls back to SYNC"
OLD_ID=$OUT
run d --json show "$OLD_ID"
echo "$OUT" | jq -e '.components.redis.rdb.keys == 300 and .components.redis.source.redis_version == "6.0.16"' >/dev/null || fail "old-server backup facts"
run d restore redis --backup "$OLD_ID" --rdb-file "$T/old.rdb"
cmp "$T/old.rdb" "$T/src.rdb" || fail "the stored RDB should be exactly the server's (nothing of the stream after it)"
pass_note "the stored RDB is byte for byte the server's RDB"
rm -rf "${REPO:?}/backups/$OLD_ID"
fake eof
expect_rc 0 "\$EOF payload with the mark split across reads and bytes after it"
run d restore redis --backup "$(ls "$REPO/backups" | sort | tail -1)" --rdb-file "$T/eof.rdb"
cmp "$T/eof.rdb" "$T/src.rdb" || fail "the \$EOF mark (or what followed it) reached the stored RDB"
pass_note "the end mark is never stored"
rm -rf "${REPO:?}/backups/$(ls "$REPO/backups" | sort | tail -1)"
fake badcrc
expect_rc 4 "an RDB with a bad CRC64"
expect_err "checksum mismatch" "names the checksum"
repo_unchanged "bad CRC"
fake short
expect_rc 6 "a \$len payload cut short"
expect_err "transfer cut" "says the transfer was cut"
repo_unchanged "cut \$len payload"

echo "$CHECKS passed, 0 failed"
