/*
 * incident: the evidence of a security incident, kept in the repository as
 * signed, encrypted objects that outlive the machine that collected them.
 *
 *     incidents/<run id>/bundle.tar.zst.age       the evidence (tar, zstd, age)
 *     incidents/<run id>/manifest.json.minisig    its signature (minisign)
 *     incidents/<run id>/manifest.json            what it holds, and the
 *                                                 bundle's SHA-256 and size
 *
 * The bundle goes through the very chain a backup's archive does (tar and
 * zstd, age to the configured recipients, SHA-256 and size, the repository
 * object), so `age -d -i identity bundle.tar.zst.age | zstd -d | tar -x`
 * opens it with no drctl, and `minisign -V -p signing.pub -m manifest.json`
 * checks the manifest.  The manifest's signature is written before the
 * manifest, and the manifest last: a bundle is complete once its manifest
 * is there.  Every object is written once; a second attempt after a crash
 * writes only what is missing and never replaces what is there.
 */
#ifndef DRCTL_SET_INCIDENT_H
#define DRCTL_SET_INCIDENT_H

#include <stddef.h>

#include <jansson.h>

#include "lib/core/config.h"
#include "lib/core/error.h"
#include "lib/stream/archive_stream.h"

#define INCIDENT_BUNDLE_FILE "bundle.tar.zst.age"
#define INCIDENT_MANIFEST_FORMAT "drctl-incident/1"

/* "incidents/<id>/<file>" */
void incident_path(const char *id, const char *file, char *out, size_t cap);

/* What the repository holds of incident `id`: 0 nothing, 1 the bundle
 * object only, 2 the manifest too (complete). */
int incident_state(const struct config *cfg, const char *id, int *state, struct drctl_error *err);

struct incident_writer;

/* Start writing the bundle object: the archive members go into
 * incident_writer_archive().  Refused when encryption is off or no
 * recipient is configured: evidence is never stored in the clear. */
int incident_writer_open(struct incident_writer **out, const struct config *cfg, const char *id,
			 struct drctl_error *err);
struct archive_out *incident_writer_archive(struct incident_writer *w);
/* Finish the object; *bundle gets {"object","size","sha256","members":[...],
 * "recipients":[...]}. */
int incident_writer_close(struct incident_writer *w, json_t **bundle, struct drctl_error *err);
/* Throw the object away (nothing is left in the repository). */
void incident_writer_abort(struct incident_writer *w);

/* The object's size and SHA-256 read back from the repository, for a run
 * that was killed after writing it but before noting its digest:
 * {"object","size","sha256"}. */
int incident_bundle_digest(const struct config *cfg, const char *id, json_t **bundle, struct drctl_error *err);

/* Sign and publish the manifest (the caller's document, written as
 * formatted JSON), the signature first; `signed_at` (Unix time) goes into
 * the trusted comment, so a second attempt produces the same bytes.  A
 * signature already there is checked against the manifest, not rewritten. */
int incident_publish(const struct config *cfg, const char *id, json_t *manifest, long signed_at,
		     struct drctl_error *err);

#endif
