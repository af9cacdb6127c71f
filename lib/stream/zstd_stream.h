/*
 * zstd_stream: zstd compression and decompression as stream stages.
 *
 * drctl drives libzstd itself rather than through libarchive's filter so it
 * can bound memory and spread the work: the input is compressed in jobs of
 * 2 MiB on worker threads, each job a standard zstd frame, which then pass
 * on to the next sink in order on those same threads (so encryption, hashing
 * and storage run beside compression, not after it).  The stage holds about
 * 5.5 MiB per worker plus 12 MiB whatever the data (libarchive's threaded
 * filter holds ~48 MiB and offers no knob).  `zstd -d` reads the frames, one
 * after another, as one stream.
 */
#ifndef DRCTL_ZSTD_STREAM_H
#define DRCTL_ZSTD_STREAM_H

#include "lib/core/error.h"
#include "lib/stream/stream.h"

/* level 1..19; workers 0 = one per core (1 core: single-threaded), 1 =
 * single-threaded (all on the caller's thread).  With workers, `next` is
 * written from the workers, one write at a time, and closed or aborted on the
 * caller's thread.  On failure `next` is aborted. */
struct sink *zstd_sink_new(struct sink *next, int level, int workers, struct drctl_error *err);
/* Writing without a copy: *buf points at room for up to *len (<= want, > 0)
 * bytes inside the job being filled.  Fill a prefix of it, then sink_write
 * exactly that pointer and length (stages in between hand the pointer on
 * unchanged): bytes already in place are not copied.  The room is valid
 * until the next call on the sink. */
int zstd_sink_reserve(struct sink *s, size_t want, void **buf, size_t *len, struct drctl_error *err);
/* Decompress everything read from `upstream` (owned).  Data after the last
 * frame, or a frame cut short, is an error. */
struct source *zstd_source_new(struct source *upstream, const char *name, struct drctl_error *err);

#endif
