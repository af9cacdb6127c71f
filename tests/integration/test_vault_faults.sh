#!/usr/bin/env bash
# The vault component under every fault the Vault double can produce: a
# truncated snapshot stream, a snapshot without (or with an empty)
# SHA256SUMS.sealed or with a bad hash, a sealed Vault, a standby's 307 on
# backup and restore, a snapshot from another cluster without and with
# --force-new-cluster, permission denied, an invalid token, rate limiting,
# 500s then success (and 500s that do not stop), a node that seals itself
# during the restore.  Each must give the right exit status and a message
# that names the address and the next step, and leave no published set.
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
require_tools node curl jq
. "$DRCTL_SOURCE_DIR/tests/harness/services.sh"
harness_init
unset VAULT_CACERT VAULT_CAPATH VAULT_SKIP_VERIFY VAULT_NAMESPACE
export HOME="$T/home"; mkdir -p "$HOME"
export DRCTL_VAULT_RETRY_BASE_MS=50 VAULT_TOKEN=root

kv_put() { curl -sf -H "X-Vault-Token: root" -X POST --data-binary "{\"data\":$2}" "$1/v1/secret/data/$3" >/dev/null; }
kv_get() { curl -s -H "X-Vault-Token: root" "$1/v1/secret/data/$2" | jq -c '.data.data'; }
admin() { curl -sf -X POST -H 'Content-Type: application/json' --data-binary "$2" "$1/__double/state" >/dev/null || fail "admin $2"; }
sets() { if [ -d "$REPO/backups" ]; then find "$REPO/backups" -mindepth 1 -maxdepth 1 -type d | wc -l; else echo 0; fi; }
# backup_fails RC REGEX NAME: a failed backup leaves the repository as it was
backup_fails() {
  local before; before=$(sets)
  run d backup --component vault
  expect_rc "$1" "$3"
  expect_err "$2" "$3: message"
  [ "$(sets)" = "$before" ] || fail "$3: a failed backup must leave no set behind"
}

drctl_init_in "$T/d"
start_vault_double --cluster-seed A --snapshot-pad-bytes 300000 --snapshot-pad-kind random --restore-delay-ms 200
A=$VAULT_ADDR
export DRCTL_VAULT_ADDRESS=$A
kv_put "$A" '{"pw":"at-backup"}' app/db

# --- snapshots that look fine but are not ---------------------------------------------
admin "$A" '{"snapshot_cut_after_bytes":100000}'
backup_fails 6 "snapshot stream from .* broke after [0-9]+ bytes|truncated snapshot" "truncated snapshot stream"
admin "$A" '{"reset_faults":true,"snapshot_omit_sealed":true}'
backup_fails 4 "incomplete snapshot: SHA256SUMS.sealed is missing" "snapshot without SHA256SUMS.sealed"
admin "$A" '{"reset_faults":true,"snapshot_empty_sealed":true}'
backup_fails 4 "SHA256SUMS.sealed is empty" "snapshot with an empty SHA256SUMS.sealed"
admin "$A" '{"reset_faults":true,"snapshot_bad_hash":true}'
backup_fails 4 "state.bin has SHA-256 .* but its SHA256SUMS says" "snapshot whose hash does not match"
admin "$A" '{"reset_faults":true}'

# --- sealed -----------------------------------------------------------------------------
admin "$A" '{"sealed":true}'
backup_fails 1 "Vault at $A is sealed" "backup of a sealed Vault"
expect_err "vault operator unseal" "sealed: the hint says how to unseal"
admin "$A" '{"sealed":false}'

# --- permission denied, invalid token ------------------------------------------------
TOK=$(curl -sf -X POST -H 'Content-Type: application/json' --data-binary '{"tokens":[{"policies":["kv-read"]}]}' "$A/__double/state" | jq -r '.created_tokens[0]')
VAULT_TOKEN=$TOK backup_fails 2 "permission denied by Vault at $A on GET sys/storage/raft/snapshot; the token's policy needs capability \"read\" on path \"sys/storage/raft/snapshot\"" "permission denied"
expect_no_err "$TOK" "the token is never logged"
VAULT_TOKEN=not-a-token backup_fails 2 "refused the token" "invalid token"
expect_err "invalid or expired" "invalid token: the hint says to log in again"

