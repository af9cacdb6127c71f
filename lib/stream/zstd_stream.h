/*
 * zstd_stream: zstd compression and decompression as stream stages.
 *
 * drctl drives libzstd itself rather than through libarchive's filter so it
 * can bound memory: multi-threaded compression with a small job size keeps
 * the stage at a few MiB whatever the data (libarchive's threaded filter
 * holds ~48 MiB and offers no knob).  The output is one standard zstd frame
 * that `zstd -d` reads.
 */
#ifndef DRCTL_ZSTD_STREAM_H
#define DRCTL_ZSTD_STREAM_H

#include "lib/core/error.h"
#include "lib/stream/stream.h"

/* level 1..19; workers 0 = one per core (1 core: single-threaded). On
 * failure `next` is aborted. */
struct sink *zstd_sink_new(struct sink *next, int level, int workers, struct drctl_error *err);
/* Decompress everything read from `upstream` (owned).  Data after the last
 * frame, or a frame cut short, is an error. */
struct source *zstd_source_new(struct source *upstream, const char *name, struct drctl_error *err);

#endif
