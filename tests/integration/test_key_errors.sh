#!/usr/bin/env bash
# A missing, unusable or wrong key is a key error, never a verdict on a
# backup set: exit 3 (missing, or a key that is not the set's) or 2 (a key
# file that cannot be used), a message naming the file and the configuration
# key that points at it, a hint with the next step, and the set is neither
# reported as failed nor marked invalid.  Only a proven mismatch of the data
# is an integrity verdict (exit 4): a signature that does not verify with a
# valid key (another key's), an age header altered so that the set's own
# identity no longer opens it, an object that is missing.
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
. "$DRCTL_SOURCE_DIR/tests/harness/services.sh"
harness_init

drctl_init_in "$T/base"
KEYDIR="$T/base"; IDENTITY="$KEYDIR/age-identity.txt"; PUB="$KEYDIR/signing.pub"
SRC="$T/src"; mkdir -p "$SRC"; echo "the only copy" > "$SRC/f.txt"
export DRCTL_FILES_PATHS="$SRC"
ID=$(d backup --component files 2>/dev/null)
BASECONF=$CONF; BASEREPO=$REPO

# Words that would send an operator away from a good set.
VERDICT='FAILED|do not restore|another (complete )?set|is damaged|was altered|corrupt|invalid'
no_verdict() { expect_no_err "$VERDICT" "${1:-the error} passes no verdict on the set"; }
no_invalid_in_out() {
  if grep -Eq 'invalid' <<<"$OUT"; then fail "$1: stdout marks a set invalid"; fi
  pass_note "$1: no set is marked invalid"
}
still_complete() { # the set is listed complete, and not as verified (deep)
  run d list; expect_rc 0 "list after $1"; expect_out "^$ID +complete +- " "$1: the set is still complete, not recorded as verified"
}
target_empty() { [ ! -e "$1" ] || [ -z "$(ls -A "$1")" ] || fail "a failed restore wrote into $1"; pass_note "nothing was restored into $1"; }

# --- the age identity ([encryption] identity_file) is missing ----------------
mv "$IDENTITY" "$T/identity.kept"
run d verify "$ID" --deep; expect_rc 3 "deep verify without the identity file"
expect_err "\[encryption\] identity_file $IDENTITY" "names the config key and the file"
expect_err "hint: restore the identity from its off-site copy, or point \[encryption\] identity_file / DRCTL_ENCRYPTION_IDENTITY_FILE at it" "hints the next step"
expect_err "not known to be damaged" "says the set is not known to be damaged"
no_verdict "deep verify without the identity"
run d --json verify "$ID" --deep; expect_rc 3 "deep verify --json without the identity file"
# stdout: the report, then the error
[ "$(echo "$OUT" | jq -s '.[0].problems | length')" = 0 ] || fail "the report lists problems for a missing key"
[ "$(echo "$OUT" | jq -s '.[1].error.exit_code')" = 3 ] || fail "the JSON error is not exit code 3"
pass_note "the JSON report lists no problem of the set, and the error is the key's"
run d restore files --backup "$ID" --target "$T/r-noid"; expect_rc 3 "restore without the identity file"
expect_err "\[encryption\] identity_file $IDENTITY" "restore names the config key and the file"; no_verdict "restore without the identity"
target_empty "$T/r-noid"
still_complete "a key error"
[ ! -e "$KEYDIR/state/verified/$ID" ] || fail "the failed deep verify left a verification record"
mv "$T/identity.kept" "$IDENTITY"
run d verify "$ID" --deep; expect_rc 0 "deep verify with the identity back"
run d list; expect_out "^$ID +complete +deep " "the set is recorded as deep-verified"

# --- another valid age identity ---------------------------------------------
age-keygen -o "$T/other-id.txt" 2>/dev/null; chmod 600 "$T/other-id.txt"
export DRCTL_ENCRYPTION_IDENTITY_FILE="$T/other-id.txt"
run d verify "$ID" --deep; expect_rc 3 "deep verify with another identity"
expect_err "cannot decrypt backup set $ID with this identity" "says the identity cannot decrypt the set"
expect_err "\[encryption\] identity_file $T/other-id.txt" "names the config key and the file"
expect_err "hint: .*drctl show $ID" "hints where the set's recipients are listed"; no_verdict "another identity"
run d restore files --backup "$ID" --target "$T/r-otherid"; expect_rc 3 "restore with another identity"
expect_err "cannot decrypt backup set $ID with this identity"; no_verdict "restore with another identity"
target_empty "$T/r-otherid"
run d show "$ID"; expect_out "^recipient +$(grep -o 'age1[0-9a-z]*' "$IDENTITY" | head -1)" "show lists the set's recipient"
unset DRCTL_ENCRYPTION_IDENTITY_FILE

