/*
 * fsutil: the file-system steps several modules need, written once.
 *
 * - fs_mkdir_p: a folder and its parents (mkdir -p); fs_mkdir_parents: the
 *   folders that hold a file.
 * - fs_write_atomic: a small file replaced as a whole or not at all
 *   (temporary name in the same folder, fsync, rename, fsync of the folder),
 *   so a reader never sees half a file and a crash leaves the old one or the
 *   new one.  The scenario journal's index, the verification notes and any
 *   state file that outlives a process go through it.
 * - fs_fsync_dir_of: make a rename or a new name in a folder durable.
 * - fs_write_all: all of a buffer written to a descriptor, short writes and
 *   EINTR taken care of.
 */
#ifndef DRCTL_CORE_FSUTIL_H
#define DRCTL_CORE_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "lib/core/error.h"

/* hint may be NULL; it is the error's hint when a folder cannot be made. */
int fs_mkdir_p(const char *path, mode_t mode, const char *hint, struct drctl_error *err);
/* The folders that hold the file `path` (everything before its last "/"). */
int fs_mkdir_parents(const char *path, mode_t mode, const char *hint, struct drctl_error *err);
/* Write `len` bytes as the whole new content of `path` with `mode`. */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct drctl_error *err);
/* fsync the folder that holds `path`; 0 or -1 with errno. */
int fs_fsync_dir_of(const char *path);
/* Write all `len` bytes of buf to fd; 0 or -1 with errno. */
int fs_write_all(int fd, const void *buf, size_t len);

#endif
