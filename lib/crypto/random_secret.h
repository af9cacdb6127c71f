/*
 * random_secret: new passwords, tokens and keys for the secret rotation.
 *
 * A generator is a name and a length, the length always counted in
 * characters of the value:
 *
 *   token<N>      N characters of A-Z a-z 0-9 (5.95 bits each): passwords
 *                 that survive any quoting, URL or configuration file
 *   hex<N>        N lower-case hexadecimal digits (4 bits each)
 *   base64url<N>  N characters of the URL-safe base64 alphabet, no padding
 *                 (6 bits each)
 *
 * N is 16 to 1024.  The bytes come from OpenSSL's CSPRNG (RAND_bytes); a
 * character is drawn by rejection sampling, so no character of the alphabet
 * is likelier than another.  The caller wipes the value (secure_wipe).
 */
#ifndef DRCTL_CRYPTO_RANDOM_SECRET_H
#define DRCTL_CRYPTO_RANDOM_SECRET_H

#include <stddef.h>

#include "lib/core/error.h"

#define RANDOM_SECRET_MIN 16
#define RANDOM_SECRET_MAX 1024

enum random_secret_alphabet { RANDOM_SECRET_TOKEN, RANDOM_SECRET_HEX, RANDOM_SECRET_BASE64URL };

struct random_secret_generator {
	enum random_secret_alphabet alphabet;
	size_t length;
};

/* Parse "token32", "hex64", "base64url43"; EXIT_USAGE naming `what` (the
 * configuration key) otherwise. */
int random_secret_parse(const char *spec, const char *what, struct random_secret_generator *g,
			struct drctl_error *err);
/* The generator as text ("token32"). */
void random_secret_format(const struct random_secret_generator *g, char *out, size_t cap);
/* A new value of g->length characters and a NUL into out (cap > length). */
int random_secret_generate(const struct random_secret_generator *g, char *out, size_t cap, struct drctl_error *err);

#endif
