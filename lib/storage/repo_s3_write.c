/*
 * repo_s3_write: an object uploaded while it is written.
 *
 * Bytes are gathered in a buffer of [repository] part_size bytes.  An
 * object that fits in it is sent at close as one PUT.  When the buffer is
 * full and more bytes come, a multipart upload begins: the full buffer
 * becomes part 1 and is uploaded by the writer's own thread, on its own
 * connection, while the next part fills the second buffer; when that one is
 * full the writer waits for part 1 to be stored, then hands over part 2 and
 * fills the first buffer again.  So at most two parts are in memory (one
 * being filled, one in flight), and memory is bounded by 2 x part_size
 * whatever the object's size.  A part's bytes stay in its buffer until S3
 * has stored them, so a retry (the HTTP layer's policy) sends that part
 * again and nothing else.  Every PUT and part carries a signed Content-MD5
 * of its bytes (and UNSIGNED-PAYLOAD: s3.h).  With -v the log says how long
 * each part and the completion took, and when a part waited for the one
 * before it: the upload keeping up with the dump, or not.
 *
 * The object appears only at close: the single PUT, or
 * CompleteMultipartUpload after the last part.  sink_abort, a failed write
 * followed by sink_abort, and a failed close abort the multipart upload
 * (AbortMultipartUpload), so S3 keeps no parts; a writer killed before
 * either leaves an unfinished upload that no GET or LIST shows and that
 * remove_dir and prune abort.
 */
#include "lib/storage/repo_s3_private.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/log.h"

/* The part upload thread and the one part it holds. */
struct s3_uploader {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct s3_conn *conn;
	const struct s3_client *client;
	int cancel;                 /* read atomically by the connection */
	int quit;
	const char *key, *upload_id;
	/* the job */
	int pending, busy;
	const unsigned char *data;
	size_t len;
	unsigned number;
	/* its outcome, until the writer collects it */
	int done, failed;
	struct s3_part part;
	struct drctl_error err;
};

struct s3_writer {
	struct sink base;
	struct repo_s3 *r;
	char key[REPO_S3_KEY_MAX + 1];
	size_t part_size;
	unsigned char *fill;        /* the part being filled */
	size_t fill_len, fill_cap;
	unsigned char *spare;       /* the other buffer: in flight, or free */
	char *upload_id;            /* NULL until a multipart upload began */
	struct s3_part *parts;      /* the parts S3 has stored, in order */
	size_t n_parts;
	unsigned handed;            /* parts handed to the thread */
	struct s3_uploader *up;
};

static void *s3_uploader_main(void *arg)
{
	struct s3_uploader *u = arg;

	pthread_mutex_lock(&u->mu);
	for (;;) {
		struct drctl_error err;
		struct s3_part part;
		int rc;
		double t0;

		while (!u->pending && !u->quit)
			pthread_cond_wait(&u->cv, &u->mu);
		if (u->quit)
			break;
		u->pending = 0;
		u->busy = 1;
		pthread_mutex_unlock(&u->mu);
		err_clear(&err);
		t0 = now_seconds();
		rc = s3_upload_part(u->conn, u->key, u->upload_id, u->number, u->data, u->len, &part, &err);
		if (rc == 0)
			log_debug("s3://%s/%s: part %u (%zu bytes) stored in %.2f s", s3_client_bucket(u->client), u->key,
				  u->number, u->len, now_seconds() - t0);
		pthread_mutex_lock(&u->mu);
		u->busy = 0;
		u->done = 1;
		u->failed = rc != 0;
		u->part = part;
		u->err = err;
		pthread_cond_broadcast(&u->cv);
	}
	pthread_mutex_unlock(&u->mu);
	return NULL;
}

static struct s3_uploader *s3_uploader_start(struct s3_writer *w, struct drctl_error *err)
{
	struct s3_uploader *u = calloc(1, sizeof(*u));

