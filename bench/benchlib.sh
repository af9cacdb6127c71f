# Helpers the benchmarks share.  A benchmark starts with
#   set -euo pipefail
#   . "$(dirname "$0")/benchlib.sh"
#   bench_init SCALE=10 ROUNDS=3
# Sourcing it sets SRC_DIR (the source tree) and sources
# tests/harness/services.sh (start_postgres, psql_, harness_free_port...).
SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=/dev/null
. "$SRC_DIR/tests/harness/services.sh"

# bench_init [NAME=DEFAULT...]: each NAME keeps the value the environment
# gives it, else gets DEFAULT; DRCTL (default: build/drctl of the tree) must
# be an executable; then the harness starts (harness_init).
bench_init() {
	local kv name
	for kv in "$@"; do
		name=${kv%%=*}
		[ -n "${!name:-}" ] || printf -v "$name" '%s' "${kv#*=}"
	done
	DRCTL=${DRCTL:-$SRC_DIR/build/drctl}
	[ -x "$DRCTL" ] || { echo "DRCTL=$DRCTL is not an executable (build first)" >&2; exit 2; }
	harness_init
}

# bench_timed_peak CONFIG ARGS...: runs drctl --config CONFIG ARGS (output
# in $W/drctl.out and $W/drctl.err) and prints its wall seconds and its peak
# RSS in KiB (VmHWM, sampled from /proc while it runs); exits when it fails.
bench_timed_peak() {
	local config=$1 s e pid peak=0 hwm
	shift
	s=$(date +%s.%N)
	"$DRCTL" --config "$config" "$@" >"$W/drctl.out" 2>"$W/drctl.err" &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
		[ -n "$hwm" ] && [ "$hwm" -gt "$peak" ] && peak=$hwm
		sleep 0.05
	done
	wait "$pid" || { cat "$W/drctl.err" >&2; exit 1; }
	e=$(date +%s.%N)
	echo "$(echo "$e - $s" | bc) $peak"
}

# bench_make_agents_db [PSQL ARGS...]: agents_db at $SCALE from $MAKE_SQL
# (default bench/make-agents-db.sql); SIZE gets its size, for the figures.
bench_make_agents_db() {
	psql_ "$@" -v scale="$SCALE" -f "${MAKE_SQL:-$SRC_DIR/bench/make-agents-db.sql}" >/dev/null
	SIZE=$(psql_ "$@" -At -c "select pg_size_pretty(pg_database_size('agents_db'))")
}

# bench_drop_databases WHERE [PSQL ARGS...]: drops the databases of the
# server that match the SQL condition WHERE (on datname).
bench_drop_databases() {
	local where=$1 db
	shift
	for db in $(psql_ "$@" -At -d postgres -c "select datname from pg_database where $where"); do
		"$PG_BIN/dropdb" "$@" "$db"
	done
}

# bench_settle_disk [PSQL ARGS...]: a checkpoint, the dirty pages written
# out and a pause, so that no timed run pays for the one before it.
bench_settle_disk() {
	psql_ "$@" -d postgres -c checkpoint >/dev/null
	sync
	sleep 1
}

# The largest of the numbers given as arguments.
bench_max() {
	printf '%s\n' "$@" | sort -g | tail -1
}

# The median of the numbers given as arguments.
bench_median() {
	printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'
}

# bench_redis_cold_load RDB KEYS [PERCENT]: the seconds a fresh Redis takes
# to load RDB (started on a copy of it, timed until INFO persistence says
# loading:0), the stock way to restore Redis.  Warns when it then holds
# fewer than PERCENT (default 100) per cent of KEYS.
bench_redis_cold_load() {
	local rdb=$1 keys=$2 percent=${3:-100} port dir pid s e
	port=$(harness_free_port); dir="$W/load-$port"; mkdir -p "$dir"; cp "$rdb" "$dir/dump.rdb"
	sync
	s=$(date +%s.%N)
	redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --dbfilename dump.rdb --save "" --appendonly no \
		--logfile "$dir/redis.log" </dev/null >/dev/null 2>&1 &
	pid=$!
	until [ "$(redis-cli -p "$port" INFO persistence 2>/dev/null | tr -d '\r' | grep '^loading:')" = loading:0 ]; do sleep 0.02; done
	e=$(date +%s.%N)
	[ "$(redis-cli -p "$port" DBSIZE)" -ge $((keys * percent / 100)) ] ||
		echo "warning: the cold load has $(redis-cli -p "$port" DBSIZE) keys, the source $keys" >&2
	kill "$pid"; wait "$pid" 2>/dev/null || true
	rm -rf "$dir"
	echo "$e - $s" | bc -l
}
