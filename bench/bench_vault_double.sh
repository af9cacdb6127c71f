#!/usr/bin/env bash
# How much the Vault double's slowness faults slow things down: the raft
# snapshot fetched with no throttle and with snapshot_bps, and a request
# with no delay and with delay_ms.  The conformance test
# (tests/integration/test_vault_double_conformance.sh) checks that these
# faults leave the answers intact; the timings are figures, here.
#
#   bash bench/bench_vault_double.sh [PAD_BYTES] [BPS] [DELAY_MS]
#   (defaults: a 2 MB snapshot, 1000000 bytes/s, 250 ms)
# Needs node, curl and bc.
set -eo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PAD=${1:-2000000}
BPS=${2:-1000000}
DELAY=${3:-250}

W=$(mktemp -d "${TMPDIR:-/tmp}/bench-vault-double.XXXXXX")
trap 'rm -rf "$W"' EXIT
. "$ROOT/tests/harness/services.sh"
harness_init
start_vault_double --snapshot-pad-bytes "$PAD" --snapshot-pad-kind random

# seconds CURL-ARGS...: wall time of one request, from curl's own clock.
seconds() { vault_double_curl -o "$W/body" -w '%{time_total}' -H "X-Vault-Token: $VAULT_TOKEN" "$@"; }

free=$(seconds "$VAULT_ADDR/v1/sys/storage/raft/snapshot")
size=$(stat -c %s "$W/body")
vault_double_admin "{\"snapshot_bps\":$BPS}"
slow=$(seconds "$VAULT_ADDR/v1/sys/storage/raft/snapshot")
vault_double_admin '{"snapshot_bps":0}'
printf 'snapshot of %d bytes: %.3f s unthrottled, %.3f s at snapshot_bps=%d (expected about %.3f s)\n' \
  "$size" "$free" "$slow" "$BPS" "$(echo "$size / $BPS" | bc -l)"

free=$(seconds "$VAULT_ADDR/v1/sys/mounts")
vault_double_admin "{\"delay_ms\":$DELAY}"
slow=$(seconds "$VAULT_ADDR/v1/sys/mounts")
vault_double_admin '{"delay_ms":0}'
printf 'GET /v1/sys/mounts: %.3f s undelayed, %.3f s with delay_ms=%d\n' "$free" "$slow" "$DELAY"
