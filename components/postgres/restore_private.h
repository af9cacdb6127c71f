/*
 * restore_private: what the PostgreSQL restore (restore.c), its loader
 * (restore_load.c), its parallel data load (restore_spread.c) and the pieces
 * both loads use (restore_common.c) share.  Nothing outside this folder
 * includes it; postgres.h is the component's public face.
 *
 * The calls go one way: restore.c -> restore_load.c -> restore_spread.c, and
 * both loads -> restore_common.c, which calls neither of them (restore.c
 * also asks restore_spread.c whether the spools fit: postgres_spool_room).
 */
#ifndef DRCTL_RESTORE_POSTGRES_PRIVATE_H
#define DRCTL_RESTORE_POSTGRES_PRIVATE_H

#include <limits.h>

#include "components/postgres/postgres.h"
#include "lib/clients/pg.h"
#include "lib/format/pg_dumpfile.h"

/* Loading one PostgreSQL dump stream into an existing, empty database with
 * pg_restore (restore_load.c), for restore.c.  report
 * gets what was done. */
struct pg_child_env;
struct pg_load {
	const char *pg_restore;  /* the program */
	const char *database;    /* the dump's database, for messages */
	const char *staging;     /* the database to load into */
	const char *state_dir;   /* for the TOC file, the lists and the spools */
	const struct pg_child_env *env;
	long jobs;               /* pg_restore processes at once */
	int no_owner;            /* the roles are missing: --no-owner --no-acl */
	json_t *weights;         /* {"schema.table": size}, to spread the tables; may be NULL */
	uint64_t dump_size;      /* the dump stream's size: the most a spool can hold */
};
struct source;
int postgres_load(const struct pg_load *l, struct source *dump, json_t *report, struct drctl_error *err);

#define LOAD_COPY_SIZE (256 * 1024)       /* bytes read from the stream at a time */
#define LOAD_JOBS_MAX 32                  /* loader bits in a uint64_t, one spare */
#define LOAD_CHUNK_SIZE (64 * 1024)       /* COPY text per CopyData message */
#define LOAD_AHEAD_MAX (64u << 20)        /* read ahead of a busy loader at most this */
#define LOAD_AHEAD_LOW (16u << 20)        /* a loader with less queued is running dry */

/* --- restore_common.c ------------------------------------------------- */

/* pg_restore's command line for one pass (section, list and file may be
 * NULL); `argv` needs room for 14. */
struct pass_args {
	char dbarg[512], jobs[32], section[64], list[PATH_MAX + 16];
};
void postgres_pass_argv(const struct pg_load *l, const char *section, long jobs, const char *list, const char *file,
			struct pass_args *a, char **argv);

/* Why a pg_restore stopped reading its input, into err: its own message,
 * or that it exited 0 all the same.  Reaps it. */
void postgres_explain_early_exit(const struct pg_load *l, struct pg_tool *t, struct drctl_error *err);

/* The data blocks after the TOC (the bytes of `head` past "toc_end", then
 * the rest of `dump`), each handed to route() with its dump id, rows joined
 * into LOAD_CHUNK_SIZE chunks.  The route sets err when it fails. */
int postgres_route_dump(json_t *toc, const unsigned char *head, size_t head_len, struct source *dump,
			pg_block_route_fn route, void *arg, struct drctl_error *err);

/* --- restore_spread.c ------------------------------------------------- */

/* Whether dir has room for the spools of a dump of dump_size bytes (the
 * worst case, with a margin); *free_bytes gets what it has. */
int postgres_spool_room(const char *dir, uint64_t dump_size, uint64_t *free_bytes);

/* The data and then the post-data section with up to l->jobs loaders
 * (restore_spread.c), after the pre-data pass.  1: done; 0: nothing done
 * (one table, or no room for the spools), load the plain way; -1: failed. */
int postgres_load_spread(const struct pg_load *l, const char *tocfile, json_t *toc, const unsigned char *head,
			 size_t head_len, struct source *dump, json_t *report, struct drctl_error *err);

#endif
