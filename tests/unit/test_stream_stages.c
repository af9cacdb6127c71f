/*
 * Stream stages: zstd compression round trip and its refusal of truncated or
 * trailing data; the threaded hand-off stages (data intact across the ring,
 * a worker's error handed back to the caller, abort cascading); digest and
 * progress pass-throughs; stream_pump (chunks, end of stream, byte count, a
 * failing read or feed stopping it with its error).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

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

static void compress(const unsigned char *in, size_t n, int workers, char **out, size_t *out_len)
{
	struct drctl_error err;
	struct sink *s;
	err_clear(&err);
	s = zstd_sink_new(memory_sink_new(out, out_len, 0, &err), 3, workers, &err);
	assert_non_null(s);
	for (size_t off = 0; off < n; off += 70001)
		assert_int_equal(sink_write(s, in + off, n - off < 70001 ? n - off : 70001, &err), 0);
	assert_int_equal(sink_close(s, &err), 0);
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

static void test_thread_sink_hands_back_the_worker_error(void **state)
{
	struct failing_sink *f = calloc(1, sizeof(*f));
	int aborted = 0, rc = 0;
	unsigned char buf[65536] = { 0 };
	struct drctl_error err;
	struct sink *s;
	(void)state;
	f->base.ops = &failing_ops;
	f->limit = 1 << 20;
	f->aborted = &aborted;
	err_clear(&err);
	s = thread_sink_new(&f->base, &err);
	for (int i = 0; i < 200 && rc == 0; i++)
		rc = sink_write(s, buf, sizeof(buf), &err);
	if (rc == 0)
		rc = sink_close(s, &err);
	else
		sink_abort(s);
	assert_int_equal(rc, -1);
	assert_int_equal(err.code, EXIT_IO);
	assert_non_null(strstr(err.message, "full"));
	assert_int_equal(aborted, 1);
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
