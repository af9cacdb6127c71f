/*
 * stream: the generic stages (digest, fd, memory, null) and helpers.
 *
 * Each stage is a struct whose first member is the `struct sink`/`struct
 * source` base, so the ops cast back.  Stages own what comes after them
 * (sinks) or before them (sources), which makes close and abort cascade
 * through a whole chain in one call.
 */
#include "lib/stream/stream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lib/core/log.h"

void hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

int source_read_exact(struct source *s, void *buf, size_t len, const char *what, struct drctl_error *err)
{
	size_t done = 0;
	while (done < len) {
		size_t got = 0;
		if (source_read(s, (char *)buf + done, len - done, &got, err) != 0)
			return -1;
		if (got == 0)
			return err_set(err, EXIT_INTEGRITY, what, NULL,
				       "%s ends early (%zu of %zu bytes)", what, done, len);
		done += got;
	}
	return 0;
}

int stream_pump(struct source *from, size_t chunk, stream_feed_fn feed, void *arg, uint64_t *total,
		struct drctl_error *err)
{
	char *buf = chunk ? malloc(chunk) : NULL;
	uint64_t fed = 0;
	int rc = -1;

	if (!buf)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	for (;;) {
		size_t got = 0;
		if (source_read(from, buf, chunk, &got, err) != 0)
			goto done;
		if (got == 0)
			break;
		if (feed && feed(arg, buf, got, err) != 0) {
			/* A feed that failed without saying why still fails. */
			err_set(err, EXIT_FAILED, NULL, NULL, "a stream consumer failed");
			goto done;
		}
		fed += got;
	}
	rc = 0;
done:
	if (total)
		*total = fed;
	free(buf);
	return rc;
}

static int feed_sink(void *arg, const void *buf, size_t len, struct drctl_error *err)
{
	return sink_write(arg, buf, len, err);
}

int stream_copy(struct source *from, struct sink *to, uint64_t *copied, struct drctl_error *err)
{
	return stream_pump(from, 256 * 1024, feed_sink, to, copied, err);
}

/* --- digest sink ---------------------------------------------------------- */

struct digest_sink {
	struct sink base;
	struct sink *next;
	EVP_MD_CTX *md;
	struct digest *out;
	uint64_t bytes;
};

static void digest_finish(EVP_MD_CTX *md, uint64_t bytes, struct digest *out)
{
	unsigned int n = 0;
	EVP_DigestFinal_ex(md, out->sha256, &n);
	out->bytes = bytes;
	hex_encode(out->sha256, 32, out->sha256_hex);
}

static int digest_sink_write(struct sink *s, const void *buf, size_t len, struct drctl_error *err)
{
	struct digest_sink *d = (struct digest_sink *)s;
	if (EVP_DigestUpdate(d->md, buf, len) != 1)
		return err_set(err, EXIT_FAILED, NULL, NULL, "SHA-256 failed: %s", err_openssl_reason());
	d->bytes += len;
	return d->next ? sink_write(d->next, buf, len, err) : 0;
}

static int digest_sink_close(struct sink *s, struct drctl_error *err)
{
	struct digest_sink *d = (struct digest_sink *)s;
	int rc = 0;
	digest_finish(d->md, d->bytes, d->out);
	if (d->next)
		rc = sink_close(d->next, err);
	EVP_MD_CTX_free(d->md);
	free(d);
	return rc;
}

static void digest_sink_abort(struct sink *s)
{
	struct digest_sink *d = (struct digest_sink *)s;
	sink_abort(d->next);
	EVP_MD_CTX_free(d->md);
	free(d);
}

static const struct sink_ops digest_sink_ops = {
	digest_sink_write, digest_sink_close, digest_sink_abort,
};

struct sink *digest_sink_new(struct sink *next, struct digest *out, struct drctl_error *err)
{
	struct digest_sink *d = calloc(1, sizeof(*d));
	if (!d || !(d->md = EVP_MD_CTX_new()) || EVP_DigestInit_ex(d->md, EVP_sha256(), NULL) != 1) {
		if (d)
			EVP_MD_CTX_free(d->md);
		free(d);
		sink_abort(next);
		err_set(err, EXIT_FAILED, NULL, NULL, "cannot start SHA-256");
		return NULL;
	}
	d->base.ops = &digest_sink_ops;
	d->next = next;
	d->out = out;
	return &d->base;
}

/* --- digest source ---------------------------------------------------------- */

struct digest_source {
	struct source base;
	struct source *up;
	EVP_MD_CTX *md;
	struct digest *out;
	uint64_t bytes;
	int finished;
};

static int digest_source_read(struct source *s, void *buf, size_t cap, size_t *got, struct drctl_error *err)
{
	struct digest_source *d = (struct digest_source *)s;
	if (source_read(d->up, buf, cap, got, err) != 0)
		return -1;
	if (*got == 0) {
		if (!d->finished) {
			digest_finish(d->md, d->bytes, d->out);
			d->finished = 1;
		}
		return 0;
	}
	EVP_DigestUpdate(d->md, buf, *got);
	d->bytes += *got;
	return 0;
}

