/* minisign: BLAKE2b against RFC 7693 and OpenSSL; keys and signatures that
 * stock minisign 0.11 wrote (captured below) read by drctl; sign/verify round
 * trips and every tampering that must fail; key file modes; and live
 * interop in both directions with the stock `minisign` (which must be on
 * PATH: scripts/install-deps.sh installs it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lib/crypto/base64.h"
#include "lib/crypto/blake2b.h"
#include "lib/crypto/minisign.h"
#include "tests/unit/unit_tmpdir.h"

extern char **environ;

/* Written by minisign 0.11: `minisign -G -p e.pub -s e.key` with password
 * "pw" (ENCRYPTED), then `minisign -C -W -s e.key` (UNLOCKED: minisign
 * decrypted it, checked its checksum and kept that checksum, so the
 * BLAKE2b-256 checksum in it is libsodium's).  Throwaway test keys. */
static const char STOCK_ENCRYPTED_KEY[] =
	"untrusted comment: minisign encrypted secret key\n"
	"RWRTY0IyqMSIsJ+w/fJBCz4VCYhXqPIIdQydQ9CD9IatcBpkDhkAAAACAAAAAAAAAEAAAAAArelqJdxY6EZpVUbW+JhH4TN07C9D+U7iAUae6bOS4AP35bzTuH4trqpyAwIrsS5xO803q0SqNcoX/urveJS5z6Pu42Zd1hDwHS82EM2sR4DdvvR3nl9K0fofhRGMqN4k843OUWrgST8=\n";
static const char STOCK_UNLOCKED_KEY[] =
	"untrusted comment: minisign encrypted secret key\n"
	"RWQAAEIyqMSIsJ+w/fJBCz4VCYhXqPIIdQydQ9CD9IatcBpkDhkAAAACAAAAAAAAAEAAAAAAoEgHFbUODvfkKaEAk1tUEhhBLyxGwNmAy/Ij6Q214YAvSxcdOGCFBJzZijDVXzvFFB4ETpUj1IMhwYhODA5rKh9kf5pBRwMPLzgdVuXV/sJvbUqPYi2MrZQrQt+TxZ2E4ruLZxvGFq4=\n";
static const char STOCK_PUB_B64[] = "RWSgSAcVtQ4O95zZijDVXzvFFB4ETpUj1IMhwYhODA5rKh9kf5pBRwMP";
static const char STOCK_PUB_FILE[] =
	"untrusted comment: minisign public key F70E0EB5150748A0\n"
	"RWSgSAcVtQ4O95zZijDVXzvFFB4ETpUj1IMhwYhODA5rKh9kf5pBRwMP\n";
static const char STOCK_MESSAGE[] = "drctl minisign test message\n";
/* minisign -S -s e.key -m m.txt -t 'timestamp:1700000000<TAB>file:m.txt<TAB>hashed' */
static const char STOCK_SIG_ED[] =
	"untrusted comment: signature from minisign secret key\n"
	"RUSgSAcVtQ4O9/nrGL8R3JL/uTpVwAmJM/lRUw9IHRvrDhuuilgp/0O7LdtziP1D0F8lj+cu4mnRkpbhwsQcKlE05Wq4STYOtQc=\n"
	"trusted comment: timestamp:1700000000\tfile:m.txt\thashed\n"
	"zPMUkQ4HpJgG6aZqQ7E3jwSwGENqyro9ZXOtwp4b64P1gSpjaOX+z1RUWW3wRFWKZlEBLPK2WP5dRHLDZ+e7Cw==\n";
/* minisign -S -l (legacy, unhashed) -t 'legacy test' */
static const char STOCK_SIG_LEGACY[] =
	"untrusted comment: signature from minisign secret key\n"
	"RWSgSAcVtQ4O9y3HULfCAs80a/0YaWOoCeCaGbHc4OKlPk8T4lca4oPD3/35Gba+bHuE3eSsXuwTfo60tgZUrGNG/wyLNljnRwQ=\n"
	"trusted comment: legacy test\n"
	"FsYtlkujNufQWFoAyAoNWoxIHVYlkTouU7eglmVPBHJKUkOanLlrQ2BuT6N/vv4H7V/Jo72qpyzqX8hD/ng1Aw==\n";