# --- an identity file readable by others, or not an identity ----------------
cp -p "$IDENTITY" "$T/loose-id.txt"; chmod 644 "$T/loose-id.txt"
run env DRCTL_ENCRYPTION_IDENTITY_FILE="$T/loose-id.txt" "$DRCTL" --config "$CONF" verify "$ID" --deep
expect_rc 2 "deep verify with an identity of mode 0644"
expect_err "\[encryption\] identity_file $T/loose-id.txt is readable by others" "names the config key and the file"
expect_err "hint: chmod 600" "hints chmod"; no_verdict "an identity of mode 0644"
run env DRCTL_ENCRYPTION_IDENTITY_FILE="$T/loose-id.txt" "$DRCTL" --config "$CONF" restore files --backup "$ID" --target "$T/r-loose"
expect_rc 2 "restore with an identity of mode 0644"; no_verdict "restore with an identity of mode 0644"
echo "not a key" > "$T/junk-id.txt"; chmod 600 "$T/junk-id.txt"
run env DRCTL_ENCRYPTION_IDENTITY_FILE="$T/junk-id.txt" "$DRCTL" --config "$CONF" verify "$ID" --deep
expect_rc 2 "deep verify with an identity file that holds no identity"
expect_err "\[encryption\] identity_file $T/junk-id.txt" "names the config key and the file"; no_verdict "a garbage identity"
run d list; expect_out "^$ID +complete" "the set is still complete after the identity errors"

# --- the signing public key ([signing] public_key_file) cannot be used ---------
# Missing (3), garbage (2), a folder where the file should be (2): root reads
# any file, so unreadable is made of those rather than of modes.
pub_key_error() { # RC WHAT
  for cmd in "verify $ID" "verify latest" "verify $ID --deep" "show $ID" "show latest" "list" \
             "restore files --backup $ID --target $T/r-pub"; do
    # shellcheck disable=SC2086
    run d $cmd; expect_rc "$1" "$cmd with $2 public key"
    expect_err "\[signing\] public_key_file $PUB" "$cmd names the config key and the file"
    expect_err "hint: .*the backup sets were not checked and none is known to be damaged" "$cmd says no set was judged"
    no_verdict "$cmd with $2 public key"; no_invalid_in_out "$cmd with $2 public key"
  done
  target_empty "$T/r-pub"
}
mv "$PUB" "$T/pub.kept"
pub_key_error 3 "a missing"
run d list; expect_err "hint: restore signing.pub from its off-site copy" "hints where the public key comes back from"
echo "garbage, not a minisign key" > "$PUB"
pub_key_error 2 "a garbage"
rm "$PUB"; mkdir "$PUB"
pub_key_error 2 "a folder for a"
rmdir "$PUB"; mv "$T/pub.kept" "$PUB"
run d list; expect_rc 0 "list with the public key back"; expect_out "^$ID +complete +deep " "the set is still complete and deep-verified"

# --- another valid signing public key: this IS a verdict ----------------------
minisign -G -W -p "$T/other.pub" -s "$T/other.key" >/dev/null </dev/null
export DRCTL_SIGNING_PUBLIC_KEY_FILE="$T/other.pub"
for cmd in "verify $ID" "verify latest" "show $ID" "restore files --backup $ID --target $T/r-otherpub"; do
  # shellcheck disable=SC2086
  run d $cmd; expect_rc 4 "$cmd with another signing key"
  expect_err "was made with key [0-9A-F]+, but the public key is [0-9A-F]+" "$cmd: the signature does not verify with that key"
done
target_empty "$T/r-otherpub"
run d list; expect_rc 0 "list with another signing key"; expect_out "^$ID +invalid .*made with key" "list marks the set invalid, saying why"
unset DRCTL_SIGNING_PUBLIC_KEY_FILE

