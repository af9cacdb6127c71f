/*
 * Stream stages: zstd compression round trip and its refusal of truncated or
 * trailing data; compression in 2 MiB frames, the same bytes whatever the
 * number of workers, with the next sink's error handed back and abort
 * cascading from the workers; the threaded hand-off stages (data intact
 * across the ring, borrowed without a copy, handed over early to a caller
 * that waits, a worker's error handed back to the caller after the data read
 * before it, abort cascading); digest and progress pass-throughs;
 * stream_pump (chunks, end of stream, byte count, a failing read or feed
 * stopping it with its error).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zstd.h>

#include "lib/stream/stream.h"
#include "lib/stream/stream_thread.h"
#include "lib/stream/zstd_stream.h"

static unsigned char *pattern(size_t n)
{
	unsigned char *p = malloc(n);
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)((i * 2654435761u) >> (i % 7));
	return p;
}

static void compress_at(const unsigned char *in, size_t n, int level, int workers, char **out, size_t *out_len)
{
	struct drctl_error err;
	struct sink *s;
	err_clear(&err);
	s = zstd_sink_new(memory_sink_new(out, out_len, 0, &err), level, workers, &err);
	assert_non_null(s);
	for (size_t off = 0; off < n; off += 70001)
		assert_int_equal(sink_write(s, in + off, n - off < 70001 ? n - off : 70001, &err), 0);
	assert_int_equal(sink_close(s, &err), 0);
}

static void compress(const unsigned char *in, size_t n, int workers, char **out, size_t *out_len)
{
	compress_at(in, n, 3, workers, out, out_len);
}

static int decompress(const char *in, size_t n, char **out, size_t *out_len, struct drctl_error *err)
{
	struct source *src = zstd_source_new(memory_source_new(in, n, err), "test", err);
	struct sink *mem = memory_sink_new(out, out_len, 0, err);
	int rc = stream_copy(src, mem, NULL, err);
	source_close(src);
	if (rc != 0) {
		sink_abort(mem);
		return -1;
	}
	return sink_close(mem, err);
}

static void test_zstd_round_trip_single_and_multi_threaded(void **state)
{
	size_t n = 5 * 1024 * 1024 + 17;
	unsigned char *data = pattern(n);
	(void)state;
	for (int workers = 1; workers <= 2; workers++) {
		char *z, *back;
		size_t zl, bl;
		struct drctl_error err;
		compress(data, n, workers, &z, &zl);
		err_clear(&err);
		assert_int_equal(decompress(z, zl, &back, &bl, &err), 0);
		assert_int_equal(bl, n);
		assert_memory_equal(back, data, n);
		free(z);
		free(back);
	}
	free(data);
}

static void test_zstd_refuses_truncated_and_damaged_frames(void **state)
{
	size_t n = 300000;
	unsigned char *data = pattern(n);
	char *z, *back = NULL;
	size_t zl, bl;
	struct drctl_error err;
	(void)state;
	compress(data, n, 1, &z, &zl);
	err_clear(&err);
	assert_int_equal(decompress(z, zl - 5, &back, &bl, &err), -1);
	assert_int_equal(err.code, EXIT_INTEGRITY);
	assert_non_null(strstr(err.message, "middle of a zstd frame"));
	z[zl / 2] ^= 0x55;
	err_clear(&err);
	assert_int_equal(decompress(z, zl, &back, &bl, &err), -1);
	assert_int_equal(err.code, EXIT_INTEGRITY);
	err_clear(&err);
	assert_int_equal(decompress("", 0, &back, &bl, &err), -1); /* not even one frame */
	free(z);
	free(data);
}

/* The frames of a zstd stream, walked with libzstd: how many, and the
 * content size of the first. */
static size_t count_frames(const char *z, size_t len, unsigned long long *first_size)
{
	size_t frames = 0, off = 0;
	while (off < len) {
		size_t n = ZSTD_findFrameCompressedSize(z + off, len - off);
		assert_false(ZSTD_isError(n));
		if (frames == 0)
			*first_size = ZSTD_getFrameContentSize(z + off, len - off);
		off += n;
		frames++;
	}
	return frames;
}

