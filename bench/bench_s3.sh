#!/usr/bin/env bash
# The S3 repository against the local one, in one run on one machine: the
# same backup of agents_db (drctl backup --component postgres) into a local
# repository and into s3rver on loopback (tests/harness start_s3rver), and
# the same restore (drctl restore postgres --jobs 2) from each, in rounds
# that alternate which one goes first; every round's figures are printed,
# then the medians.
#
# Targets: S3 <= 1.15x local for the backup and for the restore; drctl's
# peak RSS (VmHWM, sampled) under 64 MiB plus the part buffers (2 x
# [repository] part_size, 16 MiB by default: 96 MiB).  s3rver is a Node.js
# process on the same cores and disk that writes every multipart object
# twice (the parts, then the object assembled from them), so the S3 figures
# include the store's own work; the machine may be shared, hence the rounds.
# drctl runs with -v, so each S3 round also shows its "completion": the
# seconds CompleteMultipartUpload took after the last part, which s3rver
# spends copying the parts into the object (MD5 of every byte again).  The
# parts themselves are stored while the dump goes on (-v says so: no part
# waits for the one before it), so this completion is most of what the S3
# backup takes beyond the local one: a store that assembles an object
# without copying it (AWS S3, MinIO, Ceph RGW) has no such tail.
#
# BENCH_CPU=1 adds one backup to each repository that counts CPU-seconds
# (bench_cpu_by_program): where the CPU goes, s3rver included, and the least
# wall time the S3 backup could take on this machine: the local backup's
# time, plus whatever s3rver's work on the parts and drctl's own S3 work
# (MD5 and SHA-256 of every part, HTTP) cannot fit into the local backup's
# idle CPU, plus the completion, which no order of drctl's can overlap (the
# manifest waits for the object).
#
#   DRCTL=build/drctl SCALE=10 ROUNDS=3 bash bench/bench_s3.sh
# SCALE=10 is agents_db at ~1.3 GB (bench/make-agents-db.sql); SCALE=1
# (~140 MB) checks the script.  Needs ~3x the database size on disk.
set -euo pipefail
. "$(dirname "$0")/benchlib.sh"
bench_init SCALE=10 ROUNDS=3 MAKE_SQL="$SRC_DIR/bench/make-agents-db.sql"
start_postgres
start_s3rver drctl-bench
W="$HARNESS_DIR/bench"; mkdir -p "$W/secrets"

echo "# building agents_db at scale $SCALE" >&2
bench_make_agents_db

printf '%s\n' "$S3RVER_ACCESS_KEY" >"$W/secrets/id"
printf '%s\n' "$S3RVER_SECRET_KEY" >"$W/secrets/secret"
chmod 600 "$W/secrets/"*
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3
"$DRCTL" --config "$W/local/drctl.conf" init --repository "$W/local/repo" --state-dir "$W/local/state" >/dev/null
env DRCTL_REPOSITORY_TYPE=s3 DRCTL_REPOSITORY_BUCKET="$S3RVER_BUCKET" DRCTL_REPOSITORY_PREFIX=bench/ \
	DRCTL_REPOSITORY_ENDPOINT="$S3RVER_URL" DRCTL_REPOSITORY_REGION=us-east-1 DRCTL_REPOSITORY_FORCE_PATH_STYLE=true \
	DRCTL_REPOSITORY_ACCESS_KEY_ID_FILE="$W/secrets/id" DRCTL_REPOSITORY_SECRET_ACCESS_KEY_FILE="$W/secrets/secret" \
	"$DRCTL" --config "$W/s3/drctl.conf" init --state-dir "$W/s3/state" >/dev/null
PART_SIZE=$(awk -F' = ' '$1 == "part_size" {print $2}' "$W/s3/drctl.conf")
PART_SIZE=${PART_SIZE:-16777216}
harness_drctl_postgres agents_db agents_db

# wall seconds and drctl's peak RSS (KiB), sampled from /proc while it runs
timed_drctl() { # WHICH ARGS...
	local which=$1
	shift
	# -v: the S3 driver says how long each part and the completion took
	bench_timed_peak "$W/$which/drctl.conf" -v "$@"
}
ratio() { echo "scale=2; $1 / $2" | bc; }
# Before every run: restored databases dropped and checkpointed, dirty pages
# written out, so no run pays for the one before it.
settle() {
	bench_drop_databases "datname like 'r\_%'"
	bench_settle_disk
}
# Keep only the newest set, so the disk holds one backup per repository.
keep_newest() { DRCTL_RETENTION_KEEP_LAST=1 "$DRCTL" --config "$W/$1/drctl.conf" prune >/dev/null 2>&1; }

