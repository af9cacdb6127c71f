/*
 * verify: proving a backup set is what was published.
 *
 * Sizes: both signatures (manifest, SHA256SUMS) with the configured public
 * key, SHA256SUMS against the manifest, and every archive object there at
 * its signed size; no object is read.  For a caller that reads every object
 * next anyway, checking its members' hashes on the way, into targets that
 * hold nothing to lose (cluster-loss restores into a new, empty cluster).
 * Quick (default): also the SHA-256 of every archive object.  Needs no
 * decryption identity.
 * Deep (--deep): also decrypts, decompresses and reads every member, checks
 * its name, size and SHA-256 against the signed manifest, refuses members the
 * manifest does not list, and runs the component's own format check.
 * Every problem found is reported (not just the first), each naming its
 * object.
 */
#ifndef DRCTL_VERIFY_H
#define DRCTL_VERIFY_H

#include <jansson.h>

#include "lib/core/config.h"
#include "lib/core/error.h"

enum verify_depth { VERIFY_SIZES, VERIFY_QUICK, VERIFY_DEEP };

/* report: {"backup","depth","deep","ok","objects":[...],"problems":[...]} */
int verify_run(const struct config *cfg, const char *ref, enum verify_depth depth, json_t *report,
	       struct drctl_error *err);

/* Remember / look up that a set passed verification (state dir). */
void verify_record_success(const struct config *cfg, const char *id, int deep);
/* "deep", "quick" or NULL */
const char *verify_recorded(const struct config *cfg, const char *id, char *when, size_t cap);

#endif
