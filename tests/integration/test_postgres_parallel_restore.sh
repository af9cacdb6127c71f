#!/usr/bin/env bash
# restore --jobs N loads several tables at once from the one dump stream:
# each table's blocks go to one of N pg_restore processes through a spool
# (a table larger than a loader's even share to all of them, its rows
# shared out), and indexes and constraints whose tables are loaded are
# built while the rest still loads.  Proven on a real PostgreSQL 15:
#   - with 2 and 3 loaders the restored tables, indexes, constraints and a
#     materialized view (refreshed only once every table is in) equal the
#     source's; the report shows the loaders, the shared table and what was
#     built meanwhile;
#   - a set from before drctl recorded table sizes is spread by row counts;
#   - a loader whose pg_restore stops reading, a failing index pass, and
#     (--jobs 1) the one pg_restore stopping early each end in a clear error
#     that quotes pg_restore, the new database removed, the source
#     untouched, and no file left in the state folder;
#   - --dry-run says where the tables would queue and whether there is room;
#     without room for the spool in the state folder (a small tmpfs), the
#     dry run says so and the tables load one at a time, and the restore
#     still succeeds.
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
. "$DRCTL_SOURCE_DIR/tests/harness/services.sh"
harness_init
start_postgres

"$PG_BIN/createdb" shop
"$PG_BIN/pgbench" -q -i -s 3 shop >/dev/null 2>&1
psql_ -d shop <<'SQL' >/dev/null
CREATE TABLE customers (id int PRIMARY KEY, email text UNIQUE NOT NULL);
INSERT INTO customers SELECT g, 'c' || g || '@example.com' FROM generate_series(1, 20000) g;
CREATE TABLE orders (id bigserial PRIMARY KEY, customer int NOT NULL REFERENCES customers(id),
                     aid int REFERENCES pgbench_accounts(aid), note jsonb, placed timestamptz NOT NULL);
INSERT INTO orders (customer, aid, note, placed)
  SELECT 1 + g % 20000, 1 + g % 300000, jsonb_build_object('n', g, 's', repeat('x', g % 50)), '2026-01-01'::timestamptz + g * interval '1 minute'
  FROM generate_series(1, 60000) g;
CREATE INDEX orders_by_customer ON orders (customer, placed);
CREATE TABLE empty_one (id int PRIMARY KEY);
CREATE MATERIALIZED VIEW balances AS SELECT count(*) AS accounts, sum(abalance) AS total, (SELECT count(*) FROM orders) AS orders FROM pgbench_accounts;
SQL
SRC_TABLES="pgbench_accounts pgbench_branches pgbench_tellers pgbench_history customers orders empty_one"
# table name, row count and a checksum of its ordered contents, per table; then the matview
contents() {
  local t
  for t in $SRC_TABLES; do
    psql_ -At -d "$1" -c "select '$t', count(*), md5(coalesce(string_agg(x::text, ',' order by x::text), '')) from $t x"
  done
  psql_ -At -d "$1" -c "select * from balances"
}
# every index and constraint, by definition
structure() {
  psql_ -At -d "$1" -c "select string_agg(indexdef, E'\n' order by indexdef) from pg_indexes where schemaname = 'public'"
  psql_ -At -d "$1" -c "select string_agg(c, E'\n' order by c) from (select conrelid::regclass || ' ' || pg_get_constraintdef(oid) as c from pg_constraint where connamespace = 'public'::regnamespace) x"
}
SRC_CONTENTS=$(contents shop)
SRC_STRUCTURE=$(structure shop)
[ "$(psql_ -At -d shop -c 'select accounts from balances')" = 300000 ] || fail "fixture: the materialized view is not populated"

drctl_init_in "$T"
harness_drctl_postgres shop
run d backup --component postgres
expect_rc 0 "backup of shop"
ID=$OUT
jq -e '.components.postgres.databases.shop.table_bytes["public.pgbench_accounts"] > 1000000' <<<"$(d --json show "$ID")" >/dev/null ||
  fail "the manifest lacks the tables' sizes: $(d --json show "$ID" | jq -c '.components.postgres.databases.shop.table_bytes')"
pass_note "the manifest records each table's size in the dump"

same_as_source() { # DB, what
  [ "$(contents "$1")" = "$SRC_CONTENTS" ] || fail "$2: contents differ: $(diff <(echo "$SRC_CONTENTS") <(contents "$1"))"
  [ "$(structure "$1")" = "$SRC_STRUCTURE" ] || fail "$2: indexes or constraints differ: $(diff <(echo "$SRC_STRUCTURE") <(structure "$1"))"
  pass_note "$2: every table, index, constraint and the materialized view equal the source's"
}
state_is_clean() { # what
  local left
  left=$(ls -A "$T/state" | grep -Ev '^(journal|locks?|cache)' || true)
  [ -z "$left" ] || fail "$1: files left in the state folder: $left"
  pass_note "$1: nothing left in the state folder"
}

