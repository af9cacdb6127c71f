/*
 * Stream stages: zstd compression round trip and its refusal of truncated or
 * trailing data; the threaded hand-off stages (data intact across the ring,
 * a worker's error handed back to the caller, abort cascading); digest and
 * progress pass-throughs.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zstd_round_trip_single_and_multi_threaded),
		cmocka_unit_test(test_zstd_refuses_truncated_and_damaged_frames),
		cmocka_unit_test(test_thread_stages_keep_the_bytes_in_order),
		cmocka_unit_test(test_thread_sink_hands_back_the_worker_error),
		cmocka_unit_test(test_digest_and_progress_pass_bytes_through),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
