/*
 * component: what a backed-up thing (files, PostgreSQL, Redis, Vault) offers
 * the commands.  The backup, restore and verify commands run components
 * through this interface and know nothing of PostgreSQL or Redis.
 *
 * - capture writes the component's members into an archive that is already
 *   wired to compression, encryption, hashing and the repository, and fills
 *   its manifest section (source versions, fingerprints...).
 * - restore reads the members back from a verified set.
 * - check_member (optional) is deep verify's per-member format check (RDB
 *   CRC, pg_restore TOC...); the generic part already checks names, sizes and
 *   SHA-256 of every member against the signed manifest.
 */
#ifndef DRCTL_COMPONENT_H
#define DRCTL_COMPONENT_H

#include <jansson.h>

#include "lib/core/config.h"
#include "lib/core/error.h"
#include "lib/core/options.h"
#include "lib/stream/archive_stream.h"

struct capture_ctx {
	const struct config *cfg;
	const char *backup_id;
	struct archive_out *archive;
	json_t *section; /* the component's manifest section, to add to */
};

struct restore_options {
	const char *backup;  /* id or "latest" */
	const char *target;  /* --target, meaning is the component's */
	int force;
	int dry_run;
	/* The component's own options, as the struct its header declares
	 * (e.g. struct postgres_restore_options), or NULL for its defaults.
	 * The command line fills it through the component's option table; the
	 * scenarios and the drill fill it directly. */
	const void *component;
};

struct restore_ctx {
	const struct config *cfg;
	const char *backup_id;
	json_t *manifest;      /* the whole signed manifest */
	json_t *section;       /* this component's section */
	struct archive_in *archive;
	const struct restore_options *opts;
	json_t *report;        /* what the restore did, for the command's output */
};

struct check_ctx {
	const struct config *cfg;
	const char *backup_id;
	json_t *section;
	void *state; /* the component's own, between members */
};

struct component {
	const char *name;
	const char *summary;
	/* Is it configured (so a plain `drctl backup` includes it)? */
	int (*configured)(const struct config *cfg);
	int (*capture)(struct capture_ctx *ctx, struct drctl_error *err);
	int (*restore)(struct restore_ctx *ctx, struct drctl_error *err);
	int (*check_member)(struct check_ctx *ctx, const struct archive_member *m,
			    struct source *data, struct drctl_error *err);
	int (*check_finish)(struct check_ctx *ctx, struct drctl_error *err);
	/* The restore options only this component has: their table (the
	 * command line and --help) and the size of the struct it fills. */
	const struct opt_spec *restore_option_table;
	size_t restore_options_size;
};

/* The registry (components/registry.c): the table of every component. */
const struct component *component_find(const char *name);
const struct component *const *component_all(size_t *n);
/* "files, postgres, vault, redis": every component's name, for messages. */
const char *component_names(void);

#endif
