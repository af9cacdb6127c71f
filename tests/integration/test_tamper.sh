#!/usr/bin/env bash
# Tampering is caught: a flipped byte in an archive object, in the manifest or
# in a signature; a truncated object; a missing object; a signature by another
# key; an extra archive member; unsafe member names.  Each case works on its
# own copy of a good repository and must give a non-zero exit (4 = integrity)
# and a message naming the damaged object.
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
require_tools python3

drctl_init_in "$T/base"
SRC="$T/src"; mkdir -p "$SRC/a"
head -c 2000000 /dev/urandom > "$SRC/a/big.bin"
echo hello > "$SRC/a/small.txt"
export DRCTL_FILES_PATHS="$SRC"
ID=$(d backup --component files 2>/dev/null)
BASECONF=$CONF; BASEREPO=$REPO; KEYDIR="$T/base"
RECIPIENT=$(grep -o 'age1[0-9a-z]*' "$KEYDIR/age-identity.txt" | head -1)

# fresh_copy NAME: a copy of the good repository, CONF pointing at it; SET is the set folder.
fresh_copy() {
  rm -rf "$T/$1"; cp -a "$BASEREPO" "$T/$1"
  CONF="$T/$1.conf"; sed "s#^path = .*#path = $T/$1#" "$BASECONF" > "$CONF"; chmod 600 "$CONF"
  SET="$T/$1/backups/$ID"
}
flip_byte() { # FILE OFFSET
  local b; b=$(dd if="$1" bs=1 skip="$2" count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
  printf "$(printf '\\%03o' $(( (b ^ 1) & 255 )))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
# resign: re-sign manifest and sums with drctl's own key, using stock minisign.
resign() {
  rm -f "$SET/manifest.json.minisig" "$SET/SHA256SUMS.minisig"
  minisign -S -s "$KEYDIR/signing.key" -m "$SET/manifest.json" </dev/null >/dev/null
  minisign -S -s "$KEYDIR/signing.key" -m "$SET/SHA256SUMS" </dev/null >/dev/null
}
# replace_object TARFILE: encrypt it as the files object, fix the hashes, re-sign.
replace_object() {
  zstd -q -f "$1" -o "$T/obj.tar.zst"
  age -r "$RECIPIENT" -o "$SET/files.tar.zst.age" "$T/obj.tar.zst"
  local s n; s=$(sha256sum "$SET/files.tar.zst.age" | cut -d' ' -f1); n=$(stat -c %s "$SET/files.tar.zst.age")
  jq --arg s "$s" --argjson n "$n" '.components.files.object_sha256=$s | .components.files.object_size=$n' \
     "$SET/manifest.json" > "$T/m.json" && cp "$T/m.json" "$SET/manifest.json"
  echo "$s  files.tar.zst.age" > "$SET/SHA256SUMS"
  resign
}

run d verify "$ID" --deep; expect_rc 0 "the untouched set verifies"

for offset in 100 500000 $(( $(stat -c %s "$BASEREPO/backups/$ID/files.tar.zst.age") - 3 )); do
  fresh_copy flip$offset; flip_byte "$SET/files.tar.zst.age" "$offset"
  run d verify "$ID"; expect_rc 4 "quick verify, object byte $offset flipped"
  expect_err "files.tar.zst.age" "the message names the object"
  run d verify "$ID" --deep; expect_rc 4 "deep verify, object byte $offset flipped"
  run d restore files --backup "$ID" --target "$T/r-flip$offset"; [ "$RC" != 0 ] || fail "restore of a damaged object succeeded"
  pass_note "restore refuses the damaged object"
done

fresh_copy manifest; flip_byte "$SET/manifest.json" 40
run d verify "$ID"; expect_rc 4 "flipped byte in the manifest"; expect_err "manifest.json" "names the manifest"
run d list; expect_out "$ID +invalid" "list marks the set invalid"

fresh_copy sig; flip_byte "$SET/manifest.json.minisig" 60
run d verify "$ID"; expect_rc 4 "flipped byte in the manifest signature"; expect_err "manifest.json"

fresh_copy sumsig; flip_byte "$SET/SHA256SUMS.minisig" 60
run d verify "$ID"; expect_rc 4 "flipped byte in the SHA256SUMS signature"; expect_err "SHA256SUMS"

fresh_copy trunc; truncate -s 1000 "$SET/files.tar.zst.age"
run d verify "$ID"; expect_rc 4 "truncated object"; expect_err "files.tar.zst.age.*(truncated|bytes)"

fresh_copy missing; rm "$SET/files.tar.zst.age"
run d verify "$ID"; [ "$RC" != 0 ] || fail "missing object accepted"; expect_err "files.tar.zst.age.*missing" "missing object named"

fresh_copy otherkey
minisign -G -W -p "$T/other.pub" -s "$T/other.key" >/dev/null </dev/null
rm -f "$SET/manifest.json.minisig"; minisign -S -s "$T/other.key" -m "$SET/manifest.json" </dev/null >/dev/null
run d verify "$ID"; expect_rc 4 "manifest signed by another key"; expect_err "key" "the error talks about the key"

# An extra member, correctly encrypted, hashed and signed: only deep verify
# (and restore) can see it is not in the manifest.
fresh_copy extra
age -d -i "$KEYDIR/age-identity.txt" "$SET/files.tar.zst.age" | zstd -dq > "$T/orig.tar"
mkdir -p "$T/extra"; echo evil > "$T/extra/evil.txt"
cp "$T/orig.tar" "$T/extra.tar"; tar -rf "$T/extra.tar" -C "$T/extra" evil.txt
replace_object "$T/extra.tar"
run d verify "$ID"; expect_rc 0 "quick verify cannot see inside (hashes re-signed)"
run d verify "$ID" --deep; expect_rc 4 "deep verify finds the extra member"; expect_err "evil.txt.*does not list" "names the member"
run d restore files --backup "$ID" --target "$T/r-extra"; expect_rc 4 "restore refuses the extra member"
[ ! -e "$T/r-extra/evil.txt" ] || fail "the extra member was written"

# Unsafe names: absolute, `..`, a symbolic link, a hard link.
mk_tar() { python3 - "$@" <<'PY'
import io, sys, tarfile
out, kind = sys.argv[1], sys.argv[2]
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    def add(name, data=b"x", typ=tarfile.REGTYPE, link=""):
        i = tarfile.TarInfo(name); i.size = len(data) if typ == tarfile.REGTYPE else 0; i.type = typ; i.linkname = link
        t.addfile(i, io.BytesIO(data) if typ == tarfile.REGTYPE else None)
    if kind == "absolute": add("/tmp/drctl-evil-abs")
    if kind == "dotdot": add("a/../../drctl-evil-dotdot")
    if kind == "symlink": add("a/link", typ=tarfile.SYMTYPE, link="/etc/passwd")
    if kind == "hardlink": add("a/hard", typ=tarfile.LNKTYPE, link="/etc/passwd")
PY
}
for kind in absolute dotdot symlink hardlink; do
  fresh_copy name-$kind; mk_tar "$T/$kind.tar" "$kind"; replace_object "$T/$kind.tar"
  run d verify "$ID" --deep; expect_rc 4 "deep verify refuses a $kind member"
  expect_err "refused" "the $kind member is refused by name"
  run d restore files --backup "$ID" --target "$T/r-$kind"; expect_rc 4 "restore refuses a $kind member"
done
[ ! -e /tmp/drctl-evil-abs ] && [ ! -e "$T/drctl-evil-dotdot" ] || fail "an unsafe member was written outside the target"
pass_note "nothing was written outside the target"

# A symbolic link planted inside the target must not lead a restore outside it.
fresh_copy plant; mkdir -p "$T/r-plant/tmp"; ln -s "$T/outside" "$T/r-plant/tmp/$(basename "$T")"; mkdir -p "$T/outside"
run d restore files --backup "$ID" --target "$T/r-plant" --force
[ "$RC" != 0 ] || fail "restore through a planted link succeeded"
[ -z "$(ls -A "$T/outside")" ] || fail "restore wrote through a planted symbolic link"
pass_note "a planted symbolic link in the target is not followed"

# Finally, the original repository is untouched by all of this.
CONF=$BASECONF; run d verify "$ID" --deep; expect_rc 0 "the original set still verifies"
echo "$CHECKS passed, 0 failed"
