/*
 * stream_thread: a hand-off stage that runs the rest of a chain on its own
 * thread, through a bounded ring of buffers.
 *
 * Reading: repository -> digest -> age run on the worker while the caller
 * decompresses and parses tar, the way `age -d | zstd -d | tar -t` spreads
 * over processes.  Writing: the rest of a chain runs on the worker while the
 * caller goes on; a backup's storage (a file, or an upload that may stall)
 * runs there while the compression workers encrypt and hash
 * (zstd_stream.h).  Memory is depth x chunk bytes
 * (4 x 1 MiB); a reading worker hands a chunk over when it is full, at the
 * end, or as soon as it holds something while the caller waits.
 * An error on the worker side is handed back at the caller's next call.
 */
#ifndef DRCTL_STREAM_THREAD_H
#define DRCTL_STREAM_THREAD_H

#include "lib/core/error.h"
#include "lib/stream/stream.h"

/* Owns upstream; reads it on a worker thread. */
struct source *thread_source_new(struct source *upstream, struct drctl_error *err);
/* Reading without a copy, from a source made by thread_source_new: *buf
 * points at the next *len bytes inside the ring (len 0 at the end), valid
 * until the next call on the source.  Reads and borrows may be mixed. */
int thread_source_borrow(struct source *s, const void **buf, size_t *len, struct drctl_error *err);
/* Owns next; writes (and finally closes or aborts) it on a worker thread. */
struct sink *thread_sink_new(struct sink *next, struct drctl_error *err);

#endif