static void digest_source_close(struct source *s)
{
	struct digest_source *d = (struct digest_source *)s;
	source_close(d->up);
	EVP_MD_CTX_free(d->md);
	free(d);
}

static const struct source_ops digest_source_ops = { digest_source_read, digest_source_close };

struct source *digest_source_new(struct source *upstream, struct digest *out, struct drctl_error *err)
{
	struct digest_source *d = calloc(1, sizeof(*d));
	if (!d || !(d->md = EVP_MD_CTX_new()) || EVP_DigestInit_ex(d->md, EVP_sha256(), NULL) != 1) {
		if (d)
			EVP_MD_CTX_free(d->md);
		free(d);
		source_close(upstream);
		err_set(err, EXIT_FAILED, NULL, NULL, "cannot start SHA-256");
		return NULL;
	}
	d->base.ops = &digest_source_ops;
	d->up = upstream;
	d->out = out;
	return &d->base;
}

/* --- fd sink / source ------------------------------------------------------- */

struct fd_stream {
	union {
		struct sink sink;
		struct source source;
	} base;
	int fd;
	char name[256];
};

static int fd_sink_write(struct sink *s, const void *buf, size_t len, struct drctl_error *err)
{
	struct fd_stream *f = (struct fd_stream *)s;
	const char *p = buf;
	while (len > 0) {
		ssize_t w = write(f->fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return err_set_errno(err, EXIT_IO, errno, f->name, NULL, "cannot write %s", f->name);
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int fd_sink_close(struct sink *s, struct drctl_error *err)
{
	(void)err;
	free(s);
	return 0;
}

static void fd_sink_abort(struct sink *s)
{
	free(s);
}

static const struct sink_ops fd_sink_ops = { fd_sink_write, fd_sink_close, fd_sink_abort };

struct sink *fd_sink_new(int fd, const char *name, struct drctl_error *err)
{
	struct fd_stream *f = calloc(1, sizeof(*f));
	if (!f) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		return NULL;
	}
	f->base.sink.ops = &fd_sink_ops;
	f->fd = fd;
	snprintf(f->name, sizeof(f->name), "%s", name ? name : "output");
	return &f->base.sink;
}

static int fd_source_read(struct source *s, void *buf, size_t cap, size_t *got, struct drctl_error *err)
{
	struct fd_stream *f = (struct fd_stream *)s;
	for (;;) {
		ssize_t r = read(f->fd, buf, cap);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_set_errno(err, EXIT_IO, errno, f->name, NULL, "cannot read %s", f->name);
		*got = (size_t)r;
		return 0;
	}
}

static void fd_source_close(struct source *s)
{
	free(s);
}

static const struct source_ops fd_source_ops = { fd_source_read, fd_source_close };

struct source *fd_source_new(int fd, const char *name, struct drctl_error *err)
{
	struct fd_stream *f = calloc(1, sizeof(*f));
	if (!f) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		return NULL;
	}
	f->base.source.ops = &fd_source_ops;
	f->fd = fd;
	snprintf(f->name, sizeof(f->name), "%s", name ? name : "input");
	return &f->base.source;
}

/* --- memory sink / source ----------------------------------------------------- */

struct memory_sink {
	struct sink base;
	char **out;
	size_t *out_len;
	char *buf;
	size_t len, cap, max;
};

static int memory_sink_write(struct sink *s, const void *buf, size_t len, struct drctl_error *err)
{
	struct memory_sink *m = (struct memory_sink *)s;
	if (len > m->max - m->len)
		return err_set(err, EXIT_INTEGRITY, NULL, NULL, "data larger than the %zu bytes allowed", m->max);
	if (m->len + len + 1 > m->cap) {
		size_t cap = m->cap ? m->cap : 4096;
		char *nb;
		while (cap < m->len + len + 1)
			cap *= 2;
		nb = realloc(m->buf, cap);
		if (!nb)
			return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		m->buf = nb;
		m->cap = cap;
	}
	memcpy(m->buf + m->len, buf, len);
	m->len += len;
	return 0;
}

static int memory_sink_close(struct sink *s, struct drctl_error *err)
{
	struct memory_sink *m = (struct memory_sink *)s;
	if (!m->buf && !(m->buf = malloc(1))) {
		free(m);
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	}
	m->buf[m->len] = '\0';
	*m->out = m->buf;
	*m->out_len = m->len;
	free(m);
	return 0;
}

static void memory_sink_abort(struct sink *s)
{
	struct memory_sink *m = (struct memory_sink *)s;
	free(m->buf);
	free(m);
}

static const struct sink_ops memory_sink_ops = { memory_sink_write, memory_sink_close, memory_sink_abort };

struct sink *memory_sink_new(char **buf, size_t *len, size_t max, struct drctl_error *err)
{
	struct memory_sink *m = calloc(1, sizeof(*m));
	if (!m) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		return NULL;
	}
	m->base.ops = &memory_sink_ops;
	m->out = buf;
	m->out_len = len;
	m->max = max ? max : SIZE_MAX - 1;
	*buf = NULL;
	*len = 0;
	return &m->base;
}

