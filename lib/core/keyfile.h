/*
 * keyfile: reading files that hold secrets (keys, passwords, tokens).
 *
 * A secret file readable by group or others is refused, as ssh does: the
 * error names the file, its mode, and the chmod to run.  Contents are read
 * into memory that the caller wipes (keyfile_free).
 */
#ifndef DRCTL_KEYFILE_H
#define DRCTL_KEYFILE_H

#include <stddef.h>

#include "lib/core/error.h"

/* Read a whole file of at most max bytes.  what: "signing key", "age
 * identity", "Redis password"... for messages.  When secret, refuse modes
 * with any group/other bit.  The error's code is its cause: EXIT_NOT_FOUND
 * when the file is not there, EXIT_USAGE when it is there but unusable (not
 * a regular file, readable by others, too large, not readable by drctl),
 * EXIT_IO when the disk failed. */
int keyfile_read(const char *path, const char *what, int secret, size_t max,
		 char **data, size_t *len, struct drctl_error *err);
/* Wipe and free what keyfile_read returned. */
void keyfile_free(char *data, size_t len);
/* Write a new file with the given mode, refusing to overwrite (O_EXCL), fsync'd. */
int keyfile_write_new(const char *path, const char *what, int mode, const void *data,
		      size_t len, struct drctl_error *err);
/* Overwrite memory in a way the compiler cannot drop. */
void secure_wipe(void *p, size_t len);
/* The buffer *p (capacity *cap, its first `used` bytes in use) grown to
 * hold at least `need` bytes, as a secret's must be: the bytes move to the
 * new block and the old one is wiped before it is freed.  0, or -1 when
 * memory runs out (*p and *cap then unchanged). */
int secure_grow(char **p, size_t *cap, size_t used, size_t need);

#endif
