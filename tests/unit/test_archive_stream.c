/*
 * archive_stream: tar.zst writing and reading through sinks and sources,
 * member records for the manifest, files read into the compression stage,
 * streams stored as parts, and the refusal
 * of unsafe member names and types.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>
#include <openssl/evp.h>

#include "lib/stream/archive_stream.h"
#include "lib/stream/stream.h"

static void sha_hex(const void *buf, size_t len, char out[65])
{
	unsigned char d[32];
	unsigned int n;
	EVP_Digest(buf, len, d, &n, EVP_sha256(), NULL);
	hex_encode(d, 32, out);
}

/* Write an archive into memory with the given members. */
static void build(char **out, size_t *len, json_t *members, json_t *streams, size_t stream_len)
{
	struct drctl_error err;
	struct sink *mem;
	struct archive_out *ao;

	err_clear(&err);
	mem = memory_sink_new(out, len, 0, &err);
	assert_non_null(mem);
	ao = archive_out_new(mem, 3, 1, members, &err);
	assert_non_null(ao);
	assert_int_equal(archive_out_add_dir(ao, "etc", 0755, &err), 0);
	assert_int_equal(archive_out_add_buffer(ao, "etc/a.txt", "hello\n", 6, 0640, &err), 0);
	if (streams) {
		unsigned char *data = malloc(stream_len);
		for (size_t i = 0; i < stream_len; i++)
			data[i] = (unsigned char)(i * 7 + (i >> 13));
		assert_int_equal(archive_out_stream_begin(ao, "db/dump", 0600, streams, &err), 0);
		/* odd-sized writes cross part boundaries */
		for (size_t off = 0; off < stream_len; off += 100003) {
			size_t n = stream_len - off < 100003 ? stream_len - off : 100003;
			assert_int_equal(archive_out_stream_write(ao, data + off, n, &err), 0);
		}
		assert_int_equal(archive_out_stream_end(ao, &err), 0);
		free(data);
	}
	assert_int_equal(archive_out_close(ao, &err), 0);
}

static void test_members_are_recorded_and_read_back(void **state)
{
	char *buf, hex[65];
	size_t len;
	json_t *members = json_array();
	struct drctl_error err;
	struct archive_in *ai;
	struct archive_member m;
	char data[64];
	size_t got;
	(void)state;

	build(&buf, &len, members, NULL, 0);
	assert_int_equal(json_array_size(members), 1);
	sha_hex("hello\n", 6, hex);
	assert_string_equal(json_string_value(json_object_get(json_array_get(members, 0), "sha256")), hex);
	assert_string_equal(json_string_value(json_object_get(json_array_get(members, 0), "mode")), "0640");

	err_clear(&err);
	ai = archive_in_new(memory_source_new(buf, len, &err), "test", &err);
	assert_non_null(ai);
	assert_int_equal(archive_in_next(ai, &m, &err), 1);
	assert_string_equal(m.name, "etc");
	assert_true(m.is_dir);
	assert_int_equal(archive_in_next(ai, &m, &err), 1);
	assert_string_equal(m.name, "etc/a.txt");
	assert_int_equal(m.size, 6);
	assert_int_equal(archive_in_read(ai, data, sizeof(data), &got, &err), 0);
	assert_int_equal(got, 6);
	assert_memory_equal(data, "hello\n", 6);
	assert_int_equal(archive_in_next(ai, &m, &err), 0);
	assert_int_equal(archive_in_drain(ai, &err), 0);
	archive_in_close(ai);
	free(buf);
	json_decref(members);
}

/* Files are read straight into the compression stage's jobs: one larger
 * than a job, after a small one so that the reads straddle the jobs' ends,
 * come back whole and with their SHA-256 in the member records. */
