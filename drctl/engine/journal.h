/*
 * journal: the append-only record of one scenario run, in
 * <state dir>/runs/<run id>/journal.
 *
 * Each record is one line: eight hex digits of the CRC-32 of the JSON text,
 * a space, the JSON object, a newline.  A record is written with one write()
 * and fsync'd before journal_append returns, so the engine can write "this is
 * what I am about to do" and only then do it.  Reading stops at the first
 * record that is not whole (no newline, a CRC that does not match, JSON that
 * does not parse): that can only be the last one, torn by a crash or a power
 * loss in the middle of its write; it is reported and ignored, and the next
 * append first cuts it off.  A damaged record followed by good ones is not a
 * torn write: that is an error.
 *
 * Records hold what the run decided and observed (the backup set id, the
 * replica counts, the names of databases it created, each step's start, end
 * and outcome), never a secret.
 */
#ifndef DRCTL_ENGINE_JOURNAL_H
#define DRCTL_ENGINE_JOURNAL_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "lib/core/error.h"

#define JOURNAL_RECORD_MAX (1u << 20)

struct journal;

/* Create the journal of a new run with its first record (its folder must
 * exist; the file must not).  The file appears whole, with that record, or
 * not at all: a run that exists has said what it is. */
int journal_create(struct journal **out, const char *path, json_t *first, struct drctl_error *err);
/* Open an existing journal for appending; *records gets every whole record
 * (a JSON array, caller frees); *torn is set when a torn last record was
 * found (it is cut off before the next append). */
int journal_open(struct journal **out, const char *path, json_t **records, int *torn, struct drctl_error *err);
/* Read every whole record without opening for writing (status). */
int journal_read(const char *path, json_t **records, int *torn, struct drctl_error *err);
/* Append one record ("seq" and "at" are added), durable when it returns. */
int journal_append(struct journal *j, json_t *record, struct drctl_error *err);
void journal_close(struct journal *j);

#endif
