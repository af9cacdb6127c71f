/*
 * zstd_stream: see zstd_stream.h.
 *
 * Compression cuts the input into jobs of ZSTD_JOB_SIZE bytes and compresses
 * each into a frame of its own (content size and checksum in it).  Frames
 * one after another are one zstd stream (RFC 8878, section 3.1): `zstd -d`
 * and any streaming decoder read them as the bytes they hold, in order.
 *
 * Workers compress jobs side by side, each with its own context.  The worker
 * that finishes the job next in order passes it on to the next sink, with
 * every later job already done, so the stages that follow (a backup's
 * encryption and hashing) run on the workers too: one job at a time, in
 * order, from the job's own buffer, with no extra thread and no copy.  The
 * caller copies its bytes into the job being filled, or reads them straight
 * into it (zstd_sink_reserve).
 *
 * Why not libzstd's own workers (ZSTD_c_nbWorkers): with jobs small enough
 * for flat memory (1 MiB) each job re-reads a quarter of a MiB of overlap
 * (a third more instructions than independent 2 MiB frames, for the same
 * size on mixed data), only as many jobs as workers are in flight, so a
 * worker idles whenever the caller is late, and the output is copied out
 * once more.  Its larger jobs cost about 13 MiB of memory per MiB of job.
 */
#include "lib/stream/zstd_stream.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

/* 2 MiB: near the fewest instructions per byte at level 3 for independent
 * frames (1 MiB and 4 MiB frames both cost more) and few hand-offs. */
#define ZSTD_JOB_SIZE (2u << 20)
/* Jobs beyond the workers': one being filled, two done or queued, so that a
 * worker finds work while the caller or the writer is late. */
#define ZSTD_SPARE_JOBS 3
/* Finished jobs that may wait to be passed on before workers hold back. */
#define ZSTD_DONE_AHEAD 1u
#define ZSTD_MAX_WORKERS 256

enum zstd_job_state { JOB_FREE, JOB_FILLING, JOB_QUEUED, JOB_BUSY, JOB_DONE };

struct zstd_job {
	enum zstd_job_state state;
	uint64_t seq;
	unsigned char *in, *out;
	size_t in_len, out_len;
};

struct zstd_sink;
struct zstd_worker {
	struct zstd_sink *z;
	ZSTD_CCtx *cctx;
	pthread_t thread;
};

struct zstd_sink {
	struct sink base;
	struct sink *next;
	size_t out_cap;
	ZSTD_CCtx *cctx;             /* the caller's, when there are no workers */
	struct zstd_worker *workers;
	int n_workers, started;      /* asked for, running */
	struct zstd_job *jobs;
	unsigned n_jobs;
	struct zstd_job *filling;    /* the caller's job, not queued yet */
	uint64_t queued, passed;     /* jobs queued; jobs passed on (or dropped) */
	int passing;                 /* a worker is passing jobs on */
	int stop;                    /* workers exit once nothing is queued */
	int failed;                  /* error holds why; nothing more is passed on */
	struct drctl_error error;
	pthread_mutex_t lock;
	pthread_cond_t work;         /* a job was queued or passed on, or stop */
	pthread_cond_t room;         /* a job was passed on, or failed */
};

static int zstd_fail(struct drctl_error *err, const char *what, size_t code)
{
	return err_set(err, EXIT_FAILED, NULL, NULL, "zstd %s failed: %s", what, ZSTD_getErrorName(code));
}

static int zstd_compress_job(ZSTD_CCtx *cctx, struct zstd_job *j, size_t cap, struct drctl_error *err)
{
	size_t n = ZSTD_compress2(cctx, j->out, cap, j->in, j->in_len);
	if (ZSTD_isError(n))
		return zstd_fail(err, "compression", n);
	j->out_len = n;
	return 0;
}

/* With the lock held: the first error wins; waiting callers wake up. */
static void zstd_set_failed(struct zstd_sink *z, const struct drctl_error *e)
{
	if (!z->failed) {
		z->failed = 1;
		z->error = *e;
	}
	pthread_cond_broadcast(&z->room);
}