# --- retries ----------------------------------------------------------------------------
# attempts PATH: the statuses the double answered on /v1/PATH since the log was cleared
attempts() { curl -sf "$A/__double/log" | jq -c --arg p "/v1/$1" '[.requests[] | select(.path == $p) | .status]'; }
SNAP=sys/storage/raft/snapshot
admin "$A" '{"clear_log":true,"fail_next":2,"fail_path_prefix":"sys/storage/raft/snapshot"}'
run d backup --component vault
expect_rc 0 "two 500s, then success"
expect_err "retrying GET $A/v1/$SNAP in [0-9]+\.[0-9] s \(attempt 2 of 3\): 500 Internal Server Error" "the first retry is reported"
expect_err "retrying GET $A/v1/$SNAP in [0-9]+\.[0-9] s \(attempt 3 of 3\): 500 Internal Server Error" "the second retry is reported"
[ "$(attempts $SNAP)" = "[500,500,200]" ] || fail "two 500s then success should be 3 requests, were $(attempts $SNAP)"
pass_note "two 500s then success: 3 requests"
admin "$A" '{"reset_faults":true,"clear_log":true,"fail_next":10,"fail_path_prefix":"sys/storage/raft/snapshot"}'
backup_fails 6 "failed GET $SNAP with HTTP 500 \(after 2 retries\)" "500s that do not stop"
expect_no_err "attempt 4 of" "no attempt beyond VAULT_MAX_RETRIES"
[ "$(attempts $SNAP)" = "[500,500,500]" ] || fail "500s that do not stop: VAULT_MAX_RETRIES=2 allows 3 requests, were $(attempts $SNAP)"
pass_note "500s that do not stop: exactly 3 requests"
admin "$A" '{"reset_faults":true,"clear_log":true}'
# Nothing listens on port 1: the refused connection is retried, VAULT_MAX_RETRIES times.
DRCTL_VAULT_ADDRESS=http://127.0.0.1:1 VAULT_MAX_RETRIES=4 backup_fails 6 \
  "after 4 retries: GET http://127.0.0.1:1/v1/[^ ]+ failed" "a refused connection, VAULT_MAX_RETRIES=4"
expect_err "retrying GET http://127.0.0.1:1/v1/[^ ]+ in [0-9]+\.[0-9] s \(attempt 5 of 5\): .*127\.0\.0\.1 port 1" "the refused connection is retried, with curl's reason"
expect_no_err "attempt 6 of" "a refused connection: no attempt beyond VAULT_MAX_RETRIES"
admin "$A" '{"reset_faults":true,"rate_limit_next":1}'
run d backup --component vault
expect_rc 0 "one 429, then success"
expect_err "retrying GET $A/v1/[^ ]+ in [0-9]+\.[0-9] s \(attempt 2 of 3\): 429 Too Many Requests" "the 429 is retried"
# Retry-After (1 s) is longer than the backoff (at most 50 ms here): it sets the delay.
admin "$A" '{"reset_faults":true,"rate_limit_next":1,"retry_after":1}'
run d backup --component vault
expect_rc 0 "one 429 with Retry-After: 1, then success"
expect_err "retrying GET $A/v1/[^ ]+ in 1\.0 s \(attempt 2 of 3\): 429 Too Many Requests" "Retry-After in seconds is obeyed"
FUTURE=$(date -u -d '@'$(( $(date +%s) + 3 )) '+%a, %d %b %Y %H:%M:%S GMT')
admin "$A" "{\"reset_faults\":true,\"rate_limit_next\":1,\"retry_after\":\"$FUTURE\"}"
run d backup --component vault
expect_rc 0 "one 429 with Retry-After as an HTTP-date, then success"
# (ignored, the delay would be the backoff: 0.0 or 0.1 s)
expect_err "retrying GET $A/v1/[^ ]+ in ([1-3]\.[0-9]|0\.[2-9]) s \(attempt 2 of 3\): 429 Too Many Requests" "Retry-After as an HTTP-date is obeyed"
# Asked to wait longer than drctl waits (30 s): no retry that would only be refused again.
admin "$A" '{"reset_faults":true,"clear_log":true,"rate_limited":true,"retry_after":3600}'
backup_fails 6 "rate-limited GET .*: request path .* rate limit quota exceeded" "Retry-After beyond the limit"
expect_err "not retrying GET $A/v1/[^ ]+ \(429 Too Many Requests\): the server asks to wait 3600 s, longer than the 30 s drctl waits" "says why it does not retry"
expect_no_err "warning: retrying" "Retry-After beyond the limit: not retried"
[ "$(curl -sf "$A/__double/log" | jq '[.requests[] | select(.status == 429)] | length')" = 1 ] || fail "Retry-After beyond the limit: one request expected"
pass_note "Retry-After beyond the limit: one request"
admin "$A" '{"reset_faults":true,"rate_limited":true,"retry_after":1}'
VAULT_MAX_RETRIES=1 backup_fails 6 "rate-limited GET .* \(after 1 retries\)" "rate limited (VAULT_MAX_RETRIES=1)"
expect_err "rate limit quota" "rate limited: the hint names the quota"
expect_err "retrying GET $A/v1/[^ ]+ in 1\.0 s \(attempt 2 of 2\)" "VAULT_MAX_RETRIES=1: one retry"
expect_no_err "attempt 3 of" "VAULT_MAX_RETRIES=1: no second retry"
admin "$A" '{"reset_faults":true}'

# --- a good set to restore ----------------------------------------------------------------
run d backup --component vault
expect_rc 0 "backup"
ID=$OUT
UNSEAL_A=$(curl -sf "$A/__double/state" | jq -r '.unseal_keys_b64[0]')