static void test_zstd_frames_are_the_same_whatever_the_workers(void **state)
{
	size_t n = 5 * 1024 * 1024 + 17;
	unsigned char *data = pattern(n);
	char *one, *many;
	size_t one_len, many_len;
	unsigned long long first = 0;
	(void)state;
	/* At level 12 the second frame (zeros) compresses some fifty times
	 * faster than the first: with workers it is done first, and must still
	 * come out second. */
	memset(data + (2u << 20), 0, 2u << 20);
	compress_at(data, n, 12, 1, &one, &one_len);
	for (int workers = 2; workers <= 3; workers++) {
		compress_at(data, n, 12, workers, &many, &many_len);
		assert_int_equal(many_len, one_len);
		assert_memory_equal(many, one, one_len);
		free(many);
	}
	/* 2 MiB frames: 2 + 2 + 1 MiB and 17 bytes. */
	assert_int_equal(count_frames(one, one_len, &first), 3);
	assert_int_equal(first, 2u << 20);
	free(one);
	/* An empty stream is still one (empty) frame. */
	compress(data, 0, 2, &one, &one_len);
	assert_int_equal(count_frames(one, one_len, &first), 1);
	assert_int_equal(first, 0);
	free(one);
	free(data);
}

/* Bytes read into a reserved span and written from there give the same
 * stream as bytes written from elsewhere; a write from elsewhere after a
 * reservation is copied as usual. */
static void test_zstd_reserve_writes_in_place(void **state)
{
	size_t n = 5 * 1024 * 1024 + 17, at = 0;
	unsigned char *data = pattern(n);
	char *want, *got;
	size_t want_len, got_len;
	struct drctl_error err;
	struct sink *s;
	(void)state;
	compress(data, n, 2, &want, &want_len);
	for (int workers = 1; workers <= 2; workers++) {
		err_clear(&err);
		s = zstd_sink_new(memory_sink_new(&got, &got_len, 0, &err), 3, workers, &err);
		for (int i = 0; at < n; i++) {
			void *span;
			size_t room, take;
			assert_int_equal(zstd_sink_reserve(s, 300000, &span, &room, &err), 0);
			assert_true(room > 0 && room <= 300000);
			take = room < n - at ? room : n - at;
			if (i % 4 == 3) { /* reserved, but written from elsewhere */
				memset(span, 0xee, take);
				assert_int_equal(sink_write(s, data + at, take, &err), 0);
			} else {
				memcpy(span, data + at, take);
				assert_int_equal(sink_write(s, span, take, &err), 0);
			}
			at += take;
		}
		assert_int_equal(sink_close(s, &err), 0);
		assert_int_equal(got_len, want_len);
		assert_memory_equal(got, want, want_len);
		free(got);
		at = 0;
	}
	/* Only the zstd stage reserves. */
	{
		void *span;
		size_t room;
		char *m;
		size_t ml;
		s = memory_sink_new(&m, &ml, 0, &err);
		assert_int_equal(zstd_sink_reserve(s, 10, &span, &room, &err), -1);
		sink_abort(s);
	}
	free(want);
	free(data);
}

static void test_thread_stages_keep_the_bytes_in_order(void **state)
{
	size_t n = 3 * 1024 * 1024 + 12345;
	unsigned char *data = pattern(n);
	char *out, *back;
	size_t out_len, back_len;
	struct drctl_error err;
	struct sink *s;
	struct source *src;
	(void)state;
	err_clear(&err);
	s = thread_sink_new(memory_sink_new(&out, &out_len, 0, &err), &err);
	for (size_t off = 0; off < n; off += 99991)
		assert_int_equal(sink_write(s, data + off, n - off < 99991 ? n - off : 99991, &err), 0);
	assert_int_equal(sink_close(s, &err), 0);
	assert_int_equal(out_len, n);
	assert_memory_equal(out, data, n);

	src = thread_source_new(memory_source_new(out, out_len, &err), &err);
	s = memory_sink_new(&back, &back_len, 0, &err);
	assert_int_equal(stream_copy(src, s, NULL, &err), 0);
	source_close(src);
	assert_int_equal(sink_close(s, &err), 0);
	assert_int_equal(back_len, n);
	assert_memory_equal(back, data, n);
	free(out);
	free(back);
	free(data);
}