	if (!u) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		return NULL;
	}
	if (!(u->conn = s3_conn_new(w->r->client, err))) {
		free(u);
		return NULL;
	}
	s3_conn_set_cancel(u->conn, &u->cancel);
	u->client = w->r->client;
	u->key = w->key;
	u->upload_id = w->upload_id;
	pthread_mutex_init(&u->mu, NULL);
	pthread_cond_init(&u->cv, NULL);
	if (pthread_create(&u->thread, NULL, s3_uploader_main, u) != 0) {
		err_set(err, EXIT_FAILED, NULL, NULL, "cannot start the part upload thread");
		pthread_cond_destroy(&u->cv);
		pthread_mutex_destroy(&u->mu);
		s3_conn_free(u->conn);
		free(u);
		return NULL;
	}
	return u;
}

/* Stop the thread (cancel: without waiting out retries) and free it. */
static void s3_uploader_stop(struct s3_uploader *u, int cancel)
{
	if (!u)
		return;
	if (cancel)
		__atomic_store_n(&u->cancel, 1, __ATOMIC_RELEASE);
	pthread_mutex_lock(&u->mu);
	u->quit = 1;
	pthread_cond_broadcast(&u->cv);
	pthread_mutex_unlock(&u->mu);
	pthread_join(u->thread, NULL);
	pthread_cond_destroy(&u->cv);
	pthread_mutex_destroy(&u->mu);
	s3_conn_free(u->conn);
	free(u);
}

/* Wait until the part in flight is stored (or failed) and take its outcome. */
static int s3_writer_collect(struct s3_writer *w, struct drctl_error *err)
{
	struct s3_uploader *u = w->up;
	int rc = 0;

	pthread_mutex_lock(&u->mu);
	while (u->pending || u->busy)
		pthread_cond_wait(&u->cv, &u->mu);
	if (u->done) {
		u->done = 0;
		if (u->failed) {
			*err = u->err;
			rc = -1;
		} else {
			w->parts[w->n_parts++] = u->part;
		}
	}
	pthread_mutex_unlock(&u->mu);
	return rc;
}

/* The full buffer becomes the next part, uploaded while the other fills. */
static int s3_writer_hand_over(struct s3_writer *w, struct drctl_error *err)
{
	struct s3_uploader *u;
	unsigned char *sent;
	double waited;

	if (w->handed >= S3_PARTS_MAX)
		return err_set(err, EXIT_FAILED, w->key, "raise [repository] part_size",
			       "s3://%s/%s would need more than %u parts of %zu bytes, the most S3 takes",
			       s3_client_bucket(w->r->client), w->key, S3_PARTS_MAX, w->part_size);
	if (!w->upload_id) {
		int rc;
		repo_s3_take(w->r);
		rc = s3_upload_begin(w->r->conn, w->key, &w->upload_id, err);
		repo_s3_release(w->r);
		if (rc != 0 || !(w->parts = calloc(S3_PARTS_MAX, sizeof(*w->parts))) ||
		    !(w->up = s3_uploader_start(w, err)))
			return err_is_set(err) ? -1 : err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	}
	waited = now_seconds();
	if (s3_writer_collect(w, err) != 0)
		return -1;
	/* The upload falls behind what is written: say so, it slows the backup. */
	if ((waited = now_seconds() - waited) >= 0.1)
		log_debug("s3://%s/%s: part %u waited %.2f s for part %u to be stored", s3_client_bucket(w->r->client), w->key,
			  w->handed + 1, waited, w->handed);
	if (!w->spare && !(w->spare = malloc(w->part_size)))
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory for a %zu-byte part", w->part_size);
	u = w->up;
	sent = w->fill;
	pthread_mutex_lock(&u->mu);
	u->data = sent;
	u->len = w->fill_len;
	u->number = ++w->handed;
	u->pending = 1;
	pthread_cond_broadcast(&u->cv);
	pthread_mutex_unlock(&u->mu);
	w->fill = w->spare;
	w->fill_cap = w->part_size;
	w->fill_len = 0;
	w->spare = sent;
	return 0;
}

