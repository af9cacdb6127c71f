#!/usr/bin/env bash
# Redis over TLS (rediss://) against Debian's redis-server with --tls-port:
# drctl owns the socket with OpenSSL and speaks RESP with hiredis's reader on
# top.  Proves: backup and restore over TLS with [redis] tls_ca_file; the
# server certificate is checked (an unknown CA and a wrong name are refused,
# tls_server_name selects the name, SNI included); a server that requires
# client certificates gets one from tls_cert_file/tls_key_file; a plain
# redis:// URL on a TLS port fails clearly.
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
. "$DRCTL_SOURCE_DIR/tests/harness/services.sh"
harness_init

# --- certificates: a CA, a server cert for redis.test and 127.0.0.1, a client cert --------------
P="$T/pki"; mkdir -p "$P"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=drctl test CA" -keyout "$P/ca.key" -out "$P/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=redis.test" -keyout "$P/server.key" -out "$P/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:redis.test,IP:127.0.0.1\n' > "$P/san.ext"
openssl x509 -req -in "$P/server.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -days 2 -extfile "$P/san.ext" -out "$P/server.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=drctl" -keyout "$P/client.key" -out "$P/client.csr" 2>/dev/null
openssl x509 -req -in "$P/client.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -days 2 -out "$P/client.crt" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" -keyout "$P/other.key" -out "$P/other.crt" 2>/dev/null
chmod 600 "$P"/*.key

tcli() { local p=$1; shift; redis-cli --tls --cacert "$P/ca.crt" --cert "$P/client.crt" --key "$P/client.key" -p "$p" "$@"; }
start_tls_redis() { # AUTH_CLIENTS -> TLS_PORT
  local port dir
  port=$(harness_free_port); dir="$T/redis-$port"; mkdir -p "$dir"
  redis-server --port 0 --tls-port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no \
    --tls-cert-file "$P/server.crt" --tls-key-file "$P/server.key" --tls-ca-cert-file "$P/ca.crt" \
    --tls-auth-clients "$1" --logfile "$dir/redis.log" </dev/null >/dev/null 2>&1 &
  harness_track_pid $!
  for _ in $(seq 100); do [ "$(tcli "$port" PING 2>/dev/null)" = PONG ] && break; sleep 0.1; done
  [ "$(tcli "$port" PING 2>/dev/null)" = PONG ] || fail "TLS redis-server did not start"
  TLS_PORT=$port
}
start_tls_redis optional
SRC=$TLS_PORT
start_tls_redis yes
DST=$TLS_PORT
{
  for i in $(seq 1 500); do echo "SET k:$i v$i"; done
  echo "HSET h a 1 b 2"; echo "XADD s * f v"; echo "SET t x PX 9000000"
} | tcli "$SRC" >/dev/null
pass_note "TLS-only servers on ports $SRC (client certs optional) and $DST (client certs required)"

drctl_init_in "$T/etc"
export DRCTL_REDIS_URL="rediss://127.0.0.1:$SRC"

# --- the server certificate is checked -----------------------------------------------------------
run env DRCTL_REDIS_TLS_CA_FILE="$P/other.crt" "$DRCTL" --config "$CONF" backup --component redis
expect_rc 6 "backup against a server signed by an unknown CA"
expect_err "is not trusted" "says the certificate is not trusted"
run env DRCTL_REDIS_TLS_CA_FILE="$P/ca.crt" DRCTL_REDIS_TLS_SERVER_NAME=other.test "$DRCTL" --config "$CONF" backup --component redis
expect_rc 6 "backup when the certificate does not hold the expected name"
expect_err "not trusted for name other.test" "names the expected name"
run env DRCTL_REDIS_URL="redis://127.0.0.1:$SRC" "$DRCTL" --config "$CONF" backup --component redis
[ "$RC" != 0 ] || fail "a plain connection to a TLS port succeeded"
pass_note "redis:// on a TLS port fails ($(echo "$ERR" | grep -o 'error:.*' | head -1 | cut -c1-80))"
[ -z "$(ls -A "$REPO/backups" 2>/dev/null)" ] || fail "failed TLS backups left something in the repository"
pass_note "failed TLS backups leave the repository empty"

# --- backup over TLS (IP name check, then tls_server_name with SNI) ----------------------------------------
export DRCTL_REDIS_TLS_CA_FILE="$P/ca.crt"
run d backup --component redis
expect_rc 0 "backup over rediss:// checking the IP address in the certificate"
run env DRCTL_REDIS_TLS_SERVER_NAME=redis.test "$DRCTL" --config "$CONF" backup --component redis
expect_rc 0 "backup over rediss:// with tls_server_name"
ID=$OUT
run d --json show "$ID"
echo "$OUT" | jq -e '.components.redis.rdb.keys == 503 and (.components.redis.source.url | startswith("rediss://"))' >/dev/null ||
  fail "TLS backup should hold 503 keys and record the rediss:// URL"
pass_note "manifest records 503 keys from rediss://"

# --- restore into a server that requires client certificates ---------------------------------------------------
run d restore redis --backup "$ID" --target "rediss://127.0.0.1:$DST"
[ "$RC" != 0 ] || fail "restore without a client certificate succeeded on a server that requires one"
pass_note "no client certificate: refused by the server ($(echo "$ERR" | grep -o 'error:.*' | head -1 | cut -c1-80))"
[ "$(tcli "$DST" DBSIZE)" = 0 ] || fail "the refused restore wrote keys"
run env DRCTL_REDIS_TLS_CERT_FILE="$P/client.crt" DRCTL_REDIS_TLS_KEY_FILE="$P/client.key" \
  "$DRCTL" --config "$CONF" restore redis --backup "$ID" --target "rediss://127.0.0.1:$DST"
expect_rc 0 "restore over TLS with a client certificate"
for k in k:1 k:500 h s t; do
  [ "$(tcli "$SRC" --no-raw DUMP "$k")" = "$(tcli "$DST" --no-raw DUMP "$k")" ] || fail "key $k differs after the TLS restore"
done
[ "$(tcli "$SRC" PEXPIRETIME t)" = "$(tcli "$DST" PEXPIRETIME t)" ] || fail "expiry differs after the TLS restore"
[ "$(tcli "$DST" DBSIZE)" = 503 ] || fail "TLS restore should give 503 keys"
pass_note "TLS restore: 503 keys, DUMP and expiry equal"
chmod 644 "$P/client.key"
run env DRCTL_REDIS_TLS_CERT_FILE="$P/client.crt" DRCTL_REDIS_TLS_KEY_FILE="$P/client.key" \
  "$DRCTL" --config "$CONF" restore redis --backup "$ID" --target "rediss://127.0.0.1:$DST" --flush
expect_rc 2 "a client key readable by others"
expect_err "readable by others" "is refused, naming why"

echo "$CHECKS passed, 0 failed"