/* A sink that fails after `limit` bytes, like a full disk. */
struct failing_sink {
	struct sink base;
	size_t seen, limit;
	int *aborted;
};
static int failing_write(struct sink *s, const void *b, size_t l, struct drctl_error *err)
{
	struct failing_sink *f = (struct failing_sink *)s;
	(void)b;
	f->seen += l;
	if (f->seen > f->limit)
		return err_set(err, EXIT_IO, "disk", NULL, "the repository is full (test)");
	return 0;
}
static int failing_close(struct sink *s, struct drctl_error *err)
{
	(void)err;
	free(s);
	return 0;
}
static void failing_abort(struct sink *s)
{
	*((struct failing_sink *)s)->aborted = 1;
	free(s);
}
static const struct sink_ops failing_ops = { failing_write, failing_close, failing_abort };

/* A sink that fails once more than limit bytes reached it; *aborted is set
 * when it is aborted. */
static struct sink *failing_sink_new(size_t limit, int *aborted)
{
	struct failing_sink *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->base.ops = &failing_ops;
	f->limit = limit;
	f->aborted = aborted;
	return &f->base;
}

/* n bytes of data into s in writes of 64 KiB, then its close, or its abort
 * after the first write that fails: the failing sink's error must come
 * back, and the failing sink be aborted. */
static void assert_full_comes_back(struct sink *s, const unsigned char *data, size_t n, const int *aborted,
				   struct drctl_error *err)
{
	int rc = 0;

	for (size_t off = 0; off < n && rc == 0; off += 65536)
		rc = sink_write(s, data + off, 65536, err);
	if (rc == 0)
		rc = sink_close(s, err);
	else
		sink_abort(s);
	assert_int_equal(rc, -1);
	assert_int_equal(err->code, EXIT_IO);
	assert_non_null(strstr(err->message, "full"));
	assert_int_equal(*aborted, 1);
}

static void test_thread_sink_hands_back_the_worker_error(void **state)
{
	size_t n = 200 * 65536;
	unsigned char *data = pattern(n);
	int aborted = 0;
	struct drctl_error err;
	(void)state;
	err_clear(&err);
	assert_full_comes_back(thread_sink_new(failing_sink_new(1 << 20, &aborted), &err), data, n, &aborted, &err);
	free(data);
}

/* The sink after compression fails on a worker: the caller hears of it at a
 * later write or at close, and the failing sink is aborted, never closed. */
static void test_zstd_hands_back_the_next_sinks_error(void **state)
{
	size_t n = 9 * 1024 * 1024;
	unsigned char *data = pattern(n);
	(void)state;
	for (int workers = 1; workers <= 2; workers++) {
		int aborted = 0;
		struct drctl_error err;
		struct sink *s;
		err_clear(&err);
		/* 100 bytes: the first frame already overflows it */
		s = zstd_sink_new(failing_sink_new(100, &aborted), 3, workers, &err);
		assert_non_null(s);
		assert_full_comes_back(s, data, n, &aborted, &err);
	}
	free(data);
}

/* Abort while workers still hold jobs: the next sink is aborted once they
 * are done with it (ASan sees no leak, no use after free). */
static void test_zstd_abort_with_jobs_in_flight(void **state)
{
	size_t n = 7 * 1024 * 1024;
	unsigned char *data = pattern(n);
	struct failing_sink *f = calloc(1, sizeof(*f));
	int aborted = 0;
	struct drctl_error err;
	struct sink *s;
	(void)state;
	f->base.ops = &failing_ops;
	f->limit = (size_t)-1;
	f->aborted = &aborted;
	err_clear(&err);
	s = zstd_sink_new(&f->base, 3, 2, &err);
	assert_non_null(s);
	assert_int_equal(sink_write(s, data, n, &err), 0);
	sink_abort(s);
	assert_int_equal(aborted, 1);
	free(data);
}

/* A source that hands out at most `step` bytes per read, then fails after
 * `fail_after` bytes if set. */
