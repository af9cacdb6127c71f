#!/usr/bin/env bash
# Logging in to Vault and talking TLS to it as the Vault CLI does: token from
# VAULT_TOKEN, [vault] token_file, ~/.vault-token and their precedence;
# Kubernetes and AppRole logins (and their failures); VAULT_NAMESPACE;
# VAULT_CACERT, VAULT_CAPATH, a wrong CA refused, VAULT_SKIP_VERIFY with a
# loud warning, VAULT_TLS_SERVER_NAME, client certificates (mTLS).  The
# token never reaches the output.
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
require_tools node curl jq openssl
. "$DRCTL_SOURCE_DIR/tests/harness/services.sh"
harness_init
unset VAULT_TOKEN VAULT_CAPATH VAULT_SKIP_VERIFY VAULT_NAMESPACE VAULT_TLS_SERVER_NAME
export HOME="$T/home"; mkdir -p "$HOME"
export DRCTL_VAULT_RETRY_BASE_MS=50 VAULT_MAX_RETRIES=0
drctl_init_in "$T/d"
secret_file() { printf '%s\n' "$2" > "$1"; chmod 600 "$1"; }
requests() { vault_double_curl -f "$VAULT_ADDR/__double/log" | jq -c '.requests'; }

# --- tokens ----------------------------------------------------------------------------
start_vault_double --root-token root-tok-123 --k8s-role drctl=drctl-backup --k8s-jwt good.jwt.value \
  --approle role-1:secret-1:drctl-backup:backup
export DRCTL_VAULT_ADDRESS=$VAULT_ADDR
unset VAULT_TOKEN
run d backup --component vault
expect_rc 2 "no token anywhere"
expect_err "no Vault token" "says no token is set"
expect_err "vault login" "hint names vault login"
VAULT_TOKEN=root-tok-123 run d backup --component vault
expect_rc 0 "VAULT_TOKEN"
expect_no_err "root-tok-123" "the token is not logged"
secret_file "$HOME/.vault-token" root-tok-123
run d backup --component vault
expect_rc 0 "~/.vault-token"
secret_file "$T/token" root-tok-123
VAULT_TOKEN=wrong DRCTL_VAULT_TOKEN_FILE="$T/token" run d backup --component vault
expect_rc 0 "DRCTL_VAULT_TOKEN_FILE beats VAULT_TOKEN"
VAULT_TOKEN=wrong run d backup --component vault
expect_rc 2 "VAULT_TOKEN beats ~/.vault-token"
expect_err "refused the token" "a wrong token is refused clearly"
expect_no_err "=wrong|wrong[^ -]" "the wrong token is not echoed either"
chmod 644 "$T/token"
DRCTL_VAULT_TOKEN_FILE="$T/token" run d backup --component vault
expect_rc 2 "a token file readable by others"
expect_err "chmod" "says how to fix the mode"
rm -f "$HOME/.vault-token"

# --- namespace and CLI headers --------------------------------------------------------------
curl -sf -X DELETE "$VAULT_ADDR/__double/log" >/dev/null
VAULT_TOKEN=root-tok-123 VAULT_NAMESPACE=team-a run d backup --component vault
expect_rc 0 "VAULT_NAMESPACE"
[ "$(requests | jq -r '[.[] | select(.path == "/v1/sys/storage/raft/snapshot")][0].namespace')" = team-a ] \
  || fail "the snapshot request should carry X-Vault-Namespace: team-a"
[ "$(requests | jq -r '[.[] | select(.path == "/v1/sys/storage/raft/snapshot")][0].vault_request_header')" = true ] \
  || fail "requests should carry X-Vault-Request: true, as the CLI's"
[ "$(requests | jq -r '[.[] | select(.path == "/v1/sys/health")][0].token_present')" = false ] \
  || fail "sys/health must be asked without the token"
pass_note "namespace header sent; token not sent to sys/health"

# --- Kubernetes -------------------------------------------------------------------------------
printf 'good.jwt.value' > "$T/jwt"
export DRCTL_VAULT_AUTH_METHOD=kubernetes DRCTL_VAULT_KUBERNETES_ROLE=drctl DRCTL_VAULT_KUBERNETES_TOKEN_FILE="$T/jwt"
run d backup --component vault
expect_rc 0 "Kubernetes login"
expect_err "logged in to Vault at .* with kubernetes auth" "says how it logged in"
[ "$(jq -r '.components.vault.source.auth_method' "$REPO/backups/$OUT/manifest.json")" = kubernetes ] || fail "manifest should record the auth method"
printf 'bad.jwt' > "$T/jwt"
run d backup --component vault
expect_rc 2 "Kubernetes login with a bad JWT"
expect_err "Kubernetes login to Vault at .*permission denied" "names the login and the refusal"
expect_err "kubernetes_role" "hint says what to check"
expect_no_err "bad.jwt" "the JWT is not logged"
printf 'good.jwt.value' > "$T/jwt"
DRCTL_VAULT_KUBERNETES_ROLE=nosuch run d backup --component vault
expect_rc 1 "Kubernetes login with an unknown role"
expect_err "invalid role name" "passes Vault's reason on"
unset DRCTL_VAULT_AUTH_METHOD DRCTL_VAULT_KUBERNETES_ROLE DRCTL_VAULT_KUBERNETES_TOKEN_FILE

