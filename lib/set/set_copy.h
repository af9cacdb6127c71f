/*
 * set_copy: one complete backup set copied from one repository into
 * another (`drctl repo copy`), under the rules that make a set real:
 *
 * - Only a complete set is copied: its manifest.json and SHA256SUMS are
 *   read with their signatures verified first (the configured public key).
 * - Every archive object is streamed (memory flat: one chunk at a time)
 *   from the source into the target while its SHA-256 is computed; the
 *   target object becomes visible only when it matches SHA256SUMS, else
 *   the upload is aborted and the copy fails with EXIT_INTEGRITY.
 * - Then the signed objects, in the order a backup publishes them:
 *   SHA256SUMS, its signature, the manifest's signature, manifest.json
 *   last, byte for byte as verified.  So the copy is complete on the target
 *   only once everything else is there.
 * - A set already complete on the target is skipped; nothing is ever
 *   overwritten.  What an earlier copy of the same set left without a
 *   manifest (it was interrupted) is removed before copying again, and a
 *   copy that fails removes what it wrote: the target never holds
 *   something that looks complete and is not.
 */
#ifndef DRCTL_SET_COPY_H
#define DRCTL_SET_COPY_H

#include <stddef.h>
#include <stdint.h>

#include "lib/core/error.h"
#include "lib/crypto/minisign.h"
#include "lib/storage/repo.h"

struct set_copy_result {
	int copied;          /* 0: skipped, complete on the target already */
	size_t objects;      /* objects written */
	uint64_t bytes;      /* their bytes */
};

/* Copy set id from src into dst (see above). */
int set_copy(struct repo *src, struct repo *dst, const struct minisign_public_key *pk, const char *id,
	     struct set_copy_result *out, struct drctl_error *err);

#endif
