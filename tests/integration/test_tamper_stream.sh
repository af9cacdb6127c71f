#!/usr/bin/env bash
# Streams stored as parts (a Vault snapshot here) are proven by the stream's
# SHA-256 in the signed manifest: a part whose bytes were changed, in an
# object re-encrypted and re-signed with the right keys, is caught by deep
# verify and refused by restore.
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
require_tools python3
. "$DRCTL_SOURCE_DIR/tests/harness/services.sh"
harness_init
export HOME="$T/home"; mkdir -p "$HOME"
start_vault_double --snapshot-pad-bytes 20000000 --snapshot-pad-kind random
export DRCTL_VAULT_ADDRESS="$VAULT_ADDR" VAULT_TOKEN=root DRCTL_VAULT_KV_MOUNTS=secret
curl -sf -H "X-Vault-Token: root" -X POST --data-binary '{"data":{"password":"s3cret-one"}}' "$VAULT_ADDR/v1/secret/data/app/db" >/dev/null
drctl_init_in "$T/d"
KEYDIR="$T/d"
RECIPIENT=$(grep -o 'age1[0-9a-z]*' "$KEYDIR/age-identity.txt" | head -1)
run d backup --component vault; expect_rc 0 "backup of a snapshot stored as several parts"
ID=$OUT; SET="$REPO/backups/$ID"
parts=$(d --json show "$ID" | jq '[.components.vault.members[] | select(.stream)] | length')
[ "$parts" -ge 2 ] || fail "the snapshot should span several parts, got $parts"
pass_note "the snapshot is stored as $parts parts"
run d verify "$ID" --deep; expect_rc 0 "the untouched set verifies deeply"

cp -a "$SET" "$T/good-set"
# tamper MEMBER_REGEX OLD NEW: change bytes inside a member (same size), then
# re-encrypt, fix the object hashes and re-sign with drctl's own keys.
tamper() {
rm -rf "$SET"; cp -a "$T/good-set" "$SET"
age -d -i "$KEYDIR/age-identity.txt" "$SET/vault.tar.zst.age" | zstd -dq > "$T/obj.tar"
python3 - "$T/obj.tar" "$T/bad.tar" "$1" "$2" "$3" <<'PY'
import io, re, sys, tarfile
src, dst, pat, old, new = sys.argv[1:6]
hit = False
with tarfile.open(src) as i, tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as o:
    for m in i.getmembers():
        data = i.extractfile(m).read() if m.isfile() else None
        if data is not None and re.search(pat, m.name):
            if old == "FLIP":
                data = bytearray(data); data[1000] ^= 1; data = bytes(data); hit = True
            elif old.encode() in data:
                data = data.replace(old.encode(), new.encode(), 1); hit = True
        o.addfile(m, io.BytesIO(data) if data is not None else None)
sys.exit(0 if hit else 3)
PY
zstd -q -f "$T/bad.tar" -o "$T/bad.tar.zst"
age -r "$RECIPIENT" -o "$SET/vault.tar.zst.age" "$T/bad.tar.zst"
s=$(sha256sum "$SET/vault.tar.zst.age" | cut -d' ' -f1); n=$(stat -c %s "$SET/vault.tar.zst.age")
jq --arg s "$s" --argjson n "$n" '.components.vault.object_sha256=$s | .components.vault.object_size=$n' "$SET/manifest.json" > "$T/m.json"
cp "$T/m.json" "$SET/manifest.json"; echo "$s  vault.tar.zst.age" > "$SET/SHA256SUMS"
rm -f "$SET/manifest.json.minisig" "$SET/SHA256SUMS.minisig"
minisign -S -s "$KEYDIR/signing.key" -m "$SET/manifest.json" </dev/null >/dev/null
minisign -S -s "$KEYDIR/signing.key" -m "$SET/SHA256SUMS" </dev/null >/dev/null
}

# 1. a byte of the snapshot's second part
tamper '\.snap\.part-000002$' FLIP -
run d verify "$ID"; expect_rc 0 "quick verify sees only the re-signed object hashes"
run d verify "$ID" --deep; expect_rc 4 "deep verify catches the changed snapshot part"
run d restore vault --backup "$ID"; [ "$RC" != 0 ] || fail "restore of a changed snapshot succeeded"
pass_note "restore refuses the changed snapshot"

# 2. a secret's value in the KV export: still valid JSON, so only the
#    stream's SHA-256 in the signed manifest can tell
tamper 'kv/.*\.part-000001$' s3cret-one s3cret-onf
run d verify "$ID" --deep; expect_rc 4 "deep verify catches the changed KV export"
expect_err "stream vault/kv/.* does not match the signed manifest" "the message names the stream"
run d restore vault --backup "$ID" --kv-only --force; [ "$RC" != 0 ] || fail "restore of a changed KV export succeeded"
pass_note "restore refuses the changed KV export"
v=$(curl -s -H "X-Vault-Token: root" "$VAULT_ADDR/v1/secret/data/app/db" | jq -r .data.data.password)
[ "$v" = s3cret-one ] || fail "the forged value reached Vault: $v"
pass_note "the forged value never reached Vault"
echo "$CHECKS passed, 0 failed"
