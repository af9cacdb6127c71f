/*
 * stream_thread: see stream_thread.h.  One mutex and two condition variables
 * guard a ring of DEPTH slots of CHUNK bytes.  The producer fills slots, the
 * consumer empties them; `eof` and the worker's error travel with the ring.
 *
 * A reading worker hands a slot over when it is full, at the end, or as soon
 * as it holds something while the caller waits for it: stages return a zstd
 * block or an age chunk per read, and handing each over alone cost a wake-up
 * of the other thread every 64-128 KiB, while holding a slot back from a
 * caller that has nothing left to do idles it.
 */
#include "lib/stream/stream_thread.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK (1024u * 1024)
#define DEPTH 4

struct ring {
	pthread_mutex_t lock;
	pthread_cond_t can_put, can_take;
	unsigned char *buf[DEPTH];
	size_t len[DEPTH];
	unsigned head, count; /* next slot to take, slots filled */
	int eof;              /* producer is done */
	int starving;         /* the consumer waits for a slot (read without the lock) */
	int stop;             /* consumer gave up: producer should stop */
	int failed;           /* worker hit an error, in `error` */
	struct drctl_error error;
};

static int ring_init(struct ring *r)
{
	memset(r, 0, sizeof(*r));
	for (int i = 0; i < DEPTH; i++)
		if (!(r->buf[i] = malloc(CHUNK)))
			return -1;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->can_put, NULL);
	pthread_cond_init(&r->can_take, NULL);
	return 0;
}

static void ring_free(struct ring *r)
{
	for (int i = 0; i < DEPTH; i++)
		free(r->buf[i]);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->can_put);
	pthread_cond_destroy(&r->can_take);
}

/* --- source ------------------------------------------------------------------ */

struct thread_source {
	struct source base;
	struct source *up;
	struct ring ring;
	pthread_t worker;
	size_t offset; /* consumed bytes of the head slot */
	int lent;      /* the head slot was lent out whole: release it on the next call */
};

static void *source_worker(void *arg)
{
	struct thread_source *t = arg;
	struct ring *r = &t->ring;

	for (;;) {
		unsigned slot;
		size_t got = 0;
		struct drctl_error e;
		int rc;

		pthread_mutex_lock(&r->lock);
		while (r->count == DEPTH && !r->stop)
			pthread_cond_wait(&r->can_put, &r->lock);
		if (r->stop) {
			pthread_mutex_unlock(&r->lock);
			return NULL;
		}
		slot = (r->head + r->count) % DEPTH;
		pthread_mutex_unlock(&r->lock);

		err_clear(&e);
		for (;;) {
			size_t n = 0;
			if ((rc = source_read(t->up, r->buf[slot] + got, CHUNK - got, &n, &e)) != 0 || n == 0)
				break;
			got += n;
			if (got == CHUNK || __atomic_load_n(&r->starving, __ATOMIC_RELAXED))
				break;
		}

		/* What was read goes first, then the end or the error. */
		pthread_mutex_lock(&r->lock);
		if (got > 0) {
			r->len[slot] = got;
			r->count++;
		}
		if (rc != 0) {
			r->failed = 1;
			r->error = e;
		} else if (got == 0) {
			r->eof = 1;
		}
		pthread_cond_signal(&r->can_take);
		pthread_mutex_unlock(&r->lock);
		if (rc != 0 || got == 0)
			return NULL;
	}
}

/* Hand the head slot back to the worker. */
static void thread_source_release(struct thread_source *t)
{
	struct ring *r = &t->ring;
	pthread_mutex_lock(&r->lock);
	r->head = (r->head + 1) % DEPTH;
	r->count--;
	t->offset = 0;
	t->lent = 0;
	pthread_cond_signal(&r->can_put);
	pthread_mutex_unlock(&r->lock);
}

