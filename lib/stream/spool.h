/*
 * spool: a first-in first-out queue of bytes between one writing thread and
 * one reading thread, kept in an unlinked temporary file rather than in
 * memory, so that the writer never waits for the reader and drctl's memory
 * stays flat however far the reader falls behind.
 *
 * Used where one sequential stream feeds several slower consumers at once
 * (the PostgreSQL restore loads several tables from one dump stream): each
 * consumer gets a spool, and the stream is read at its own speed.  Space
 * the reader has consumed is given back to the file system as it goes
 * (FALLOC_FL_PUNCH_HOLE), so the file holds only the backlog, and usually
 * never reaches the disk at all: it lives and dies in the page cache.  It
 * holds the bytes encrypted under a key that exists only in memory.
 */
#ifndef DRCTL_SPOOL_H
#define DRCTL_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/core/error.h"

struct spool;

/* A new, empty spool whose file lives (unlinked from the start) in dir. */
struct spool *spool_new(const char *dir, struct drctl_error *err);

/* Writer side.  spool_write never blocks on the reader; it fails only when
 * the file system does (full disk), or after the reader gave up
 * (spool_abandon), with EPIPE in err. */
int spool_write(struct spool *s, const void *buf, size_t len, struct drctl_error *err);
/* No more bytes will come: the reader sees the end once it has read all. */
void spool_finish(struct spool *s);

/* Reader side.  Blocks until there are bytes to read or the writer is done;
 * returns the bytes read, 0 at the end, -1 (errno set) when the file
 * cannot be read or the writer abandoned the queue. */
ssize_t spool_read(struct spool *s, void *buf, size_t cap);

/* Either side: the other side's next call fails instead of waiting. */
void spool_abandon(struct spool *s);

/* Bytes written and not yet read, now; 1 once either side abandoned it. */
uint64_t spool_backlog(struct spool *s);
int spool_abandoned(struct spool *s);

/* The most bytes that were written and not yet read, at any moment. */
uint64_t spool_peak_backlog(const struct spool *s);

void spool_free(struct spool *s);

#endif
