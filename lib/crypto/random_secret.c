#include "lib/crypto/random_secret.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "lib/core/keyfile.h"

static const struct {
	const char *name;
	const char *chars;
} alphabets[] = {
	[RANDOM_SECRET_TOKEN] = { "token", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789" },
	[RANDOM_SECRET_HEX] = { "hex", "0123456789abcdef" },
	[RANDOM_SECRET_BASE64URL] = { "base64url", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" },
};

int random_secret_parse(const char *spec, const char *what, struct random_secret_generator *g,
			struct drctl_error *err)
{
	for (size_t i = 0; spec && i < sizeof(alphabets) / sizeof(alphabets[0]); i++) {
		size_t n = strlen(alphabets[i].name);
		const char *digits = spec + n;
		char *end;
		unsigned long len;
		if (strncmp(spec, alphabets[i].name, n) != 0 || *digits < '0' || *digits > '9')
			continue;
		len = strtoul(digits, &end, 10);
		if (*end != '\0')
			break;
		if (len < RANDOM_SECRET_MIN || len > RANDOM_SECRET_MAX)
			return err_set(err, EXIT_USAGE, what, "use a length from 16 to 1024 characters, e.g. token32 or hex64",
				       "%s: generator %s makes %lu characters, outside 16..1024", what, spec, len);
		g->alphabet = (enum random_secret_alphabet)i;
		g->length = len;
		return 0;
	}
	return err_set(err, EXIT_USAGE, what, "generators are token<N>, hex<N> and base64url<N> (N characters), e.g. token32",
		       "%s: \"%s\" is not a generator", what, spec ? spec : "");
}

void random_secret_format(const struct random_secret_generator *g, char *out, size_t cap)
{
	snprintf(out, cap, "%s%zu", alphabets[g->alphabet].name, g->length);
}

int random_secret_generate(const struct random_secret_generator *g, char *out, size_t cap, struct drctl_error *err)
{
	const char *chars = alphabets[g->alphabet].chars;
	unsigned n = (unsigned)strlen(chars);
	/* The largest multiple of n that fits in a byte: bytes at or above it
	 * are drawn again, so every character is equally likely. */
	unsigned limit = 256 - 256 % n;
	unsigned char pool[256];
	size_t have = 0, used = 0;

	if (g->length == 0 || g->length >= cap)
		return err_set(err, EXIT_FAILED, NULL, NULL, "secret buffer too small for %zu characters", g->length);
	for (size_t i = 0; i < g->length;) {
		if (used == have) {
			if (RAND_bytes(pool, sizeof(pool)) != 1) {
				secure_wipe(out, cap);
				secure_wipe(pool, sizeof(pool));
				return err_set(err, EXIT_FAILED, NULL, NULL, "the random number generator failed");
			}
			have = sizeof(pool);
			used = 0;
		}
		if (pool[used] < limit)
			out[i++] = chars[pool[used] % n];
		used++;
	}
	out[g->length] = '\0';
	secure_wipe(pool, sizeof(pool));
	return 0;
}
