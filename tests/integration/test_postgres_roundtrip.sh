#!/usr/bin/env bash
# The postgres component end to end on a real PostgreSQL 15: backup of a
# database holding every kind of object the platform uses, deep verify (and a
# fingerprint table missing from the dump caught), restore into a new
# database (with 1 and 2 jobs) with fingerprints and per-table content
# checksums equal to the source's, refusal to overwrite, --force swap keeping
# the old database, idempotent --globals, --dry-run, and break-glass with
# age | zstd | tar | pg_restore alone.
set -eo pipefail
. "$DRCTL_SOURCE_DIR/tests/harness/testlib.sh"
. "$DRCTL_SOURCE_DIR/tests/harness/services.sh"
harness_init
start_postgres

harness_pg_fixture appdb
SRC_SUMS=$(harness_pg_sums appdb)

drctl_init_in "$T"
harness_drctl_postgres appdb
# drctl must take everything from its own settings, not the harness's PGUSER/PGDATABASE
dp() { env -u PGUSER -u PGDATABASE "$DRCTL" --config "$CONF" "$@"; }

# --- backup --------------------------------------------------------------------
run dp backup --component postgres
expect_rc 0 "backup --component postgres"
ID=$OUT
expect_no_err "SCRAM-SHA-256" "no password hash in the log"
run dp --json show "$ID"
M=$OUT
echo "$M" | grep -q "SCRAM-SHA-256" && fail "the manifest holds a password hash"
pass_note "no password hash in the manifest"
jq -e '.components.postgres.databases.appdb.fingerprints.tables
  | map({(.schema + "." + .name): .rows}) | add
  | .["public.requests"] == 3000 and .["public.agents"] == 40 and .["public.attachments"] == 500
    and .["audit.events"] == 77 and .["public.Odd Name; table"] == 3' <<<"$M" >/dev/null ||
  fail "row-count fingerprints are wrong: $(jq -c '.components.postgres.databases.appdb.fingerprints.tables' <<<"$M")"
pass_note "exact row counts in the manifest"
jq -e '.components.postgres.databases.appdb.fingerprints.sequences | map({(.name): [.last_value, .is_called]}) | add
  | .ticket_seq == [4242, true] and .never_used_seq == [1, false] and .requests_id_seq == [3000, true]' <<<"$M" >/dev/null ||
  fail "sequence fingerprints are wrong: $(jq -c '.components.postgres.databases.appdb.fingerprints.sequences' <<<"$M")"
pass_note "sequence values in the manifest"
jq -e '.components.postgres.globals.role_passwords == true and (.components.postgres.globals.roles | index("app_reader") != null)
  and .components.postgres.server_version != null and (.components.postgres.databases.appdb.snapshot | length > 0)' <<<"$M" >/dev/null ||
  fail "manifest lacks globals / versions / snapshot"
pass_note "manifest records globals, versions and the snapshot"
[ -z "$(ls "$T/state" | grep -E '^(pgpass|pgtool|pg-restore)')" ] || fail "temporary files left in the state folder: $(ls "$T/state")"
pass_note "no password or temporary file left behind"

# --- verify --deep -------------------------------------------------------------
run dp verify --deep "$ID"
expect_rc 0 "verify --deep"
# A fingerprint table the dump does not hold must be caught: edit the manifest
# and sign it again with the set's own key, so only the TOC check can object.
cp -r "$REPO/backups/$ID" "$REPO/backups/${ID%-*}-ffff"
TAMPERED="${ID%-*}-ffff"
jq --arg id "$TAMPERED" '.id = $id | .components.postgres.databases.appdb.fingerprints.tables += [{"schema":"public","name":"ghost","rows":1}]' \
  "$REPO/backups/$ID/manifest.json" >"$REPO/backups/$TAMPERED/manifest.json"
rm -f "$REPO/backups/$TAMPERED/manifest.json.minisig"
minisign -S -s "$T/signing.key" -m "$REPO/backups/$TAMPERED/manifest.json" </dev/null >/dev/null
run dp verify --deep "$TAMPERED"
[ "$RC" != 0 ] || fail "verify --deep accepted a dump without table public.ghost"
expect_err "no data for table public.ghost" "deep verify names the table missing from the dump's TOC"
rm -rf "${REPO:?}/backups/$TAMPERED"

# --- restore -------------------------------------------------------------------
run dp restore postgres --dry-run
expect_rc 0 "restore --dry-run"
expect_err "would create database appdb_restore_$ID"
[ -z "$(psql_ -Atc "select 1 from pg_database where datname like 'appdb_restore%'")" ] || fail "--dry-run created a database"
pass_note "--dry-run changes nothing"

run dp --json restore postgres --jobs 1
expect_rc 0 "restore (streamed, 1 job)"
jq -e '.fingerprints.differences == [] and .fingerprints.tables == 5 and .pg_restore.input == "pipe"' <<<"$OUT" >/dev/null ||
  fail "restore report: $OUT"