static struct zstd_job *zstd_find(struct zstd_sink *z, enum zstd_job_state state, uint64_t seq, int any_seq)
{
	struct zstd_job *found = NULL;
	for (unsigned i = 0; i < z->n_jobs; i++) {
		struct zstd_job *j = &z->jobs[i];
		if (j->state == state && (any_seq ? !found || j->seq < found->seq : j->seq == seq))
			found = j;
	}
	return found;
}

static unsigned zstd_count(const struct zstd_sink *z, enum zstd_job_state state)
{
	unsigned n = 0;
	for (unsigned i = 0; i < z->n_jobs; i++)
		n += z->jobs[i].state == state;
	return n;
}

/* With the lock held: pass on the jobs done, in order, unless another
 * worker already does.  The lock is released around each write. */
static void zstd_pass_on(struct zstd_sink *z)
{
	struct zstd_job *j;

	if (z->passing)
		return;
	z->passing = 1;
	while ((j = zstd_find(z, JOB_DONE, z->passed, 0)) != NULL) {
		if (!z->failed) {
			struct drctl_error e;
			int rc;
			err_clear(&e);
			pthread_mutex_unlock(&z->lock);
			rc = sink_write(z->next, j->out, j->out_len, &e);
			pthread_mutex_lock(&z->lock);
			if (rc != 0)
				zstd_set_failed(z, &e);
		}
		j->state = JOB_FREE;
		j->in_len = 0;
		z->passed++;
		pthread_cond_broadcast(&z->room);
		pthread_cond_broadcast(&z->work);
	}
	z->passing = 0;
}

static void *zstd_worker_main(void *arg)
{
	struct zstd_worker *w = arg;
	struct zstd_sink *z = w->z;

	pthread_mutex_lock(&z->lock);
	for (;;) {
		struct zstd_job *j = zstd_find(z, JOB_QUEUED, 0, 1);
		struct drctl_error e;
		int failed = z->failed, rc = 0;

		/* The jobs are passed on one at a time, so that line of work
		 * is what bounds the rest: with a job already waiting for it,
		 * leave it the CPU rather than compress further ahead. */
		if (j && !failed && zstd_count(z, JOB_DONE) > ZSTD_DONE_AHEAD)
			j = NULL;
		if (!j) {
			if (z->stop)
				break;
			pthread_cond_wait(&z->work, &z->lock);
			continue;
		}
		j->state = JOB_BUSY;
		pthread_mutex_unlock(&z->lock);
		err_clear(&e);
		/* After a failure nothing more is passed on: skip the work. */
		if (!failed)
			rc = zstd_compress_job(w->cctx, j, z->out_cap, &e);
		pthread_mutex_lock(&z->lock);
		if (rc != 0)
			zstd_set_failed(z, &e);
		j->state = JOB_DONE;
		zstd_pass_on(z);
	}
	pthread_mutex_unlock(&z->lock);
	return NULL;
}

/* The caller's next job to fill: wait for one to be passed on if needed. */
static int zstd_take_job(struct zstd_sink *z, struct drctl_error *err)
{
	struct zstd_job *j;

	if (!z->started) {
		if (z->failed)
			return (*err = z->error, -1);
		z->filling = &z->jobs[0];
		return 0;
	}
	pthread_mutex_lock(&z->lock);
	while (!z->failed && !(j = zstd_find(z, JOB_FREE, 0, 1)))
		pthread_cond_wait(&z->room, &z->lock);
	if (z->failed) {
		*err = z->error;
		pthread_mutex_unlock(&z->lock);
		return -1;
	}
	j->state = JOB_FILLING;
	j->in_len = 0;
	z->filling = j;
	pthread_mutex_unlock(&z->lock);
	return 0;
}

