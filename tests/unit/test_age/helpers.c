/*
 * The age tests' helpers; see age_test.h.
 */
#include "tests/unit/test_age/age_test.h"

/* --- helpers ------------------------------------------------------------- */

uint8_t *random_bytes(size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	assert_non_null(p);
	if (n)
		assert_int_equal(RAND_bytes(p, (int)n), 1);
	return p;
}

void sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[32];
	unsigned int len = 0;

	assert_int_equal(EVP_Digest(p, n, md, &len, EVP_sha256(), NULL), 1);
	hex_encode(md, 32, out);
}

/* Encrypt with writes of varying sizes, so that both the buffered path and
 * the whole-chunks-from-the-caller path of the writer run. */
void encrypt_buf(const uint8_t *plain, size_t len, const struct age_recipient *r, size_t n,
			char **out, size_t *out_len)
{
	static const size_t pieces[] = { 1, 4093, CHUNK, 70000, 13, 3 * CHUNK + 5, CHUNK - 1 };
	struct drctl_error err;
	struct sink *mem, *w;
	size_t pos = 0;

	err_clear(&err);
	mem = memory_sink_new(out, out_len, 0, &err);
	assert_non_null(mem);
	w = age_writer_new(mem, r, n, &err);
	assert_non_null(w);
	for (size_t i = 0; pos < len; i++) {
		size_t take = pieces[i % (sizeof(pieces) / sizeof(pieces[0]))];
		if (take > len - pos)
			take = len - pos;
		assert_int_equal(sink_write(w, plain + pos, take, &err), 0);
		pos += take;
	}
	assert_int_equal(sink_close(w, &err), 0);
}

/* Decrypt, reading with a buffer of `cap` bytes, keeping all it releases. */
void decrypt_buf(const void *ct, size_t ct_len, const struct age_identity *ids, size_t n,
			const char *passphrase, size_t cap, struct decrypted *d)
{
	struct source *src;
	uint8_t *buf = malloc(cap);
	size_t room = 1024;

	assert_non_null(buf);
	memset(d, 0, sizeof(*d));
	d->plain = malloc(room);
	assert_non_null(d->plain);
	src = memory_source_new(ct, ct_len, &d->err);
	assert_non_null(src);
	src = age_reader_new(src, ids, n, passphrase, &d->failure, &d->err);
	if (!src) {
		assert_int_not_equal(d->failure, AGE_OK);
		assert_true(err_is_set(&d->err));
	} else {
		assert_int_equal(d->failure, AGE_OK);
		for (;;) {
			size_t got = 0;
			if (source_read(src, buf, cap, &got, &d->err) != 0) {
				d->failure = age_reader_failure(src);
				assert_int_not_equal(d->failure, AGE_OK);
				break;
			}
			if (got == 0)
				break;
			assert_true(got <= cap);
			while (d->len + got > room)
				room *= 2;
			d->plain = realloc(d->plain, room);
			assert_non_null(d->plain);
			memcpy(d->plain + d->len, buf, got);
			d->len += got;
		}
		source_close(src);
	}
	sha256_hex(d->plain, d->len, d->sha256);
	free(buf);
}

void new_identity(struct age_identity *id, struct age_recipient *r)
{
	struct drctl_error err;

	err_clear(&err);
	assert_int_equal(age_keygen(id, &err), 0);
	age_identity_to_recipient(id, r);
}

uint8_t *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}