pass_note "restore reports matching fingerprints"
[ "$(harness_pg_sums "appdb_restore_$ID")" = "$SRC_SUMS" ] || fail "restored tables differ: $(diff <(echo "$SRC_SUMS") <(harness_pg_sums "appdb_restore_$ID"))"
pass_note "every table's ordered contents equal the source's"
# objects_equal DB: the view, function, indexes, foreign keys, grants, owners
# and sequence values of DB are those of the source.
objects_equal() {
  local R=$1
  [ "$(psql_ -At -d "$R" -c "select error_rate('agent_017')")" = "$(psql_ -At -d appdb -c "select error_rate('agent_017')")" ] ||
    fail "$R: the view/function give another answer"
  [ "$(psql_ -At -d "$R" -c "select string_agg(indexdef, ';' order by indexdef) from pg_indexes where schemaname in ('public','audit')")" = \
    "$(psql_ -At -d appdb -c "select string_agg(indexdef, ';' order by indexdef) from pg_indexes where schemaname in ('public','audit')")" ] || fail "$R: indexes differ"
  [ "$(psql_ -At -d "$R" -c "select count(*) from pg_constraint where contype = 'f'")" = 2 ] || fail "$R: foreign keys missing"
  [ "$(psql_ -At -d "$R" -c "select has_table_privilege('app_reader','agents','SELECT'), has_table_privilege('app_writer','audit.events','INSERT'), pg_get_userbyid(relowner) from pg_class where relname='attachments'")" = "t|t|app_writer" ] ||
    fail "$R: grants or owners were not restored"
  [ "$(psql_ -At -d "$R" -c "select nextval('ticket_seq')")" = 4243 ] || fail "$R: sequence value not restored"
  pass_note "$R: view, function, indexes, foreign keys, grants, owners and sequences restored"
}
objects_equal "appdb_restore_$ID"

run dp --json restore postgres --jobs 2 --target-database appdb_j2
expect_rc 0 "restore (schema and indexes from the TOC, 2 jobs)"
jq -e '(.pg_restore.input | startswith("pipe (data)")) and .pg_restore.jobs == 2' <<<"$OUT" >/dev/null || fail "3-pass restore report: $OUT"
[ "$(harness_pg_sums appdb_j2)" = "$SRC_SUMS" ] || fail "parallel restore differs from the source"
pass_note "parallel restore equals the source"
objects_equal appdb_j2

# --- over an existing database ---------------------------------------------------
psql_ -d appdb -c "DELETE FROM attachments WHERE id > 250; UPDATE agents SET category = 'damaged'"
DAMAGED=$(harness_pg_sums appdb)
run dp restore postgres --target-database appdb
expect_rc 2 "restore over an existing database without --force"
expect_err "database appdb already exists; nothing was changed"
expect_err "--force"
[ "$(harness_pg_sums appdb)" = "$DAMAGED" ] || fail "the refused restore changed appdb"
psql_ -d appdb -c "select pg_sleep(60)" >/dev/null 2>&1 & SLEEPER=$!  # a client on the database being replaced
sleep 0.5
run dp restore postgres --target-database appdb --force
expect_rc 0 "restore --force over appdb"
wait "$SLEEPER" 2>/dev/null || true
[ "$(harness_pg_sums appdb)" = "$SRC_SUMS" ] || fail "appdb after the swap differs from the backup"
pass_note "appdb holds the backup's data after the swap"
KEPT=$(psql_ -Atc "select datname from pg_database where datname like 'appdb\_replaced\_%'")
[ -n "$KEPT" ] || fail "the replaced database was not kept"
[ "$(harness_pg_sums "$KEPT")" = "$DAMAGED" ] || fail "the kept database $KEPT is not the damaged original"
pass_note "the old database is kept as $KEPT, untouched"
expect_err "sessions terminated"

# --- globals ---------------------------------------------------------------------
psql_ -c "DROP ROLE app_auditor; ALTER ROLE app_reader NOLOGIN CONNECTION LIMIT 1"
run dp restore postgres --globals-only
expect_rc 0 "restore --globals-only"
run dp --json restore postgres --globals-only
expect_rc 0 "restore --globals-only again (idempotent)"
jq -e '.globals.failed == 0 and .globals.roles_existing >= 4' <<<"$OUT" >/dev/null || fail "second globals run: $OUT"
[ "$(psql_ -Atc "select rolcanlogin, rolconnlimit from pg_roles where rolname = 'app_reader'")" = "t|20" ] || fail "app_reader not altered back"
[ "$(psql_ -Atc "select count(*) from pg_roles where rolname like 'app\_%'")" = 3 ] || fail "roles duplicated or missing"
PGPASSWORD=auditor-pw "$PG_BIN/psql" -X -At -h 127.0.0.1 -p "$PGPORT" -U app_auditor -d postgres -c "select current_user" >/dev/null ||
  fail "app_auditor cannot log in with its old password after the globals restore"
pass_note "roles re-created and altered, passwords kept, none duplicated"

# --- break-glass: stock tools only ---------------------------------------------------
BG="$T/breakglass"; mkdir -p "$BG"
age -d -i "$T/age-identity.txt" "$REPO/backups/$ID/postgres.tar.zst.age" | zstd -d | tar -x -C "$BG"
cat "$BG"/postgres/appdb.dump.part-* >"$BG/appdb.dump"
pg_restore -l "$BG/appdb.dump" | grep -q "TABLE DATA public requests" || fail "pg_restore -l does not list requests"
"$PG_BIN/createdb" bg_db
pg_restore --exit-on-error -d bg_db "$BG/appdb.dump"
[ "$(harness_pg_sums bg_db)" = "$SRC_SUMS" ] || fail "break-glass restore differs from the source"
grep -q "CREATE ROLE app_reader" "$BG/postgres/globals.sql.part-000001" || fail "globals.sql lacks the roles"
pass_note "age -d | zstd -d | tar -x, cat parts, pg_restore: same data"

echo "$CHECKS passed, 0 failed"