/* Queue the job being filled; without workers, compress and pass it on here. */
static int zstd_submit(struct zstd_sink *z, struct drctl_error *err)
{
	struct zstd_job *j = z->filling;

	z->filling = NULL;
	if (!z->started) {
		int rc = zstd_compress_job(z->cctx, j, z->out_cap, err);
		if (rc == 0)
			rc = sink_write(z->next, j->out, j->out_len, err);
		j->in_len = 0;
		z->queued++;
		z->passed++;
		if (rc != 0) {
			z->failed = 1;
			z->error = *err;
		}
		return rc;
	}
	pthread_mutex_lock(&z->lock);
	if (z->failed) {
		*err = z->error;
		pthread_mutex_unlock(&z->lock);
		return -1;
	}
	j->seq = z->queued++;
	j->state = JOB_QUEUED;
	pthread_cond_signal(&z->work);
	pthread_mutex_unlock(&z->lock);
	return 0;
}

static int zstd_sink_write(struct sink *s, const void *buf, size_t len, struct drctl_error *err)
{
	struct zstd_sink *z = (struct zstd_sink *)s;
	const unsigned char *p = buf;

	while (len > 0) {
		struct zstd_job *j;
		size_t n;
		if (!z->filling && zstd_take_job(z, err) != 0)
			return -1;
		j = z->filling;
		n = ZSTD_JOB_SIZE - j->in_len;
		if (n > len)
			n = len;
		if (p != j->in + j->in_len) /* else already in place (zstd_sink_reserve) */
			memcpy(j->in + j->in_len, p, n);
		j->in_len += n;
		p += n;
		len -= n;
		if (j->in_len == ZSTD_JOB_SIZE && zstd_submit(z, err) != 0)
			return -1;
	}
	return 0;
}

/* Stop the workers: after close they find nothing queued; after an abort
 * (failed set) they skip what is left. */
static void zstd_stop_workers(struct zstd_sink *z)
{
	if (!z->started)
		return;
	pthread_mutex_lock(&z->lock);
	z->stop = 1;
	pthread_cond_broadcast(&z->work);
	pthread_mutex_unlock(&z->lock);
	for (int i = 0; i < z->started; i++)
		pthread_join(z->workers[i].thread, NULL);
	z->started = 0;
}

static void zstd_sink_free(struct zstd_sink *z)
{
	zstd_stop_workers(z);
	for (int i = 0; i < z->n_workers && z->workers; i++)
		ZSTD_freeCCtx(z->workers[i].cctx);
	free(z->workers);
	for (unsigned i = 0; i < z->n_jobs && z->jobs; i++) {
		free(z->jobs[i].in);
		free(z->jobs[i].out);
	}
	free(z->jobs);
	ZSTD_freeCCtx(z->cctx);
	pthread_mutex_destroy(&z->lock);
	pthread_cond_destroy(&z->work);
	pthread_cond_destroy(&z->room);
	free(z);
}

static int zstd_sink_close(struct sink *s, struct drctl_error *err)
{
	struct zstd_sink *z = (struct zstd_sink *)s;
	struct sink *next = z->next;
	int rc = 0;

	if (!z->started && z->failed) {
		*err = z->error;
		rc = -1;
	}
	/* The last job, partial; an empty stream still gets its one frame. */
	if (rc == 0 && !z->filling && z->queued == 0)
		rc = zstd_take_job(z, err);
	if (rc == 0 && z->filling && (z->filling->in_len > 0 || z->queued == 0))
		rc = zstd_submit(z, err);
	if (rc == 0 && z->started) {
		pthread_mutex_lock(&z->lock);
		while (!z->failed && z->passed < z->queued)
			pthread_cond_wait(&z->room, &z->lock);
		if (z->failed) {
			*err = z->error;
			rc = -1;
		}
		pthread_mutex_unlock(&z->lock);
	}
	if (rc != 0) {
		pthread_mutex_lock(&z->lock);
		if (!z->failed)
			zstd_set_failed(z, err);
		pthread_mutex_unlock(&z->lock);
	}
	zstd_sink_free(z); /* joins the workers: nothing writes into next after this */
	if (rc != 0) {
		sink_abort(next);
		return -1;
	}
	return sink_close(next, err);
}