struct trickle_source {
	struct source base;
	const unsigned char *data;
	size_t len, pos, step, fail_after;
};
static int trickle_read(struct source *s, void *buf, size_t cap, size_t *got, struct drctl_error *err)
{
	struct trickle_source *t = (struct trickle_source *)s;
	size_t n = t->len - t->pos;
	if (t->fail_after && t->pos >= t->fail_after)
		return err_set(err, EXIT_INTEGRITY, "object", NULL, "damaged chunk (test)");
	if (n > t->step)
		n = t->step;
	if (n > cap)
		n = cap;
	memcpy(buf, t->data + t->pos, n);
	t->pos += n;
	*got = n;
	return 0;
}
static void trickle_close(struct source *s)
{
	free(s);
}
static const struct source_ops trickle_ops = { trickle_read, trickle_close };

static struct source *trickle_new(const unsigned char *data, size_t len, size_t step, size_t fail_after)
{
	struct trickle_source *t = calloc(1, sizeof(*t));
	t->base.ops = &trickle_ops;
	t->data = data;
	t->len = len;
	t->step = step;
	t->fail_after = fail_after;
	return &t->base;
}

/* Borrowing and reading mixed: every byte once, in order, whatever the
 * pieces the upstream hands out. */
static void test_thread_source_lends_its_ring(void **state)
{
	size_t n = 3 * 1024 * 1024 + 4321, at = 0;
	unsigned char *data = pattern(n);
	struct drctl_error err;
	struct source *src;
	(void)state;
	err_clear(&err);
	src = thread_source_new(trickle_new(data, n, 70001, 0), &err);
	assert_non_null(src);
	for (int i = 0;; i++) {
		size_t got = 0;
		if (i % 3 == 0) {
			unsigned char buf[50000];
			assert_int_equal(source_read(src, buf, sizeof(buf), &got, &err), 0);
			assert_memory_equal(buf, data + at, got);
		} else {
			const void *block;
			assert_int_equal(thread_source_borrow(src, &block, &got, &err), 0);
			assert_memory_equal(block, data + at, got);
		}
		if (got == 0)
			break;
		at += got;
	}
	assert_int_equal(at, n);
	source_close(src);
	/* Only a thread source lends. */
	{
		const void *block;
		size_t got;
		src = memory_source_new(data, n, &err);
		assert_int_equal(thread_source_borrow(src, &block, &got, &err), -1);
		source_close(src);
	}
	free(data);
}

/* An upstream that gives 1000 bytes, then nothing more until the caller has
 * them (as a network peer waiting for an answer would): the worker must hand
 * over a slot that is not full when the caller waits for it. */
struct gated_source {
	struct source base;
	int reads;
	volatile int reading, seen;
};
static int gated_read(struct source *s, void *buf, size_t cap, size_t *got, struct drctl_error *err)
{
	struct gated_source *g = (struct gated_source *)s;
	(void)err;
	*got = 0;
	if (g->reads++ == 0) {
		while (!g->reading)
			usleep(1000);
		usleep(200000); /* the caller is waiting by now */
		memset(buf, 'a', cap < 1000 ? cap : 1000);
		*got = cap < 1000 ? cap : 1000;
		return 0;
	}
	for (int i = 0; i < 1000 && !g->seen; i++) /* at most 10 s */
		usleep(10000);
	return g->seen ? 0 : err_set(err, EXIT_FAILED, NULL, NULL, "the first bytes were held back");
}
static void gated_close(struct source *s)
{
	(void)s; /* on the test's stack */
}
static const struct source_ops gated_ops = { gated_read, gated_close };

static void test_thread_source_hands_over_what_it_has_when_asked(void **state)
{
	struct gated_source g = { .base.ops = &gated_ops };
	unsigned char buf[4096];
	size_t got = 0;
	struct drctl_error err;
	struct source *src;
	(void)state;
	err_clear(&err);
	src = thread_source_new(&g.base, &err);
	assert_non_null(src);
	g.reading = 1;
	assert_int_equal(source_read(src, buf, sizeof(buf), &got, &err), 0);
	assert_int_equal(got, 1000);
	g.seen = 1;
	assert_int_equal(source_read(src, buf, sizeof(buf), &got, &err), 0);
	assert_int_equal(got, 0);
	source_close(src);
}

