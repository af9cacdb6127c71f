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

# bench_cpu_by_program NAME CMD...: runs CMD (under GNU time) and leaves in
# $W/NAME.wall its wall seconds and in $W/NAME.cpu one line per program
# ("name CPU-seconds", the largest first): "drctl" is CMD with its children
# (pg_dump, pg_dumpall), and each "name:pid" of BENCH_CPU_SERVERS (e.g.
# "postgres:$PG_PID redis-server:$REDIS_PID") is that server with every
# process under it (PostgreSQL's backends, Redis's RDB child), read from
# /proc before and after.  This is where the CPU of a run goes, servers
# included; on a machine with few cores it tells whether a target can be
# met at all.  Other work on the machine is not counted (it looks idle).
bench_cpu_by_program() {
	local name=$1 entry before=() i=0
	shift
	for entry in ${BENCH_CPU_SERVERS:-}; do before+=("$(_bench_tree_cpu "${entry#*:}")"); done
	/usr/bin/time -f '%e %U %S' -o "$W/$name.time" "$@" >"$W/out" 2>"$W/err" || { cat "$W/err" >&2; exit 1; }
	awk '{ print $1 }' "$W/$name.time" >"$W/$name.wall"
	{
		awk '{ printf "drctl %.2f\n", $2 + $3 }' "$W/$name.time"
		for entry in ${BENCH_CPU_SERVERS:-}; do
			echo "${entry%%:*} $(echo "$(_bench_tree_cpu "${entry#*:}") - ${before[i]}" | bc -l | xargs printf '%.2f')"
			i=$((i + 1))
		done
	} | sort -k2,2gr >"$W/$name.cpu"
}

# _bench_tree_cpu PID: the CPU-seconds so far of PID and of every process
# under it, with what the children they reaped used (utime, stime, cutime,
# cstime of /proc/PID/stat: a process that ended during the run is in its
# parent's cutime, so nothing is missed or counted twice).
_bench_tree_cpu() {
	# (a process may end while it is read: what is left still counts, and
	# cat's complaint must not stop a benchmark under set -e)
	{ cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v root="$1" -v hz="$(getconf CLK_TCK)" '
		{ pid = $1; line = $0; sub(/^[0-9]+ \(.*\) /, "", line); split(line, f, " ")
		  parent[pid] = f[2]; cpu[pid] = f[12] + f[13] + f[14] + f[15] }
		END { for (p in cpu) { q = p; while (q != root && (q in parent) && q > 1) q = parent[q]
		                       if (q == root) s += cpu[p] }
		      printf "%.2f\n", s / hz }'
}

# bench_cpu_of NAME [PROGRAM...]: CPU-seconds of those programs in the run
# NAME of bench_cpu_by_program (all of them without PROGRAM).
bench_cpu_of() {
	local name=$1
	shift
	awk -v want=" $* " 'want == "  " || index(want, " " $1 " ") { s += $2 } END { printf "%.2f\n", s }' "$W/$name.cpu"
}

# bench_cpu_line NAME: "wall 10.23 s; CPU-s: drctl 7.37, postgres 7.47, ..."
# (programs under 0.05 CPU-s left out).
bench_cpu_line() {
	printf 'wall %.2f s; CPU-s: %s\n' "$(cat "$W/$1.wall")" \
		"$(awk '$2 >= 0.05 { printf "%s%s %.2f", sep, $1, $2; sep = ", " }' "$W/$1.cpu")"
}

# bench_idle NAME: the CPU-seconds the run NAME of bench_cpu_by_program left
# idle: every core for its wall time, less what its programs used.
bench_idle() {
	echo "$(nproc) * $(cat "$W/$1.wall") - $(bench_cpu_of "$1")" | bc -l
}

# bench_floor NAME EXTRA [SERIAL]: the least wall time a run could take that
# does what the run NAME did, plus EXTRA CPU-seconds of other work, plus
# SERIAL seconds (default 0) that can overlap nothing: NAME's time, plus the
# part of EXTRA that NAME's idle CPU cannot hold spread over every core,
# plus SERIAL.  Perfect packing and no cost of contention: a lower bound,
# though from one run of each, so as noisy as those runs are.
bench_floor() {
	local name=$1 extra=$2 serial=${3:-0}
	echo "x = $extra - $(bench_idle "$name"); if (x < 0) x = 0; $(cat "$W/$name.wall") + x / $(nproc) + $serial" | bc -l
}