struct memory_source {
	struct source base;
	const char *buf;
	size_t len, pos;
};

static int memory_source_read(struct source *s, void *buf, size_t cap, size_t *got, struct drctl_error *err)
{
	struct memory_source *m = (struct memory_source *)s;
	size_t n = m->len - m->pos;
	(void)err;
	if (n > cap)
		n = cap;
	memcpy(buf, m->buf + m->pos, n);
	m->pos += n;
	*got = n;
	return 0;
}

static void memory_source_close(struct source *s)
{
	free(s);
}

static const struct source_ops memory_source_ops = { memory_source_read, memory_source_close };

struct source *memory_source_new(const void *buf, size_t len, struct drctl_error *err)
{
	struct memory_source *m = calloc(1, sizeof(*m));
	if (!m) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		return NULL;
	}
	m->base.ops = &memory_source_ops;
	m->buf = buf;
	m->len = len;
	return &m->base;
}

/* --- null sink ------------------------------------------------------------------ */

static int null_sink_write(struct sink *s, const void *buf, size_t len, struct drctl_error *err)
{
	(void)s, (void)buf, (void)len, (void)err;
	return 0;
}
static int null_sink_close(struct sink *s, struct drctl_error *err)
{
	(void)err;
	free(s);
	return 0;
}
static void null_sink_abort(struct sink *s)
{
	free(s);
}
static const struct sink_ops null_sink_ops = { null_sink_write, null_sink_close, null_sink_abort };

struct sink *null_sink_new(struct drctl_error *err)
{
	struct sink *s = calloc(1, sizeof(*s));
	if (!s) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		return NULL;
	}
	s->ops = &null_sink_ops;
	return s;
}

/* --- progress ---------------------------------------------------------------------- */

struct progress_stage {
	union {
		struct sink sink;
		struct source source;
	} base;
	union {
		struct sink *next;
		struct source *up;
	} peer;
	struct progress p;
	char label[128];
	uint64_t bytes;
};

static int progress_sink_write(struct sink *s, const void *buf, size_t len, struct drctl_error *err)
{
	struct progress_stage *ps = (struct progress_stage *)s;
	ps->bytes += len;
	progress_update(&ps->p, ps->bytes);
	return sink_write(ps->peer.next, buf, len, err);
}

static int progress_sink_close(struct sink *s, struct drctl_error *err)
{
	struct progress_stage *ps = (struct progress_stage *)s;
	struct sink *next = ps->peer.next;
	progress_end(&ps->p);
	free(ps);
	return sink_close(next, err);
}

static void progress_sink_abort(struct sink *s)
{
	struct progress_stage *ps = (struct progress_stage *)s;
	progress_end(&ps->p);
	sink_abort(ps->peer.next);
	free(ps);
}

static const struct sink_ops progress_sink_ops = { progress_sink_write, progress_sink_close, progress_sink_abort };

static struct progress_stage *progress_stage_new(const char *label, uint64_t total, struct drctl_error *err)
{
	struct progress_stage *ps = calloc(1, sizeof(*ps));
	if (!ps) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		return NULL;
	}
	snprintf(ps->label, sizeof(ps->label), "%s", label);
	progress_start(&ps->p, ps->label, total);
	return ps;
}

struct sink *progress_sink_new(struct sink *next, const char *label, uint64_t total, struct drctl_error *err)
{
	struct progress_stage *ps = progress_stage_new(label, total, err);
	if (!ps) {
		sink_abort(next);
		return NULL;
	}
	ps->base.sink.ops = &progress_sink_ops;
	ps->peer.next = next;
	return &ps->base.sink;
}

static int progress_source_read(struct source *s, void *buf, size_t cap, size_t *got, struct drctl_error *err)
{
	struct progress_stage *ps = (struct progress_stage *)s;
	if (source_read(ps->peer.up, buf, cap, got, err) != 0)
		return -1;
	ps->bytes += *got;
	if (*got == 0)
		progress_end(&ps->p);
	else
		progress_update(&ps->p, ps->bytes);
	return 0;
}

static void progress_source_close(struct source *s)
{
	struct progress_stage *ps = (struct progress_stage *)s;
	progress_end(&ps->p);
	source_close(ps->peer.up);
	free(ps);
}

static const struct source_ops progress_source_ops = { progress_source_read, progress_source_close };

struct source *progress_source_new(struct source *upstream, const char *label, uint64_t total,
				   struct drctl_error *err)
{
	struct progress_stage *ps = progress_stage_new(label, total, err);
	if (!ps) {
		source_close(upstream);
		return NULL;
	}
	ps->base.source.ops = &progress_source_ops;
	ps->peer.up = upstream;
	return &ps->base.source;
}
