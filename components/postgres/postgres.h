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

int postgres_configured(const struct config *cfg);
int postgres_capture(struct capture_ctx *ctx, struct drctl_error *err);
int postgres_restore(struct restore_ctx *ctx, struct drctl_error *err);
int postgres_check_member(struct check_ctx *ctx, const struct archive_member *m, struct source *data,
			  struct drctl_error *err);
int postgres_check_finish(struct check_ctx *ctx, struct drctl_error *err);

#endif