static void zstd_sink_abort(struct sink *s)
{
	struct zstd_sink *z = (struct zstd_sink *)s;
	struct sink *next = z->next;
	struct drctl_error e;

	err_clear(&e);
	err_set(&e, EXIT_FAILED, NULL, NULL, "compression aborted");
	pthread_mutex_lock(&z->lock);
	zstd_set_failed(z, &e);
	pthread_mutex_unlock(&z->lock);
	zstd_sink_free(z);
	sink_abort(next);
}

static const struct sink_ops zstd_sink_ops = { zstd_sink_write, zstd_sink_close, zstd_sink_abort };

int zstd_sink_reserve(struct sink *s, size_t want, void **buf, size_t *len, struct drctl_error *err)
{
	struct zstd_sink *z = (struct zstd_sink *)s;
	size_t room;

	*buf = NULL;
	*len = 0;
	if (s->ops != &zstd_sink_ops)
		return err_set(err, EXIT_FAILED, NULL, NULL, "internal: reserving in a sink that is not zstd's");
	if (!z->filling && zstd_take_job(z, err) != 0)
		return -1;
	room = ZSTD_JOB_SIZE - z->filling->in_len;
	*buf = z->filling->in + z->filling->in_len;
	*len = want < room ? want : room;
	return 0;
}

static ZSTD_CCtx *zstd_new_cctx(int level)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	if (c && (ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level)) ||
		  ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1)))) {
		ZSTD_freeCCtx(c);
		c = NULL;
	}
	return c;
}

static int zstd_start(struct zstd_sink *z, int level, struct drctl_error *err)
{
	z->n_jobs = z->n_workers ? (unsigned)z->n_workers + ZSTD_SPARE_JOBS : 1;
	z->jobs = calloc(z->n_jobs, sizeof(*z->jobs));
	if (!z->jobs)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	for (unsigned i = 0; i < z->n_jobs; i++)
		if (!(z->jobs[i].in = malloc(ZSTD_JOB_SIZE)) || !(z->jobs[i].out = malloc(z->out_cap)))
			return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	if (z->n_workers == 0)
		return (z->cctx = zstd_new_cctx(level)) ? 0 : err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	z->workers = calloc((size_t)z->n_workers, sizeof(*z->workers));
	if (!z->workers)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	for (int i = 0; i < z->n_workers; i++) {
		z->workers[i].z = z;
		if (!(z->workers[i].cctx = zstd_new_cctx(level)))
			return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	}
	for (int i = 0; i < z->n_workers; i++) {
		if (pthread_create(&z->workers[i].thread, NULL, zstd_worker_main, &z->workers[i]) != 0)
			return err_set(err, EXIT_FAILED, NULL, NULL, "cannot start a compression thread");
		z->started++;
	}
	return 0;
}

struct sink *zstd_sink_new(struct sink *next, int level, int workers, struct drctl_error *err)
{
	struct zstd_sink *z = calloc(1, sizeof(*z));

	if (!z) {
		sink_abort(next);
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		return NULL;
	}
	z->base.ops = &zstd_sink_ops;
	pthread_mutex_init(&z->lock, NULL);
	pthread_cond_init(&z->work, NULL);
	pthread_cond_init(&z->room, NULL);
	if (level < 1 || level > ZSTD_maxCLevel()) {
		zstd_sink_free(z);
		sink_abort(next);
		err_set(err, EXIT_USAGE, "[compression] level", NULL, "zstd level %d is not accepted", level);
		return NULL;
	}
	if (workers <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		workers = n > 1 ? (int)n : 0;
	} else if (workers == 1) {
		workers = 0; /* one thread: everything on the caller's */
	}
	z->n_workers = workers < ZSTD_MAX_WORKERS ? workers : ZSTD_MAX_WORKERS;
	z->out_cap = ZSTD_compressBound(ZSTD_JOB_SIZE);
	if (zstd_start(z, level, err) != 0) {
		zstd_sink_free(z);
		sink_abort(next);
		return NULL;
	}
	z->next = next;
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