/* An upstream failing after some data: the data read before the failure
 * comes out first, then the error. */
static void test_thread_source_gives_the_data_then_the_error(void **state)
{
	size_t n = 2 * 1024 * 1024, fail_after = 1500000, at = 0;
	unsigned char *data = pattern(n);
	struct drctl_error err;
	struct source *src;
	int rc;
	(void)state;
	err_clear(&err);
	src = thread_source_new(trickle_new(data, n, 65536, fail_after), &err);
	for (;;) {
		unsigned char buf[65536];
		size_t got = 0;
		if ((rc = source_read(src, buf, sizeof(buf), &got, &err)) != 0)
			break;
		assert_true(got > 0);
		assert_memory_equal(buf, data + at, got);
		at += got;
	}
	assert_int_equal(rc, -1);
	assert_int_equal(err.code, EXIT_INTEGRITY);
	assert_true(at >= fail_after);
	source_close(src);
	free(data);
}

static void test_digest_and_progress_pass_bytes_through(void **state)
{
	struct digest d;
	char *out;
	size_t len;
	struct drctl_error err;
	struct sink *s;
	(void)state;
	err_clear(&err);
	s = digest_sink_new(progress_sink_new(memory_sink_new(&out, &len, 0, &err), "t", 3, &err), &d, &err);
	assert_int_equal(sink_write(s, "abc", 3, &err), 0);
	assert_int_equal(sink_close(s, &err), 0);
	assert_int_equal(len, 3);
	assert_int_equal(d.bytes, 3);
	assert_string_equal(d.sha256_hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	free(out);
}

/* What a stream_pump feed saw; it fails on call number `fail_at` (from 1). */
struct pump_log {
	unsigned char *seen;
	size_t len, calls, max_chunk, fail_at;
	int fail_silently; /* fail without setting the error */
};
static int pump_record(void *arg, const void *buf, size_t len, struct drctl_error *err)
{
	struct pump_log *l = arg;
	l->calls++;
	if (l->fail_at && l->calls == l->fail_at)
		return l->fail_silently ? -1 : err_set(err, EXIT_INTEGRITY, "chunk", NULL, "feed refused chunk %zu", l->calls);
	l->seen = realloc(l->seen, l->len + len);
	memcpy(l->seen + l->len, buf, len);
	l->len += len;
	if (len > l->max_chunk)
		l->max_chunk = len;
	return 0;
}

static void test_pump_feeds_every_byte_in_chunks(void **state)
{
	size_t n = 10 * 1000 + 7;
	unsigned char *data = pattern(n);
	struct pump_log log = { 0 };
	struct drctl_error err;
	struct source *src;
	uint64_t total = 0;
	(void)state;
	err_clear(&err);
	src = memory_source_new(data, n, &err);
	assert_int_equal(stream_pump(src, 1000, pump_record, &log, &total, &err), 0);
	assert_int_equal(total, n);
	assert_int_equal(log.len, n);
	assert_memory_equal(log.seen, data, n);
	assert_int_equal(log.calls, 11); /* ten full chunks and the 7 bytes left: no empty call at the end */
	assert_int_equal(log.max_chunk, 1000);
	assert_false(err_is_set(&err));
	source_close(src);
	free(log.seen);
	free(data);
}

static void test_pump_of_an_empty_source_feeds_nothing(void **state)
{
	struct pump_log log = { 0 };
	struct drctl_error err;
	struct source *src;
	uint64_t total = 99;
	(void)state;
	err_clear(&err);
	src = memory_source_new("", 0, &err);
	assert_int_equal(stream_pump(src, 4096, pump_record, &log, &total, &err), 0);
	assert_int_equal(total, 0);
	assert_int_equal(log.calls, 0);
	source_close(src);
}

static void test_pump_stops_at_the_feed_error(void **state)
{
	unsigned char *data = pattern(5000);
	struct pump_log log = { .fail_at = 3 };
	struct drctl_error err;
	struct source *src;
	uint64_t total = 0;
	size_t left = 0;
	char rest[5000];
	(void)state;
	err_clear(&err);
	src = memory_source_new(data, 5000, &err);
	assert_int_equal(stream_pump(src, 1000, pump_record, &log, &total, &err), -1);
	assert_int_equal(err.code, EXIT_INTEGRITY);
	assert_string_equal(err.message, "feed refused chunk 3");
	assert_int_equal(log.calls, 3);
	assert_int_equal(total, 2000); /* the chunks fed before the failure */
	/* nothing past the failing chunk was read */
	assert_int_equal(source_read(src, rest, sizeof(rest), &left, &err), 0);
	assert_int_equal(left, 2000);
	source_close(src);

	/* A feed that fails without a word still fails the pump, with an error. */
	free(log.seen);
	log = (struct pump_log){ .fail_at = 1, .fail_silently = 1 };
	err_clear(&err);
	src = memory_source_new(data, 5000, &err);
	assert_int_equal(stream_pump(src, 1000, pump_record, &log, NULL, &err), -1);
	assert_int_equal(err.code, EXIT_FAILED);
	source_close(src);
	free(log.seen);
	free(data);
}

/* A source that hands out `good` bytes, then fails like a cut connection. */
struct broken_source {
	struct source base;
	size_t good;
};
static int broken_read(struct source *s, void *buf, size_t cap, size_t *got, struct drctl_error *err)
{
	struct broken_source *b = (struct broken_source *)s;
	if (!b->good)
		return err_set(err, EXIT_IO, "peer", NULL, "connection reset (test)");
	*got = cap < b->good ? cap : b->good;
	memset(buf, 'x', *got);
	b->good -= *got;
	return 0;
}
static void broken_close(struct source *s)
{
	(void)s;
}
static const struct source_ops broken_ops = { broken_read, broken_close };

static void test_pump_stops_at_the_read_error_and_drains_with_no_feed(void **state)
{
	struct broken_source b = { .base.ops = &broken_ops, .good = 2500 };
	struct pump_log log = { 0 };
	struct drctl_error err;
	struct digest d;
	struct source *src;
	uint64_t total = 0;
	(void)state;
	err_clear(&err);
	assert_int_equal(stream_pump(&b.base, 1000, pump_record, &log, &total, &err), -1);
	assert_int_equal(err.code, EXIT_IO);
	assert_string_equal(err.subject, "peer");
	assert_int_equal(log.calls, 3);
	assert_int_equal(total, 2500);
	free(log.seen);

	/* No feed: read to the end, so the digest upstream sees every byte. */
	err_clear(&err);
	src = digest_source_new(memory_source_new("abc", 3, &err), &d, &err);
	assert_int_equal(stream_pump(src, 2, NULL, NULL, &total, &err), 0);
	assert_int_equal(total, 3);
	assert_int_equal(d.bytes, 3);
	assert_string_equal(d.sha256_hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	source_close(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zstd_round_trip_single_and_multi_threaded),
		cmocka_unit_test(test_zstd_refuses_truncated_and_damaged_frames),
		cmocka_unit_test(test_zstd_frames_are_the_same_whatever_the_workers),
		cmocka_unit_test(test_zstd_hands_back_the_next_sinks_error),
		cmocka_unit_test(test_zstd_abort_with_jobs_in_flight),
		cmocka_unit_test(test_zstd_reserve_writes_in_place),
		cmocka_unit_test(test_thread_source_lends_its_ring),
		cmocka_unit_test(test_thread_source_gives_the_data_then_the_error),
		cmocka_unit_test(test_thread_source_hands_over_what_it_has_when_asked),
		cmocka_unit_test(test_thread_stages_keep_the_bytes_in_order),
		cmocka_unit_test(test_thread_sink_hands_back_the_worker_error),
		cmocka_unit_test(test_digest_and_progress_pass_bytes_through),
		cmocka_unit_test(test_pump_feeds_every_byte_in_chunks),
		cmocka_unit_test(test_pump_of_an_empty_source_feeds_nothing),
		cmocka_unit_test(test_pump_stops_at_the_feed_error),
		cmocka_unit_test(test_pump_stops_at_the_read_error_and_drains_with_no_feed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
