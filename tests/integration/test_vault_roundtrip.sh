#!/usr/bin/env bash
# The vault component end to end against the Vault API double: backup (raft
# snapshot + KV v2 export), show, deep verify, restore of the snapshot with
# the KV data proven back, KV-only restore onto another cluster with
# check-and-set (newer keys kept, --force overwrites), a Vault without raft
# storage, and break-glass with stock tools (age, zstd, tar, gzip).
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
require_tools node curl jq age zstd tar gzip sha256sum
. "$DRCTL_SOURCE_DIR/tests/harness/services.sh"
harness_init
unset VAULT_TOKEN VAULT_CACERT VAULT_CAPATH VAULT_SKIP_VERIFY VAULT_NAMESPACE
export HOME="$T/home"; mkdir -p "$HOME"
export DRCTL_VAULT_RETRY_BASE_MS=50

kv_put() { # path json
  curl -sf -H "X-Vault-Token: root" -X POST --data-binary "{\"data\":$2}" "$VAULT_ADDR/v1/secret/data/$1" >/dev/null
}
kv_get() { curl -s -H "X-Vault-Token: root" "$VAULT_ADDR/v1/secret/data/$1" | jq -c '.data.data'; }

drctl_init_in "$T/d"
export DRCTL_VAULT_ADDRESS DRCTL_VAULT_KV_MOUNTS=secret

# --- source Vault with data --------------------------------------------------------
start_vault_double --cluster-seed A
A_ADDR=$VAULT_ADDR; DRCTL_VAULT_ADDRESS=$A_ADDR
export VAULT_TOKEN=root
kv_put app/db '{"password":"s3cret-one","user":"agents"}'
kv_put app/db '{"password":"s3cret-two","user":"agents"}'
kv_put "folder/with%20space/key" '{"v":"spaced"}'
kv_put top '{"k":"v"}'
kv_put gone '{"x":"1"}'
curl -sf -H "X-Vault-Token: root" -X DELETE "$VAULT_ADDR/v1/secret/data/gone" >/dev/null

# --- backup ---------------------------------------------------------------------------
run d backup --component vault
expect_rc 0 "vault backup"
ID=$OUT
expect_err "snapshot from .*checked" "backup says the snapshot was checked"
expect_err "4 keys exported \(1 with a deleted current version\)" "backup exports every KV key, deleted ones marked"
expect_no_err "s3cret" "no secret value in the log"
run d --json show "$ID"
expect_rc 0 "show"
[ "$(echo "$OUT" | jq -r '.components.vault.health.state')" = active ] || fail "manifest should record the node's state"
[ "$(echo "$OUT" | jq -r '.components.vault.health.version')" = 1.17.2 ] || fail "manifest should record Vault's version"
[ "$(echo "$OUT" | jq -r '.components.vault.snapshot.members | keys | join(",")')" = "SHA256SUMS,SHA256SUMS.sealed,meta.json,state.bin" ] \
  || fail "manifest should record the four snapshot members"
[ "$(echo "$OUT" | jq -r '.components.vault.kv[0].keys')" = 4 ] || fail "manifest should count 4 KV keys"
pass_note "manifest records health, snapshot members and KV counts"
grep -rq "s3cret" "$REPO/backups/$ID" && fail "a KV value is readable in the repository (should be encrypted)"
pass_note "KV values are not in the clear in the repository"

run d verify --deep "$ID"
expect_rc 0 "deep verify (snapshot gzip/tar/hashes, KV lines)"

# --- break-glass: the snapshot with stock tools --------------------------------------
mkdir -p "$T/bg"
age -d -i "$T/d/age-identity.txt" "$REPO/backups/$ID/vault.tar.zst.age" | zstd -dc | tar -x -C "$T/bg"
cat "$T/bg/vault/raft.snap".part-* > "$T/bg/raft.snap"
tar -tzf "$T/bg/raft.snap" | tr '\n' ' ' | grep -q "meta.json state.bin SHA256SUMS SHA256SUMS.sealed" \
  || fail "the reassembled snapshot should be a gzip tar with the four members"
(mkdir -p "$T/bg/x" && cd "$T/bg/x" && tar -xzf ../raft.snap && sha256sum -c --quiet SHA256SUMS) || fail "SHA256SUMS inside the snapshot should check"
[ "$(sha256sum < "$T/bg/raft.snap" | cut -d' ' -f1)" = "$(jq -r '.components.vault.snapshot.sha256' "$REPO/backups/$ID/manifest.json")" ] \
  || fail "the reassembled snapshot's SHA-256 should be the manifest's"
pass_note "break-glass: age | zstd | tar, cat parts, tar -tz and sha256sum -c give the snapshot back"

