#!/usr/bin/env bash
# bench_drill.sh: `drctl drill` against the stock tools doing the restores
# alone, in one run on the same data (the machine is shared and noisy, so
# only the ratios of interleaved rounds mean something):
#
#   stock:  pg_restore -j 2 from a directory dump (pg_dump -Fd) into a new
#           database of the scratch PostgreSQL
#           + a Redis cold load: a fresh redis-server starting on the RDB
#             (redis-cli --rdb), until it reports loading:0
#   drill:  drctl drill: deep verify of the set, PostgreSQL (globals and the
#           database, fingerprints compared) into the scratch PostgreSQL,
#           Redis into the empty scratch Redis (key counts compared), the
#           scratch copies dropped, the signed record published
#
# Target: the drill within 1.3x of the stock sum.  Every round is printed,
# then the median and the spread (lowest and highest ratio) of the rounds.
#
#   DRCTL=build/drctl SCALE=10 REDIS_N=1000000 ROUNDS=3 bash bench/bench_drill.sh
# SCALE=10 is agents_db at ~1.3 GB (bench/make-agents-db.sql), REDIS_N=1000000
# the 1.25 M-key set of bench/make-redis-data.sh; SCALE=1 REDIS_N=100000
# checks the script in a minute.  Needs ~5x the database size on disk.
set -euo pipefail
. "$(dirname "$0")/benchlib.sh"
bench_init SCALE=10 REDIS_N=1000000 ROUNDS=3
W="$HARNESS_DIR/bench"; mkdir -p "$W"

start_postgres
P_PORT=$PGPORT P_PW=$PG_ADMIN_PASSWORD_FILE
unset PG_PID
start_postgres
S_PORT=$PGPORT S_PW=$PG_ADMIN_PASSWORD_FILE
start_redis; P_R=$REDIS_PORT; unset REDIS_PID
start_redis; S_R=$REDIS_PORT; unset REDIS_PID

echo "# building agents_db at scale $SCALE and $REDIS_N Redis sessions" >&2
bench_make_agents_db -p "$P_PORT"
bash "$SRC_DIR/bench/make-redis-data.sh" "$P_R" "$REDIS_N" >/dev/null
KEYS=$(redis-cli -p "$P_R" DBSIZE)

"$DRCTL" --config "$W/drctl.conf" init --repository "$W/repo" --state-dir "$W/state" >/dev/null
export DRCTL_CONFIG="$W/drctl.conf"
export DRCTL_POSTGRES_CONNINFO="host=127.0.0.1 port=$P_PORT user=$PG_ADMIN_USER dbname=postgres"
# Redis loads the RDB as drctl's replica ([redis] restore_method; loopback here).
export DRCTL_REDIS_RESTORE_METHOD=${REDIS_RESTORE_METHOD:-replication}
export DRCTL_POSTGRES_PASSWORD_FILE=$P_PW DRCTL_POSTGRES_DATABASES=agents_db
export DRCTL_REDIS_URL="redis://127.0.0.1:$P_R"
export DRCTL_SCRATCH_POSTGRES_CONNINFO="host=127.0.0.1 port=$S_PORT user=$PG_ADMIN_USER dbname=postgres"
export DRCTL_SCRATCH_POSTGRES_PASSWORD_FILE=$S_PW DRCTL_SCRATCH_REDIS_URL="redis://127.0.0.1:$S_R"
"$DRCTL" -q backup --component postgres,redis >"$W/id"
"$PG_BIN/pg_dump" -p "$P_PORT" -Fd -j 2 -f "$W/dir" agents_db
redis-cli -p "$P_R" --rdb "$W/dump.rdb" >/dev/null 2>&1
# The stock pg_restore restores the roles' objects too: the scratch server
# gets the globals the drill would restore.
"$PG_BIN/pg_dumpall" -p "$P_PORT" --globals-only | grep -v '^ALTER ROLE drctl_admin\|^CREATE ROLE drctl_admin\|^ALTER ROLE postgres\|^CREATE ROLE postgres' |
	psql_ -p "$S_PORT" -d postgres >/dev/null 2>&1 || true

secs() { local s e; s=$(date +%s.%N); "$@"; e=$(date +%s.%N); echo "$e - $s" | bc -l; }
# Every timed run starts from the same state: what the previous one left
# dropped, dirty pages checkpointed and written out.
settle() {
	bench_drop_databases "datname not in ('postgres', 'template0', 'template1')" -p "$S_PORT"
	redis-cli -p "$S_R" FLUSHALL >/dev/null
	bench_settle_disk -p "$S_PORT"
}
stock_pg() {
	"$PG_BIN/createdb" -p "$S_PORT" stock_restore
	"$PG_BIN/pg_restore" -p "$S_PORT" -j 2 -d stock_restore "$W/dir"
}
stock_redis() { bench_redis_cold_load "$W/dump.rdb" "$KEYS" 99; }
drill() { "$DRCTL" -q drill >"$W/drill.out" 2>"$W/drill.err" || { cat "$W/drill.err" "$W/drill.out" >&2; exit 1; }; }

ratios=() pgs=() rds=() drs=()
# Warm the caches the same way for everyone: one of each, untimed.
settle; stock_pg; settle; stock_redis >/dev/null; settle; drill
echo "round  pg_restore -j2  redis cold load  stock sum  drctl drill  ratio  (drill's own RTO: postgres, redis)"
for ((round = 1; round <= ROUNDS; round++)); do
	settle
	if ((round % 2)); then # interleaved: who goes first alternates
		pg=$(secs stock_pg); settle; rd=$(stock_redis); settle; dr=$(secs drill)
	else
		dr=$(secs drill); settle; pg=$(secs stock_pg); settle; rd=$(stock_redis)
	fi
	report=$(ls -t "$W"/state/runs/*/report.json | head -1)
	own=$(jq -r '.drill.rto_seconds | "\(.postgres | . * 10 | round / 10) s, \(.redis | . * 10 | round / 10) s"' "$report")
	sum=$(echo "$pg + $rd" | bc -l)
	ratio=$(echo "$dr / $sum" | bc -l)
	pgs+=("$pg") rds+=("$rd") drs+=("$dr") ratios+=("$ratio")
	printf '%5d  %12.2f s  %13.2f s  %7.2f s  %9.2f s  %5.2fx  (%s)\n' "$round" "$pg" "$rd" "$sum" "$dr" "$ratio" "$own"
done
lo=$(printf '%s\n' "${ratios[@]}" | sort -g | head -1)
hi=$(printf '%s\n' "${ratios[@]}" | sort -g | tail -1)
cat <<EOF

agents_db scale $SCALE ($SIZE), Redis $KEYS keys (RDB $(($(stat -c %s "$W/dump.rdb") >> 20)) MiB), $(nproc) cores, $ROUNDS rounds
median  pg_restore -j 2 $(printf %.2f "$(bench_median "${pgs[@]}")") s, redis cold load $(printf %.2f "$(bench_median "${rds[@]}")") s, drill $(printf %.2f "$(bench_median "${drs[@]}")") s
ratio   median $(printf %.2f "$(bench_median "${ratios[@]}")")x, spread $(printf %.2f "$lo")x to $(printf %.2f "$hi")x   (target <= 1.30x)
EOF
