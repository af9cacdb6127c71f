# Helpers the benchmarks share; source it after tests/harness/services.sh
# (bench_redis_cold_load takes a port from harness_free_port).

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
