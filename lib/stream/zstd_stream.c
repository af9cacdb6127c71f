/*
 * zstd_stream: see zstd_stream.h.  Compression uses ZSTD_compressStream2
 * with ZSTD_e_continue for data and ZSTD_e_end at close; each output buffer
 * is passed on as soon as it fills.
 */
#include "lib/stream/zstd_stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

/* Memory per worker is about 2-3 job sizes; 1 MiB jobs keep the whole stage
 * near 10 MiB with two workers while still giving them enough to chew on. */
#define ZSTD_JOB_SIZE (1u << 20)

struct zstd_sink {
	struct sink base;
	struct sink *next;
	ZSTD_CCtx *cctx;
	void *out;
	size_t out_cap;
};

static int zstd_fail(struct drctl_error *err, const char *what, size_t code)
{
	return err_set(err, EXIT_FAILED, NULL, NULL, "zstd %s failed: %s", what, ZSTD_getErrorName(code));
}

static int zstd_sink_pump(struct zstd_sink *z, ZSTD_inBuffer *in, ZSTD_EndDirective mode, struct drctl_error *err)
{
	for (;;) {
		ZSTD_outBuffer out = { z->out, z->out_cap, 0 };
		size_t left = ZSTD_compressStream2(z->cctx, &out, in, mode);
		if (ZSTD_isError(left))
			return zstd_fail(err, "compression", left);
		if (out.pos > 0 && sink_write(z->next, z->out, out.pos, err) != 0)
			return -1;
		if (mode == ZSTD_e_continue ? in->pos == in->size : left == 0)
			return 0;
	}
}

static int zstd_sink_write(struct sink *s, const void *buf, size_t len, struct drctl_error *err)
{
	struct zstd_sink *z = (struct zstd_sink *)s;
	ZSTD_inBuffer in = { buf, len, 0 };
	return zstd_sink_pump(z, &in, ZSTD_e_continue, err);
}

static void zstd_sink_free(struct zstd_sink *z)
{
	ZSTD_freeCCtx(z->cctx);
	free(z->out);
	free(z);
}

static int zstd_sink_close(struct sink *s, struct drctl_error *err)
{
	struct zstd_sink *z = (struct zstd_sink *)s;
	ZSTD_inBuffer in = { NULL, 0, 0 };
	struct sink *next = z->next;

	if (zstd_sink_pump(z, &in, ZSTD_e_end, err) != 0) {
		sink_abort(next);
		zstd_sink_free(z);
		return -1;
	}
	zstd_sink_free(z);
	return sink_close(next, err);
}

static void zstd_sink_abort(struct sink *s)
{
	struct zstd_sink *z = (struct zstd_sink *)s;
	sink_abort(z->next);
	zstd_sink_free(z);
}

static const struct sink_ops zstd_sink_ops = { zstd_sink_write, zstd_sink_close, zstd_sink_abort };

struct sink *zstd_sink_new(struct sink *next, int level, int workers, struct drctl_error *err)
{
	struct zstd_sink *z = calloc(1, sizeof(*z));

	if (workers <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		workers = n > 1 ? (int)n : 0;
	} else if (workers == 1) {
		workers = 0; /* one thread: no worker pool, no job buffers */
	}
	if (!z || !(z->cctx = ZSTD_createCCtx()) || !(z->out = malloc(ZSTD_CStreamOutSize()))) {
		if (z)
			zstd_sink_free(z);
		sink_abort(next);
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		return NULL;
	}
	z->base.ops = &zstd_sink_ops;
	z->next = next;
	z->out_cap = ZSTD_CStreamOutSize();
	if (ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_compressionLevel, level))) {
		zstd_sink_abort(&z->base);
		err_set(err, EXIT_USAGE, "[compression] level", NULL, "zstd level %d is not accepted", level);
		return NULL;
	}
	ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_checksumFlag, 1);
	if (workers > 0 && !ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_nbWorkers, workers)))
		ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_jobSize, ZSTD_JOB_SIZE);
	return &z->base;
}

/* --- decompression ---------------------------------------------------------------- */

struct zstd_source {
	struct source base;
	struct source *up;
	ZSTD_DCtx *dctx;
	unsigned char *in;
	size_t in_cap;
	ZSTD_inBuffer inbuf;
	int up_done;
	size_t last; /* last ZSTD_decompressStream hint: 0 = at a frame boundary */
	int started;
	char name[256];
};

static int zstd_source_read(struct source *s, void *buf, size_t cap, size_t *got, struct drctl_error *err)
{
	struct zstd_source *z = (struct zstd_source *)s;
	ZSTD_outBuffer out = { buf, cap, 0 };

	*got = 0;
	while (out.pos == 0) {
		if (z->inbuf.pos == z->inbuf.size && !z->up_done) {
			size_t n = 0;
			if (source_read(z->up, z->in, z->in_cap, &n, err) != 0)
				return -1;
			z->inbuf = (ZSTD_inBuffer){ z->in, n, 0 };
			if (n == 0)
				z->up_done = 1;
		}
		if (z->inbuf.pos == z->inbuf.size && z->up_done) {
			/* End of input: only fine at a frame boundary after at least one frame. */
			if (!z->started || z->last != 0)
				return err_set(err, EXIT_INTEGRITY, z->name,
					       "the object is truncated or damaged; use another backup set (`drctl list`)",
					       "%s: compressed data ends in the middle of a zstd frame", z->name);
			return 0;
		}
		z->started = 1;
		z->last = ZSTD_decompressStream(z->dctx, &out, &z->inbuf);
		if (ZSTD_isError(z->last))
			return err_set(err, EXIT_INTEGRITY, z->name,
				       "the object is damaged; use another backup set (`drctl list`)",
				       "%s: zstd data is damaged: %s", z->name, ZSTD_getErrorName(z->last));
	}
	*got = out.pos;
	return 0;
}

static void zstd_source_close(struct source *s)
{
	struct zstd_source *z = (struct zstd_source *)s;
	source_close(z->up);
	ZSTD_freeDCtx(z->dctx);
	free(z->in);
	free(z);
}

static const struct source_ops zstd_source_ops = { zstd_source_read, zstd_source_close };

struct source *zstd_source_new(struct source *upstream, const char *name, struct drctl_error *err)
{
	struct zstd_source *z = calloc(1, sizeof(*z));

	if (!z || !(z->dctx = ZSTD_createDCtx()) || !(z->in = malloc(ZSTD_DStreamInSize()))) {
		if (z) {
			ZSTD_freeDCtx(z->dctx);
			free(z);
		}
		source_close(upstream);
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		return NULL;
	}
	/* Bound the window a hostile frame may ask for (drctl writes <= 8 MiB windows at level <= 19). */
	ZSTD_DCtx_setParameter(z->dctx, ZSTD_d_windowLogMax, 27);
	z->base.ops = &zstd_source_ops;
	z->up = upstream;
	z->in_cap = ZSTD_DStreamInSize();
	snprintf(z->name, sizeof(z->name), "%s", name ? name : "archive");
	return &z->base;
}