# --- standby: backup and restore follow the 307 to the active node -----------------------
start_vault_double --cluster-seed A --state standby --active-address "$A"; S=$VAULT_ADDR
DRCTL_VAULT_ADDRESS=$S run d backup --component vault
expect_rc 0 "backup through a standby"
expect_err "Vault at $S is a standby; following its redirect to the active node $A" "backup says which node it used"
[ "$(jq -r '.components.vault.snapshot.node' "$REPO/backups/$OUT/manifest.json")" = "$A" ] || fail "the manifest should name the active node"
pass_note "manifest records the node that gave the snapshot"
kv_put "$A" '{"pw":"after-backup"}' app/db
run d restore vault --backup "$ID" --target "$S"
expect_rc 0 "restore through a standby"
expect_err "following its redirect to the active node $A" "restore follows the 307"
expect_err "reading the snapshot again from backup set $ID" "the body is replayed from the repository"
expect_err "Vault at $A is active again" "restore waits on the node that took the snapshot"
[ "$(kv_get "$A" app/db)" = '{"pw":"at-backup"}' ] || fail "the active node should hold the backed-up value, has $(kv_get "$A" app/db)"
pass_note "restore through a standby restores the data"
# A 500 on the snapshot POST is retried with the body read again.  (A small
# snapshot here: the double crashes when a client stops sending a large body
# after an early answer, see the report.)
start_vault_double --cluster-seed R; R=$VAULT_ADDR
kv_put "$R" '{"pw":"r-at-backup"}' app/db
DRCTL_VAULT_ADDRESS=$R run d backup --component vault
expect_rc 0 "backup of a small Vault"
R_ID=$OUT
kv_put "$R" '{"pw":"r-later"}' app/db
admin "$R" '{"fail_next":1,"fail_path_prefix":"sys/storage/raft/snapshot"}'
DRCTL_VAULT_ADDRESS=$R run d restore vault --backup "$R_ID"
expect_rc 0 "restore with one 500 on the snapshot POST"
expect_err "retrying POST $R/v1/sys/storage/raft/snapshot in [0-9]+\.[0-9] s \(attempt 2 of 3\): 500 Internal Server Error" "the 500 is retried"
expect_err "reading the snapshot again from backup set $R_ID" "the retry re-reads the snapshot"
[ "$(kv_get "$R" app/db)" = '{"pw":"r-at-backup"}' ] || fail "the retried restore should restore the data"
pass_note "a retried snapshot POST restores the data"
start_vault_double --state standby; S2=$VAULT_ADDR
DRCTL_VAULT_ADDRESS=$S2 backup_fails 6 "active cluster node not found" "a standby that knows no active node"

# --- a node that seals itself during the restore -------------------------------------------
admin "$A" '{"restore_fail":true}'
run d restore vault --backup "$ID"
expect_rc 1 "restore that fails inside Vault"
expect_err "Vault sealed itself after the snapshot restore" "says Vault sealed itself"
expect_err "vault operator unseal" "with the unseal hint"
admin "$A" '{"reset_faults":true,"sealed":false}'

# --- a new cluster: key mismatch, then --force-new-cluster ------------------------------------
admin "$A" '{"reinitialize":{"root_token":"root"}}'
[ "$(kv_get "$A" app/db)" = null ] || fail "a reinitialised double should be empty"
run d restore vault --backup "$ID"
expect_rc 1 "restore onto a cluster with other keys"
expect_err "made by a cluster with different keys.*nothing was restored" "says the keys differ"
expect_err "drctl restore vault --force-new-cluster" "hint names --force-new-cluster"
expect_err "unseal keys of the cluster the snapshot came from" "hint warns about the unseal keys"
run d --json restore vault --backup "$ID" --force-new-cluster
expect_rc 0 "restore with --force-new-cluster"
expect_err "WITHOUT checking.*unseal keys" "warns before forcing"
expect_err "is SEALED: unseal it with the unseal keys of the cluster the snapshot came from" "says it needs the snapshot's unseal keys"
[ "$(echo "$OUT" | jq -r '.vault.snapshot.needs_unseal')" = true ] || fail "the report should say needs_unseal"
curl -sf -X POST --data-binary "{\"key\":\"$UNSEAL_A\"}" "$A/v1/sys/unseal" | jq -e '.sealed == false' >/dev/null \
  || fail "the node should unseal with the snapshot cluster's key"
[ "$(kv_get "$A" app/db)" = '{"pw":"at-backup"}' ] || fail "after unsealing, the snapshot's data should be there"
pass_note "forced restore onto a new cluster, unsealed with the old keys, has the data"

# --- restore refuses a sealed or uninitialised target ------------------------------------------
admin "$A" '{"sealed":true}'
run d restore vault --backup "$ID"
expect_rc 1 "restore into a sealed Vault"
expect_err "is sealed; nothing was restored" "says nothing was restored"

echo "$CHECKS passed, 0 failed"
