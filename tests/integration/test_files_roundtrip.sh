#!/usr/bin/env bash
# The files component end to end with the real binary: init, backup, list,
# show, verify (quick and deep), restore; and interoperability both ways with
# the stock tools (minisign, sha256sum, age, zstd, tar).
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"

# --- init ---------------------------------------------------------------------
run "$DRCTL" --config "$T/etc/drctl.conf" init --repository "$T/repo" --state-dir "$T/state"
expect_rc 0 "drctl init"
CONF="$T/etc/drctl.conf"; REPO="$T/repo"
for f in signing.key age-identity.txt drctl.conf; do
  [ "$(stat -c %a "$T/etc/$f")" = 600 ] || fail "$f should be mode 600, is $(stat -c %a "$T/etc/$f")"
done
pass_note "secret files are mode 600"
head -c 2000 "$T/etc/signing.key" | grep -q "untrusted comment: minisign" || fail "signing.key is not a minisign key"
RECIPIENT=$(grep -o 'age1[0-9a-z]*' "$T/etc/age-identity.txt" | head -1)
grep -q "^recipients = $RECIPIENT" "$CONF" || fail "config should name the recipient $RECIPIENT"
pass_note "config names the generated recipient"
sum_before=$(sha256sum "$T/etc/signing.key" "$T/etc/age-identity.txt")
run "$DRCTL" --config "$CONF" init --repository "$T/repo"
expect_rc 2 "second init"
expect_err "already exists" "second init explains"
[ "$sum_before" = "$(sha256sum "$T/etc/signing.key" "$T/etc/age-identity.txt")" ] || fail "init overwrote keys"
pass_note "second init leaves keys untouched"
run "$DRCTL" --config "$T/other/drctl.conf" init --repository "$T/repo2"
expect_rc 0 "init elsewhere"
rm -f "$T/other/drctl.conf"
run "$DRCTL" --config "$T/other/drctl.conf" init --repository "$T/repo2"
expect_rc 2 "init with existing keys"
expect_err "key file .*already exists" "init refuses to overwrite existing keys"

run "$DRCTL" --config "$CONF" export-signing-key --out "$T/exported.pub"
expect_rc 0 "export-signing-key from the local key"
cmp -s "$T/exported.pub" "$T/etc/signing.pub" || fail "the exported public key differs from signing.pub"
pass_note "export-signing-key writes the same public key as init"

# --- data -------------------------------------------------------------------------
SRC="$T/src"; mkdir -p "$SRC/tls" "$SRC/conf/nested/deeper" "$SRC/empty"
printf 'cert\n' > "$SRC/tls/server.crt"
head -c 300000 /dev/urandom > "$SRC/conf/blob.bin"
seq 1 200000 > "$SRC/conf/nested/deeper/numbers.txt"
: > "$SRC/conf/empty.txt"
printf 'x' > "$SRC/conf/nested/with space.txt"
ln -s /etc/passwd "$SRC/conf/link-to-passwd"
export DRCTL_FILES_PATHS="$SRC"

# --- backup, list, show -------------------------------------------------------------
run d backup --component files --tag first
expect_rc 0 "backup"
ID=$OUT
echo "$ID" | grep -Eq '^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{4}$' || fail "backup should print a time-sorted id, got '$ID'"
pass_note "backup prints its id"
expect_err "skipping .*link-to-passwd: symbolic link" "symbolic links are skipped with a warning"
SET="$REPO/backups/$ID"
for f in files.tar.zst.age manifest.json manifest.json.minisig SHA256SUMS SHA256SUMS.minisig; do
  [ -s "$SET/$f" ] || fail "$f missing from the set"
done
pass_note "the set has every object the README lays out for a backup set"
run d list
expect_rc 0 list
expect_out "^$ID +complete" "list shows the set as complete"
run d --json list
echo "$OUT" | jq -e --arg id "$ID" '.[0].id == $id and .[0].state == "complete" and .[0].tag == "first"' >/dev/null || fail "list --json"
pass_note "list --json"
run d show latest
expect_rc 0 show
expect_out "tmp/.*/conf/nested/deeper/numbers.txt" "show lists members"
run d --json show "$ID"
echo "$OUT" | jq -e '.components.files.members | map(.name) | any(endswith("numbers.txt"))' >/dev/null || fail "show --json members"
echo "$OUT" | jq -e '.components.files.skipped[0].reason == "symbolic link"' >/dev/null || fail "manifest should list the skipped link"
pass_note "show --json has members and skipped entries"

# --- verify ---------------------------------------------------------------------------
run env DRCTL_ENCRYPTION_IDENTITY_FILE=/nonexistent "$DRCTL" --config "$CONF" verify latest
expect_rc 0 "quick verify without the identity"
run d verify latest --deep
expect_rc 0 "deep verify"
expect_out "verified \(deep\)"
run d list
expect_out "^$ID +complete +deep" "list shows the set as verified"