static void test_files_come_back_whole(void **state)
{
	char dir[] = "/tmp/test_archive_files.XXXXXX", small[64], big[64], hex[65];
	size_t big_len = 5 * 1024 * 1024 + 4099, len;
	unsigned char *data = malloc(big_len), *back = malloc(big_len);
	json_t *members = json_array();
	struct drctl_error err;
	struct archive_out *ao;
	struct archive_in *ai;
	struct archive_member m;
	char *buf;
	FILE *f;
	(void)state;
	for (size_t i = 0; i < big_len; i++)
		data[i] = (unsigned char)((i * 2654435761u) >> (i % 5));
	assert_non_null(mkdtemp(dir));
	snprintf(small, sizeof(small), "%s/small", dir);
	snprintf(big, sizeof(big), "%s/big", dir);
	assert_non_null(f = fopen(small, "w"));
	fputs("x = 1\n", f);
	fclose(f);
	assert_non_null(f = fopen(big, "w"));
	assert_int_equal(fwrite(data, 1, big_len, f), big_len);
	fclose(f);
	for (int threads = 1; threads <= 2; threads++) {
		err_clear(&err);
		ao = archive_out_new(memory_sink_new(&buf, &len, 0, &err), 3, threads, members, &err);
		assert_non_null(ao);
		assert_int_equal(archive_out_add_file(ao, "cfg/small", small, &err), 0);
		assert_int_equal(archive_out_add_file(ao, "data/big", big, &err), 0);
		assert_int_equal(archive_out_close(ao, &err), 0);
		sha_hex(data, big_len, hex);
		assert_string_equal(json_string_value(json_object_get(json_array_get(members, 1), "sha256")), hex);
		ai = archive_in_new(memory_source_new(buf, len, &err), "test", &err);
		assert_non_null(ai);
		assert_int_equal(archive_in_next(ai, &m, &err), 1);
		assert_string_equal(m.name, "cfg/small");
		assert_int_equal(archive_in_next(ai, &m, &err), 1);
		assert_string_equal(m.name, "data/big");
		assert_int_equal(m.size, big_len);
		for (size_t at = 0, got = 1; got > 0; at += got) {
			assert_int_equal(archive_in_read(ai, back + at, big_len - at, &got, &err), 0);
			if (at + got == big_len)
				break;
		}
		assert_memory_equal(back, data, big_len);
		assert_int_equal(archive_in_next(ai, &m, &err), 0);
		archive_in_close(ai);
		free(buf);
		json_array_clear(members);
	}
	unlink(small);
	unlink(big);
	rmdir(dir);
	json_decref(members);
	free(data);
	free(back);
}

static void read_stream(const char *buf, size_t len, json_t *streams, size_t expect_len, int expect_ok)
{
	struct drctl_error err;
	struct archive_in *ai;
	struct archive_member m;
	struct source *src;
	size_t total = 0, got;
	char *chunk = malloc(1 << 16);
	int rc = 0;

	err_clear(&err);
	ai = archive_in_new(memory_source_new(buf, len, &err), "test", &err);
	assert_non_null(ai);
	do
		assert_int_equal(archive_in_next(ai, &m, &err), 1);
	while (strncmp(m.name, "db/dump.part-", 13) != 0);
	assert_string_equal(m.name, "db/dump.part-000001");
	src = archive_in_stream_source(ai, "db/dump", json_object_get(streams, "db/dump"), &err);
	assert_non_null(src);
	for (;;) {
		rc = source_read(src, chunk, 1 << 16, &got, &err);
		if (rc != 0 || got == 0)
			break;
		for (size_t i = 0; i < got; i++)
			if ((unsigned char)chunk[i] != (unsigned char)((total + i) * 7 + ((total + i) >> 13)))
				fail_msg("stream byte %zu differs", total + i);
		total += got;
	}
	if (expect_ok) {
		assert_int_equal(rc, 0);
		assert_int_equal(total, expect_len);
	} else {
		assert_int_equal(rc, -1);
		assert_int_equal(err.code, EXIT_INTEGRITY);
	}
	source_close(src);
	archive_in_close(ai);
	free(chunk);
}

static void test_stream_of_unknown_length_is_stored_as_parts(void **state)
{
	char *buf;
	size_t len, n = (size_t)ARCHIVE_PART_SIZE * 2 + 12345;
	json_t *members = json_array(), *streams = json_object();
	(void)state;

	build(&buf, &len, members, streams, n);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(streams, "db/dump"), "parts")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(streams, "db/dump"), "size")), n);
	assert_string_equal(json_string_value(json_object_get(json_array_get(members, 3), "name")), "db/dump.part-000003");
	read_stream(buf, len, streams, n, 1);
	/* A manifest that expects a different hash: the reader must refuse. */
	json_object_set_new(json_object_get(streams, "db/dump"), "sha256",
			    json_string("0000000000000000000000000000000000000000000000000000000000000000"));
	read_stream(buf, len, streams, n, 0);
	free(buf);
	json_decref(members);
	json_decref(streams);
}

static void test_empty_stream_has_one_empty_part(void **state)
{
	char *buf;
	size_t len;
	json_t *members = json_array(), *streams = json_object();
	(void)state;
	build(&buf, &len, members, streams, 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(streams, "db/dump"), "parts")), 1);
	read_stream(buf, len, streams, 0, 1);
	free(buf);
	json_decref(members);
	json_decref(streams);
}