/* Wait for a filled slot: 1 when there is one, 0 at the end, -1 on error. */
static int thread_source_wait(struct thread_source *t, struct drctl_error *err)
{
	struct ring *r = &t->ring;
	int rc = 1;

	if (t->lent)
		thread_source_release(t);
	pthread_mutex_lock(&r->lock);
	while (r->count == 0 && !r->eof && !r->failed) {
		__atomic_store_n(&r->starving, 1, __ATOMIC_RELAXED);
		pthread_cond_wait(&r->can_take, &r->lock);
	}
	__atomic_store_n(&r->starving, 0, __ATOMIC_RELAXED);
	if (r->count == 0) {
		rc = r->failed ? -1 : 0;
		if (r->failed)
			*err = r->error;
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

static int thread_source_read(struct source *s, void *buf, size_t cap, size_t *got, struct drctl_error *err)
{
	struct thread_source *t = (struct thread_source *)s;
	struct ring *r = &t->ring;
	size_t n;
	int rc;

	*got = 0;
	if ((rc = thread_source_wait(t, err)) <= 0)
		return rc;
	/* The head slot is ours until we release it. */
	n = r->len[r->head] - t->offset;
	if (n > cap)
		n = cap;
	memcpy(buf, r->buf[r->head] + t->offset, n);
	t->offset += n;
	*got = n;
	if (t->offset == r->len[r->head])
		thread_source_release(t);
	return 0;
}

static void thread_source_close(struct source *s)
{
	struct thread_source *t = (struct thread_source *)s;
	pthread_mutex_lock(&t->ring.lock);
	t->ring.stop = 1;
	pthread_cond_signal(&t->ring.can_put);
	pthread_mutex_unlock(&t->ring.lock);
	pthread_join(t->worker, NULL);
	source_close(t->up);
	ring_free(&t->ring);
	free(t);
}

static const struct source_ops thread_source_ops = { thread_source_read, thread_source_close };

int thread_source_borrow(struct source *s, const void **buf, size_t *len, struct drctl_error *err)
{
	struct thread_source *t = (struct thread_source *)s;
	struct ring *r = &t->ring;
	int rc;

	*buf = NULL;
	*len = 0;
	if (s->ops != &thread_source_ops)
		return err_set(err, EXIT_FAILED, NULL, NULL, "internal: borrowing from a source that is not a thread source");
	if ((rc = thread_source_wait(t, err)) <= 0)
		return rc;
	*buf = r->buf[r->head] + t->offset;
	*len = r->len[r->head] - t->offset;
	t->offset = r->len[r->head];
	t->lent = 1;
	return 0;
}

struct source *thread_source_new(struct source *upstream, struct drctl_error *err)
{
	struct thread_source *t = calloc(1, sizeof(*t));

	if (!t || ring_init(&t->ring) != 0) {
		if (t)
			ring_free(&t->ring);
		free(t);
		source_close(upstream);
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		return NULL;
	}
	t->base.ops = &thread_source_ops;
	t->up = upstream;
	if (pthread_create(&t->worker, NULL, source_worker, t) != 0) {
		source_close(upstream);
		ring_free(&t->ring);
		free(t);
		err_set(err, EXIT_FAILED, NULL, NULL, "cannot start a reader thread");
		return NULL;
	}
	return &t->base;
}

/* --- sink ---------------------------------------------------------------------- */

struct thread_sink {
	struct sink base;
	struct sink *next;
	struct ring ring;
	pthread_t worker;
	size_t fill; /* bytes in the slot being filled by the caller */
	int have_slot;
	unsigned slot;
};

static void *sink_worker(void *arg)
{
	struct thread_sink *t = arg;
	struct ring *r = &t->ring;

	for (;;) {
		unsigned slot;
		struct drctl_error e;

		pthread_mutex_lock(&r->lock);
		while (r->count == 0 && !r->eof && !r->stop)
			pthread_cond_wait(&r->can_take, &r->lock);
		if (r->stop || (r->count == 0 && r->eof)) {
			pthread_mutex_unlock(&r->lock);
			return NULL;
		}
		slot = r->head;
		pthread_mutex_unlock(&r->lock);

		err_clear(&e);
		if (sink_write(t->next, r->buf[slot], r->len[slot], &e) != 0) {
			pthread_mutex_lock(&r->lock);
			r->failed = 1;
			r->error = e;
			pthread_cond_signal(&r->can_put);
			pthread_mutex_unlock(&r->lock);
			return NULL;
		}
		pthread_mutex_lock(&r->lock);
		r->head = (r->head + 1) % DEPTH;
		r->count--;
		pthread_cond_signal(&r->can_put);
		pthread_mutex_unlock(&r->lock);
	}
}

/* Hand the slot being filled to the worker. */
static int publish_slot(struct thread_sink *t, struct drctl_error *err)
{
	struct ring *r = &t->ring;
	pthread_mutex_lock(&r->lock);
	if (r->failed) {
		*err = r->error;
		pthread_mutex_unlock(&r->lock);
		return -1;
	}
	r->len[t->slot] = t->fill;
	r->count++;
	t->have_slot = 0;
	t->fill = 0;
	pthread_cond_signal(&r->can_take);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static int get_slot(struct thread_sink *t, struct drctl_error *err)
{
	struct ring *r = &t->ring;
	pthread_mutex_lock(&r->lock);
	while (r->count == DEPTH && !r->failed)
		pthread_cond_wait(&r->can_put, &r->lock);
	if (r->failed) {
		*err = r->error;
		pthread_mutex_unlock(&r->lock);
		return -1;
	}
	t->slot = (r->head + r->count) % DEPTH;
	t->have_slot = 1;
	t->fill = 0;
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static int thread_sink_write(struct sink *s, const void *buf, size_t len, struct drctl_error *err)
{
	struct thread_sink *t = (struct thread_sink *)s;
	const unsigned char *p = buf;

	while (len > 0) {
		size_t n;
		if (!t->have_slot && get_slot(t, err) != 0)
			return -1;
		n = CHUNK - t->fill;
		if (n > len)
			n = len;
		memcpy(t->ring.buf[t->slot] + t->fill, p, n);
		t->fill += n;
		p += n;
		len -= n;
		if (t->fill == CHUNK && publish_slot(t, err) != 0)
			return -1;
	}
	return 0;
}

static void thread_sink_stop(struct thread_sink *t, int graceful)
{
	pthread_mutex_lock(&t->ring.lock);
	if (graceful)
		t->ring.eof = 1;
	else
		t->ring.stop = 1;
	pthread_cond_signal(&t->ring.can_take);
	pthread_mutex_unlock(&t->ring.lock);
	pthread_join(t->worker, NULL);
}

static int thread_sink_close(struct sink *s, struct drctl_error *err)
{
	struct thread_sink *t = (struct thread_sink *)s;
	int rc = 0;

	if (t->have_slot && t->fill > 0 && publish_slot(t, err) != 0)
		rc = -1;
	thread_sink_stop(t, rc == 0);
	if (rc == 0 && t->ring.failed) {
		*err = t->ring.error;
		rc = -1;
	}
	if (rc == 0)
		rc = sink_close(t->next, err);
	else
		sink_abort(t->next);
	ring_free(&t->ring);
	free(t);
	return rc;
}

static void thread_sink_abort(struct sink *s)
{
	struct thread_sink *t = (struct thread_sink *)s;
	thread_sink_stop(t, 0);
	sink_abort(t->next);
	ring_free(&t->ring);
	free(t);
}

static const struct sink_ops thread_sink_ops = { thread_sink_write, thread_sink_close, thread_sink_abort };

struct sink *thread_sink_new(struct sink *next, struct drctl_error *err)
{
	struct thread_sink *t = calloc(1, sizeof(*t));

	if (!t || ring_init(&t->ring) != 0) {
		if (t)
			ring_free(&t->ring);
		free(t);
		sink_abort(next);
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		return NULL;
	}
	t->base.ops = &thread_sink_ops;
	t->next = next;
	if (pthread_create(&t->worker, NULL, sink_worker, t) != 0) {
		sink_abort(next);
		ring_free(&t->ring);
		free(t);
		err_set(err, EXIT_FAILED, NULL, NULL, "cannot start a writer thread");
		return NULL;
	}
	return &t->base;
}
