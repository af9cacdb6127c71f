/*
 * drill_record: the signed record of each disaster-recovery drill, kept in
 * the repository so the drills' history outlives the machine that ran them.
 *
 *     drills/<run id>/record.json          what the drill measured (JSON)
 *     drills/<run id>/record.json.minisig  its signature (minisign, the
 *                                          backup signing key)
 *
 * Each object is written once and never rewritten, so it works with S3
 * Object Lock: record.json first, then its signature.  Publishing again
 * after a crash between the two (a resumed drill) writes no object twice: the
 * signature is made over the record.json that is already there.  A record is
 * trusted only when its signature verifies with [signing] public_key_file,
 * its format is known and it names the run of its folder; `minisign -Vm
 * record.json -p signing.pub` checks it without drctl.
 */
#ifndef DRCTL_DRILL_RECORD_H
#define DRCTL_DRILL_RECORD_H

#include <stddef.h>

#include <jansson.h>

#include "lib/core/error.h"
#include "lib/crypto/minisign.h"
#include "lib/storage/repo.h"

#define DRILL_RECORD_FORMAT "drctl-drill-record/1"
#define DRILL_RECORD_MAX_BYTES (1u << 20)
#define DRILL_RECORDS_FOLDER "drills"

/* "drills/<run>/record.json" (and ".minisig" when sig). */
void drill_record_name(const char *run, int sig, char *out, size_t cap);

/* Publish the record of run (its "format" and "run" are set here).
 * *already: set to 1 when record.json was there before this call (its
 * content stands; `record` is then not what is in the repository). */
int drill_record_publish(struct repo *r, const struct minisign_signer *signer, const char *run, json_t *record,
			 int *already, struct drctl_error *err);

/* Every record in the repository, oldest first:
 * [{"run", "valid": true, "record": {...}} or {"run", "valid": false,
 * "reason": "..."}].  An invalid record (no signature, one that does not
 * verify, unknown format, another run's) is listed as such with no values. */
int drill_record_list(struct repo *r, const struct minisign_public_key *pk, json_t **out, struct drctl_error *err);

#endif