# --- snapshot restore: changes after the backup are rolled back ----------------------
kv_put app/db '{"password":"changed-after-backup","user":"agents"}'
curl -sf -H "X-Vault-Token: root" -X DELETE "$VAULT_ADDR/v1/secret/metadata/top" >/dev/null
run d restore vault --backup "$ID"
expect_rc 0 "snapshot restore"
expect_err "accepted the snapshot" "restore reports Vault took the snapshot"
expect_err "is active again" "restore waits until Vault is active"
[ "$(kv_get app/db)" = '{"password":"s3cret-two","user":"agents"}' ] || fail "app/db should be back to the backed-up value, is $(kv_get app/db)"
[ "$(kv_get top)" = '{"k":"v"}' ] || fail "top should be restored"
[ "$(kv_get 'folder/with%20space/key')" = '{"v":"spaced"}' ] || fail "a key under a folder with a space should be restored"
pass_note "snapshot restore brings the KV data back as it was at backup time"
[ "$(vault_double_admin | jq -r '.restore.count')" = 1 ] || fail "the double should have run exactly one restore"

run d restore vault --backup "$ID" --dry-run
expect_rc 0 "dry run"
expect_err "dry run: would restore the raft snapshot" "dry run says what it would do"
[ "$(vault_double_admin | jq -r '.restore.count')" = 1 ] || fail "dry run must not restore"
pass_note "dry run restores nothing"

run d restore vault --frobnicate
expect_rc 2 "unknown restore option"

# --- KV-only restore onto another cluster (check-and-set) ----------------------------
start_vault_double --cluster-seed B; B_ADDR=$VAULT_ADDR
kv_put top '{"k":"written-on-B-later"}'
run d --json restore vault --backup "$ID" --kv-only --target "$B_ADDR"
expect_rc 0 "KV-only restore onto another cluster"
[ "$(echo "$OUT" | jq -r '.vault.kv[0].written')" = 2 ] || fail "2 keys should be written (app/db, folder key): $OUT"
[ "$(echo "$OUT" | jq -r '.vault.kv[0].skipped_newer[0].path')" = top ] || fail "top, newer on B, should be skipped: $OUT"
[ "$(echo "$OUT" | jq -r '.vault.kv[0].deleted_in_backup')" = 1 ] || fail "the deleted key should be reported"
[ "$(kv_get app/db)" = '{"password":"s3cret-two","user":"agents"}' ] || fail "app/db should be written on B"
[ "$(kv_get top)" = '{"k":"written-on-B-later"}' ] || fail "top on B is newer than the backup and must be kept"
[ "$(kv_get gone)" = null ] || fail "a key deleted in the backup must not be created"
pass_note "KV restore writes missing keys with cas and keeps keys newer than the backup"
run d --json restore vault --backup "$ID" --kv-only --target "$B_ADDR"
expect_rc 0 "KV-only restore again"
[ "$(echo "$OUT" | jq -r '.vault.kv[0].unchanged')" = 2 ] || fail "a second run should find 2 keys already equal: $OUT"
pass_note "KV restore is idempotent"
run d --json restore vault --backup "$ID" --kv-only --target "$B_ADDR" --force
expect_rc 0 "KV-only restore with --force"
[ "$(kv_get top)" = '{"k":"v"}' ] || fail "--force should overwrite the newer key"
pass_note "--force overwrites keys newer than the backup"
[ "$(curl -s -H 'X-Vault-Token: root' "$VAULT_ADDR/v1/secret/metadata/top" | jq -r .data.current_version)" = 2 ] \
  || fail "the overwrite should be a new version (cas), not a replacement of history"
pass_note "overwrite keeps the key's history"

# --- Vault without raft storage: KV export only ----------------------------------------
start_vault_double --storage inmem; C_ADDR=$VAULT_ADDR
kv_put only '{"a":"b"}'
DRCTL_VAULT_ADDRESS=$C_ADDR run d backup --component vault
expect_rc 0 "backup of a Vault without raft storage"
expect_err "does not use raft storage: exporting the KV mounts only" "says it exports KV only"
C_ID=$OUT
[ "$(jq -r '.components.vault.snapshot' "$REPO/backups/$C_ID/manifest.json")" = null ] || fail "no snapshot should be recorded"
curl -sf -H "X-Vault-Token: root" -X DELETE "$VAULT_ADDR/v1/secret/metadata/only" >/dev/null
DRCTL_VAULT_ADDRESS=$C_ADDR run d restore vault --backup "$C_ID"
expect_rc 0 "restore of a KV-only set"
[ "$(kv_get only)" = '{"a":"b"}' ] || fail "the KV-only set should restore the key"
pass_note "KV-only backup and restore round trip"
DRCTL_VAULT_ADDRESS=$C_ADDR DRCTL_VAULT_KV_MOUNTS= run d backup --component vault
expect_rc 2 "no raft and no kv_mounts"
expect_err "does not use raft storage.*no \[vault\] kv_mounts" "explains what to configure"
DRCTL_VAULT_ADDRESS=$C_ADDR DRCTL_VAULT_KV_MOUNTS=kv run d backup --component vault
expect_rc 2 "a KV v1 mount is refused"
expect_err "not KV version 2" "says the mount is KV v1"

# --- KV export refuses an unencrypted archive --------------------------------------------
DRCTL_ENCRYPTION_ENABLED=false run d backup --component vault
expect_rc 2 "KV export without encryption"
expect_err "refusing to export Vault KV secrets into an unencrypted archive" "explains why"
DRCTL_ENCRYPTION_ENABLED=false DRCTL_VAULT_KV_MOUNTS= run d backup --component vault
expect_rc 0 "snapshot only, unencrypted, is allowed"

echo "$CHECKS passed, 0 failed"
