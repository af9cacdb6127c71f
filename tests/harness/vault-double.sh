# shellcheck shell=bash
# Vault HTTP API double: start/stop helpers for the test harness.
# Source this file (tests/harness/services.sh does, when present).
#
#   start_vault_double [double options]      plain HTTP on a free port
#   start_vault_double_tls [--mtls] [opts]   HTTPS with a test CA (and client certs required with --mtls)
#   vault_double_admin '{"sealed":true}'     change faults/state (POST /__double/state); no argument: GET
#   stop_vault_double [PID]                  stop the double (default: $VAULT_DOUBLE_PID)
#
# After a start: VAULT_ADDR, VAULT_TOKEN (root token), VAULT_DOUBLE_PID,
# VAULT_DOUBLE_ADMIN (base URL of the admin endpoint), VAULT_DOUBLE_LOG (its
# stdout/stderr); for TLS also VAULT_CACERT, VAULT_CLIENT_CERT, VAULT_CLIENT_KEY,
# VAULT_DOUBLE_TLS_DIR (holds other-ca.pem, a CA that did not sign the server).
# Several doubles may run at once: save the variables after each start.

VAULT_DOUBLE_JS="$(cd "$(dirname "${BASH_SOURCE[0]}")/../doubles/vault" && pwd)/vault-double.js"

if [ -z "${HARNESS_DIR:-}" ]; then
  HARNESS_DIR="$(mktemp -d "${TMPDIR:-/tmp}/drctl-harness.XXXXXX")"
  export HARNESS_DIR
fi

if ! declare -F harness_free_port >/dev/null; then
  harness_free_port() {
    node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{process.stdout.write(String(s.address().port));s.close();});'
  }
fi

_vault_double_curl() {
  local args=(-sS)
  if [ "${VAULT_ADDR#https}" != "$VAULT_ADDR" ]; then
    args+=(--cacert "$VAULT_CACERT")
    if [ -n "${VAULT_CLIENT_CERT:-}" ]; then args+=(--cert "$VAULT_CLIENT_CERT" --key "$VAULT_CLIENT_KEY"); fi
  fi
  curl "${args[@]}" "$@"
}

_vault_double_wait() {
  local code
  for _ in $(seq 1 100); do
    if ! kill -0 "$VAULT_DOUBLE_PID" 2>/dev/null; then
      echo "vault double exited; its log:" >&2; cat "$VAULT_DOUBLE_LOG" >&2; return 1
    fi
    code=$(_vault_double_curl -o /dev/null -w '%{http_code}' "$VAULT_ADDR/v1/sys/health" 2>/dev/null || true)
    if [ -n "$code" ] && [ "$code" != "000" ]; then return 0; fi
    sleep 0.1
  done
  echo "vault double did not answer on $VAULT_ADDR within 10 s; its log:" >&2; cat "$VAULT_DOUBLE_LOG" >&2
  return 1
}

_vault_double_start() { # scheme, then double options
  local scheme="$1"; shift
  local port; port="$(harness_free_port)"
  local token="${VAULT_DOUBLE_ROOT_TOKEN:-root}"
  local a
  for a in "$@"; do case "$a" in --root-token=*) token="${a#--root-token=}";; esac; done
  local prev=""
  for a in "$@"; do if [ "$prev" = "--root-token" ]; then token="$a"; fi; prev="$a"; done
  mkdir -p "$HARNESS_DIR"
  VAULT_DOUBLE_LOG="$HARNESS_DIR/vault-double-$port.log"
  node "$VAULT_DOUBLE_JS" --port "$port" --root-token "$token" "$@" >"$VAULT_DOUBLE_LOG" 2>&1 &
  VAULT_DOUBLE_PID=$!
  # the harness (services.sh) reaps every tracked pid at exit, so several doubles are all stopped
  if declare -F harness_track_pid >/dev/null; then harness_track_pid "$VAULT_DOUBLE_PID"; fi
  VAULT_ADDR="$scheme://127.0.0.1:$port"
  VAULT_TOKEN="$token"
  VAULT_DOUBLE_ADMIN="$VAULT_ADDR/__double"
  export VAULT_ADDR VAULT_TOKEN VAULT_DOUBLE_PID VAULT_DOUBLE_ADMIN VAULT_DOUBLE_LOG
  _vault_double_wait
}

start_vault_double() {
  unset VAULT_CACERT VAULT_CLIENT_CERT VAULT_CLIENT_KEY
  _vault_double_start http "$@"
}

# Generates (once per HARNESS_DIR) a test CA, a server certificate for
# 127.0.0.1/localhost (subjectAltName), a client certificate, and an unrelated CA.
vault_double_make_tls() {
  local d="$HARNESS_DIR/vault-tls"
  VAULT_DOUBLE_TLS_DIR="$d"; export VAULT_DOUBLE_TLS_DIR
  [ -s "$d/client.pem" ] && [ -s "$d/other-ca.pem" ] && return 0
  mkdir -p "$d"
  (
    set -e
    cd "$d"
    local curve=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
    openssl req -x509 "${curve[@]}" -keyout ca.key -out ca.pem -days 3650 -subj "/CN=vault-double test CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -x509 "${curve[@]}" -keyout other-ca.key -out other-ca.pem -days 3650 -subj "/CN=unrelated test CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -new "${curve[@]}" -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 825 -extfile server.ext 2>/dev/null
    openssl req -new "${curve[@]}" -keyout client.key -out client.csr -subj "/CN=drctl test client" 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n' >client.ext
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 825 -extfile client.ext 2>/dev/null
    chmod 600 ./*.key
  )
}

start_vault_double_tls() {
  local mtls=0
  if [ "${1:-}" = "--mtls" ]; then mtls=1; shift; fi
  vault_double_make_tls || return 1
  local d="$VAULT_DOUBLE_TLS_DIR"
  export VAULT_CACERT="$d/ca.pem" VAULT_CLIENT_CERT="$d/client.pem" VAULT_CLIENT_KEY="$d/client.key"
  local extra=(--tls-cert "$d/server.pem" --tls-key "$d/server.key")
  if [ "$mtls" = 1 ]; then extra+=(--tls-client-ca "$d/ca.pem"); fi
  _vault_double_start https "${extra[@]}" "$@"
}

vault_double_admin() {
  if [ $# -eq 0 ]; then
    _vault_double_curl --fail-with-body "$VAULT_DOUBLE_ADMIN/state"
  else
    _vault_double_curl --fail-with-body -X POST -H 'Content-Type: application/json' --data-binary "$1" "$VAULT_DOUBLE_ADMIN/state" >/dev/null
  fi
}

stop_vault_double() {
  local pid="${1:-${VAULT_DOUBLE_PID:-}}"
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true

  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ -f "${HARNESS_DIR:-}/.pids" ]; then sed -i "/^$pid\$/d" "$HARNESS_DIR/.pids"; fi
  if [ "$pid" = "${VAULT_DOUBLE_PID:-}" ]; then unset VAULT_DOUBLE_PID; fi
  return 0
}
