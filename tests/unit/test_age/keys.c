/*
 * age keys: Bech32 (the BIP 173 vectors, padding bits), the testkit's
 * identity and its recipient, parsers that refuse the wrong kind, case or
 * checksum, identity files with comments, blank lines and CRLF.
 */
#include "tests/unit/test_age/age_test.h"

/* --- keys ------------------------------------------------------------------------ */

static void test_bech32_bip173_vectors(void **state)
{
	static const char *valid[] = {
		"A12UEL5L", "a12uel5l", "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
		"split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w", "?1ezyfcl",
	};
	static const char *invalid[] = {
		"pzry9x0s0muk", "1pzry9x0s0muk", "x1b4n0q5v", "li1dgmt3", "de1lg7wt\xff", "A1G7SGD8",
		"10a06t8", "1qzzfhee", "A12uEL5L", "a12uel5m",
	};
	char hrp[100], text[128];
	uint8_t data[64];
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		if (bech32_decode(valid[i], hrp, sizeof(hrp), data, &len, sizeof(data)) != 0)
			fail_msg("valid BIP173 string refused: %s", valid[i]);
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		if (bech32_decode(invalid[i], hrp, sizeof(hrp), data, &len, sizeof(data)) == 0)
			fail_msg("invalid BIP173 string accepted: %s", invalid[i]);
	/* The hrp keeps its case; the data re-encodes to the same string. */
	assert_int_equal(bech32_decode("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw", hrp, sizeof(hrp), data, &len,
				       sizeof(data)), 0);
	assert_string_equal(hrp, "abcdef");
	assert_int_equal(len, 20);
	assert_int_equal(bech32_encode("abcdef", data, len, 0, text, sizeof(text)), 45);
	assert_string_equal(text, "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw");
	assert_int_equal(bech32_decode("A12UEL5L", hrp, sizeof(hrp), data, &len, sizeof(data)), 0);
	assert_string_equal(hrp, "A");
	assert_int_equal(len, 0);
	assert_int_equal(bech32_encode("abcdef", data, 20, 0, text, 45), 0); /* no room for the NUL */
}

/* BIP173's checksum written out again, to build strings the encoder never
 * makes: groups are 5-bit values. */