# --- the data, not the key: an age header the set's identity no longer opens ----
fresh_copy() { # NAME: a copy of the good repository; CONF points at it, SET is the set folder
  rm -rf "$T/$1"; cp -a "$BASEREPO" "$T/$1"
  CONF="$T/$1.conf"; sed "s#^path = .*#path = $T/$1#" "$BASECONF" > "$CONF"; chmod 600 "$CONF"
  SET="$T/$1/backups/$ID"
}
resign_manifest() {
  rm -f "$SET/manifest.json.minisig"
  minisign -S -s "$KEYDIR/signing.key" -m "$SET/manifest.json" </dev/null >/dev/null
}
# Byte 80 is inside the X25519 stanza's body (after "age-encryption.org/v1\n-> X25519 <share>\n"):
# another base64 letter there keeps the header well-formed but wraps another file key.
alter_stanza() {
  local obj="$SET/files.tar.zst.age" c
  head -c 76 "$obj" | tail -n 1 | grep -q '^-> X25519 ' || fail "the object's header is not laid out as this test expects"
  c=$(dd if="$obj" bs=1 skip=80 count=1 2>/dev/null)
  printf '%s' "$([ "$c" = A ] && echo B || echo A)" | dd of="$obj" bs=1 seek=80 conv=notrunc 2>/dev/null
}
fresh_copy stanza; alter_stanza
run d verify "$ID" --deep; expect_rc 4 "deep verify of an object whose stanza was altered"
expect_err "files.tar.zst.age: age: no identity matches.*the signed manifest lists its recipient" "says the listed identity no longer opens it"
expect_err "FAILED verification" "reports the set as failed"
run d restore files --backup "$ID" --target "$T/r-stanza"; expect_rc 4 "restore of an object whose stanza was altered"
target_empty "$T/r-stanza"
# With no signed list of recipients to compare with, a header no identity
# opens is the key's doubt, not the set's.
fresh_copy norecipients
jq 'del(.encryption.recipients)' "$SET/manifest.json" > "$T/m.json" && cp "$T/m.json" "$SET/manifest.json"; resign_manifest
run d verify "$ID" --deep; expect_rc 0 "deep verify of a set whose manifest lists no recipients"
run env DRCTL_ENCRYPTION_IDENTITY_FILE="$T/other-id.txt" "$DRCTL" --config "$CONF" verify "$ID" --deep
expect_rc 3 "another identity, no recipients listed: a key error"
expect_err "no identity matches" "says no identity opens the object"; no_verdict "another identity, no recipients listed"
run env DRCTL_ENCRYPTION_IDENTITY_FILE="$T/other-id.txt" "$DRCTL" --config "$CONF" restore files --backup "$ID" --target "$T/r-norcp"
expect_rc 3 "restore with another identity, no recipients listed"; no_verdict "restore, no recipients listed"
# A missing object: the signed manifest lists it, so the set is damaged.
fresh_copy missing; rm "$SET/files.tar.zst.age"
run d verify "$ID"; expect_rc 4 "quick verify of a set missing its object"; expect_err "files.tar.zst.age is missing"
run d verify "$ID" --deep; expect_rc 4 "deep verify of a set missing its object"
run d restore files --backup "$ID" --target "$T/r-missing"; expect_rc 4 "restore from a set missing its object"
expect_err "files.tar.zst.age is missing" "names the missing object"
CONF=$BASECONF

# --- the signing secret key ([signing] secret_key_file) ------------------------
run env DRCTL_SIGNING_SECRET_KEY_FILE="$T/nope.key" "$DRCTL" --config "$CONF" backup --component files
expect_rc 3 "backup without the signing key"
expect_err "\[signing\] secret_key_file $T/nope.key" "names the config key and the file"
expect_err "hint: restore the signing key from its off-site copy, or point \[signing\] secret_key_file / DRCTL_SIGNING_SECRET_KEY_FILE at it" "hints the next step"
cp -p "$KEYDIR/signing.key" "$T/loose.key"; chmod 644 "$T/loose.key"
run env DRCTL_SIGNING_SECRET_KEY_FILE="$T/loose.key" "$DRCTL" --config "$CONF" backup --component files
expect_rc 2 "backup with a signing key of mode 0644"; expect_err "\[signing\] secret_key_file $T/loose.key is readable by others"

# --- password files: [postgres] password_file, [redis] password_file, [vault] token_file --
run env DRCTL_POSTGRES_CONNINFO="host=127.0.0.1 port=1 dbname=x" DRCTL_POSTGRES_PASSWORD_FILE="$T/nope-pg" \
  "$DRCTL" --config "$CONF" backup --component postgres
expect_rc 3 "backup with a missing [postgres] password_file"
expect_err "\[postgres\] password_file $T/nope-pg" "names the config key and the file"
expect_err "hint: .*DRCTL_POSTGRES_PASSWORD_FILE" "hints the variable that points at it"
echo secret > "$T/loose-pg"; chmod 644 "$T/loose-pg"
run env DRCTL_POSTGRES_CONNINFO="host=127.0.0.1 port=1 dbname=x" DRCTL_POSTGRES_PASSWORD_FILE="$T/loose-pg" \
  "$DRCTL" --config "$CONF" backup --component postgres
expect_rc 2 "backup with a [postgres] password_file of mode 0644"; expect_err "\[postgres\] password_file $T/loose-pg is readable by others"
start_redis
run env DRCTL_REDIS_URL="$REDIS_URL" DRCTL_REDIS_PASSWORD_FILE="$T/nope-redis" "$DRCTL" --config "$CONF" backup --component redis
expect_rc 3 "backup with a missing [redis] password_file"
expect_err "\[redis\] password_file $T/nope-redis" "names the config key and the file"
run env DRCTL_VAULT_ADDR=http://127.0.0.1:1 DRCTL_VAULT_TOKEN_FILE="$T/nope-vault" "$DRCTL" --config "$CONF" backup --component vault
expect_rc 3 "backup with a missing [vault] token_file"
expect_err "\[vault\] token_file $T/nope-vault" "names the config key and the file"
run d list; expect_out "^$ID +complete +deep " "after all of it, the set is still complete and deep-verified"
echo "$CHECKS passed, 0 failed"
