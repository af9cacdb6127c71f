#!/usr/bin/env bash
# bench_redis.sh [N]: drctl's Redis backup and restore side by side with the
# stock tools, in one run on the same data (the machine is shared and noisy,
# so only the ratios mean something).  N=1000000 gives the 1.25 M-key set of
# bench/make-redis-data.sh (REDIS_DATA_SCRIPT=... to use another generator).
#   backup:  drctl backup --component redis (zstd, age, signing) vs redis-cli --rdb FILE
#   restore: drctl restore redis into an empty running server, by RESTORE
#            commands and by replication (--method replication), vs a stock
#            redis-server started on the same RDB (start until loading:0)
# Targets (issue 4): backup <= 1.10x, restore <= 3x, drctl peak RSS < 64 MiB.
set -euo pipefail
N=${1:-1000000}
. "$(dirname "$0")/benchlib.sh"
bench_init REDIS_DATA_SCRIPT="$SRC_DIR/bench/make-redis-data.sh"
W="$HARNESS_DIR/bench"; mkdir -p "$W"

start_redis; SRC=$REDIS_PORT; unset REDIS_PID
start_redis; DST=$REDIS_PORT; unset REDIS_PID
bash "$REDIS_DATA_SCRIPT" "$SRC" "$N" >/dev/null
keys=$(redis-cli -p "$SRC" DBSIZE)
"$DRCTL" --config "$W/etc/drctl.conf" init --repository "$W/repo" --state-dir "$W/state" >/dev/null
export DRCTL_REDIS_URL="redis://127.0.0.1:$SRC"
C=(--config "$W/etc/drctl.conf")

secs() { local s e; s=$(date +%s.%N); "$@"; e=$(date +%s.%N); echo "$e - $s" | bc -l; }
best() { printf '%s\n' "$@" | sort -g | head -1; }
rss_of() { /usr/bin/time -f '%M' -o "$W/rss" "$@" >/dev/null 2>"$W/stderr"; cat "$W/rss"; }

stock_backup() { redis-cli -p "$SRC" --rdb "$W/stock.rdb" >/dev/null 2>&1; }
drctl_backup() { "$DRCTL" -q "${C[@]}" backup --component redis >"$W/id"; }
drctl_restore() {
	redis-cli -p "$DST" FLUSHALL >/dev/null
	"$DRCTL" -q "${C[@]}" restore redis --backup "$(cat "$W/id")" --target "redis://127.0.0.1:$DST" >/dev/null
}
drctl_restore_repl() {
	redis-cli -p "$DST" FLUSHALL >/dev/null
	"$DRCTL" -q "${C[@]}" restore redis --backup "$(cat "$W/id")" --target "redis://127.0.0.1:$DST" --method replication >/dev/null
}
stock_load() { bench_redis_cold_load "$W/stock.rdb" "$keys"; }

sb1=$(secs stock_backup); db1=$(secs drctl_backup); db2=$(secs drctl_backup); sb2=$(secs stock_backup)
sl1=$(stock_load); dr1=$(secs drctl_restore); dp1=$(secs drctl_restore_repl); sl2=$(stock_load)
dp2=$(secs drctl_restore_repl); dr2=$(secs drctl_restore); sl3=$(stock_load)
sb=$(best "$sb1" "$sb2"); dbk=$(best "$db1" "$db2"); sl=$(best "$sl1" "$sl2"); dr=$(best "$dr1" "$dr2")
[ "$(redis-cli -p "$DST" DBSIZE)" = "$keys" ] || echo "warning: restored server has $(redis-cli -p "$DST" DBSIZE) keys, source $keys" >&2
rss_b=$(rss_of "$DRCTL" -q "${C[@]}" backup --component redis)
redis-cli -p "$DST" FLUSHALL >/dev/null
rss_r=$(rss_of "$DRCTL" -q "${C[@]}" restore redis --backup "$(cat "$W/id")" --target "redis://127.0.0.1:$DST")
printf 'data: %s keys, RDB %s MiB, %s cores\n' "$keys" "$(($(stat -c %s "$W/stock.rdb") >> 20))" "$(nproc)"
printf 'backup   redis-cli --rdb FILE              : %6.2f s\n' "$sb"
printf 'backup   drctl backup (zstd, age, signed)  : %6.2f s   ratio %.2fx (target <= 1.10x)\n' "$dbk" "$(echo "$dbk / $sb" | bc -l)"
printf 'restore  stock redis-server loading the RDB: %6.2f s\n' "$sl"
printf 'restore  drctl restore into a running server: %6.2f s   ratio %.2fx (target <= 3x)\n' "$dr" "$(echo "$dr / $sl" | bc -l)"
printf 'restore  by replication, rounds          : %6.2f s, %6.2f s against loads of %.2f, %.2f, %.2f s: ratios %.2fx, %.2fx\n' \
	"$dp1" "$dp2" "$sl1" "$sl2" "$sl3" "$(echo "$dp1 / (($sl1 + $sl2) / 2)" | bc -l)" "$(echo "$dp2 / (($sl2 + $sl3) / 2)" | bc -l)"
printf 'peak RSS drctl backup: %d MiB, restore: %d MiB (target < 64 MiB)\n' $((rss_b / 1024)) $((rss_r / 1024))