# --- AppRole ----------------------------------------------------------------------------------
printf 'role-1\n' > "$T/role_id"; secret_file "$T/secret_id" secret-1
export DRCTL_VAULT_AUTH_METHOD=approle DRCTL_VAULT_APPROLE_ROLE_ID_FILE="$T/role_id" DRCTL_VAULT_APPROLE_SECRET_ID_FILE="$T/secret_id"
run d backup --component vault
expect_rc 0 "AppRole login"
expect_err "with approle auth" "says how it logged in"
secret_file "$T/secret_id" wrong-secret
run d backup --component vault
expect_rc 1 "AppRole login with a wrong secret_id"
expect_err "AppRole login to Vault at .*invalid role or secret ID" "names the login and Vault's reason"
expect_no_err "wrong-secret" "the secret_id is not logged"
chmod 644 "$T/secret_id"
run d backup --component vault
expect_rc 2 "a secret_id file readable by others"
unset DRCTL_VAULT_AUTH_METHOD DRCTL_VAULT_APPROLE_ROLE_ID_FILE DRCTL_VAULT_APPROLE_SECRET_ID_FILE

# --- TLS ------------------------------------------------------------------------------------------
start_vault_double_tls --root-token root-tok-123
export DRCTL_VAULT_ADDRESS=$VAULT_ADDR VAULT_TOKEN=root-tok-123
CA=$VAULT_CACERT; OTHER=$VAULT_DOUBLE_TLS_DIR/other-ca.pem; PORT=${VAULT_ADDR##*:}
unset VAULT_CLIENT_CERT VAULT_CLIENT_KEY
run d backup --component vault
expect_rc 0 "HTTPS with VAULT_CACERT"
VAULT_CACERT=$OTHER run d backup --component vault
expect_rc 6 "HTTPS with a CA that did not sign the server"
expect_err "failed: .*(certificate|SSL)" "says the certificate was not trusted"
expect_err "VAULT_CACERT" "hint names VAULT_CACERT"
VAULT_CACERT=$OTHER DRCTL_VAULT_CA_CERT=$CA run d backup --component vault
expect_rc 0 "DRCTL_VAULT_CA_CERT beats VAULT_CACERT"
mkdir -p "$T/capath"; cp "$CA" "$T/capath/vault-ca.pem"
env -u VAULT_CACERT VAULT_CAPATH="$T/capath" "$DRCTL" --config "$CONF" backup --component vault >/dev/null 2>"$T/err" \
  || { cat "$T/err"; fail "VAULT_CAPATH (a folder without c_rehash links) should work"; }
pass_note "VAULT_CAPATH"
VAULT_CACERT=$OTHER VAULT_SKIP_VERIFY=true run d backup --component vault
expect_rc 0 "VAULT_SKIP_VERIFY"
expect_err "WARNING: VAULT_SKIP_VERIFY is set: Vault's TLS certificate is NOT verified" "skip-verify warns loudly"
VAULT_SKIP_VERIFY=maybe run d backup --component vault
expect_rc 2 "VAULT_SKIP_VERIFY with a bad value"
DRCTL_VAULT_ADDRESS="https://127.0.0.1:$PORT" VAULT_TLS_SERVER_NAME=localhost run d backup --component vault
expect_rc 0 "VAULT_TLS_SERVER_NAME matching the certificate"
DRCTL_VAULT_ADDRESS="https://127.0.0.1:$PORT" VAULT_TLS_SERVER_NAME=wrong.example run d backup --component vault
expect_rc 6 "VAULT_TLS_SERVER_NAME not in the certificate"
expect_err "wrong.example" "says which name failed"

start_vault_double_tls --mtls --root-token root-tok-123
export DRCTL_VAULT_ADDRESS=$VAULT_ADDR
env -u VAULT_CLIENT_CERT -u VAULT_CLIENT_KEY "$DRCTL" --config "$CONF" backup --component vault >/dev/null 2>"$T/err" \
  && fail "mTLS without a client certificate should fail"
pass_note "mTLS without a client certificate is refused"
run d backup --component vault
expect_rc 0 "mTLS with VAULT_CLIENT_CERT / VAULT_CLIENT_KEY"
[ "$(requests | jq -r '[.[] | select(.path == "/v1/sys/storage/raft/snapshot")][-1].client_cert')" = true ] \
  || fail "the double should have seen the client certificate"
pass_note "the client certificate is presented"

echo "$CHECKS passed, 0 failed"