# --- stock tools read what drctl wrote -------------------------------------------------
( cd "$SET" && minisign -Vm manifest.json -p "$T/etc/signing.pub" >/dev/null ) || fail "minisign rejects the manifest signature"
( cd "$SET" && minisign -Vm SHA256SUMS -p "$T/etc/signing.pub" >/dev/null ) || fail "minisign rejects the SHA256SUMS signature"
pass_note "stock minisign -Vm accepts both signatures"
( cd "$SET" && sha256sum -c --quiet SHA256SUMS ) || fail "sha256sum -c SHA256SUMS"
pass_note "sha256sum -c SHA256SUMS passes"
age -d -i "$T/etc/age-identity.txt" "$SET/files.tar.zst.age" | zstd -dq | tar -tf - > "$T/members.txt"
grep -q "conf/nested/deeper/numbers.txt" "$T/members.txt" || fail "age | zstd | tar -t does not list the members"
pass_note "age -d | zstd -d | tar -t lists the archive"
mkdir "$T/breakglass"
age -d -i "$T/etc/age-identity.txt" "$SET/files.tar.zst.age" | zstd -dq | tar -xf - -C "$T/breakglass"
diff -r "$SRC/conf/nested" "$T/breakglass$SRC/conf/nested" || fail "break-glass extraction differs"
cmp "$SRC/conf/blob.bin" "$T/breakglass$SRC/conf/blob.bin" || fail "break-glass blob differs"
pass_note "break-glass extraction with stock tools equals the source"

# --- restore --------------------------------------------------------------------------------
run d restore files --backup latest --target "$T/restored"
expect_rc 0 "restore"
rm "$SRC/conf/link-to-passwd"
diff -r "$SRC" "$T/restored$SRC" || fail "restored tree differs from the source"
[ -d "$T/restored$SRC/empty" ] || fail "empty folder not restored"
pass_note "restore gives back the same tree, empty folders included"
[ "$(stat -c %a "$T/restored$SRC/conf/blob.bin")" = "$(stat -c %a "$SRC/conf/blob.bin")" ] || fail "mode not restored"
pass_note "file modes restored"
run d restore files --backup "$ID" --target "$T/restored"
expect_rc 2 "restore into a non-empty folder"
expect_err "not empty; nothing was written" "non-empty target refused"
echo changed > "$T/restored$SRC/tls/server.crt"
run d restore files --backup "$ID" --target "$T/restored" --force
expect_rc 0 "restore --force"
cmp "$SRC/tls/server.crt" "$T/restored$SRC/tls/server.crt" || fail "--force did not replace the changed file"
pass_note "restore --force replaces changed files with verified content"
run d restore files --dry-run --target "$T/never"
expect_rc 0 "restore --dry-run"
[ ! -e "$T/never" ] || fail "dry run wrote files"
pass_note "dry run writes nothing"
run d restore files --target "$T/r3" --database x
expect_rc 2 "unknown component option"

# --- drctl reads what the stock tools wrote ----------------------------------------------------
# Rebuild the files object with stock tar | zstd | age -r, re-sign manifest and
# SHA256SUMS with stock minisign using drctl's key: drctl must accept the set.
STOCK="$T/stock"; mkdir -p "$STOCK"
age -d -i "$T/etc/age-identity.txt" "$SET/files.tar.zst.age" | zstd -dq > "$STOCK/files.tar"
zstd -q -3 "$STOCK/files.tar" -o "$STOCK/files.tar.zst"
age -r "$RECIPIENT" -o "$SET/files.tar.zst.age" "$STOCK/files.tar.zst"
NEWSUM=$(sha256sum "$SET/files.tar.zst.age" | cut -d' ' -f1)
NEWSIZE=$(stat -c %s "$SET/files.tar.zst.age")
jq --arg s "$NEWSUM" --argjson n "$NEWSIZE" '.components.files.object_sha256 = $s | .components.files.object_size = $n' \
  "$SET/manifest.json" > "$STOCK/manifest.json"
cp "$STOCK/manifest.json" "$SET/manifest.json"
echo "$NEWSUM  files.tar.zst.age" > "$SET/SHA256SUMS"
rm -f "$SET/manifest.json.minisig" "$SET/SHA256SUMS.minisig"
minisign -S -s "$T/etc/signing.key" -m "$SET/manifest.json" -t "re-signed by stock minisign" </dev/null >/dev/null
minisign -S -s "$T/etc/signing.key" -m "$SET/SHA256SUMS" </dev/null >/dev/null
run d verify "$ID" --deep
expect_rc 0 "deep verify of a set written by stock age and signed by stock minisign"
run d restore files --backup "$ID" --target "$T/restored-stock"
expect_rc 0 "restore from stock-tool archive"
diff -r "$SRC" "$T/restored-stock$SRC" || fail "restore of the stock-tool archive differs"
pass_note "drctl decrypts stock age output and verifies stock minisign signatures"
echo "$CHECKS passed, 0 failed"
