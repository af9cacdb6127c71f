#!/usr/bin/env bash
# Memory and speed of the Vault snapshot path with a large snapshot: the
# Vault double pads state.bin with SIZE bytes (default 1 GiB) of
# incompressible filler, and drctl backs it up (GET -> gzip/tar check ->
# tar -> zstd -> age -> SHA-256 -> repository), deep-verifies it and restores
# it (repository -> age -> zstd -> tar -> check -> POST).  Each run is under
# /usr/bin/time -v; the figure that matters is drctl's peak RSS, which must
# stay under 64 MiB whatever the snapshot's size.
#
#   bash bench/bench_vault_memory.sh [SIZE_BYTES] [pattern|random]
# Needs a built drctl: DRCTL=build/drctl (default: ./build/drctl).
set -eo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DRCTL="${DRCTL:-$ROOT/build/drctl}"
SIZE="${1:-1073741824}"
KIND="${2:-random}"
LIMIT_KB=$((64 * 1024))
[ -x "$DRCTL" ] || { echo "build drctl first (DRCTL=$DRCTL)"; exit 2; }
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)"; exit 2; }

W=$(mktemp -d "${TMPDIR:-/tmp}/bench-vault.XXXXXX")
trap 'rm -rf "$W"' EXIT
. "$ROOT/tests/harness/services.sh"
harness_init
export HOME="$W/home"; mkdir -p "$HOME"

"$DRCTL" --config "$W/drctl.conf" init --repository "$W/repo" --state-dir "$W/state" >/dev/null
start_vault_double --snapshot-pad-bytes "$SIZE" --snapshot-pad-kind "$KIND" --restore-delay-ms 100
export DRCTL_VAULT_ADDRESS=$VAULT_ADDR VAULT_TOKEN=root

# measure NAME CMD...: runs CMD under time -v, prints seconds and peak RSS.
measure() {
  local name="$1"; shift
  /usr/bin/time -v -o "$W/time.$name" "$@" >"$W/out.$name" 2>"$W/err.$name" || {
    echo "$name failed:"; tail -5 "$W/err.$name"; exit 1; }
  local rss wall
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$W/time.$name")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$W/time.$name")
  printf '%-12s wall %-9s peak RSS %6d KiB (%5.1f MiB)  %s\n' "$name" "$wall" "$rss" "$(echo "$rss / 1024" | bc -l)" \
    "$([ "$rss" -lt "$LIMIT_KB" ] && echo "under 64 MiB" || echo "OVER 64 MiB")"
  [ "$rss" -lt "$LIMIT_KB" ] || OVER=1
}

OVER=0
echo "vault snapshot: state.bin padded with $SIZE bytes ($KIND filler)"
measure backup "$DRCTL" --config "$W/drctl.conf" backup --component vault
ID=$(cat "$W/out.backup")
SNAP=$(jq -r '.components.vault.snapshot.size' "$W/repo/backups/$ID/manifest.json")
OBJ=$(jq -r '.components.vault.object_size' "$W/repo/backups/$ID/manifest.json")
echo "             snapshot $SNAP bytes (gzip), stored object $OBJ bytes"
measure verify-deep "$DRCTL" --config "$W/drctl.conf" verify --deep "$ID"
measure restore "$DRCTL" --config "$W/drctl.conf" restore vault --backup "$ID"
echo "reference: the Vault double (node) that produced and consumed the stream is not counted"
exit "$OVER"
