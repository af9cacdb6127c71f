/* age: round trips at the chunk edges, the CCTV age test vectors
 * (tests/data/age-testkit, see its README), interoperability with the stock
 * `age` and `age-keygen` tools (scripts/install-deps.sh installs them; the
 * test fails without them), tampering of every part of a file, Bech32 keys
 * and identity files.
 *
 * Vectors out of scope, counted in the output and checked by count: armored
 * files (drctl neither writes nor reads the PEM-like armor) and post-quantum
 * hybrid recipients (AGE-SECRET-KEY-PQ-..., not implemented).  Vectors stored
 * zlib-compressed are inflated with zlib, which drctl links anyway.
 *
 * This file: round trips, vectors, tampering; test_age/keys.c the keys;
 * test_age/interop.c the stock tools; test_age/helpers.c what they share. */
#include "tests/unit/test_age/age_test.h"

/* --- round trips ------------------------------------------------------------- */

static size_t expected_ciphertext_len(size_t plain, size_t recipients)
{
	size_t chunks = plain == 0 ? 1 : (plain + CHUNK - 1) / CHUNK;
	/* version line, stanzas (arg line with a 43-character share, one body
	 * line of 43), MAC line, nonce, chunks with their tags */
	return 22 + recipients * (10 + 43 + 1 + 43 + 1) + 4 + 43 + 1 + 16 + plain + 16 * chunks;
}

static void test_round_trip_at_chunk_edges_with_one_and_three_recipients(void **state)
{
	static const size_t sizes[] = { 0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK };
	static const size_t caps[] = { 1000, 4 * CHUNK };
	struct age_identity ids[3];
	struct age_recipient rs[3];

	(void)state;
	for (int i = 0; i < 3; i++)
		new_identity(&ids[i], &rs[i]);
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint8_t *plain = random_bytes(sizes[s]);
		for (size_t nr = 1; nr <= 3; nr += 2) {
			char *ct = NULL;
			size_t ct_len = 0;
			encrypt_buf(plain, sizes[s], rs, nr, &ct, &ct_len);
			assert_int_equal(ct_len, expected_ciphertext_len(sizes[s], nr));
			/* each recipient's identity alone opens it, with both read sizes */
			for (size_t who = 0; who < nr; who++) {
				for (size_t c = 0; c < 2; c++) {
					struct decrypted d;
					decrypt_buf(ct, ct_len, &ids[who], 1, NULL, caps[c], &d);
					if (d.failure != AGE_OK)
						fail_msg("size %zu, %zu recipients, identity %zu: %s: %s", sizes[s], nr,
							 who, age_failure_name(d.failure), d.err.message);
					assert_int_equal(d.len, sizes[s]);
					assert_memory_equal(d.plain, plain, sizes[s]);
					free(d.plain);
				}
			}
			free(ct);
		}
		free(plain);
	}
}

/* A sink that counts what reaches it: proves the writer streams. */
struct counting_sink {
	struct sink base;
	size_t bytes;
	size_t *closed_with;
};

static int counting_write(struct sink *s, const void *buf, size_t len, struct drctl_error *err)
{
	(void)buf, (void)err;
	((struct counting_sink *)s)->bytes += len;
	return 0;
}

static int counting_close(struct sink *s, struct drctl_error *err)
{
	struct counting_sink *c = (struct counting_sink *)s;
	(void)err;
	*c->closed_with = c->bytes;
	free(c);
	return 0;
}

static void counting_abort(struct sink *s)
{
	free(s);
}

static const struct sink_ops counting_ops = { counting_write, counting_close, counting_abort };

static void test_writer_streams_holding_back_exactly_one_chunk(void **state)
{
	struct age_identity id;
	struct age_recipient r;
	struct drctl_error err;
	struct counting_sink *c = calloc(1, sizeof(*c));
	size_t closed = 0, header = 22 + 98 + 48 + 16;
	uint8_t *plain = random_bytes(5 * CHUNK);
	struct sink *w;

	(void)state;
	err_clear(&err);
	new_identity(&id, &r);
	c->base.ops = &counting_ops;
	c->closed_with = &closed;
	w = age_writer_new(&c->base, &r, 1, &err);
	assert_non_null(w);
	assert_int_equal(c->bytes, header); /* the header goes out at once */
	assert_int_equal(sink_write(w, plain, 5 * CHUNK, &err), 0);
	assert_int_equal(c->bytes, header + 4 * (CHUNK + 16)); /* the fifth is held back */
	assert_int_equal(sink_write(w, plain, 1, &err), 0);
	assert_int_equal(c->bytes, header + 5 * (CHUNK + 16));
	assert_int_equal(sink_close(w, &err), 0);
	assert_int_equal(closed, header + 5 * (CHUNK + 16) + 1 + 16);
	free(plain);
}