static const char TC[] = "timestamp:1700000000\tfile:manifest.json\thashed";
static const char DATA[] = "{\"backup\":\"2024-01-01T00:00:00Z\"}\n";

/* ---- helpers ---- */

static char tmpdir[256];

static int setup_tmpdir(void **state)
{
	(void)state;
	return unit_tmpdir_make(tmpdir, sizeof(tmpdir), "minisign");
}

static int teardown_tmpdir(void **state)
{
	(void)state;
	return unit_tmpdir_remove(tmpdir);
}

static void path_in_tmp(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", tmpdir, name);
}

static void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static char *read_whole(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = calloc(1, 65536);
	size_t n;

	assert_non_null(f);
	assert_non_null(buf);
	n = fread(buf, 1, 65535, f);
	fclose(f);
	*len = n;
	return buf;
}

static int have_minisign(void)
{
	const char *path = getenv("PATH");
	char dir[4096], cand[4200];

	while (path && *path) {
		size_t n = strcspn(path, ":");

		snprintf(dir, sizeof(dir), "%.*s", (int)n, path);
		snprintf(cand, sizeof(cand), "%s/minisign", dir[0] ? dir : ".");
		if (access(cand, X_OK) == 0)
			return 1;
		path += n + (path[n] == ':');
	}
	return 0;
}

/* The live interop tests need the stock tool; scripts/install-deps.sh
 * installs it, so its absence is a failure, not a reason to pass. */
static void require_minisign(void)
{
	if (!have_minisign())
		fail_msg("the stock `minisign` is not on PATH: this test checks that it and drctl read each other's "
			 "keys and signatures; scripts/install-deps.sh installs it (Debian package minisign)");
}

