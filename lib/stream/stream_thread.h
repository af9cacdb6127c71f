/*
 * stream_thread: a hand-off stage that runs the rest of a chain on its own
 * thread, through a bounded ring of buffers.
 *
 * Reading: repository -> digest -> age run on the worker while the caller
 * decompresses and parses tar, the way `age -d | zstd -d | tar -t` spreads
 * over processes.  Writing: age -> digest -> repository run on the worker
 * while the caller archives and compresses.  Memory is depth x chunk bytes.
 * An error on the worker side is handed back at the caller's next call.
 */
#ifndef DRCTL_STREAM_THREAD_H
#define DRCTL_STREAM_THREAD_H

#include "lib/core/error.h"
#include "lib/stream/stream.h"

/* Owns upstream; reads it on a worker thread. */
struct source *thread_source_new(struct source *upstream, struct drctl_error *err);
/* Owns next; writes (and finally closes or aborts) it on a worker thread. */
struct sink *thread_sink_new(struct sink *next, struct drctl_error *err);

#endif