static void test_writer_refuses_no_recipients_and_aborts_next(void **state)
{
	struct drctl_error err;
	struct counting_sink *c = calloc(1, sizeof(*c));
	size_t closed = 12345;

	(void)state;
	err_clear(&err);
	c->base.ops = &counting_ops;
	c->closed_with = &closed;
	assert_null(age_writer_new(&c->base, NULL, 0, &err)); /* frees c through abort */
	assert_int_equal(err.code, EXIT_USAGE);
	assert_int_equal(closed, 12345);
}

/* --- test vectors ------------------------------------------------------------- */

struct vector {
	char expect[32];
	char payload[65];
	char identities[4][128];
	size_t n_identities;
	char passphrases[4][64];
	size_t n_passphrases;
	int armored, compressed, unknown_key, post_quantum;
	uint8_t *body; /* the age file */
	size_t body_len;
};

/* "key: value" lines, an empty line, then the age file. */
static void vector_parse(uint8_t *file, size_t len, struct vector *v)
{
	size_t pos = 0;

	memset(v, 0, sizeof(*v));
	for (;;) {
		uint8_t *nl = memchr(file + pos, '\n', len - pos);
		char line[256], *value;
		size_t line_len;

		assert_non_null(nl);
		line_len = (size_t)(nl - (file + pos));
		if (line_len == 0) {
			pos++;
			break;
		}
		assert_true(line_len < sizeof(line));
		memcpy(line, file + pos, line_len);
		line[line_len] = '\0';
		pos += line_len + 1;
		value = strstr(line, ": ");
		assert_non_null(value);
		*value = '\0';
		value += 2;
		if (!strcmp(line, "expect"))
			snprintf(v->expect, sizeof(v->expect), "%s", value);
		else if (!strcmp(line, "payload"))
			snprintf(v->payload, sizeof(v->payload), "%s", value);
		else if (!strcmp(line, "identity")) {
			assert_true(v->n_identities < 4);
			if (!strncmp(value, "AGE-SECRET-KEY-PQ-", 18))
				v->post_quantum = 1;
			snprintf(v->identities[v->n_identities++], 128, "%s", value);
		} else if (!strcmp(line, "passphrase")) {
			assert_true(v->n_passphrases < 4);
			snprintf(v->passphrases[v->n_passphrases++], 64, "%s", value);
		} else if (!strcmp(line, "armored"))
			v->armored = !strcmp(value, "yes");
		else if (!strcmp(line, "compressed"))
			v->compressed = !strcmp(value, "zlib") ? 1 : -1;
		else if (strcmp(line, "file key") && strcmp(line, "comment"))
			v->unknown_key = 1;
	}
	v->body = file + pos;
	v->body_len = len - pos;
}

static uint8_t *inflate_all(const uint8_t *in, size_t len, size_t *out_len)
{
	for (uLongf cap = 1 << 20; cap <= (1u << 28); cap *= 2) {
		uint8_t *out = malloc(cap);
		uLongf n = cap;
		int rc;
		assert_non_null(out);
		rc = uncompress(out, &n, in, len);
		if (rc == Z_OK) {
			*out_len = n;
			return out;
		}
		free(out);
		assert_int_equal(rc, Z_BUF_ERROR);
	}
	fail_msg("a test vector inflates to more than 256 MiB");
	return NULL;
}

/* Run one vector; returns 0 if it was checked, 1 if it is out of scope
 * (*skip_reason says why). */
