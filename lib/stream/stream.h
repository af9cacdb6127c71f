/*
 * stream: the stages a backup's bytes pass through, once.
 *
 * Writing: a `struct sink` takes bytes and passes them on to the next stage it
 * owns.  The archive writer writes into age, age into the hash stage, the hash
 * stage into the repository object.  `sink_close` finishes the stage (flush,
 * final chunk, commit) and then closes the next one; `sink_abort` throws the
 * whole chain away (a repository object being written is removed).  Both free
 * the stage.  A component never knows whether encryption is on or where the
 * bytes land.
 *
 * Reading is the same chain reversed: a `struct source` pulls bytes from the
 * source it owns.  `source_read` returns 0 with *got == 0 at the end.
 */
#ifndef DRCTL_STREAM_H
#define DRCTL_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "lib/core/error.h"

struct sink;
struct sink_ops {
	int (*write)(struct sink *s, const void *buf, size_t len, struct drctl_error *err);
	int (*close)(struct sink *s, struct drctl_error *err);
	void (*abort)(struct sink *s);
};
struct sink {
	const struct sink_ops *ops;
};

struct source;
struct source_ops {
	int (*read)(struct source *s, void *buf, size_t cap, size_t *got, struct drctl_error *err);
	void (*close)(struct source *s);
};
struct source {
	const struct source_ops *ops;
};

static inline int sink_write(struct sink *s, const void *buf, size_t len, struct drctl_error *err)
{
	return s->ops->write(s, buf, len, err);
}
/* Finish and free the stage and everything after it.  On failure the rest of
 * the chain is aborted, never left half committed. */
static inline int sink_close(struct sink *s, struct drctl_error *err)
{
	return s->ops->close(s, err);
}
static inline void sink_abort(struct sink *s)
{
	if (s)
		s->ops->abort(s);
}
static inline int source_read(struct source *s, void *buf, size_t cap, size_t *got, struct drctl_error *err)
{
	return s->ops->read(s, buf, cap, got, err);
}
static inline void source_close(struct source *s)
{
	if (s)
		s->ops->close(s);
}

/* Read exactly `len` bytes; a short stream is an error naming `what`. */
int source_read_exact(struct source *s, void *buf, size_t len, const char *what, struct drctl_error *err);
/* What stream_pump hands each chunk to: 0, or -1 with err set. */
typedef int (*stream_feed_fn)(void *arg, const void *buf, size_t len, struct drctl_error *err);
/* Read a whole source in chunks of at most `chunk` bytes and hand each to
 * feed(arg, ...); a NULL feed drops the bytes (reading to the end is what
 * counts, e.g. for a digest stage upstream).  Stops at the first failed read
 * or feed and returns -1 with its error.  *total (may be NULL) gets the bytes
 * fed, also on failure.  Does not close the source. */
int stream_pump(struct source *from, size_t chunk, stream_feed_fn feed, void *arg, uint64_t *total,
		struct drctl_error *err);
/* Copy a whole source into a sink (does not close either). */
int stream_copy(struct source *from, struct sink *to, uint64_t *copied, struct drctl_error *err);

/* --- the digest stage: SHA-256 and byte count of what passes ----------- */
struct digest {
	uint64_t bytes;
	unsigned char sha256[32];
	char sha256_hex[65];
};
/* The result is written into *out when the stage is closed successfully. */
struct sink *digest_sink_new(struct sink *next, struct digest *out, struct drctl_error *err);
/* Reading: the digest of everything read is in *out once the source hit its end. */
struct source *digest_source_new(struct source *upstream, struct digest *out, struct drctl_error *err);

/* --- progress: a pass-through stage that redraws the progress line (bytes,
 * rate, ETA when total is known) on stderr when it is a terminal. -------- */
struct sink *progress_sink_new(struct sink *next, const char *label, uint64_t total,
			       struct drctl_error *err);
struct source *progress_source_new(struct source *upstream, const char *label, uint64_t total,
				   struct drctl_error *err);

/* --- ends of chains ------------------------------------------------------ */
/* A sink into a caller-owned file descriptor (not closed). */
struct sink *fd_sink_new(int fd, const char *name, struct drctl_error *err);
/* A sink that grows a heap buffer; *buf and *len are valid after close (caller frees). */
struct sink *memory_sink_new(char **buf, size_t *len, size_t max, struct drctl_error *err);
/* A sink that drops everything (deep verify, benchmarks). */
struct sink *null_sink_new(struct drctl_error *err);
/* A source over a caller-owned fd (not closed), or a memory buffer (not copied). */
struct source *fd_source_new(int fd, const char *name, struct drctl_error *err);
struct source *memory_source_new(const void *buf, size_t len, struct drctl_error *err);

/* out holds 2 * len + 1 bytes. */
void hex_encode(const unsigned char *in, size_t len, char *out);

#endif