declare -A ID T_B RSS_B T_R RSS_R T_C
b_local=() b_s3=() r_local=() r_s3=() rss_b_local=() rss_b_s3=() rss_r_local=() rss_r_s3=() c_s3=()
backup() { # WHICH ROUND
	settle
	read -r t rss < <(timed_drctl "$1" backup --component postgres)
	ID[$1]=$(cat "$W/drctl.out")
	T_B[$1]=$t RSS_B[$1]=$rss
	# the store's CompleteMultipartUpload, after the last part (drctl -v)
	T_C[$1]=$(awk '/CompleteMultipartUpload of [0-9]+ parts took/ {s += $(NF - 1)} END {printf "%.2f", s}' "$W/drctl.err")
	keep_newest "$1"
}
restore() { # WHICH
	settle
	read -r t rss < <(timed_drctl "$1" restore postgres --backup "${ID[$1]}" --jobs 2 --target-database "r_$1")
	T_R[$1]=$t RSS_R[$1]=$rss
}
"$PG_BIN/pg_dump" agents_db >/dev/null # warm the cache the same way for both
for ((round = 1; round <= ROUNDS; round++)); do
	if ((round % 2)); then order=(local s3); else order=(s3 local); fi
	for which in "${order[@]}"; do backup "$which"; done
	for which in "${order[@]}"; do restore "$which"; done
	b_local+=("${T_B[local]}") b_s3+=("${T_B[s3]}") r_local+=("${T_R[local]}") r_s3+=("${T_R[s3]}")
	rss_b_local+=("${RSS_B[local]}") rss_b_s3+=("${RSS_B[s3]}") rss_r_local+=("${RSS_R[local]}") rss_r_s3+=("${RSS_R[s3]}")
	c_s3+=("${T_C[s3]}")
	echo "# round $round (${order[0]} first): backup local ${T_B[local]} s ($((RSS_B[local] / 1024)) MiB), s3 ${T_B[s3]} s ($((RSS_B[s3] / 1024)) MiB, completion ${T_C[s3]} s);" \
		"restore local ${T_R[local]} s ($((RSS_R[local] / 1024)) MiB), s3 ${T_R[s3]} s ($((RSS_R[s3] / 1024)) MiB)" >&2
done
tb_l=$(bench_median "${b_local[@]}") tb_s=$(bench_median "${b_s3[@]}") tr_l=$(bench_median "${r_local[@]}") tr_s=$(bench_median "${r_s3[@]}")
obj=$(du -sh "$W/local/repo/backups/${ID[local]}" | cut -f1)

cat <<EOF
agents_db scale $SCALE ($SIZE), PostgreSQL $("$PG_BIN/postgres" -V | awk '{print $3}'), $(nproc) cores, s3rver on loopback, part_size $((PART_SIZE >> 20)) MiB, set $obj
every round (seconds, peak RSS MiB)
$(for ((i = 0; i < ROUNDS; i++)); do
	printf '  round %d  backup local %7.2f (%3d)  s3 %7.2f (%3d, completion %5.2f)   restore local %7.2f (%3d)  s3 %7.2f (%3d)\n' $((i + 1)) \
		"${b_local[i]}" $((rss_b_local[i] / 1024)) "${b_s3[i]}" $((rss_b_s3[i] / 1024)) "${c_s3[i]}" \
		"${r_local[i]}" $((rss_r_local[i] / 1024)) "${r_s3[i]}" $((rss_r_s3[i] / 1024))
done)
medians of $ROUNDS rounds
  backup   local $(printf %7.2f "$tb_l") s  s3 $(printf %7.2f "$tb_s") s  ratio $(ratio "$tb_s" "$tb_l")   (target <= 1.15)
  restore  local $(printf %7.2f "$tr_l") s  s3 $(printf %7.2f "$tr_s") s  ratio $(ratio "$tr_s" "$tr_l")   (target <= 1.15)
peak RSS of drctl (largest of the rounds)
  backup   local $(($(bench_max "${rss_b_local[@]}") / 1024)) MiB  s3 $(($(bench_max "${rss_b_s3[@]}") / 1024)) MiB   (target < 64 MiB + 2 x part_size = $((64 + 2 * (PART_SIZE >> 20))) MiB)
  restore  local $(($(bench_max "${rss_r_local[@]}") / 1024)) MiB  s3 $(($(bench_max "${rss_r_s3[@]}") / 1024)) MiB
EOF

[ "${BENCH_CPU:-0}" = 1 ] || exit 0
echo "CPU-seconds by program (drctl with its pg_dump; each server with its processes), one more backup to each:"
export BENCH_CPU_SERVERS="postgres:$PG_PID s3rver:$S3RVER_PID"
for which in local s3; do
	settle
	bench_cpu_by_program "cpu-$which" "$DRCTL" --config "$W/$which/drctl.conf" -v backup --component postgres
	echo "  $which: $(bench_cpu_line "cpu-$which")"
	keep_newest "$which"
done
completion=$(awk '/CompleteMultipartUpload of [0-9]+ parts took/ {s += $(NF - 1)} END {printf "%.2f", s}' "$W/err")
l_wall=$(cat "$W/cpu-local.wall")
store=$(echo "$(bench_cpu_of cpu-s3 s3rver) - $completion" | bc -l)
mine=$(echo "$(bench_cpu_of cpu-s3 drctl) - $(bench_cpu_of cpu-local drctl)" | bc -l)
floor=$(bench_floor cpu-local "$(echo "$store + $mine" | bc -l)" "$completion")
floor0=$(bench_floor cpu-local "$store" "$completion")
printf '  the local backup leaves %.2f CPU-s idle; s3rver took %.2f CPU-s on the parts (its CPU less the %.2f s completion), drctl %.2f CPU-s more than to local\n' \
	"$(bench_idle cpu-local)" "$store" "$completion" "$mine"
printf '  floor of the S3 backup here: %.2f s = %.2fx of local (target <= 1.15x); with drctl'"'"'s own S3 work at zero: %.2fx; measured: %.2fx\n' \
	"$floor" "$(ratio "$floor" "$l_wall")" "$(ratio "$floor0" "$l_wall")" "$(ratio "$(cat "$W/cpu-s3.wall")" "$l_wall")"
