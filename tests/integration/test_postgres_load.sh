#!/usr/bin/env bash
# Consistency under load: backups taken while pgbench inserts and updates
# (and draws from a sequence) restore to databases whose fingerprints match the
# manifest exactly, because the row counts, sequence values and every pg_dump
# job share one exported snapshot.  The writer is proven to have written
# during each backup (the history table grows across it).
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
. "$DRCTL_SOURCE_DIR/tests/harness/services.sh"
harness_init
start_postgres

"$PG_BIN/createdb" loaddb
"$PG_BIN/pgbench" -q -i -s 2 loaddb >/dev/null 2>&1
psql_ -d loaddb -c "CREATE TABLE events (id bigserial PRIMARY KEY, aid int, note text)"
cat >"$T/writer.sql" <<'EOF'
\set aid random(1, 200000)
\set delta random(-500, 500)
BEGIN;
UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, :aid, :delta, CURRENT_TIMESTAMP);
INSERT INTO events (aid, note) VALUES (:aid, repeat('x', 200));
END;
EOF
"$PG_BIN/pgbench" -n -c 2 -T 40 -f "$T/writer.sql" loaddb >"$T/pgbench.log" 2>&1 &
WRITER=$!
harness_track_pid "$WRITER"
hist() { psql_ -At -d loaddb -c "select count(*) from pgbench_history"; }
until [ "$(hist)" -gt 500 ]; do sleep 0.2; done

drctl_init_in "$T"
harness_drctl_postgres loaddb loaddb
IDS=()
for round in 1 2; do
  before=$(hist)
  run d backup --component postgres
  expect_rc 0 "backup $round under load"
  after=$(hist)
  IDS+=("$OUT")
  rows=$(d --json show "$OUT" | jq '.components.postgres.databases.loaddb.fingerprints.tables[] | select(.name == "pgbench_history") | .rows')
  [ "$after" -gt "$before" ] && [ "$rows" -ge "$before" ] && [ "$rows" -le "$after" ] ||
    fail "the writer did not write during backup $round (history $before -> $after, manifest $rows)"
  pass_note "backup $round taken while the writer ran (history $before -> $after rows, snapshot saw $rows)"
done
kill -0 "$WRITER" 2>/dev/null || fail "pgbench stopped early: $(tail -5 "$T/pgbench.log")"
kill "$WRITER" 2>/dev/null || true
wait "$WRITER" 2>/dev/null || true

for id in "${IDS[@]}"; do
  run d --json restore postgres --backup "$id" --jobs 2
  expect_rc 0 "restore of $id"
  jq -e '.fingerprints.differences == [] and .fingerprints.tables == 5' <<<"$OUT" >/dev/null || fail "fingerprints differ: $OUT"
  # Independent of drctl's own comparison: count the restored tables here.
  want=$(d --json show "$id" | jq -r '.components.postgres.databases.loaddb.fingerprints.tables[] | "\(.name) \(.rows)"' | sort)
  got=$(for t in pgbench_accounts pgbench_branches pgbench_history pgbench_tellers events; do
          echo "$t $(psql_ -At -d "loaddb_restore_$id" -c "select count(*) from $t")"; done | sort)
  [ "$want" = "$got" ] || fail "restored row counts differ from the manifest: $(diff <(echo "$want") <(echo "$got"))"
  seq=$(d --json show "$id" | jq '.components.postgres.databases.loaddb.fingerprints.sequences[] | select(.name == "events_id_seq") | .last_value')
  [ "$(psql_ -At -d "loaddb_restore_$id" -c "select last_value from events_id_seq")" = "$seq" ] || fail "sequence differs"
  [ "$(psql_ -At -d "loaddb_restore_$id" -c "select coalesce(max(id), 0) <= $seq from events")" = t ] || fail "rows beyond the sequence value"
  pass_note "restore of $id matches the manifest exactly (counts and sequence)"
done
echo "$CHECKS passed, 0 failed"
