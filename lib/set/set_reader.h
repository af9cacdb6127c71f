/*
 * set_reader: reading a complete backup set, for restore and deep verify.
 *
 * Opening resolves the id ("latest" or an id), checks the manifest's
 * signature, and from then on every component object is read through the
 * chain repository -> SHA-256 -> age -> tar.zst.  Finishing a component reads
 * the object to its end and compares its size and SHA-256 with the signed
 * manifest, so nothing read from a set is trusted on the archive's word alone.
 */
#ifndef DRCTL_SET_READER_H
#define DRCTL_SET_READER_H

#include <jansson.h>

#include "lib/core/config.h"
#include "lib/crypto/age.h"
#include "lib/crypto/minisign.h"
#include "lib/set/backup_set.h"
#include "lib/storage/repo.h"
#include "lib/stream/archive_stream.h"
#include "lib/stream/stream.h"

struct set_reader {
	const struct config *cfg;
	struct repo *repo;
	struct minisign_public_key pk;
	char id[BACKUP_SET_ID_MAX];
	json_t *manifest;
	struct age_identity *ids;
	size_t n_ids;
	int ids_listed;         /* the signed manifest lists one of the identities' recipients */
};

struct object_read {
	char name[512];         /* repository object name */
	json_t *section;        /* the component's manifest section (borrowed) */
	struct digest digest;
	struct archive_in *archive;
};

/* ref: an id or "latest". */
int set_reader_open(struct set_reader *s, const struct config *cfg, const char *ref,
		    struct drctl_error *err);
/* Load the identity ([encryption] identity_file) when the set is encrypted,
 * and check it against the recipients the signed manifest lists.  A key
 * error (missing, unusable, or an identity that is not one of the set's
 * recipients) is EXIT_NOT_FOUND or EXIT_USAGE and says the set was not
 * checked; it is never a verdict on the set.  Done once; opening a component
 * calls it. */
int set_reader_load_identities(struct set_reader *s, struct drctl_error *err);
/* Open one component's object.  Needs the identity when the set is encrypted.
 * An object the signed manifest lists but the repository lacks, or whose age
 * header the listed identity does not open, is EXIT_INTEGRITY. */
int set_reader_open_component(struct set_reader *s, const char *component, struct object_read *o,
			      struct drctl_error *err);
/* Drain, check size and SHA-256 against the manifest, close. */
int set_reader_finish_component(struct set_reader *s, struct object_read *o, struct drctl_error *err);
/* Close without checking (after an error). */
void set_reader_abandon_component(struct object_read *o);
void set_reader_close(struct set_reader *s);
int set_reader_encrypted(const struct set_reader *s);

#endif
