#!/usr/bin/env bash
# PostgreSQL component, side by side with the runbook's routines, in one run
# on one throwaway PostgreSQL 15 (tests/harness):
#
#   backup:  pg_dump agents_db | gzip > file   (the runbook's nightly routine)
#            pg_dump agents_db > file          (no compression at all)
#            drctl backup --component postgres (zstd, age encryption, signing)
#   restore: pg_restore -j 2 from a directory dump (pg_dump -Fd)
#            drctl restore postgres into a new database, fingerprint check
#            included, with --jobs 2 (tables loaded 2 at a time from the
#            stream, indexes and constraints built 2 at a time) and, once,
#            --jobs 1 (one pg_restore reading the stream)
#
# Targets: backup <= 0.40x the gzip routine and <= 1.3x plain pg_dump;
# restore <= 1.15x pg_restore -j 2; drctl's own peak RSS < 64 MiB (VmHWM of
# the drctl process, sampled; pg_dump/pg_restore are separate processes).
#
#   DRCTL=build/drctl SCALE=10 bash bench/bench_postgres.sh
# SCALE=10 is agents_db at ~1.3 GB (bench/make-agents-db.sql, or MAKE_SQL=...
# for another generator taking psql -v scale); SCALE=1 (~140 MB) checks the
# script.  Needs ~4x the database size on disk.
set -euo pipefail
. "$(dirname "$0")/benchlib.sh"
bench_init SCALE=10 MAKE_SQL="$SRC_DIR/bench/make-agents-db.sql"
[ -f "$MAKE_SQL" ] || { echo "MAKE_SQL=$MAKE_SQL not found" >&2; exit 2; }
start_postgres
W="$HARNESS_DIR/bench"; mkdir -p "$W"

echo "# building agents_db at scale $SCALE" >&2
bench_make_agents_db

"$DRCTL" --config "$W/drctl.conf" init --repository "$W/repo" --state-dir "$W/state" >/dev/null
harness_drctl_postgres agents_db agents_db

# wall seconds of a shell command
timed() { local s e; s=$(date +%s.%N); bash -c "$1"; e=$(date +%s.%N); echo "$e - $s" | bc; }
# wall seconds and drctl's peak RSS (KiB), sampled from /proc while it runs
timed_drctl() { bench_timed_peak "$W/drctl.conf" "$@"; }
ratio() { echo "scale=2; $1 / $2" | bc; }

# Warm the cache the same way for everyone.
"$PG_BIN/pg_dump" agents_db >/dev/null
t_gzip=$(timed "'$PG_BIN/pg_dump' agents_db | gzip > '$W/dump.sql.gz'")
t_plain=$(timed "'$PG_BIN/pg_dump' agents_db > '$W/dump.sql'")
read -r t_drctl rss_b < <(timed_drctl backup --component postgres)
ID=$(cat "$W/drctl.out")
rm -f "$W/dump.sql"

"$PG_BIN/pg_dump" -Fd -f "$W/dir" agents_db

# Every restore starts from the same state: the previous restores dropped,
# their dirty pages checkpointed and written out, so that no run pays for
# the one before it.  pg_restore and drctl take turns, ROUNDS times; the
# medians are compared.
settle() {
  bench_drop_databases "datname like 'r\_%'"
  bench_settle_disk
}
ROUNDS=${ROUNDS:-3}
pgr=() r2=() rss_r2=0
for ((round = 1; round <= ROUNDS; round++)); do
  settle
  "$PG_BIN/createdb" r_base
  pgr+=("$(timed "'$PG_BIN/pg_restore' -j 2 -d r_base '$W/dir'")")
  settle
  read -r t rss < <(timed_drctl restore postgres --backup "$ID" --jobs 2 --target-database r_drctl2)
  r2+=("$t")
  [ "$rss" -gt "$rss_r2" ] && rss_r2=$rss
  echo "# round $round: pg_restore -j 2 ${pgr[-1]} s, drctl --jobs 2 $t s" >&2
done
settle
read -r t_r1 rss_r1 < <(timed_drctl restore postgres --backup "$ID" --jobs 1 --target-database r_drctl1)
t_pgr=$(bench_median "${pgr[@]}")
t_r2=$(bench_median "${r2[@]}")

cat <<EOF
agents_db scale $SCALE ($SIZE), PostgreSQL $("$PG_BIN/postgres" -V | awk '{print $3}'), $(nproc) cores
backup
  pg_dump | gzip                    $(printf %7.2f "$t_gzip") s  $(du -h "$W/dump.sql.gz" | cut -f1)
  pg_dump > file                    $(printf %7.2f "$t_plain") s
  drctl backup (zstd+age+signed)    $(printf %7.2f "$t_drctl") s  $(du -sh "$W/repo/backups/$ID" | cut -f1)  peak RSS $((rss_b / 1024)) MiB
  ratio vs gzip routine             $(ratio "$t_drctl" "$t_gzip")   (target <= 0.40)
  ratio vs plain pg_dump            $(ratio "$t_drctl" "$t_plain")   (target <= 1.30)
restore
  (medians of $ROUNDS alternating rounds: pg_restore ${pgr[*]} s; drctl ${r2[*]} s)
  pg_restore -j 2 (directory dump)  $(printf %7.2f "$t_pgr") s
  drctl restore --jobs 2            $(printf %7.2f "$t_r2") s  peak RSS $((rss_r2 / 1024)) MiB  ratio $(ratio "$t_r2" "$t_pgr")   (target <= 1.15)
  drctl restore --jobs 1 (one run)  $(printf %7.2f "$t_r1") s  peak RSS $((rss_r1 / 1024)) MiB  ratio $(ratio "$t_r1" "$t_pgr")
EOF