# A pg_restore stand-in that runs the real one, except as told by FAULT:
#   slow:   the loader that gets orders starts once the other OTHERS loaders
#           have finished (at most 60 s later), each of which leaves a file
#           in $T/loaded when its pg_restore ends;
#   loader: the loaders that get pgbench_accounts read only 300 kB of their input;
#   index:  the first pass of indexes and constraints fails;
#   stream: (--jobs 1) the one pg_restore reads only 300 kB of the stream.
REAL_PG_RESTORE="$PG_BIN/pg_restore"
"$PG_BIN/pg_dump" -Fc -f "$T/shop.dump" shop && "$REAL_PG_RESTORE" -l "$T/shop.dump" >"$T/toc.txt"
VICTIM=$(awk '/TABLE DATA public pgbench_accounts / {sub(";", "", $1); print $1}' "$T/toc.txt")
[ -n "$VICTIM" ] || fail "fixture: no TABLE DATA entry for pgbench_accounts in: $(cat "$T/toc.txt")"
SLOW=$(awk '/TABLE DATA public orders / {sub(";", "", $1); print $1}' "$T/toc.txt")
[ -n "$SLOW" ] || fail "fixture: no TABLE DATA entry for orders in: $(cat "$T/toc.txt")"
cat >"$T/pg_restore" <<EOF
#!/usr/bin/env bash
list=""
for a in "\$@"; do case "\$a" in --use-list=*) list=\${a#--use-list=};; esac; done
case "\$FAULT" in
slow)
  if [ -n "\$list" ] && [[ " \$* " == *" --section=data "* ]]; then
    if grep -q "^$SLOW;" "\$list"; then
      for i in \$(seq 600); do [ "\$(ls "$T/loaded" | wc -l)" -ge "\$OTHERS" ] && break; sleep 0.1; done
    else
      "$REAL_PG_RESTORE" "\$@"; rc=\$?
      touch "$T/loaded/\$\$"
      exit \$rc
    fi
  fi;;
loader)
  if [ -n "\$list" ] && grep -q "^$VICTIM;" "\$list"; then
    head -c 300000 | "$REAL_PG_RESTORE" "\$@"
    exit \${PIPESTATUS[1]}
  fi;;
stream)
  head -c 300000 | "$REAL_PG_RESTORE" "\$@"
  exit \${PIPESTATUS[1]};;
index)
  if [ -n "\$list" ] && [[ " \$* " == *" --section=post-data "* ]]; then
    echo "pg_restore: error: could not execute query: ERROR:  simulated index failure" >&2
    exit 1
  fi;;
esac
exec "$REAL_PG_RESTORE" "\$@"
EOF
chmod +x "$T/pg_restore"
run d restore postgres --jobs 2 --dry-run --target-database shop_dry
expect_rc 0 "restore --jobs 2 --dry-run"
expect_err "up to 2 tables would load at once, queued in $T/state \(needs up to 0\.0[0-9] GiB, has [0-9.]+ GiB free\)$" \
  "the dry run says where the tables would queue, and that there is room"
expect_no_err "too little" "no false alarm about the space"

# pgbench_accounts is most of the data (more than a loader's even share):
# every loader loads some of its rows, side by side.  With the loader of
# orders held back until the others are done, everything that needs neither orders nor
# pgbench_accounts must be built while it loads: the keys of customers (two),
# pgbench_branches, pgbench_tellers and empty_one: 5.  The keys of orders and
# pgbench_accounts, orders' foreign keys and index, and the materialized view
# wait.
for jobs in 2 3; do
  rm -rf "$T/loaded"; mkdir "$T/loaded"
  run env FAULT=slow OTHERS=$((jobs - 1)) DRCTL_POSTGRES_PG_RESTORE="$T/pg_restore" "$DRCTL" --config "$CONF" --json restore postgres --jobs "$jobs" --target-database "shop_j$jobs"
  expect_rc 0 "restore --jobs $jobs"
  jq -e --argjson n "$jobs" '(.data_loaders | length) == $n and .shared_tables == 1
      and ([.data_loaders[].tables] | add) == 7 + $n - 1 and all(.data_loaders[]; .bytes > 1000000)
      and .built_while_loading == 5 and .fingerprints.differences == []' <<<"$OUT" >/dev/null ||
    fail "restore --jobs $jobs report: $(jq -c '{data_loaders, shared_tables, built_while_loading, spool_peak_bytes, fingerprints}' <<<"$OUT")"
  expect_err "loading 7 tables with $jobs pg_restore at once \\(the rows of the 1 largest shared out between them\\)" "it says the largest table's rows are shared out"
  pass_note "$jobs loaders, each with rows of pgbench_accounts; the 5 keys that need neither it nor orders built while orders loaded"
  same_as_source "shop_j$jobs" "--jobs $jobs"