static int vector_run(const char *name, struct vector *v, int *skip_reason)
{
	struct age_identity ids[4];
	struct drctl_error err;
	struct decrypted d;
	uint8_t *inflated = NULL;
	const uint8_t *body = v->body;
	size_t body_len = v->body_len, n = 0;

	err_clear(&err);
	if (v->unknown_key || v->compressed < 0) {
		*skip_reason = 0;
		return 1;
	}
	if (v->armored || !strcmp(v->expect, "armor failure")) {
		*skip_reason = 1;
		return 1;
	}
	if (v->post_quantum) {
		*skip_reason = 2;
		return 1;
	}
	if (v->compressed) {
		inflated = inflate_all(v->body, v->body_len, &body_len);
		body = inflated;
	}
	for (size_t i = 0; i < v->n_identities; i++) {
		if (age_identity_parse(v->identities[i], &ids[n], &err) != 0)
			fail_msg("%s: identity %zu does not parse: %s", name, i, err.message);
		n++;
	}
	/* Several passphrases are tried in turn, as age tries every identity:
	 * the first outcome other than "no match" counts. */
	for (size_t p = 0; p == 0 || p < v->n_passphrases; p++) {
		decrypt_buf(body, body_len, ids, n, v->n_passphrases ? v->passphrases[p] : NULL, 3 * CHUNK, &d);
		if (d.failure != AGE_NO_MATCH || p + 1 >= v->n_passphrases)
			break;
		free(d.plain);
	}
	if (strcmp(age_failure_name(d.failure), v->expect) != 0)
		fail_msg("%s: expected \"%s\", got \"%s\" (%s)", name, v->expect, age_failure_name(d.failure),
			 d.err.message);
	if (v->payload[0] && strcmp(d.sha256, v->payload) != 0)
		fail_msg("%s: released plaintext (%zu bytes) has SHA-256 %s, expected %s", name, d.len, d.sha256,
			 v->payload);
	if (!v->payload[0])
		assert_int_equal(d.len, 0); /* failures before the payload release nothing */
	free(d.plain);
	free(inflated);
	return 0;
}

