#!/usr/bin/env bash
# bench_files.sh [MiB]: drctl's files backup and deep verify side by side with
# the stock pipeline, in one run on the same data (the machine is shared and
# noisy, so only the ratios mean something).
#   write: drctl backup --component files   vs  tar -cf - DIR | zstd -3 -T0 | age -r R > out
#   read:  drctl verify --deep              vs  age -d | zstd -d | tar -t
# Targets (issue 2): write <= 1.1x, read <= 1.1x, drctl peak RSS < 64 MiB.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); root=$(dirname "$here")
DRCTL=${DRCTL:-$root/build/drctl}
mib=${1:-1024}
W=$(mktemp -d "${BENCH_TMP:-/var/tmp}/drctl-bench-files.XXXXXX"); trap 'rm -rf "$W"' EXIT
bash "$here/make-mixed-folder.sh" "$W/data" "$mib" >/dev/null
"$DRCTL" --config "$W/etc/drctl.conf" init --repository "$W/repo" >/dev/null
R=$(grep -o 'age1[0-9a-z]*' "$W/etc/age-identity.txt" | head -1)
export DRCTL_FILES_PATHS="$W/data"
sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
cat "$W"/data/*/* > /dev/null   # same warm cache for both

secs() { local s e; s=$(date +%s.%N); "$@"; e=$(date +%s.%N); echo "$e - $s" | bc -l; }
rss_of() { /usr/bin/time -f '%M' -o "$W/rss" "$@" >/dev/null 2>"$W/stderr"; cat "$W/rss"; }

stock_write() { tar -cf - -C "$W" data | zstd -q -3 -T0 | age -r "$R" > "$W/stock.tar.zst.age"; }
drctl_write() { "$DRCTL" -q --config "$W/etc/drctl.conf" backup --component files > "$W/id"; }
stock_read() { age -d -i "$W/etc/age-identity.txt" "$W/stock.tar.zst.age" | zstd -q -d | tar -tf - > /dev/null; }
drctl_read() { "$DRCTL" -q --config "$W/etc/drctl.conf" verify latest --deep > /dev/null; }

# alternate the order over two rounds, keep the best of each
best() { printf '%s\n' "$@" | sort -g | head -1; }
sw1=$(secs stock_write); dw1=$(secs drctl_write); dw2=$(secs drctl_write); sw2=$(secs stock_write)
sr1=$(secs stock_read); dr1=$(secs drctl_read); dr2=$(secs drctl_read); sr2=$(secs stock_read)
sw=$(best "$sw1" "$sw2"); dw=$(best "$dw1" "$dw2"); sr=$(best "$sr1" "$sr2"); dr=$(best "$dr1" "$dr2")
rss_w=$(rss_of "$DRCTL" -q --config "$W/etc/drctl.conf" backup --component files)
rss_r=$(rss_of "$DRCTL" -q --config "$W/etc/drctl.conf" verify latest --deep)
size=$(du -sm "$W/data" | cut -f1)
printf 'data: %s MiB mixed folder, %s cores\n' "$size" "$(nproc)"
printf 'write  stock tar|zstd -3 -T0|age : %6.2f s\n' "$sw"
printf 'write  drctl backup files        : %6.2f s   ratio %.2fx (target <= 1.10x)\n' "$dw" "$(echo "$dw / $sw" | bc -l)"
printf 'read   stock age -d|zstd -d|tar -t: %6.2f s\n' "$sr"
printf 'read   drctl verify --deep        : %6.2f s   ratio %.2fx (target <= 1.10x)\n' "$dr" "$(echo "$dr / $sr" | bc -l)"
printf 'peak RSS drctl backup: %d MiB, verify --deep: %d MiB (target < 64 MiB)\n' $((rss_w / 1024)) $((rss_r / 1024))
