/*
 * verify: proving a backup set is what was published.
 *
 * Quick (default): both signatures (manifest, SHA256SUMS) with the configured
 * public key, SHA256SUMS against the manifest, and the size and SHA-256 of
 * every archive object.  Needs no decryption identity.
 * Deep (--deep): also decrypts, decompresses and reads every member, checks
 * its name, size and SHA-256 against the signed manifest, refuses members the
 * manifest does not list, and runs the component's own format check.
 * Every problem found is reported (not just the first), each naming its
 * object.
 */
#ifndef DRCTL_VERIFY_H
#define DRCTL_VERIFY_H

#include <jansson.h>

#include "config.h"
#include "error.h"

/* report: {"backup","deep","ok","objects":[...],"problems":[...]} */
int verify_run(const struct config *cfg, const char *ref, int deep, json_t *report,
	       struct drctl_error *err);

/* Remember / look up that a set passed verification (state dir). */
void verify_record_success(const struct config *cfg, const char *id, int deep);
/* "deep", "quick" or NULL */
const char *verify_recorded(const struct config *cfg, const char *id, char *when, size_t cap);

/* The PostgreSQL component's deep check (verify/postgres.c): each dump's
 * table of contents reads, and lists every table of the fingerprints. */
struct check_ctx;
struct archive_member;
struct source;
int postgres_check_member(struct check_ctx *ctx, const struct archive_member *m, struct source *data,
			  struct drctl_error *err);
int postgres_check_finish(struct check_ctx *ctx, struct drctl_error *err);

/* The Vault component (verify/vault.c). */
int vault_check_member(struct check_ctx *ctx, const struct archive_member *m, struct source *data,
		       struct drctl_error *err);
int vault_check_finish(struct check_ctx *ctx, struct drctl_error *err);

/* The Redis component (verify/redis.c): the RDB re-walked, CRC64 and counts. */
int redis_check_member(struct check_ctx *ctx, const struct archive_member *m, struct source *data,
		       struct drctl_error *err);
int redis_check_finish(struct check_ctx *ctx, struct drctl_error *err);

#endif
