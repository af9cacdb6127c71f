#!/usr/bin/env bash
# Faults of the postgres component: server down, wrong password, missing
# database, no privilege, a pg_dump older than the server, the dump's
# connection killed mid-dump, and a full repository disk.  Each must give a
# clear error naming the database (or server) and the next step, a non-zero
# exit, no complete-looking set, and leave the sets already there intact.
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
. "$DRCTL_SOURCE_DIR/tests/harness/services.sh"
harness_init
start_postgres

"$PG_BIN/createdb" appdb
psql_ -d appdb -c "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 1000) g;
                   CREATE TABLE secrets (k text); CREATE ROLE limited LOGIN PASSWORD 'limited-pw';
                   GRANT SELECT ON t TO limited"
drctl_init_in "$T"
harness_drctl_postgres appdb appdb
run d backup --component postgres
expect_rc 0 "a good backup first"
GOOD=$OUT

# After every failure: exit non-zero, only the good set listed, it still verifies, no debris.
no_damage() {
  local what=$1
  [ "$RC" != 0 ] || fail "$what: exit status 0"
  local sets
  sets=$(ls "$REPO/backups")
  [ "$sets" = "$GOOD" ] || fail "$what: the repository holds more than the good set: $sets"
  "$DRCTL" --config "$CONF" verify "$GOOD" >/dev/null 2>&1 || fail "$what: the good set no longer verifies"
  [ -z "$(ls "$T/state" | grep -E '^(pgpass|pgtool)')" ] || fail "$what: temporary files left: $(ls "$T/state")"
  pass_note "$what: non-zero exit ($RC), nothing published, the good set intact"
}

# --- server down ----------------------------------------------------------------------
DOWN=$(harness_free_port)
run env DRCTL_POSTGRES_CONNINFO="host=127.0.0.1 port=$DOWN user=$PG_ADMIN_USER dbname=appdb" "$DRCTL" --config "$CONF" backup --component postgres
expect_err "cannot connect to PostgreSQL at 127.0.0.1:$DOWN/appdb" "server down: names the server and database"
expect_err "hint: .*pg_isready" "server down: says what to check"
no_damage "server down"

# --- wrong password ---------------------------------------------------------------------
(umask 077 && echo wrong-password >"$T/bad-password")
run env DRCTL_POSTGRES_PASSWORD_FILE="$T/bad-password" "$DRCTL" --config "$CONF" backup --component postgres
expect_err "password authentication failed for user \"$PG_ADMIN_USER\"" "wrong password: says so"
expect_err "hint: .*password_file" "wrong password: points at the password file"
expect_no_err "wrong-password" "the password itself is not shown"
no_damage "wrong password"

# --- missing database ---------------------------------------------------------------------
run env DRCTL_POSTGRES_DATABASES=appdb,nosuchdb "$DRCTL" --config "$CONF" backup --component postgres
expect_err "database nosuchdb.*does not exist" "missing database: named"
expect_err "hint: .*databases" "missing database: points at [postgres] databases"
no_damage "missing database"

# --- no privilege --------------------------------------------------------------------------
(umask 077 && echo limited-pw >"$T/limited-password")
run env DRCTL_POSTGRES_CONNINFO="host=127.0.0.1 port=$PGPORT user=limited dbname=appdb" DRCTL_POSTGRES_PASSWORD_FILE="$T/limited-password" \
  "$DRCTL" --config "$CONF" backup --component postgres
expect_err "user limited cannot read public.secrets in database appdb" "no privilege: names the user, table and database"
expect_err "hint: GRANT pg_read_all_data TO limited" "no privilege: says what to grant"
no_damage "no privilege"

# --- pg_dump older than the server ------------------------------------------------------------
printf '#!/bin/sh\necho "pg_dump (PostgreSQL) 14.11"\n' >"$T/old_pg_dump"; chmod +x "$T/old_pg_dump"
run env DRCTL_POSTGRES_PG_DUMP="$T/old_pg_dump" "$DRCTL" --config "$CONF" backup --component postgres
expect_err "is version 14.11 but the server is 15\.[0-9]+.*refused" "old pg_dump: both versions named, refused"
expect_err "hint: install the PostgreSQL client tools" "old pg_dump: says what to install"
no_damage "old pg_dump"

# --- connection killed mid-dump ------------------------------------------------------------------
# A table big enough that pg_dump is still in its COPY when drctl is paused
# (so pg_dump blocks on the full pipe and its backend waits in COPY).
psql_ -d appdb -c "CREATE TABLE aaa_big AS SELECT g AS id, repeat(md5(g::text), 4) AS pad FROM generate_series(1, 200000) g"
"$DRCTL" --config "$CONF" backup --component postgres >"$T/kill.out" 2>"$T/kill.err" &
BG=$!
harness_track_pid "$BG"
copy_pid() { psql_ -At -d postgres -c "select pid from pg_stat_activity where application_name = 'pg_dump' and query like 'COPY%' limit 1"; }
dump_connected() { [ -n "$(psql_ -At -d postgres -c "select 1 from pg_stat_activity where application_name = 'pg_dump' limit 1")" ]; }
for _ in $(seq 1 300); do dump_connected && break; sleep 0.01; done
kill -STOP "$BG"
PID=""
for _ in $(seq 1 100); do PID=$(copy_pid); [ -n "$PID" ] && break; sleep 0.1; done
[ -n "$PID" ] || { kill -CONT "$BG"; fail "pg_dump never reached its COPY"; }
psql_ -At -d postgres -c "select pg_terminate_backend($PID)" >/dev/null
kill -CONT "$BG"
set +e; wait "$BG"; RC=$?; set -e
OUT=$(cat "$T/kill.out"); ERR=$(cat "$T/kill.err")
expect_err "database appdb: pg_dump \(dump\) failed" "killed backend: pg_dump's failure names the database"
expect_err "hint: the connection to PostgreSQL was lost during the dump of appdb" "killed backend: explains and says what to do"
no_damage "killed backend"

# --- disk full -----------------------------------------------------------------------------------
disk_full_case() {
  mkdir -p "$T/small/repo/backups" # what `drctl init` lays out
  psql_ -d appdb -c "DROP TABLE aaa_big"
  export DRCTL_REPOSITORY_PATH="$T/small/repo"
  run d backup --component postgres
  expect_rc 0 "a first (small) backup into the small repository"
  SMALL_GOOD=$OUT
  before=$(cd "$T/small/repo/backups/$SMALL_GOOD" && sha256sum ./*)
  # ~6 MB that zstd cannot shrink below the 3 MB disk
  head -c 4500000 /dev/urandom | base64 -w 1000 >"$T/noise.txt"
  psql_ -d appdb -c "CREATE TABLE noise (b text)" -c "\copy noise FROM '$T/noise.txt'"
  run d backup --component postgres
  [ "$RC" != 0 ] || fail "disk full: exit status 0"
  expect_err "No space left on device|disk full|no space" "disk full: says the disk is full"
  expect_err "database appdb" "disk full: names the database"
  [ "$(ls "$T/small/repo/backups")" = "$SMALL_GOOD" ] || fail "disk full: sets now: $(ls "$T/small/repo/backups")"
  [ "$before" = "$(cd "$T/small/repo/backups/$SMALL_GOOD" && sha256sum ./*)" ] ||
    fail "disk full: the complete set's files changed"
  d verify "$SMALL_GOOD" >/dev/null 2>&1 || fail "disk full: the complete set no longer verifies"
  pass_note "disk full: non-zero exit ($RC), nothing published, the complete set intact"
}
with_tmpfs 3m "$T/small" disk_full_case

echo "$CHECKS passed, 0 failed"