static int s3_writer_grow(struct s3_writer *w, size_t want)
{
	size_t cap = w->fill_cap ? w->fill_cap : 64u << 10;
	unsigned char *grown;

	while (cap < want)
		cap *= 2;
	if (cap > w->part_size)
		cap = w->part_size;
	if (!(grown = realloc(w->fill, cap)))
		return -1;
	w->fill = grown;
	w->fill_cap = cap;
	return 0;
}

static int s3_writer_write(struct sink *s, const void *buf, size_t len, struct drctl_error *err)
{
	struct s3_writer *w = (struct s3_writer *)s;
	const unsigned char *p = buf;

	while (len > 0) {
		size_t n;
		/* Full, and more is coming: the object needs parts. */
		if (w->fill_len == w->part_size && s3_writer_hand_over(w, err) != 0)
			return -1;
		n = w->part_size - w->fill_len < len ? w->part_size - w->fill_len : len;
		if (w->fill_len + n > w->fill_cap && s3_writer_grow(w, w->fill_len + n) != 0)
			return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory buffering s3://%s/%s",
				       s3_client_bucket(w->r->client), w->key);
		memcpy(w->fill + w->fill_len, p, n);
		w->fill_len += n;
		p += n;
		len -= n;
	}
	return 0;
}

static void s3_writer_free(struct s3_writer *w)
{
	free(w->fill);
	free(w->spare);
	free(w->parts);
	free(w->upload_id);
	free(w);
}

static void s3_writer_abort(struct sink *s)
{
	struct s3_writer *w = (struct s3_writer *)s;
	struct drctl_error err;

	s3_uploader_stop(w->up, 1);
	w->up = NULL;
	if (w->upload_id) {
		err_clear(&err);
		repo_s3_take(w->r);
		if (s3_upload_abort(w->r->conn, w->key, w->upload_id, &err) != 0)
			log_warn("the unfinished upload of s3://%s/%s (upload id %s) was not aborted: %s; prune aborts it once it is older than [retention] incomplete_grace",
				 s3_client_bucket(w->r->client), w->key, w->upload_id, err.message);
		repo_s3_release(w->r);
	}
	s3_writer_free(w);
}

static int s3_writer_close(struct sink *s, struct drctl_error *err)
{
	struct s3_writer *w = (struct s3_writer *)s;
	double t0;
	int rc;

	if (!w->upload_id) {
		repo_s3_take(w->r);
		rc = s3_put_object(w->r->conn, w->key, w->fill, w->fill_len, NULL, err);
		repo_s3_release(w->r);
		s3_writer_free(w);
		return rc == 1 ? 0 : -1;
	}
	/* The last part (never empty: parts begin only when bytes follow a
	 * full buffer), then the object. */
	if (s3_writer_hand_over(w, err) != 0 || s3_writer_collect(w, err) != 0)
		goto fail;
	s3_uploader_stop(w->up, 0);
	w->up = NULL;
	t0 = now_seconds();
	repo_s3_take(w->r);
	rc = s3_upload_complete(w->r->conn, w->key, w->upload_id, w->parts, w->n_parts, err);
	repo_s3_release(w->r);
	if (rc != 0)
		goto fail;
	/* What the store does after the last part (s3rver copies every byte
	 * again here): the backup's tail, in a benchmark's eyes. */
	log_debug("s3://%s/%s: CompleteMultipartUpload of %zu parts took %.2f s", s3_client_bucket(w->r->client), w->key,
		  w->n_parts, now_seconds() - t0);
	s3_writer_free(w);
	return 0;
fail:
	s3_writer_abort(s);
	return -1;
}

static const struct sink_ops s3_writer_ops = { s3_writer_write, s3_writer_close, s3_writer_abort };

struct sink *repo_s3_writer_new(struct repo_s3 *r, const char *name, struct drctl_error *err)
{
	struct s3_writer *w = calloc(1, sizeof(*w));

	if (!w) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		return NULL;
	}
	if (repo_s3_key(r, name, w->key, sizeof(w->key), err) != 0) {
		free(w);
		return NULL;
	}
	w->r = r;
	w->part_size = r->part_size;
	w->base.ops = &s3_writer_ops;
	return &w->base;
}