static void test_cctv_age_test_vectors(void **state)
{
	static const char *const why[] = { "unknown keys", "armored", "post-quantum hybrid" };
	int skipped[3] = { 0 }, checked = 0, total = 0;
	struct dirent *e;
	DIR *dir = opendir(TESTKIT_DIR);

	(void)state;
	assert_non_null(dir);
	while ((e = readdir(dir)) != NULL) {
		char path[1024];
		struct vector v;
		uint8_t *file;
		size_t len;
		int reason = 0;

		if (e->d_name[0] == '.' || !strcmp(e->d_name, "README.md"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", TESTKIT_DIR, e->d_name);
		file = read_all(path, &len);
		vector_parse(file, len, &v);
		total++;
		if (vector_run(e->d_name, &v, &reason) == 0)
			checked++;
		else
			skipped[reason]++;
		free(file);
	}
	closedir(dir);
	printf("age testkit: %d vectors, %d checked; out of scope: %d %s, %d %s, %d %s\n", total, checked,
	       skipped[1], why[1], skipped[2], why[2], skipped[0], why[0]);
	/* 143 vectors: 33 armored and 18 hybrid are out of scope; 92 apply. */
	assert_int_equal(total, 143);
	assert_int_equal(skipped[1], 33);
	assert_int_equal(skipped[2], 18);
	assert_int_equal(checked, 92);
	assert_int_equal(skipped[0], 0);
}

/* --- tampering ------------------------------------------------------------------ */

struct sample {
	struct age_identity id;
	struct age_recipient r;
	uint8_t *plain;
	size_t len;
	char *ct;
	size_t ct_len;
	size_t header_len; /* through the MAC line */
};

static void sample_make(struct sample *s, size_t len)
{
	new_identity(&s->id, &s->r);
	s->len = len;
	s->plain = random_bytes(len);
	encrypt_buf(s->plain, len, &s->r, 1, &s->ct, &s->ct_len);
	s->header_len = (size_t)(strstr(s->ct, "\n---") - s->ct) + 1 + 4 + 43 + 1;
	assert_int_equal(s->ct[s->header_len - 1], '\n');
}

static void sample_free(struct sample *s)
{
	free(s->plain);
	free(s->ct);
}

/* Decrypt a modified copy; check the failure and how much was released. */
static void expect_outcome(const struct sample *s, const char *ct, size_t ct_len, enum age_failure want,
			   size_t released, const char *what)
{
	struct decrypted d;

	decrypt_buf(ct, ct_len, &s->id, 1, NULL, 4 * CHUNK, &d);
	if (d.failure != want)
		fail_msg("%s: expected %s, got %s (%s)", what, age_failure_name(want), age_failure_name(d.failure),
			 d.err.message);
	if (d.len != released)
		fail_msg("%s: %zu bytes released, expected %zu", what, d.len, released);
	assert_memory_equal(d.plain, s->plain, released);
	if (want != AGE_OK) {
		assert_true(err_is_set(&d.err));
		/* No match is about the key (3); the rest proves the file damaged (4). */
		assert_int_equal(d.err.code, want == AGE_NO_MATCH ? EXIT_NOT_FOUND : EXIT_INTEGRITY);
	}
	free(d.plain);
}

static void test_tampered_header_fails_with_the_right_kind(void **state)
{
	struct sample s;
	char *ct;
	size_t mac = 0;

	(void)state;
	sample_make(&s, 3 * CHUNK + 100);
	ct = malloc(s.ct_len);
	assert_non_null(ct);

	memcpy(ct, s.ct, s.ct_len);
	ct[20] = '2'; /* age-encryption.org/v2 */
	expect_outcome(&s, ct, s.ct_len, AGE_HEADER_FAILURE, 0, "version line");

	/* The stanza body (second line of the stanza): the tag fails, so no identity matches. */
	memcpy(ct, s.ct, s.ct_len);
	size_t body = (size_t)(strchr(strchr(ct, '\n') + 1, '\n') + 1 - ct);
	ct[body + 3] = ct[body + 3] == 'A' ? 'B' : 'A';
	expect_outcome(&s, ct, s.ct_len, AGE_NO_MATCH, 0, "stanza body");

	/* The stanza's type: an unknown stanza, nothing to open. */
	memcpy(ct, s.ct, s.ct_len);
	ct[25] = 'Y'; /* "-> Y25519" */
	expect_outcome(&s, ct, s.ct_len, AGE_NO_MATCH, 0, "stanza type");

	/* The MAC itself, and a byte of the header it covers. */
	memcpy(ct, s.ct, s.ct_len);
	mac = s.header_len - 44;
	ct[mac] = ct[mac] == 'A' ? 'B' : 'A';
	expect_outcome(&s, ct, s.ct_len, AGE_HMAC_FAILURE, 0, "MAC");

	/* A grease stanza inserted before the MAC keeps the file well formed but
	 * changes what the MAC covers. */
	{
		const char grease[] = "-> grease x\n\n";
		char *g = malloc(s.ct_len + sizeof(grease));
		size_t at = s.header_len - 48;
		assert_non_null(g);
		memcpy(g, s.ct, at);
		memcpy(g + at, grease, sizeof(grease) - 1);
		memcpy(g + at + sizeof(grease) - 1, s.ct + at, s.ct_len - at);
		expect_outcome(&s, g, s.ct_len + sizeof(grease) - 1, AGE_HMAC_FAILURE, 0, "inserted stanza");
		free(g);
	}

	/* Cut inside the header, and right after it (no nonce). */
	expect_outcome(&s, s.ct, 40, AGE_HEADER_FAILURE, 0, "truncated header");
	expect_outcome(&s, s.ct, s.header_len, AGE_HEADER_FAILURE, 0, "no payload nonce");
	expect_outcome(&s, s.ct, s.header_len + 15, AGE_HEADER_FAILURE, 0, "short payload nonce");

	/* A different identity. */
	{
		struct sample other;
		sample_make(&other, 10);
		struct decrypted d;
		decrypt_buf(s.ct, s.ct_len, &other.id, 1, NULL, CHUNK, &d);
		assert_int_equal(d.failure, AGE_NO_MATCH);
		assert_int_equal(d.err.code, EXIT_NOT_FOUND);
		free(d.plain);
		sample_free(&other);
	}
	free(ct);
	sample_free(&s);
}

static void test_tampered_payload_fails_after_releasing_only_good_chunks(void **state)
{
	struct sample s;
	char *ct;
	size_t payload;

	(void)state;
	sample_make(&s, 3 * CHUNK + 100);
	payload = s.header_len + 16;
	ct = malloc(s.ct_len + 100);
	assert_non_null(ct);

	expect_outcome(&s, s.ct, s.ct_len, AGE_OK, s.len, "untouched");

	memcpy(ct, s.ct, s.ct_len);
	ct[s.header_len + 5] ^= 1; /* the payload nonce: wrong payload key */
	expect_outcome(&s, ct, s.ct_len, AGE_PAYLOAD_FAILURE, 0, "payload nonce");

	memcpy(ct, s.ct, s.ct_len);
	ct[payload + (CHUNK + 16) + 77] ^= 0x80; /* the second chunk */
	expect_outcome(&s, ct, s.ct_len, AGE_PAYLOAD_FAILURE, CHUNK, "second chunk");

	memcpy(ct, s.ct, s.ct_len);
	ct[s.ct_len - 1] ^= 1; /* the last tag */
	expect_outcome(&s, ct, s.ct_len, AGE_PAYLOAD_FAILURE, 3 * CHUNK, "last tag");

	/* Truncation: by one byte, and by the whole final chunk (the third
	 * chunk is still authentic and released; then the end is missing). */
	expect_outcome(&s, s.ct, s.ct_len - 1, AGE_PAYLOAD_FAILURE, 3 * CHUNK, "truncated by 1");
	expect_outcome(&s, s.ct, s.ct_len - 116, AGE_PAYLOAD_FAILURE, 3 * CHUNK, "final chunk missing");
	expect_outcome(&s, s.ct, s.ct_len - 116 - 10, AGE_PAYLOAD_FAILURE, 2 * CHUNK, "cut inside a chunk");
	expect_outcome(&s, s.ct, payload, AGE_PAYLOAD_FAILURE, 0, "no chunk at all");

	/* Appended bytes become part of the short final chunk, which fails. */
	memcpy(ct, s.ct, s.ct_len);
	memset(ct + s.ct_len, 'x', 100);
	expect_outcome(&s, ct, s.ct_len + 1, AGE_PAYLOAD_FAILURE, 3 * CHUNK, "1 byte appended");
	free(ct);
	sample_free(&s);

	/* After a full final chunk, appended bytes fail after it is released. */
	sample_make(&s, 2 * CHUNK);
	ct = malloc(s.ct_len + 100);
	assert_non_null(ct);
	memcpy(ct, s.ct, s.ct_len);
	memset(ct + s.ct_len, 0, 100);
	expect_outcome(&s, ct, s.ct_len, AGE_OK, 2 * CHUNK, "full final chunk");
	expect_outcome(&s, ct, s.ct_len + 1, AGE_PAYLOAD_FAILURE, 2 * CHUNK, "1 byte after a full final chunk");
	expect_outcome(&s, ct, s.ct_len + 100, AGE_PAYLOAD_FAILURE, 2 * CHUNK, "100 bytes after a full final chunk");
	/* The second full chunk cut off: the first is released, then the end is missing. */
	expect_outcome(&s, ct, s.ct_len - (CHUNK + 16), AGE_PAYLOAD_FAILURE, CHUNK, "second full chunk cut off");
	free(ct);
	sample_free(&s);
}

static void test_reader_keeps_failing_after_a_failure(void **state)
{
	struct sample s;
	struct drctl_error err;
	struct source *src;
	enum age_failure why = AGE_IO_FAILURE;
	uint8_t buf[CHUNK];
	size_t got = 0;

	(void)state;
	err_clear(&err);
	sample_make(&s, 100);
	s.ct[s.ct_len - 1] ^= 1;
	src = age_reader_new(memory_source_new(s.ct, s.ct_len, &err), &s.id, 1, NULL, &why, &err);
	assert_non_null(src);
	assert_int_equal(why, AGE_OK);
	assert_int_equal(source_read(src, buf, sizeof(buf), &got, &err), -1);
	assert_int_equal(got, 0);
	assert_int_equal(age_reader_failure(src), AGE_PAYLOAD_FAILURE);
	err_clear(&err);
	assert_int_equal(source_read(src, buf, sizeof(buf), &got, &err), -1);
	assert_int_equal(err.code, EXIT_INTEGRITY);
	source_close(src);
	sample_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_at_chunk_edges_with_one_and_three_recipients),
		cmocka_unit_test(test_writer_streams_holding_back_exactly_one_chunk),
		cmocka_unit_test(test_writer_refuses_no_recipients_and_aborts_next),
		cmocka_unit_test(test_cctv_age_test_vectors),
		cmocka_unit_test(test_tampered_header_fails_with_the_right_kind),
		cmocka_unit_test(test_tampered_payload_fails_after_releasing_only_good_chunks),
		cmocka_unit_test(test_reader_keeps_failing_after_a_failure),
	};
	int failed = cmocka_run_group_tests_name("streams, vectors, tampering", tests, NULL, NULL);

	failed += _cmocka_run_group_tests("keys", age_key_tests, age_key_test_count, NULL, NULL);
	return failed + _cmocka_run_group_tests("stock tools", age_interop_tests, age_interop_test_count, NULL, NULL);
}
