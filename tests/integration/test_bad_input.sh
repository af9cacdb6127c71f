#!/usr/bin/env bash
# Bad input ends in a clear error with a hint and a non-zero exit, and nothing
# already in the repository is damaged: malformed config, missing key file,
# key file readable by others, unwritable repository, full disk.
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"

drctl_init_in "$T/base"
SRC="$T/src"; mkdir -p "$SRC"; echo data > "$SRC/f.txt"
export DRCTL_FILES_PATHS="$SRC"
GOOD=$(d backup --component files 2>/dev/null)
snapshot() { (cd "$REPO" && find . -type f ! -name lock -exec sha256sum {} + | sort); }
BEFORE=$(snapshot)

# malformed configuration: unknown key, bad value, syntax
cp "$CONF" "$T/bad.conf"; printf '\n[repository]\npathz = /x\n' >> "$T/bad.conf"
run "$DRCTL" --config "$T/bad.conf" list; expect_rc 2 "unknown key"
expect_err "bad.conf:[0-9]+: unknown key \"pathz\"" "names file, line and key"; expect_err "hint: .*path" "hints the right key"
cp "$CONF" "$T/bad2.conf"; printf '\n[compression]\nlevel = fast\n' >> "$T/bad2.conf"
run "$DRCTL" --config "$T/bad2.conf" backup; expect_rc 2 "bad number"; expect_err "bad2.conf:[0-9]+: .*level"
run env DRCTL_COMPRESSION_LEVEL=99 "$DRCTL" --config "$CONF" backup; expect_rc 2 "out-of-range environment override"
expect_err "DRCTL_COMPRESSION_LEVEL" "names the variable"
run "$DRCTL" --config "$T/none.conf" list; expect_rc 2 "missing config"; expect_err "drctl init" "hints drctl init"

# missing key file
run env DRCTL_SIGNING_SECRET_KEY_FILE="$T/nope.key" "$DRCTL" --config "$CONF" backup
[ "$RC" != 0 ] || fail "backup without a signing key succeeded"; expect_err "nope.key" "names the missing key file"
# key file readable by others
cp -p "$T/base/signing.key" "$T/loose.key"; chmod 644 "$T/loose.key"
run env DRCTL_SIGNING_SECRET_KEY_FILE="$T/loose.key" "$DRCTL" --config "$CONF" backup
expect_rc 2 "signing key with mode 0644"; expect_err "readable by others" "explains"; expect_err "chmod 600" "hints chmod"
cp -p "$T/base/age-identity.txt" "$T/loose-id.txt"; chmod 640 "$T/loose-id.txt"
run env DRCTL_ENCRYPTION_IDENTITY_FILE="$T/loose-id.txt" "$DRCTL" --config "$CONF" restore files --target "$T/r"
expect_rc 2 "identity with mode 0640"; expect_err "readable by others"
# wrong identity
age-keygen -o "$T/other-id.txt" 2>/dev/null; chmod 600 "$T/other-id.txt"
run env DRCTL_ENCRYPTION_IDENTITY_FILE="$T/other-id.txt" "$DRCTL" --config "$CONF" restore files --target "$T/r2"
[ "$RC" != 0 ] || fail "restore with a foreign identity succeeded"; expect_err "identity" "says the identity does not match"
[ ! -e "$T/r2" ] || [ -z "$(ls -A "$T/r2")" ] || fail "a failed restore wrote files"

# unwritable repository (root ignores modes, so use a read-only mount when root)
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$T/ro"; mount -t tmpfs -o size=4m tmpfs "$T/ro"; cp -a "$REPO" "$T/ro/repo"; mount -o remount,ro "$T/ro"
  trap 'rc=$?; umount "$T/ro" 2>/dev/null || true; rm -rf "$T"; exit $rc' EXIT
  run env DRCTL_REPOSITORY_PATH="$T/ro/repo" "$DRCTL" --config "$CONF" backup
else
  cp -a "$REPO" "$T/ro-repo"; chmod -R a-w "$T/ro-repo"
  run env DRCTL_REPOSITORY_PATH="$T/ro-repo" "$DRCTL" --config "$CONF" backup
fi
[ "$RC" != 0 ] || fail "backup into a read-only repository succeeded"
expect_err "(Read-only|Permission denied|cannot)" "explains the repository cannot be written"
[ ! -d "$T/ro-repo" ] || chmod -R u+w "$T/ro-repo" # so that the cleanup can remove it

# disk full: a 3 MiB repository and 8 MiB of incompressible data
disk_full_case() {
  mkdir "$T/small/repo"
  run env DRCTL_REPOSITORY_PATH="$T/small/repo" DRCTL_FILES_PATHS="$SRC" "$DRCTL" --config "$CONF" backup
  expect_rc 0 "a small backup fits"
  SMALLGOOD=$OUT
  head -c 8000000 /dev/urandom > "$T/big.bin"
  run env DRCTL_REPOSITORY_PATH="$T/small/repo" DRCTL_FILES_PATHS="$T/big.bin" "$DRCTL" --config "$CONF" backup
  expect_rc 6 "backup into a full disk"
  expect_err "repository is full" "says the disk is full"; expect_err "hint: free space" "hints what to do"
  expect_err "nothing was published" "says nothing was published"
  run env DRCTL_REPOSITORY_PATH="$T/small/repo" "$DRCTL" --config "$CONF" verify "$SMALLGOOD" --deep
  expect_rc 0 "the set already there still verifies after the disk-full failure"
  [ "$(ls "$T/small/repo/backups" | wc -l)" = 1 ] || fail "debris left after the disk-full failure: $(ls "$T/small/repo/backups")"
  pass_note "the failed backup removed its own objects"
}
with_tmpfs 3m "$T/small" disk_full_case

# nothing configured to back up
run env DRCTL_FILES_PATHS= "$DRCTL" --config "$CONF" backup; expect_rc 2 "nothing to back up"
# unknown command, bad id
run "$DRCTL" --config "$CONF" frobnicate; expect_rc 2 "unknown command"
run d verify nonsense; expect_rc 2 "bad id"
run d verify 20000101T000000Z-0000; expect_rc 3 "unknown id"; expect_err "does not exist"

[ "$BEFORE" = "$(snapshot)" ] || fail "the repository changed during the bad-input cases"
pass_note "every byte of the repository is as it was"
run d verify "$GOOD" --deep; expect_rc 0 "the original set verifies"
echo "$CHECKS passed, 0 failed"