/* Run argv (no shell), stdin and stdout/stderr on /dev/null; exit status or -1. */
static int run(char *const argv[])
{
	posix_spawn_file_actions_t fa;
	int status = 0;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void stock_public_key(struct minisign_public_key *pk)
{
	struct drctl_error err = { 0 };

	assert_int_equal(minisign_parse_public_key(STOCK_PUB_FILE, strlen(STOCK_PUB_FILE), pk, &err), 0);
}

static char *sign_data(const struct minisign_secret_key *sk, const char *data, const char *tc)
{
	struct minisign_signer signer;
	struct drctl_error err = { 0 };
	char *text = NULL;

	minisign_signer_from_key(sk, &signer);
	assert_int_equal(minisign_sign(&signer, data, strlen(data), NULL, tc, &text, &err), 0);
	assert_non_null(text);
	return text;
}

static int verify_text(const struct minisign_public_key *pk, const char *data, const char *sig,
		       struct drctl_error *err)
{
	char tc[256];

	return minisign_verify(pk, data, strlen(data), sig, strlen(sig), "manifest.json.minisig",
			       tc, sizeof(tc), err);
}

/* Pointer to the start of line n (0-based) of text. */
static char *line_start(char *text, int n)
{
	while (n-- > 0)
		text = strchr(text, '\n') + 1;
	return text;
}

/* ---- BLAKE2b ---- */

static void test_blake2b_rfc7693_abc_vectors(void **state)
{
	/* RFC 7693 appendix A: BLAKE2b-512("abc"). */
	static const uint8_t want512[64] = {
		0xBA, 0x80, 0xA5, 0x3F, 0x98, 0x1C, 0x4D, 0x0D, 0x6A, 0x27, 0x97, 0xB6, 0x9F, 0x12, 0xF6, 0xE9,
		0x4C, 0x21, 0x2F, 0x14, 0x68, 0x5A, 0xC4, 0xB7, 0x4B, 0x12, 0xBB, 0x6F, 0xDB, 0xFF, 0xA2, 0xD1,
		0x7D, 0x87, 0xC5, 0x39, 0x2A, 0xAB, 0x79, 0x2D, 0xC2, 0x52, 0xD5, 0xDE, 0x45, 0x33, 0xCC, 0x95,
		0x18, 0xD3, 0x8A, 0xA8, 0xDB, 0xF1, 0x92, 0x5A, 0xB9, 0x23, 0x86, 0xED, 0xD4, 0x00, 0x99, 0x23,
	};
	/* BLAKE2b-256("abc") from coreutils `b2sum -l 256`: not a prefix of the above. */
	static const uint8_t want256[32] = {
		0xbd, 0xdd, 0x81, 0x3c, 0x63, 0x42, 0x39, 0x72, 0x31, 0x71, 0xef, 0x3f, 0xee, 0x98, 0x57, 0x9b,
		0x94, 0x96, 0x4e, 0x3b, 0xb1, 0xcb, 0x3e, 0x42, 0x72, 0x62, 0xc8, 0xc0, 0x68, 0xd5, 0x23, 0x19,
	};
	uint8_t out[64];

	(void)state;
	assert_int_equal(blake2b(out, 64, "abc", 3), 0);
	assert_memory_equal(out, want512, 64);
	assert_int_equal(blake2b(out, 32, "abc", 3), 0);
	assert_memory_equal(out, want256, 32);
}

static void test_blake2b_matches_openssl_on_every_length_and_split(void **state)
{
	uint8_t buf[400], ours[64], theirs[64];
	unsigned int n;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	for (size_t len = 0; len <= sizeof(buf); len++) {
		struct blake2b_ctx ctx;
		size_t split = len / 3;

		assert_int_equal(EVP_Digest(buf, len, theirs, &n, EVP_blake2b512(), NULL), 1);
		assert_int_equal(blake2b_init(&ctx, 64), 0);
		blake2b_update(&ctx, buf, split);
		blake2b_update(&ctx, buf + split, len - split);
		blake2b_final(&ctx, ours);
		assert_memory_equal(ours, theirs, 64);
	}
}

static void test_blake2b_refuses_bad_output_lengths(void **state)
{
	struct blake2b_ctx ctx;
	uint8_t out[65];

	(void)state;
	assert_int_equal(blake2b_init(&ctx, 0), -1);
	assert_int_equal(blake2b_init(&ctx, 65), -1);
	assert_int_equal(blake2b(out, 65, "x", 1), -1);
}

/* ---- reading what stock minisign wrote ---- */

static void test_stock_public_key_parses_in_both_forms(void **state)
{
	struct minisign_public_key a, b;
	struct drctl_error err = { 0 };
	char b64[64], id[17];

	(void)state;
	stock_public_key(&a);
	assert_int_equal(minisign_parse_public_key(STOCK_PUB_B64, strlen(STOCK_PUB_B64), &b, &err), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	minisign_keyid_hex(a.keyid, id);
	assert_string_equal(id, "F70E0EB5150748A0");
	minisign_public_key_base64(&a, b64);
	assert_string_equal(b64, STOCK_PUB_B64);
}

static void test_stock_unlocked_key_loads_and_checksum_is_checked(void **state)
{
	struct minisign_secret_key sk;
	struct minisign_public_key pk, from_sk;
	struct drctl_error err = { 0 };
	uint8_t raw[158 + 8];
	char text[400];
	size_t n;

	(void)state;
	stock_public_key(&pk);
	assert_int_equal(minisign_parse_secret_key(STOCK_UNLOCKED_KEY, strlen(STOCK_UNLOCKED_KEY), &sk, &err), 0);
	minisign_public_from_secret(&sk, &from_sk);
	assert_memory_equal(&from_sk, &pk, sizeof(pk));

	/* One flipped checksum bit is refused: the checksum is really compared. */
	assert_int_equal(base64_decode(strchr(STOCK_UNLOCKED_KEY, '\n') + 1, 212, raw, sizeof(raw), 1), 158);
	raw[157] ^= 1;
	n = (size_t)snprintf(text, sizeof(text), "untrusted comment: x\n");
	n += base64_encode(raw, 158, text + n, 1);
	assert_int_equal(minisign_parse_secret_key(text, n, &sk, &err), -1);
	assert_int_equal(err.code, EXIT_USAGE);
	assert_non_null(strstr(err.message, "checksum does not match"));
}

static void test_encrypted_key_is_refused_with_hint(void **state)
{
	struct minisign_secret_key sk;
	struct drctl_error err = { 0 };

	(void)state;
	assert_int_equal(minisign_parse_secret_key(STOCK_ENCRYPTED_KEY, strlen(STOCK_ENCRYPTED_KEY), &sk, &err), -1);
	assert_int_equal(err.code, EXIT_USAGE);
	assert_string_equal(err.message, "secret key is encrypted with a password");
	assert_non_null(strstr(err.hint, "minisign -G -W"));
	assert_non_null(strstr(err.hint, "minisign -C -W"));
}

static void test_stock_signatures_verify_hashed_and_legacy(void **state)
{
	struct minisign_public_key pk;
	struct drctl_error err = { 0 };
	char tc[128];

	(void)state;
	stock_public_key(&pk);
	assert_int_equal(minisign_verify(&pk, STOCK_MESSAGE, strlen(STOCK_MESSAGE), STOCK_SIG_ED,
					 strlen(STOCK_SIG_ED), "m.txt.minisig", tc, sizeof(tc), &err), 0);
	assert_string_equal(tc, "timestamp:1700000000\tfile:m.txt\thashed");
	assert_int_equal(minisign_verify(&pk, STOCK_MESSAGE, strlen(STOCK_MESSAGE), STOCK_SIG_LEGACY,
					 strlen(STOCK_SIG_LEGACY), "m.txt.minisig", tc, sizeof(tc), &err), 0);
	assert_string_equal(tc, "legacy test");
	/* The same signatures over other data fail. */
	assert_int_equal(minisign_verify(&pk, "x", 1, STOCK_SIG_LEGACY, strlen(STOCK_SIG_LEGACY),
					 "m.txt.minisig", tc, sizeof(tc), &err), -1);
	assert_int_equal(err.code, EXIT_INTEGRITY);
	assert_string_equal(tc, "");
}

/* ---- sign and verify ---- */

static void test_round_trip_writes_four_minisign_lines(void **state)
{
	struct minisign_secret_key sk;
	struct minisign_public_key pk;
	struct drctl_error err = { 0 };
	char tc[256], *text, *l2;
	uint8_t raw[80];

	(void)state;
	assert_int_equal(minisign_keygen(&sk, &pk, &err), 0);
	text = sign_data(&sk, DATA, TC);
	/* Four lines, each ending in \n; line 2 is base64("ED" | key id | sig). */
	assert_int_equal(strncmp(text, "untrusted comment: signature from minisign secret key\n", 54), 0);
	l2 = line_start(text, 1);
	assert_int_equal(strchr(l2, '\n') - l2, 100);
	assert_int_equal(base64_decode(l2, 100, raw, sizeof(raw), 1), 74);
	assert_memory_equal(raw, "ED", 2);
	assert_memory_equal(raw + 2, pk.keyid, 8);
	assert_int_equal(strncmp(line_start(text, 2), "trusted comment: ", 17), 0);
	assert_int_equal(strncmp(line_start(text, 2) + 17, TC, strlen(TC)), 0);
	assert_int_equal(strlen(line_start(text, 3)), 89);
	assert_int_equal(text[strlen(text) - 1], '\n');

	assert_int_equal(minisign_verify(&pk, DATA, strlen(DATA), text, strlen(text), "m.minisig",
					 tc, sizeof(tc), &err), 0);
	assert_string_equal(tc, TC);
	free(text);
	minisign_secret_key_wipe(&sk);
}

/* One byte changed, in the data or in one line of the signature text:
 * verification fails, naming what no longer matches. */
static void test_tampering_fails(void **state)
{
	static const char DATA_MISMATCH[] = "signature manifest.json.minisig does not match the data";
	static const char COMMENT_MISMATCH[] = "signature manifest.json.minisig: the trusted comment's signature does not match";
	static const struct {
		const char *what;
		int line;      /* of the signature text; -1: the data */
		size_t offset; /* in that line */
		char set;      /* the byte written there; 0: 'A' and 'B' swapped */
		const char *message;
	} cases[] = {
		{ "data", -1, 5, 0, DATA_MISMATCH },
		{ "inside the Ed25519 signature", 1, 40, 0, DATA_MISMATCH },
		{ "trusted comment: timestamp 1700... -> 1800...", 2, sizeof("trusted comment: timestamp:1") - 1, '8',
		  COMMENT_MISMATCH },
		{ "global signature", 3, 10, 0, COMMENT_MISMATCH },
	};
	struct minisign_secret_key sk;
	struct minisign_public_key pk;
	struct drctl_error err = { 0 };

	(void)state;
	assert_int_equal(minisign_keygen(&sk, &pk, &err), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = sign_data(&sk, DATA, TC), data[sizeof(DATA)], *c;

		print_message("case: %s\n", cases[i].what);
		memcpy(data, DATA, sizeof(DATA));
		c = cases[i].line < 0 ? data + cases[i].offset : line_start(text, cases[i].line) + cases[i].offset;
		if (cases[i].line < 0)
			*c ^= 0x20;
		else
			*c = cases[i].set ? cases[i].set : *c == 'A' ? 'B' : 'A';
		err = (struct drctl_error){ 0 };
		assert_int_equal(verify_text(&pk, data, text, &err), -1);
		assert_int_equal(err.code, EXIT_INTEGRITY);
		assert_string_equal(err.message, cases[i].message);
		free(text);
	}
}

static void test_wrong_key_names_file_and_both_key_ids(void **state)
{
	struct minisign_secret_key sk, other;
	struct minisign_public_key pk, other_pk;
	struct drctl_error err = { 0 };
	char *text, want[256], a[17], b[17];

	(void)state;
	assert_int_equal(minisign_keygen(&sk, &pk, &err), 0);
	assert_int_equal(minisign_keygen(&other, &other_pk, &err), 0);
	text = sign_data(&sk, DATA, TC);
	assert_int_equal(verify_text(&other_pk, DATA, text, &err), -1);
	assert_int_equal(err.code, EXIT_INTEGRITY);
	minisign_keyid_hex(sk.keyid, a);
	minisign_keyid_hex(other.keyid, b);
	snprintf(want, sizeof(want),
		 "signature manifest.json.minisig was made with key %s, but the public key is %s", a, b);
	assert_string_equal(err.message, want);
	assert_string_equal(err.subject, "manifest.json.minisig");
	free(text);
}

static void test_sign_refuses_comments_minisign_cannot_read(void **state)
{
	struct minisign_secret_key sk;
	struct minisign_signer signer;
	struct drctl_error err = { 0 };
	char *text = NULL, big[8200];

	(void)state;
	assert_int_equal(minisign_keygen(&sk, NULL, &err), 0);
	minisign_signer_from_key(&sk, &signer);
	assert_int_equal(minisign_sign(&signer, "x", 1, NULL, "two\nlines", &text, &err), -1);
	assert_null(text);
	assert_string_equal(err.message, "the trusted comment of a signature must be one line");
	/* 8173 bytes is minisign's limit for a trusted comment; 8174 is refused. */
	memset(big, 'a', sizeof(big));
	big[8173] = '\0';
	err = (struct drctl_error){ 0 };
	assert_int_equal(minisign_sign(&signer, "x", 1, NULL, big, &text, &err), 0);
	free(text);
	big[8173] = 'a';
	big[8174] = '\0';
	assert_int_equal(minisign_sign(&signer, "x", 1, NULL, big, &text, &err), -1);
	assert_int_equal(err.code, EXIT_USAGE);
	big[1004] = '\0';
	err = (struct drctl_error){ 0 };
	assert_int_equal(minisign_sign(&signer, "x", 1, big, "t", &text, &err), -1);
	assert_string_equal(err.message,
			    "the untrusted comment of a signature is 1004 bytes; minisign reads at most 1003");
}

static void test_verify_rejects_malformed_signature_texts(void **state)
{
	struct minisign_public_key pk;
	char buf[1024];
	static const struct {
		const char *what;
		const char *find;
		const char *replace;
		int cut_after_line; /* keep this many lines, or -1 */
	} cases[] = {
		{ "three lines only", NULL, NULL, 3 },
		{ "no untrusted prefix", "untrusted comment: ", "untrusted: ", -1 },
		{ "no trusted prefix", "trusted comment: timestamp", "trusted: timestamp", -1 },
		{ "unknown algorithm", "RUSg", "RVSg", -1 },
		{ "carriage return inside trusted comment", "1700000000\t", "1700000000\r", -1 },
		{ "junk after the fourth line", "Cw==\n", "Cw==\nmore\n", -1 },
		{ "signature line cut short", "tQc=\n", "\n", -1 },
	};

	(void)state;
	stock_public_key(&pk);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct drctl_error err = { 0 };
		char *p;

		snprintf(buf, sizeof(buf), "%s", STOCK_SIG_ED);
		if (cases[i].find) {
			char rest[1024];

			p = strstr(buf, cases[i].find);
			assert_non_null(p);
			snprintf(rest, sizeof(rest), "%s", p + strlen(cases[i].find));
			snprintf(p, sizeof(buf) - (size_t)(p - buf), "%s%s", cases[i].replace, rest);
		} else {
			line_start(buf, cases[i].cut_after_line)[0] = '\0';
		}
		print_message("case: %s\n", cases[i].what);
		assert_int_equal(minisign_verify(&pk, STOCK_MESSAGE, strlen(STOCK_MESSAGE), buf, strlen(buf),
						 "s", NULL, 0, &err), -1);
		assert_int_equal(err.code, EXIT_INTEGRITY);
	}
	/* The unmodified text passes through the same path, and CRLF endings are fine. */
	{
		struct drctl_error err = { 0 };
		char crlf[1024];
		size_t o = 0;

		assert_int_equal(minisign_verify(&pk, STOCK_MESSAGE, strlen(STOCK_MESSAGE), STOCK_SIG_ED,
						 strlen(STOCK_SIG_ED), "s", NULL, 0, &err), 0);
		for (const char *s = STOCK_SIG_ED; *s; s++) {
			if (*s == '\n')
				crlf[o++] = '\r';
			crlf[o++] = *s;
		}
		assert_int_equal(minisign_verify(&pk, STOCK_MESSAGE, strlen(STOCK_MESSAGE), crlf, o,
						 "s", NULL, 0, &err), 0);
		/* An embedded NUL is refused (minisign would stop reading there). */
		assert_int_equal(minisign_verify(&pk, STOCK_MESSAGE, strlen(STOCK_MESSAGE), STOCK_SIG_ED,
						 sizeof(STOCK_SIG_ED), "s", NULL, 0, &err), -1);
	}
}

/* ---- key files ---- */

static void test_key_files_round_trip_with_modes_and_no_overwrite(void **state)
{
	struct minisign_secret_key sk, sk2;
	struct minisign_public_key pk, pk2;
	struct drctl_error err = { 0 };
	char skp[512], pkp[512], want[200], id[17], b64[64], *text;
	struct stat st;
	size_t len;

	(void)state;
	path_in_tmp(skp, sizeof(skp), "rt.key");
	path_in_tmp(pkp, sizeof(pkp), "rt.pub");
	assert_int_equal(minisign_keygen(&sk, &pk, &err), 0);
	assert_int_equal(minisign_write_secret_key(skp, &sk, &err), 0);
	assert_int_equal(minisign_write_public_key(pkp, &pk, &err), 0);
	assert_int_equal(stat(skp, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(pkp, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);

	text = read_whole(pkp, &len);
	minisign_keyid_hex(pk.keyid, id);
	minisign_public_key_base64(&pk, b64);
	snprintf(want, sizeof(want), "untrusted comment: minisign public key %s\n%s\n", id, b64);
	assert_string_equal(text, want);
	free(text);
	text = read_whole(skp, &len);
	assert_int_equal(strncmp(text, "untrusted comment: minisign secret key\nRWQAAEIy", 47), 0);
	assert_int_equal(len, 39 + 212 + 1);
	free(text);

	assert_int_equal(minisign_load_secret_key(skp, &sk2, &err), 0);
	assert_int_equal(minisign_load_public_key(pkp, &pk2, &err), 0);
	assert_memory_equal(&sk2, &sk, sizeof(sk));
	assert_memory_equal(&pk2, &pk, sizeof(pk));

	/* Never overwritten. */
	assert_int_equal(minisign_write_secret_key(skp, &sk, &err), -1);
	assert_non_null(strstr(err.message, "already exists"));
	minisign_secret_key_wipe(&sk);
	minisign_secret_key_wipe(&sk2);
	unlink(skp);
	unlink(pkp);
}

static void test_secret_key_readable_by_others_is_refused(void **state)
{
	struct minisign_secret_key sk;
	struct drctl_error err = { 0 };
	char p[512];

	(void)state;
	path_in_tmp(p, sizeof(p), "open.key");
	write_file(p, STOCK_UNLOCKED_KEY, strlen(STOCK_UNLOCKED_KEY), 0644);
	assert_int_equal(minisign_load_secret_key(p, &sk, &err), -1);
	assert_int_equal(err.code, EXIT_USAGE);
	assert_non_null(strstr(err.message, "mode 0644"));
	assert_non_null(strstr(err.hint, "chmod 600"));
	/* The same file at 0600 loads: the mode was the only problem. */
	assert_int_equal(chmod(p, 0600), 0);
	err = (struct drctl_error){ 0 };
	assert_int_equal(minisign_load_secret_key(p, &sk, &err), 0);
	unlink(p);
}

static void test_secret_key_with_foreign_public_half_is_refused(void **state)
{
	struct minisign_secret_key sk;
	struct drctl_error err = { 0 };
	uint8_t raw[158 + 8];
	char text[400];
	size_t n;

	(void)state;
	assert_int_equal(base64_decode(strchr(STOCK_UNLOCKED_KEY, '\n') + 1, 212, raw, sizeof(raw), 1), 158);
	raw[100] ^= 1;                  /* inside the public half */
	memset(raw + 126, 0, 32);       /* zero checksum, as minisign -G -W writes */
	n = (size_t)snprintf(text, sizeof(text), "untrusted comment: x\n");
	n += base64_encode(raw, 158, text + n, 1);
	assert_int_equal(minisign_parse_secret_key(text, n, &sk, &err), -1);
	assert_string_equal(err.message,
			    "secret key is damaged: its public half does not belong to its secret half");
	/* With the public half restored, the zero checksum is accepted. */
	raw[100] ^= 1;
	n = (size_t)snprintf(text, sizeof(text), "untrusted comment: x\n");
	n += base64_encode(raw, 158, text + n, 1);
	err = (struct drctl_error){ 0 };
	assert_int_equal(minisign_parse_secret_key(text, n, &sk, &err), 0);
}

/* ---- live interop with stock minisign ---- */

static void test_interop_stock_keys_and_signatures_read_by_drctl(void **state)
{
	struct minisign_secret_key sk;
	struct minisign_public_key pk, from_sk;
	struct drctl_error err = { 0 };
	char skp[512], pkp[512], msg[512], sig[512], tc[256], *text;
	size_t len;
	FILE *f;

	(void)state;
	require_minisign();
	path_in_tmp(skp, sizeof(skp), "stock.key");
	path_in_tmp(pkp, sizeof(pkp), "stock.pub");
	path_in_tmp(msg, sizeof(msg), "data.txt");
	path_in_tmp(sig, sizeof(sig), "data.txt.minisig");
	{
		char *gen[] = { "minisign", "-G", "-W", "-p", pkp, "-s", skp, NULL };
		assert_int_equal(run(gen), 0);
	}
	assert_int_equal(minisign_load_secret_key(skp, &sk, &err), 0);
	assert_int_equal(minisign_load_public_key(pkp, &pk, &err), 0);
	minisign_public_from_secret(&sk, &from_sk);
	assert_memory_equal(&from_sk, &pk, sizeof(pk));

	write_file(msg, DATA, strlen(DATA), 0644);
	{
		char *s[] = { "minisign", "-S", "-s", skp, "-m", msg, "-x", sig, "-t", (char *)TC, NULL };
		assert_int_equal(run(s), 0);
	}
	text = read_whole(sig, &len);
	assert_int_equal(minisign_verify(&pk, DATA, strlen(DATA), text, len, sig, tc, sizeof(tc), &err), 0);
	assert_string_equal(tc, TC);
	assert_int_equal(minisign_verify(&pk, "other", 5, text, len, sig, tc, sizeof(tc), &err), -1);
	free(text);

	/* drctl signing with the stock key; stock minisign verifies it. */
	text = sign_data(&sk, DATA, TC);
	unlink(sig);
	f = fopen(sig, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(text);
	{
		char *v[] = { "minisign", "-V", "-m", msg, "-x", sig, "-p", pkp, NULL };
		assert_int_equal(run(v), 0);
	}
	minisign_secret_key_wipe(&sk);
	unlink(skp);
	unlink(pkp);
	unlink(msg);
	unlink(sig);
}

static void test_interop_drctl_keys_and_signatures_read_by_stock(void **state)
{
	struct minisign_secret_key sk;
	struct minisign_public_key pk;
	struct drctl_error err = { 0 };
	char skp[512], pkp[512], msg[512], sig[512], b64[64], tc[256], *text;
	size_t len;

	(void)state;
	require_minisign();
	path_in_tmp(skp, sizeof(skp), "drctl.key");
	path_in_tmp(pkp, sizeof(pkp), "drctl.pub");
	path_in_tmp(msg, sizeof(msg), "manifest.json");
	path_in_tmp(sig, sizeof(sig), "manifest.json.minisig");
	assert_int_equal(minisign_keygen(&sk, &pk, &err), 0);
	assert_int_equal(minisign_write_secret_key(skp, &sk, &err), 0);
	assert_int_equal(minisign_write_public_key(pkp, &pk, &err), 0);
	minisign_public_key_base64(&pk, b64);

	write_file(msg, DATA, strlen(DATA), 0644);
	text = sign_data(&sk, DATA, TC);
	write_file(sig, text, strlen(text), 0644);
	free(text);
	{
		char *v1[] = { "minisign", "-Vm", msg, "-p", pkp, NULL };
		char *v2[] = { "minisign", "-Vm", msg, "-P", b64, NULL };
		assert_int_equal(run(v1), 0);
		assert_int_equal(run(v2), 0);
	}
	/* Stock minisign must also say no: changed data is refused. */
	write_file(msg, "changed\n", 8, 0644);
	{
		char *v[] = { "minisign", "-Vm", msg, "-p", pkp, NULL };
		assert_int_equal(run(v), 1);
	}

	/* Stock minisign signs with drctl's secret key file. */
	write_file(msg, DATA, strlen(DATA), 0644);
	unlink(sig);
	{
		char *s[] = { "minisign", "-S", "-s", skp, "-m", msg, "-t", (char *)TC, NULL };
		char *v[] = { "minisign", "-Vm", msg, "-p", pkp, NULL };
		assert_int_equal(run(s), 0);
		assert_int_equal(run(v), 0);
	}
	text = read_whole(sig, &len);
	assert_int_equal(minisign_verify(&pk, DATA, strlen(DATA), text, len, sig, tc, sizeof(tc), &err), 0);
	assert_string_equal(tc, TC);
	free(text);
	minisign_secret_key_wipe(&sk);
	unlink(skp);
	unlink(pkp);
	unlink(msg);
	unlink(sig);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blake2b_rfc7693_abc_vectors),
		cmocka_unit_test(test_blake2b_matches_openssl_on_every_length_and_split),
		cmocka_unit_test(test_blake2b_refuses_bad_output_lengths),
		cmocka_unit_test(test_stock_public_key_parses_in_both_forms),
		cmocka_unit_test(test_stock_unlocked_key_loads_and_checksum_is_checked),
		cmocka_unit_test(test_encrypted_key_is_refused_with_hint),
		cmocka_unit_test(test_stock_signatures_verify_hashed_and_legacy),
		cmocka_unit_test(test_round_trip_writes_four_minisign_lines),
		cmocka_unit_test(test_tampering_fails),
		cmocka_unit_test(test_wrong_key_names_file_and_both_key_ids),
		cmocka_unit_test(test_sign_refuses_comments_minisign_cannot_read),
		cmocka_unit_test(test_verify_rejects_malformed_signature_texts),
		cmocka_unit_test(test_key_files_round_trip_with_modes_and_no_overwrite),
		cmocka_unit_test(test_secret_key_readable_by_others_is_refused),
		cmocka_unit_test(test_secret_key_with_foreign_public_half_is_refused),
		cmocka_unit_test(test_interop_stock_keys_and_signatures_read_by_drctl),
		cmocka_unit_test(test_interop_drctl_keys_and_signatures_read_by_stock),
	};
	return cmocka_run_group_tests(tests, setup_tmpdir, teardown_tmpdir);
}