done
state_is_clean "after the parallel restores"

# --- a set from before drctl recorded table sizes: spread by row counts -------------
OLD="${ID%-*}-0001"
cp -r "$REPO/backups/$ID" "$REPO/backups/$OLD"
jq --arg id "$OLD" '.id = $id | del(.components.postgres.databases.shop.table_bytes)' "$REPO/backups/$ID/manifest.json" \
  >"$REPO/backups/$OLD/manifest.json"
rm -f "$REPO/backups/$OLD/manifest.json.minisig"
minisign -S -s "$T/signing.key" -m "$REPO/backups/$OLD/manifest.json" </dev/null >/dev/null
run d --json restore postgres --backup "$OLD" --jobs 2 --target-database shop_old
expect_rc 0 "restore of a set without table sizes"
# pgbench_accounts has 300000 of the 380033 rows, more than half: both
# loaders share it.  Then orders (60000) goes to the first, customers, tellers
# and branches to the second, and the two empty tables are dealt round: 3
# and 5.  Without weights nothing would be shared and every table would be
# dealt round: 4 and 3.
jq -e '[.data_loaders[].tables] == [3, 5] and .shared_tables == 1' <<<"$OUT" >/dev/null ||
  fail "rows did not spread the tables (pgbench_accounts shared, orders apart from customers): $(jq -c '{data_loaders, shared_tables}' <<<"$OUT")"
pass_note "without sizes, the row counts spread the tables"
same_as_source shop_old "restore of the older set"
rm -rf "${REPO:?}/backups/$OLD"

# --- failures ------------------------------------------------------------------------
DBS_BEFORE=$(psql_ -At -c "select string_agg(datname, ' ' order by datname) from pg_database")
for fault in loader index stream; do
  jobs=2; [ $fault = stream ] && jobs=1
  run env FAULT=$fault DRCTL_POSTGRES_PG_RESTORE="$T/pg_restore" "$DRCTL" --config "$CONF" restore postgres --jobs $jobs --target-database "shop_$fault"
  expect_rc 1 "restore --jobs $jobs with a failing $fault"
  case $fault in
  loader|stream) expect_err "pg_restore \(restore\) failed with exit status 1: .*(end of file|could not read)" "quotes pg_restore on the cut input";;
  index) expect_err "simulated index failure" "quotes the failing index pass";;
  esac
  expect_err "restoring database shop into shop_$fault" "names the database"
  expect_err "removed the incomplete database shop_$fault" "says the new database was removed"
  [ "$(psql_ -At -c "select string_agg(datname, ' ' order by datname) from pg_database")" = "$DBS_BEFORE" ] ||
    fail "a failed restore left or removed a database: $DBS_BEFORE -> $(psql_ -At -c "select string_agg(datname, ' ' order by datname) from pg_database")"
  pass_note "the failed restore removed only its own new database"
  [ -z "$(pgrep -f "pg_restore.*shop_$fault" || true)" ] || fail "a pg_restore of shop_$fault still runs"
  state_is_clean "after the failing $fault"
done
[ "$(contents shop)" = "$SRC_CONTENTS" ] || fail "the source database changed"
pass_note "the source database is untouched"

# --- no room for the spool -----------------------------------------------------------
small_state_folder_case() {
  run env DRCTL_STATE_DIR="$T/smallstate" "$DRCTL" --config "$CONF" restore postgres --jobs 2 --dry-run --target-database shop_small
  expect_err "queued in $T/smallstate .*: too little, so they would load one at a time" "the dry run warns the state folder is too small"
  run env DRCTL_STATE_DIR="$T/smallstate" "$DRCTL" --config "$CONF" --json restore postgres --jobs 2 --target-database shop_small
  expect_rc 0 "restore --jobs 2 with a 4 MiB state folder"
  expect_err "not enough free space in $T/smallstate .*loading them one at a time" "says why the tables load one at a time"
  jq -e '.data_loaders == null and .fingerprints.differences == []' <<<"$OUT" >/dev/null || fail "small state folder report: $OUT"
  same_as_source shop_small "one table at a time"
}
with_tmpfs 4m "$T/smallstate" small_state_folder_case
echo "$CHECKS passed, 0 failed"