static void bip173_finish(const char *hrp, const uint8_t *groups, size_t n, char *out)
{
	static const char set[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
	static const uint32_t gen[5] = { 0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3 };
	uint8_t v[256];
	size_t m = 0, h = strlen(hrp), o;
	uint32_t chk = 1;

	for (size_t i = 0; i < h; i++)
		v[m++] = (uint8_t)(hrp[i] >> 5);
	v[m++] = 0;
	for (size_t i = 0; i < h; i++)
		v[m++] = (uint8_t)(hrp[i] & 31);
	memcpy(v + m, groups, n);
	m += n;
	memset(v + m, 0, 6);
	m += 6;
	for (size_t i = 0; i < m; i++) {
		uint32_t top = chk >> 25;
		chk = ((chk & 0x1ffffff) << 5) ^ v[i];
		for (int b = 0; b < 5; b++)
			if ((top >> b) & 1)
				chk ^= gen[b];
	}
	chk ^= 1;
	o = (size_t)sprintf(out, "%s1", hrp);
	for (size_t i = 0; i < n; i++)
		out[o++] = set[groups[i]];
	for (int i = 0; i < 6; i++)
		out[o++] = set[(chk >> (5 * (5 - i))) & 31];
	out[o] = '\0';
}

static void test_bech32_refuses_nonzero_padding_bits(void **state)
{
	uint8_t pub[32], groups[52];
	struct age_recipient r, parsed;
	struct drctl_error err;
	char text[128], mine[128];
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t g = 0;

	(void)state;
	err_clear(&err);
	for (int i = 0; i < 32; i++)
		pub[i] = (uint8_t)(i * 37 + 1);
	for (int i = 0; i < 32; i++) {
		acc = acc << 8 | pub[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			groups[g++] = (uint8_t)((acc >> bits) & 31);
		}
	}
	groups[g++] = (uint8_t)((acc << (5 - bits)) & 31); /* 256 bits: 4 bits of padding */
	assert_int_equal(g, 52);
	bip173_finish("age", groups, g, text);
	memcpy(r.pub, pub, 32);
	age_recipient_format(&r, mine);
	assert_string_equal(text, mine); /* the reference agrees with the encoder */
	assert_int_equal(age_recipient_parse(text, &parsed, &err), 0);
	groups[51] |= 1; /* a padding bit set, checksum recomputed */
	bip173_finish("age", groups, g, text);
	assert_int_equal(age_recipient_parse(text, &parsed, &err), -1);
}

static void test_testkit_identity_round_trips_and_names_its_recipient(void **state)
{
	struct age_identity id, again;
	struct age_recipient r, parsed;
	struct drctl_error err;
	char text[128];

	(void)state;
	err_clear(&err);
	assert_int_equal(age_identity_parse(TESTKIT_IDENTITY, &id, &err), 0);
	age_identity_format(&id, text);
	assert_string_equal(text, TESTKIT_IDENTITY);
	age_identity_to_recipient(&id, &r);
	age_recipient_format(&r, text);
	assert_int_equal(strlen(text), 62);
	assert_memory_equal(text, "age1", 4);
	assert_int_equal(age_recipient_parse(text, &parsed, &err), 0);
	assert_memory_equal(parsed.pub, r.pub, 32);

	/* A fresh key round trips too. */
	assert_int_equal(age_keygen(&id, &err), 0);
	age_identity_format(&id, text);
	assert_int_equal(strlen(text), 74);
	assert_int_equal(age_identity_parse(text, &again, &err), 0);
	assert_memory_equal(&again, &id, sizeof(id));
}

static void test_key_parsers_refuse_wrong_kind_case_and_checksum(void **state)
{
	struct age_identity id;
	struct age_recipient r;
	struct drctl_error err;
	char lower[128], text[128];

	(void)state;
	err_clear(&err);
	snprintf(lower, sizeof(lower), "%s", TESTKIT_IDENTITY);
	for (char *p = lower; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	assert_int_equal(age_identity_parse(lower, &id, &err), -1);
	/* The secret must not leak into the message. */
	assert_null(strstr(err.message, "EGTZ"));
	assert_null(strstr(err.message, "egtz"));
	err_clear(&err);
	assert_int_equal(age_recipient_parse(lower, &r, &err), -1);
	assert_int_equal(err.code, EXIT_USAGE);

	assert_int_equal(age_identity_parse(TESTKIT_IDENTITY, &id, &err), 0);
	age_identity_to_recipient(&id, &r);
	age_recipient_format(&r, text);
	err_clear(&err);
	assert_int_equal(age_identity_parse(text, &id, &err), -1); /* a recipient is no identity */
	text[10] = text[10] == 'q' ? 'p' : 'q';                    /* a typo breaks the checksum */
	err_clear(&err);
	assert_int_equal(age_recipient_parse(text, &r, &err), -1);
	err_clear(&err);
	assert_int_equal(age_recipient_parse("age1", &r, &err), -1);
}

static void test_identity_file_with_comments_blank_lines_and_crlf(void **state)
{
	struct age_identity *ids = NULL, one;
	struct drctl_error err;
	char text[1024], second[128];
	size_t n = 0;

	(void)state;
	err_clear(&err);
	assert_int_equal(age_keygen(&one, &err), 0);
	age_identity_format(&one, second);
	snprintf(text, sizeof(text),
		 "# created: 2024-01-01T00:00:00Z\n# public key: age1whatever\n%s\n\n# another\r\n%s\r\n",
		 TESTKIT_IDENTITY, second);
	assert_int_equal(age_identities_parse(text, strlen(text), &ids, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(ids[1].secret, one.secret, 32);
	age_identities_free(ids, n);

	/* No final newline. */
	assert_int_equal(age_identities_parse(TESTKIT_IDENTITY, strlen(TESTKIT_IDENTITY), &ids, &n, &err), 0);
	assert_int_equal(n, 1);
	age_identities_free(ids, n);

	/* A broken line names its number, not its text. */
	snprintf(text, sizeof(text), "# key\n%s\nAGE-SECRET-KEY-1EGTZ\n", TESTKIT_IDENTITY);
	assert_int_equal(age_identities_parse(text, strlen(text), &ids, &n, &err), -1);
	assert_null(ids);
	assert_int_equal(n, 0);
	assert_non_null(strstr(err.message, "line 3"));
	assert_null(strstr(err.message, "EGTZ"));
	err_clear(&err);
	assert_int_equal(age_identities_parse("# only comments\n\n", 18, &ids, &n, &err), -1);
	assert_int_equal(err.code, EXIT_USAGE);
}

const struct CMUnitTest age_key_tests[] = {
	cmocka_unit_test(test_bech32_bip173_vectors),
	cmocka_unit_test(test_bech32_refuses_nonzero_padding_bits),
	cmocka_unit_test(test_testkit_identity_round_trips_and_names_its_recipient),
	cmocka_unit_test(test_key_parsers_refuse_wrong_kind_case_and_checksum),
	cmocka_unit_test(test_identity_file_with_comments_blank_lines_and_crlf),
};

const size_t age_key_test_count = sizeof(age_key_tests) / sizeof(age_key_tests[0]);
