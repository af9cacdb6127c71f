#!/usr/bin/env bash
# The nightly whole-platform backup against the stock script that does the
# same by hand, in one run on one machine (tests/harness):
#
#   stock:  pg_dump agents_db | gzip, redis-cli --rdb, curl of Vault's raft
#           snapshot, one after another; one tar of the three; sha256sum of
#           the tar; an openssl signature (Ed25519) of the sums; no
#           encryption
#   drctl:  drctl backup of postgres, redis and vault into a local
#           repository, signed (minisign) and encrypted (age), the
#           components at the same time ([backup] parallel, default all)
#   alone:  drctl backup --component C for each component, one set each
#
# Data: agents_db at SCALE (default 10, ~1.3 GB: bench/make-agents-db.sql),
# the Redis set of bench/make-redis-data.sh with N (default 1000000, ~1.25 M
# keys), and the Vault double's snapshot padded with VAULT_PAD bytes
# (default 64 MiB, incompressible).  Targets: drctl within 0.28x of stock,
# and within 1.15x of the slowest component backed up alone.  Stock and
# drctl take turns, ROUNDS times (default 3), each from the same state
# (outputs removed, synced); every round is printed with the load average,
# then the medians and the spread (max - min) of each.  drctl's peak RSS is
# printed from GNU time.  Nothing here is a test: the machine may be shared.
#
# BENCH_CPU=1 adds ROUNDS more rounds that count CPU-seconds (bench_cpu_by_program):
# where the CPU of each run goes, servers included, and the least wall time
# the whole platform could take on this machine if the other components'
# work filled every idle moment of the slowest component alone (its cores x
# its wall time minus its CPU) and cost nothing more together than alone.
# When that floor is over 1.15x of the slowest alone, no scheduling of
# drctl's meets the target here: the servers (PostgreSQL, Redis and its RDB
# child, the Vault double) share the cores with drctl, as they do not in
# production.
#
#   DRCTL=build/drctl SCALE=10 N=1000000 ROUNDS=3 bash bench/bench_platform.sh
set -euo pipefail
. "$(dirname "$0")/benchlib.sh"
bench_init SCALE=10 N=1000000 ROUNDS=3 VAULT_PAD=67108864
[ "$ROUNDS" -ge 1 ] || { echo "ROUNDS must be at least 1" >&2; exit 2; }
command -v /usr/bin/time >/dev/null || { echo "GNU time (/usr/bin/time) is needed for the RSS figure" >&2; exit 2; }
W="$HARNESS_DIR/bench"
mkdir -p "$W/stock"

start_postgres
start_redis
start_vault_double --snapshot-pad-bytes "$VAULT_PAD" --snapshot-pad-kind random
echo "# building agents_db at scale $SCALE, $N Redis sessions, a Vault snapshot padded with $VAULT_PAD bytes" >&2
bench_make_agents_db
bash "$SRC_DIR/bench/make-redis-data.sh" "$REDIS_PORT" "$N" >/dev/null
KEYS=$(redis-cli -p "$REDIS_PORT" DBSIZE)

# drctl: init's keys (minisign, age recipient), a local repository.
"$DRCTL" --config "$W/drctl.conf" init --repository "$W/repo" --state-dir "$W/state" >/dev/null
export DRCTL_CONFIG="$W/drctl.conf"
harness_drctl_postgres agents_db
export DRCTL_REDIS_URL="redis://127.0.0.1:$REDIS_PORT" DRCTL_VAULT_ADDRESS="$VAULT_ADDR"
# stock: an Ed25519 key for openssl's signature.
openssl genpkey -algorithm ed25519 -out "$W/stock-sign.pem" 2>/dev/null

