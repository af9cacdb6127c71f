/*
 * postgres: the PostgreSQL component.  capture.c runs pg_dump (custom
 * format) for each configured database and pg_dumpall --globals-only, all in
 * one exported snapshot, with fingerprints; restore.c loads a dump into a new
 * database (restore_load.c, restore_spread.c for --jobs N) and compares the
 * fingerprints; check.c is deep verify's look at each dump's TOC.
 */
#ifndef DRCTL_COMPONENTS_POSTGRES_H
#define DRCTL_COMPONENTS_POSTGRES_H

#include "components/component.h"

struct pg_server;

/* drctl restore postgres [--database NAME] [--target-database NAME] [--jobs N]
 * [--globals | --globals-only]; all zero: the only database of the set,
 * restored under its own name, [postgres] jobs at once, no globals. */
struct postgres_restore_options {
	const char *database;        /* which database of the set */
	const char *target_database; /* the name it gets (default: its own; or --target) */
	long jobs;                   /* pg_restore processes at once, 1..64; 0: [postgres] jobs */
	int globals;                 /* also restore the cluster globals (roles) first */
	int globals_only;            /* only the globals */
	/* The server to restore into (lib/clients/pg.h): NULL is the
	 * platform's, [postgres] conninfo; the drill gives &pg_server_scratch.
	 * Every connection of the restore, pg_restore's included, goes there. */
	const struct pg_server *server;
};
extern const struct opt_spec postgres_restore_option_table[];

int postgres_configured(const struct config *cfg);
int postgres_capture(struct capture_ctx *ctx, struct drctl_error *err);
int postgres_restore(struct restore_ctx *ctx, struct drctl_error *err);
/* Take the fingerprints of `database` on `server` (NULL: the platform's)
 * (exact row counts, sequence values) and compare them with `want` (a
 * manifest's); every difference is logged, report gets {"fingerprints":
 * {"tables", "sequences", "differences"}}, and a difference is
 * EXIT_INTEGRITY. */
int postgres_check_fingerprints(const struct config *cfg, const struct pg_server *server, json_t *want,
				const char *database, json_t *report, struct drctl_error *err);
int postgres_check_member(struct check_ctx *ctx, const struct archive_member *m, struct source *data,
			  struct drctl_error *err);
int postgres_check_finish(struct check_ctx *ctx, struct drctl_error *err);

#endif
