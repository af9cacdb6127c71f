/*
 * backup_set: one backup run's objects in the repository, and the rule that
 * makes a set real.
 *
 *     backups/<id>/<component>.tar.zst.age   one archive object per component
 *     backups/<id>/SHA256SUMS(.minisig)      the objects' hashes, signed
 *     backups/<id>/manifest.json(.minisig)   everything else, signed
 *
 * Publication order: archive objects, SHA256SUMS, its signature, the
 * manifest's signature, and manifest.json last.  A set is complete only when
 * manifest.json is there and its signature verifies with the configured
 * public key; anything else is incomplete debris that is never listed as
 * good, never restored, and removed by prune.
 */
#ifndef DRCTL_BACKUP_SET_H
#define DRCTL_BACKUP_SET_H

#include <stddef.h>

#include <jansson.h>

#include "lib/core/error.h"
#include "lib/crypto/minisign.h"
#include "lib/storage/repo.h"

#define BACKUP_SET_ID_MAX 48
#define MANIFEST_FORMAT "drctl-backup-set/1"
#define MANIFEST_MAX_BYTES (64u << 20)

/* A new id that sorts by time: 20261129T020000Z-3f9a (UTC). */
void backup_set_new_id(char out[BACKUP_SET_ID_MAX]);
int backup_set_id_valid(const char *id);
/* "backups/<id>/<file>" */
void backup_set_path(const char *id, const char *file, char *out, size_t cap);
/* The archive object's file name for a component: "<c>.tar.zst.age", or
 * "<c>.tar.zst" when encryption is off. */
void backup_set_object_file(const char *component, int encrypted, char *out, size_t cap);

enum backup_set_state {
	SET_COMPLETE,   /* signed manifest present and valid */
	SET_INCOMPLETE, /* no manifest: interrupted or in progress */
	SET_INVALID,    /* a manifest whose signature or format is wrong */
};
const char *backup_set_state_name(enum backup_set_state s);

struct backup_set_info {
	char id[BACKUP_SET_ID_MAX];
	enum backup_set_state state;
	char reason[800];   /* why incomplete or invalid */
	json_t *manifest;   /* when complete (owned) */
};

/* Every set in the repository, newest first, with its state. */
int backup_set_list(struct repo *r, const struct minisign_public_key *pk,
		    struct backup_set_info **sets, size_t *n, struct drctl_error *err);
void backup_set_list_free(struct backup_set_info *sets, size_t n);

/* Resolve "latest" (newest complete set) or check that an id names a
 * complete set.  Writes the id. */
int backup_set_resolve(struct repo *r, const struct minisign_public_key *pk, const char *ref,
		       char id[BACKUP_SET_ID_MAX], struct drctl_error *err);

/* Read manifest.json and check its signature; error when missing (the set
 * is incomplete) or when the signature fails. */
int backup_set_load_manifest(struct repo *r, const struct minisign_public_key *pk, const char *id,
			     json_t **manifest, struct drctl_error *err);
/* Read SHA256SUMS and check its signature; returns {file: hex} */
int backup_set_load_sums(struct repo *r, const struct minisign_public_key *pk, const char *id,
			 json_t **sums, struct drctl_error *err);

/* The bytes of a signed object of set id (file: "manifest.json" or
 * "SHA256SUMS", at most MANIFEST_MAX_BYTES) and of its .minisig, once the
 * signature verified (else EXIT_INTEGRITY); both malloc'd. */
int backup_set_read_signed(struct repo *r, const struct minisign_public_key *pk, const char *id, const char *file,
			   char **data, size_t *len, char **sig, size_t *siglen, struct drctl_error *err);

/* The parsers behind the two loaders (exposed for the fuzz targets): a
 * manifest's JSON for set `id`, and SHA256SUMS text (NUL-terminated,
 * modified in place) into {file: hex}. */
int backup_set_parse_manifest(const char *data, size_t len, const char *id, json_t **manifest,
			      struct drctl_error *err);
int backup_set_parse_sums(char *data, json_t **sums, struct drctl_error *err);

/* Publish: SHA256SUMS from manifest.components.*.object{file,sha256}, signed;
 * then the manifest, signed, last. */
int backup_set_publish(struct repo *r, const struct minisign_signer *signer, const char *id,
		       json_t *manifest, struct drctl_error *err);

/* Remove a set (prune, and cleanup of a failed backup): manifest.json first,
 * then its signature, SHA256SUMS and its signature, the objects, the folder.
 * Interrupted at any point, what is left is an incomplete set. */
int backup_set_remove(struct repo *r, const char *id, struct drctl_error *err);
/* 1 with *until when the store keeps some object of the set from removal
 * until then (S3 Object Lock: the latest retain-until date of its
 * objects), 0 when nothing holds it, -1 on error. */
int backup_set_retained_until(struct repo *r, const char *id, time_t *until, struct drctl_error *err);

#endif