stock() {
	local s="$W/stock"
	"$PG_BIN/pg_dump" agents_db | gzip >"$s/agents_db.sql.gz"
	redis-cli -p "$REDIS_PORT" --rdb "$s/dump.rdb" >/dev/null 2>&1
	curl -sf -H "X-Vault-Token: $VAULT_TOKEN" -o "$s/vault.snap" "$VAULT_ADDR/v1/sys/storage/raft/snapshot"
	tar -cf "$s/platform.tar" -C "$s" agents_db.sql.gz dump.rdb vault.snap
	(cd "$s" && sha256sum platform.tar >SHA256SUMS)
	openssl pkeyutl -sign -inkey "$W/stock-sign.pem" -rawin -in "$s/SHA256SUMS" -out "$s/SHA256SUMS.sig"
}
settle() { # every run from the same state
	rm -rf "$W/stock/"* "$W/repo/backups/"*
	sync
	sleep 1
}
# timed NAME CMD...: seconds of wall time; a program's peak RSS (KiB) in $W/NAME.rss.
timed() {
	local name=$1 s e
	shift
	local rss=(/usr/bin/time -f %M -o "$W/$name.rss")
	[ "$(type -t "$1")" != function ] || rss=() # the stock script: a function of this shell
	s=$(date +%s.%N)
	"${rss[@]}" "$@" >"$W/out" 2>"$W/err" || { cat "$W/err" >&2; exit 1; }
	e=$(date +%s.%N)
	echo "$e - $s" | bc
}
ratio() { printf '%.3f' "$(echo "scale=4; $1 / $2" | bc)"; }
spread() { printf '%s\n' "$@" | sort -n | awk 'NR == 1 {lo=$1} {hi=$1} END {printf "%.3f", hi - lo}'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

echo "platform: agents_db $SIZE, Redis $KEYS keys, Vault snapshot ~$((VAULT_PAD / 1048576)) MiB; $(nproc) cores; $ROUNDS rounds"
STOCK=() DRCTL_T=() ALONE=() R_STOCK=() R_ALONE=() PEAK=0
for r in $(seq 1 "$ROUNDS"); do
	settle
	st=$(timed stock stock)
	settle
	dt=$(timed drctl "$DRCTL" backup)
	rss=$(cat "$W/drctl.rss")
	[ "$rss" -le "$PEAK" ] || PEAK=$rss
	grep -q '3 components, 3 at a time' "$W/err" || echo "warning: the backup did not run its 3 components at once" >&2
	singles=() alone_rss=()
	for c in postgres redis vault; do
		settle
		singles+=("$(timed "alone-$c" "$DRCTL" backup --component "$c")")
		alone_rss+=("$(cat "$W/alone-$c.rss")")
	done
	slowest=$(bench_max "${singles[@]}")
	STOCK+=("$st") DRCTL_T+=("$dt") ALONE+=("$slowest")
	R_STOCK+=("$(ratio "$dt" "$st")") R_ALONE+=("$(ratio "$dt" "$slowest")")
	printf 'round %d: stock %.2fs, drctl %.2fs (%.3fx of stock), alone postgres %.2fs redis %.2fs vault %.2fs (drctl %.3fx of the slowest), RSS drctl %d KiB, alone %d/%d/%d KiB, load %s\n' \
		"$r" "$st" "$dt" "${R_STOCK[-1]}" "${singles[0]}" "${singles[1]}" "${singles[2]}" "${R_ALONE[-1]}" "$rss" \
		"${alone_rss[0]}" "${alone_rss[1]}" "${alone_rss[2]}" "$(load)"
done
printf 'median: stock %.2fs (spread %ss), drctl %.2fs (spread %ss), slowest alone %.2fs (spread %ss)\n' \
	"$(bench_median "${STOCK[@]}")" "$(spread "${STOCK[@]}")" "$(bench_median "${DRCTL_T[@]}")" "$(spread "${DRCTL_T[@]}")" \
	"$(bench_median "${ALONE[@]}")" "$(spread "${ALONE[@]}")"
printf 'drctl / stock: median %sx (spread %s; target <= 0.28x)\n' "$(bench_median "${R_STOCK[@]}")" "$(spread "${R_STOCK[@]}")"
printf 'drctl / slowest component alone: median %sx (spread %s; target <= 1.15x)\n' "$(bench_median "${R_ALONE[@]}")" "$(spread "${R_ALONE[@]}")"
echo "drctl peak RSS: $PEAK KiB"

[ "${BENCH_CPU:-0}" = 1 ] || exit 0
echo "CPU-seconds by program (drctl with its pg_dump; each server with its processes), $ROUNDS more rounds:"
export BENCH_CPU_SERVERS="postgres:$PG_PID redis-server:$REDIS_PID vault-double:$VAULT_DOUBLE_PID"
FLOORS=() MEASURED=()
for r in $(seq 1 "$ROUNDS"); do
	for c in postgres redis vault; do
		settle
		bench_cpu_by_program "alone-$c" "$DRCTL" backup --component "$c"
		echo "  round $r, alone $c: $(bench_cpu_line "alone-$c")"
	done
	settle
	bench_cpu_by_program platform "$DRCTL" backup
	echo "  round $r, platform: $(bench_cpu_line platform)"
	# The slowest alone is the reference; the other two components are the extra work.
	ref=$(for c in postgres redis vault; do echo "$(cat "$W/alone-$c.wall") $c"; done | sort -gr | head -1 | cut -d' ' -f2)
	others=() others_drctl=()
	for c in postgres redis vault; do
		[ "$c" = "$ref" ] || others+=("$(bench_cpu_of "alone-$c")") others_drctl+=("$(bench_cpu_of "alone-$c" drctl)")
	done
	r_wall=$(cat "$W/alone-$ref.wall")
	extra=$(echo "${others[0]} + ${others[1]}" | bc -l)
	extra_drctl=$(echo "${others_drctl[0]} + ${others_drctl[1]}" | bc -l)
	floor=$(bench_floor "alone-$ref" "$extra")
	floor0=$(bench_floor "alone-$ref" "$(echo "$extra - $extra_drctl" | bc -l)")
	FLOORS+=("$(ratio "$floor" "$r_wall")") MEASURED+=("$(ratio "$(cat "$W/platform.wall")" "$r_wall")")
	printf '  round %d: %s alone (the slowest) leaves %.2f CPU-s idle (%d cores x %.2f s - its CPU); the other two alone take %.2f CPU-s (drctl %.2f of it)\n' \
		"$r" "$ref" "$(bench_idle "alone-$ref")" "$(nproc)" "$r_wall" "$extra" "$extra_drctl"
	printf '  round %d: floor of the platform backup here %.2f s = %sx of %s alone (target <= 1.15x), with drctl'"'"'s own work for the other two at zero %.3fx; measured %sx\n' \
		"$r" "$floor" "${FLOORS[-1]}" "$ref" "$(ratio "$floor0" "$r_wall")" "${MEASURED[-1]}"
done
printf 'floor / slowest alone: median %sx (rounds %s); measured in the same rounds: median %sx (rounds %s)\n' \
	"$(bench_median "${FLOORS[@]}")" "$(printf '%s\n' "${FLOORS[@]}" | sort -g | paste -sd' ')" \
	"$(bench_median "${MEASURED[@]}")" "$(printf '%s\n' "${MEASURED[@]}" | sort -g | paste -sd' ')"
