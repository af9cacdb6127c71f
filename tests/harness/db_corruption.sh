# What the db-corruption scenario's tests share (test_scenario_db_corruption.sh,
# agents under commands, and test_scenario_db_corruption_k8s.sh, under
# Kubernetes): agents_db from the fixture, its damage, the damage again for
# each round, and the databases' end state a run must reach.  Source it after
# testlib.sh and services.sh, once PostgreSQL is started.

# The sha256 of DB's plain dump (no owners, no "Dumped" times): equal sums, equal bytes.
dbc_dump_of() { # DB
	"$PG_BIN/pg_dump" --no-owner --restrict-key=drctltest -Fp "$1" | grep -v '^-- Dumped' | sha256sum | cut -d' ' -f1
}

# The agents_db* databases, sorted, on one line.
dbc_databases() {
	psql_ -At -d postgres -c "select datname from pg_database where datname like 'agents_db%' order by 1" | tr '\n' ' '
}

# agents_db from the fixture; GOOD_SUMS, its table checksums.
dbc_fixture() {
	harness_pg_fixture agents_db
	GOOD_SUMS=$(harness_pg_sums agents_db)
}

# The damage: half the requests rewritten, a table gone.  A template keeps
# the damaged state so every round starts from the very same bytes; DAMAGED
# is their dump's sum.
dbc_damage() {
	psql_ -d agents_db -c "update requests set status = 0, note = 'corrupted' where id % 2 = 0; drop table attachments"
	"$PG_BIN/createdb" -T agents_db damaged_template
	DAMAGED=$(dbc_dump_of agents_db)
	[ "$(harness_pg_sums agents_db)" != "$GOOD_SUMS" ] || fail "the damage did not change the database"
}

# Every agents_db* database dropped, agents_db the damaged one again.
dbc_fresh_damage() {
	local d
	for d in $(dbc_databases); do "$PG_BIN/dropdb" "$d"; done
	"$PG_BIN/createdb" -T damaged_template agents_db
}

# After a run: agents_db equals the backup, and exactly one damaged database
# is kept under its dated name, byte for byte the damaged one.
dbc_expect_restored_and_kept() { # label
	local kept
	[ "$(harness_pg_sums agents_db)" = "$GOOD_SUMS" ] || fail "$1: agents_db does not equal the backup"
	kept=$(psql_ -At -d postgres -c "select datname from pg_database where datname like 'agents_db_corrupt_%'")
	[ "$(wc -w <<<"$kept")" = 1 ] || fail "$1: expected exactly one kept damaged database, found: $(dbc_databases)"
	[ "$(dbc_dump_of "$kept")" = "$DAMAGED" ] || fail "$1: the kept database $kept is not byte for byte the damaged one"
}
