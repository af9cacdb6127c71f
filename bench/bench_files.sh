#!/usr/bin/env bash
# bench_files.sh [MiB] [tree|mixed] [ROUNDS]: drctl's files backup and deep
# verify side by side with the stock pipeline, on the same data, in ROUNDS
# (default 5, at least 3) interleaved rounds: stock first in odd rounds,
# drctl first in even ones, so that a machine shared with other work (noisy)
# weighs on both alike.
#   write: drctl backup --component files  vs  tar -cf - DIR | zstd -3 -T0 | age -r R > out
#   read:  drctl verify --deep             vs  age -d | zstd -d | tar -t
# Data (bench/make-mixed-folder.sh): tree (default) is its tree layout
# (2000 small configs, JSON logs, random blobs); mixed is half random bytes,
# half word text (its halves layout).
# Before each run its previous output is removed (the stock pipeline
# overwrites its file, so drctl's previous set goes too: both write into
# page cache that was just freed) and the data is read once (something else
# may have dropped the page cache), and every dirty page is written out.
# Prints every round (wall time and CPU time, user + sys, of each side, and
# the ratio drctl / stock), the median ratio with the spread, and drctl's
# peak RSS.  For reference, the write rounds also time the stock pipeline
# followed by an fsync of its output: drctl's object is on disk when the
# backup returns, the stock output is not.
# Targets: write <= 1.0x, read <= 1.0x (median), drctl peak RSS < 64 MiB.
# BENCH_RENICE=N (root, e.g. -15): run each timed command in a session of its
# own whose scheduling group has nice N, so that other sessions' work on a
# shared machine weighs less on both sides (closer to a quiet machine); the
# figures then say so.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); root=$(dirname "$here")
DRCTL=${DRCTL:-$root/build/drctl}
mib=${1:-1024}; kind=${2:-tree}; rounds=${3:-5}
case $kind in
tree) layout=tree ;;
mixed) layout=halves ;;
*) echo "usage: bench_files.sh [MiB] [tree|mixed] [ROUNDS]" >&2; exit 2 ;;
esac
[ "$rounds" -ge 3 ] || { echo "bench_files.sh: at least 3 rounds" >&2; exit 2; }
W=$(mktemp -d "${BENCH_TMP:-/var/tmp}/drctl-bench-files.XXXXXX"); trap 'rm -rf "$W"' EXIT
bash "$here/make-mixed-folder.sh" "$W/data" "$mib" "$layout" >/dev/null
"$DRCTL" --config "$W/etc/drctl.conf" init --repository "$W/repo" >/dev/null
R=$(grep -o 'age1[0-9a-z]*' "$W/etc/age-identity.txt" | head -1)
export DRCTL_FILES_PATHS="$W/data"
STOCK="$W/stock.tar.zst.age"

stock_write() { tar -cf - -C "$W" data | zstd -q -3 -T0 | age -r "$R" > "$STOCK"; }
stock_write_fsync() { stock_write && sync "$STOCK"; }
drctl_write() { "$DRCTL" -q --config "$W/etc/drctl.conf" backup --component files >/dev/null; }
stock_read() { age -d -i "$W/etc/age-identity.txt" "$STOCK" | zstd -q -d | tar -tf - >/dev/null; }
drctl_read() { "$DRCTL" -q --config "$W/etc/drctl.conf" verify latest --deep >/dev/null; }
export -f stock_write stock_write_fsync drctl_write stock_read drctl_read
export W R STOCK DRCTL

# timed NAME FUNCTION: run it (its previous output removed first when it
# writes, the data read once), leave "wall cpu rss_kib" in $W/NAME
timed() {
	case $2 in
	stock_write*) rm -f "$STOCK" ;;
	drctl_write) rm -rf "$W/repo/backups/"* ;;
	esac
	find "$W/data" -type f -exec cat {} + >/dev/null
	# Dirty pages written out first (the data just generated, the stock
	# output of the run before): no run pays for another's writeback.
	sync
	if [ -n "${BENCH_RENICE:-}" ]; then
		setsid --wait bash -c 'echo "$1" > /proc/$$/autogroup && exec /usr/bin/time -f "%e %U %S %M" -o "$2" bash -c "$3"' \
			renice "$BENCH_RENICE" "$W/time" "$2"
	else
		/usr/bin/time -f '%e %U %S %M' -o "$W/time" bash -c "$2"
	fi || { echo "bench_files.sh: $2 failed" >&2; exit 1; }
	awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' "$W/time" >"$W/$1"
}
wall() { cut -d' ' -f1 "$W/$1"; }
cpu() { cut -d' ' -f2 "$W/$1"; }
rss() { cut -d' ' -f3 "$W/$1"; }
ratio() { echo "$1 / $2" | bc -l | xargs printf '%.2f'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
spread() { sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f-%.2f", lo, hi }'; }

size=$(du -sm "$W/data" | cut -f1)
printf 'data: %s MiB, %s folder; %s cores; %s interleaved rounds%s\n' "$size" "$kind" "$(nproc)" "$rounds" \
	"${BENCH_RENICE:+; each run in its own session, scheduling group nice $BENCH_RENICE}"
peak=0
: >"$W/w_ratios"; : >"$W/w_fsync_ratios"; : >"$W/r_ratios"
echo "write: drctl backup --component files vs tar | zstd -3 -T0 | age (and vs the same + fsync of its output)"
for i in $(seq 1 "$rounds"); do
	if [ $((i % 2)) = 1 ]; then
		timed s stock_write; timed d drctl_write; timed f stock_write_fsync
	else
		timed d drctl_write; timed s stock_write; timed f stock_write_fsync
	fi
	[ "$(rss d)" -gt "$peak" ] && peak=$(rss d)
	r=$(ratio "$(wall d)" "$(wall s)"); rf=$(ratio "$(wall d)" "$(wall f)")
	echo "$r" >>"$W/w_ratios"; echo "$rf" >>"$W/w_fsync_ratios"
	printf '  round %d: stock %6.2f s (cpu %5.2f)  drctl %6.2f s (cpu %5.2f)  ratio %.2fx | stock+fsync %6.2f s, ratio %.2fx\n' \
		"$i" "$(wall s)" "$(cpu s)" "$(wall d)" "$(cpu d)" "$r" "$(wall f)" "$rf"
done
echo "read: drctl verify --deep vs age -d | zstd -d | tar -t"
for i in $(seq 1 "$rounds"); do
	if [ $((i % 2)) = 1 ]; then timed s stock_read; timed d drctl_read; else timed d drctl_read; timed s stock_read; fi
	[ "$(rss d)" -gt "$peak" ] && peak=$(rss d)
	r=$(ratio "$(wall d)" "$(wall s)")
	echo "$r" >>"$W/r_ratios"
	printf '  round %d: stock %6.2f s (cpu %5.2f)  drctl %6.2f s (cpu %5.2f)  ratio %.2fx\n' \
		"$i" "$(wall s)" "$(cpu s)" "$(wall d)" "$(cpu d)" "$r"
done
printf 'write ratio: median %.2fx (rounds %s; target <= 1.00x); vs stock+fsync: median %.2fx (rounds %s)\n' \
	"$(median <"$W/w_ratios")" "$(spread <"$W/w_ratios")" "$(median <"$W/w_fsync_ratios")" "$(spread <"$W/w_fsync_ratios")"
printf 'read ratio:  median %.2fx (rounds %s; target <= 1.00x)\n' "$(median <"$W/r_ratios")" "$(spread <"$W/r_ratios")"
printf 'drctl peak RSS: %d MiB (target < 64 MiB)\n' $((peak / 1024))
