#!/usr/bin/env bash
# Backup sets signed by a Vault transit ed25519 key ([signing]
# vault_transit_key) instead of a key file: drctl writes the transit key's
# minisign public key, stock `minisign -V` accepts the manifest and SHA256SUMS
# signatures with it (and rejects a tampered manifest), `drctl verify` agrees,
# the key id is the documented one, and a public key file holding another key
# or a missing transit key are refused before anything is published.
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
require_tools node curl jq minisign base64 sha256sum xxd
. "$DRCTL_SOURCE_DIR/tests/harness/services.sh"
harness_init
unset VAULT_CACERT VAULT_CAPATH VAULT_SKIP_VERIFY VAULT_NAMESPACE
export HOME="$T/home"; mkdir -p "$HOME"

drctl_init_in "$T/d"
start_vault_double
export VAULT_TOKEN=root DRCTL_VAULT_ADDRESS=$VAULT_ADDR
curl -sf -H "X-Vault-Token: root" -X POST --data-binary '{"type":"ed25519"}' "$VAULT_ADDR/v1/transit/keys/drctl-signing" >/dev/null \
  || fail "cannot create the transit key in the double"
TRANSIT_PUB=$(curl -sf -H "X-Vault-Token: root" "$VAULT_ADDR/v1/transit/keys/drctl-signing" | jq -r '.data.keys["1"].public_key')

export DRCTL_SIGNING_VAULT_TRANSIT_KEY=drctl-signing DRCTL_SIGNING_PUBLIC_KEY_FILE="$T/transit.pub"
run d backup --component vault
expect_rc 0 "backup signed with Vault transit"
ID=$OUT; SET="$REPO/backups/$ID"
expect_err "wrote the minisign public key of transit key drctl-signing" "says where the public key went"
[ -s "$T/transit.pub" ] || fail "the transit public key file should be written"

# The .pub holds Ed || key id || the transit key; key id = SHA-256(pub)[0..8].
sed -n 2p "$T/transit.pub" | base64 -d > "$T/pub.bin"
[ "$(head -c 2 "$T/pub.bin")" = Ed ] || fail ".pub should start with Ed"
[ "$(tail -c 32 "$T/pub.bin" | base64 -w0)" = "$TRANSIT_PUB" ] || fail ".pub should hold the transit public key"
[ "$(head -c 10 "$T/pub.bin" | tail -c 8 | xxd -p)" = "$(printf '%s' "$TRANSIT_PUB" | base64 -d | sha256sum | cut -c1-16)" ] \
  || fail "the key id should be the first 8 bytes of SHA-256 of the public key"
pass_note "public key file: transit key, documented key id"

minisign -Vm "$SET/manifest.json" -p "$T/transit.pub" -x "$SET/manifest.json.minisig" >/dev/null \
  || fail "stock minisign should accept the manifest signature made by transit"
minisign -Vm "$SET/SHA256SUMS" -p "$T/transit.pub" -x "$SET/SHA256SUMS.minisig" >/dev/null \
  || fail "stock minisign should accept the SHA256SUMS signature made by transit"
pass_note "stock minisign -V accepts transit-made signatures"
cp "$SET/manifest.json" "$T/tampered.json"; printf ' ' >> "$T/tampered.json"
if minisign -Vm "$T/tampered.json" -p "$T/transit.pub" -x "$SET/manifest.json.minisig" >/dev/null 2>&1; then
  fail "minisign should reject a tampered manifest"
fi
pass_note "a tampered manifest fails minisign -V"
run d verify "$ID"
expect_rc 0 "drctl verify with the transit public key"
[ "$(curl -sf "$VAULT_ADDR/__double/log" | jq '[.requests[] | select(.path == "/v1/transit/sign/drctl-signing")] | length')" -ge 2 ] \
  || fail "signatures should come from transit/sign"
pass_note "signatures were made by transit/sign"

# A second backup reuses the existing public key file.
run d backup --component vault
expect_rc 0 "second transit-signed backup"
minisign -Vm "$REPO/backups/$OUT/manifest.json" -p "$T/transit.pub" >/dev/null || fail "second set should verify too"

# The public key can also be exported explicitly, before any backup.
run d export-signing-key --out "$T/exported.pub"
expect_rc 0 "export-signing-key from transit"
cmp -s "$T/exported.pub" "$T/transit.pub" || fail "the exported key differs from the one the backup wrote"
minisign -Vm "$REPO/backups/$ID/manifest.json" -p "$T/exported.pub" >/dev/null || fail "minisign rejects the set with the exported key"
pass_note "stock minisign verifies with the key export-signing-key wrote"
run d export-signing-key --out "$T/exported.pub"
expect_rc 2 "export-signing-key refuses to overwrite"

# Refusals: another key in public_key_file, no such transit key.
DRCTL_SIGNING_PUBLIC_KEY_FILE="$T/d/signing.pub" run d backup --component vault
expect_rc 2 "public_key_file holding another key"
expect_err "holds another key than transit key drctl-signing" "explains the mismatch"
DRCTL_SIGNING_VAULT_TRANSIT_KEY=nosuch DRCTL_SIGNING_PUBLIC_KEY_FILE="$T/none.pub" run d backup --component vault
expect_rc 3 "missing transit key"
expect_err "has no transit key nosuch" "names the missing key"
expect_err "vault write -f transit/keys/" "hint says how to create it"
[ ! -e "$T/none.pub" ] || fail "no public key file should be written for a missing key"

echo "$CHECKS passed, 0 failed"