static void test_member_name_rule(void **state)
{
	static const char *bad[] = { "", "/etc/passwd", "..", "../x", "a/../../x", "a/..", "a\\b", "a\nb" };
	static const char *good[] = { "a", "a/b", "a/.b", "a/..b", "...", "a/b..c/d" };
	struct drctl_error err;
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&err);
		if (archive_member_name_check(bad[i], &err) != -1)
			fail_msg("name \"%s\" should be refused", bad[i]);
		assert_int_equal(err.code, EXIT_INTEGRITY);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		err_clear(&err);
		if (archive_member_name_check(good[i], &err) != 0)
			fail_msg("name \"%s\" should be accepted: %s", good[i], err.message);
	}
}

/* A tar.zst made directly with libarchive, holding one hostile entry. */
static void hostile(char **out, size_t *len, const char *name, int type, const char *link)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	size_t used = 0;
	*out = malloc(1 << 16);
	archive_write_add_filter_zstd(a);
	archive_write_set_format_pax_restricted(a);
	archive_write_open_memory(a, *out, 1 << 16, &used);
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, (unsigned)type);
	archive_entry_set_perm(e, 0644);
	if (link && type == AE_IFLNK)
		archive_entry_set_symlink(e, link);
	else if (link)
		archive_entry_set_hardlink(e, link);
	archive_entry_set_size(e, 0);
	archive_write_header(a, e);
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
	*len = used;
}

static void test_hostile_entries_are_refused(void **state)
{
	struct { const char *name; int type; const char *link; } cases[] = {
		{ "/etc/evil", AE_IFREG, NULL },
		{ "a/../../evil", AE_IFREG, NULL },
		{ "a/link", AE_IFLNK, "/etc/passwd" },
		{ "a/hard", AE_IFREG, "etc/passwd" },
		{ "a/fifo", AE_IFIFO, NULL },
		{ "a/dev", AE_IFCHR, NULL },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct drctl_error err;
		struct archive_in *ai;
		struct archive_member m;
		char *buf;
		size_t len;
		hostile(&buf, &len, cases[i].name, cases[i].type, cases[i].link);
		err_clear(&err);
		ai = archive_in_new(memory_source_new(buf, len, &err), "hostile", &err);
		assert_non_null(ai);
		if (archive_in_next(ai, &m, &err) != -1)
			fail_msg("entry %s (type %o) should be refused", cases[i].name, cases[i].type);
		assert_int_equal(err.code, EXIT_INTEGRITY);
		archive_in_close(ai);
		free(buf);
	}
}

static void test_truncated_archive_is_an_error(void **state)
{
	char *buf;
	size_t len;
	json_t *members = json_array(), *streams = json_object();
	struct drctl_error err;
	struct archive_in *ai;
	struct archive_member m;
	char chunk[65536];
	size_t got;
	int rc = 0;
	(void)state;

	build(&buf, &len, members, streams, 3000000);
	err_clear(&err);
	ai = archive_in_new(memory_source_new(buf, len / 2, &err), "half", &err);
	assert_non_null(ai);
	while (rc == 0 && (rc = archive_in_next(ai, &m, &err)) == 1) {
		do
			rc = archive_in_read(ai, chunk, sizeof(chunk), &got, &err);
		while (rc == 0 && got > 0);
	}
	assert_int_equal(rc, -1);
	assert_int_equal(err.code, EXIT_INTEGRITY);
	archive_in_close(ai);
	free(buf);
	json_decref(members);
	json_decref(streams);
}

static void test_member_size_must_match_announcement(void **state)
{
	char *buf;
	size_t len;
	struct drctl_error err;
	struct archive_out *ao;
	(void)state;
	err_clear(&err);
	ao = archive_out_new(memory_sink_new(&buf, &len, 0, &err), 3, 1, NULL, &err);
	assert_int_equal(archive_out_begin(ao, "x", 10, 0600, &err), 0);
	assert_int_equal(archive_out_write(ao, "12345", 5, &err), 0);
	assert_int_equal(archive_out_end(ao, &err), -1);
	assert_non_null(strstr(err.message, "changed size"));
	archive_out_abort(ao);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_members_are_recorded_and_read_back),
		cmocka_unit_test(test_files_come_back_whole),
		cmocka_unit_test(test_stream_of_unknown_length_is_stored_as_parts),
		cmocka_unit_test(test_empty_stream_has_one_empty_part),
		cmocka_unit_test(test_member_name_rule),
		cmocka_unit_test(test_hostile_entries_are_refused),
		cmocka_unit_test(test_truncated_archive_is_an_error),
		cmocka_unit_test(test_member_size_must_match_announcement),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
