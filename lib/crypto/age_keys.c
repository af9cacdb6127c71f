/*
 * age_keys: age's keys and identity files.  Recipients are Bech32 "age1..."
 * (lower case) and identities "AGE-SECRET-KEY-1..." (upper case, BIP173
 * checksum), as age-keygen writes them; the format itself is in age.c and
 * the files it names.
 * Secrets never reach an error message and are wiped after use.
 */
#include "lib/crypto/age.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "lib/core/keyfile.h"
#include "lib/crypto/bech32.h"
#include "lib/crypto/age_private.h"

/* --- keys ------------------------------------------------------------------- */

int age_keygen(struct age_identity *id, struct drctl_error *err)
{
	if (RAND_bytes(id->secret, sizeof(id->secret)) != 1 || age_x25519_public(id->secret, id->pub) != 0) {
		secure_wipe(id, sizeof(*id));
		return err_set(err, EXIT_FAILED, NULL, NULL, "cannot generate an age identity: %s",
			       err_openssl_reason());
	}
	return 0;
}

int age_recipient_parse(const char *text, struct age_recipient *out, struct drctl_error *err)
{
	char hrp[32];
	uint8_t data[64];
	size_t len = 0;

	if (bech32_decode(text, hrp, sizeof(hrp), data, &len, sizeof(data)) != 0 || strcmp(hrp, "age") != 0 ||
	    len != 32)
		return err_set(err, EXIT_USAGE, NULL,
			       "an age recipient is the `age1...` line that age-keygen prints as \"public key\"",
			       "not an age recipient: \"%.80s\"", text);
	memcpy(out->pub, data, 32);
	return 0;
}

void age_recipient_format(const struct age_recipient *r, char out[128])
{
	bech32_encode("age", r->pub, 32, 0, out, 128);
}

int age_identity_parse(const char *text, struct age_identity *out, struct drctl_error *err)
{
	char hrp[32];
	uint8_t data[64];
	size_t len = 0;
	int rc = -1;

	/* age writes and accepts identities in upper case only. */
	if (bech32_decode(text, hrp, sizeof(hrp), data, &len, sizeof(data)) != 0 ||
	    strcmp(hrp, "AGE-SECRET-KEY-") != 0 || len != 32) {
		err_set(err, EXIT_USAGE, NULL, "an age identity is an `AGE-SECRET-KEY-1...` line as age-keygen writes it",
			"not an age identity (the text is not shown: it may be secret)");
		goto fail;
	}
	memcpy(out->secret, data, 32);
	if (age_x25519_public(out->secret, out->pub) != 0) {
		secure_wipe(out, sizeof(*out));
		err_set(err, EXIT_FAILED, NULL, NULL, "cannot load an age identity: %s", err_openssl_reason());
		goto fail;
	}
	rc = 0;
fail:
	secure_wipe(data, sizeof(data));
	return rc;
}

void age_identity_format(const struct age_identity *id, char out[128])
{
	bech32_encode("age-secret-key-", id->secret, 32, 1, out, 128);
}

void age_identity_to_recipient(const struct age_identity *id, struct age_recipient *out)
{
	memcpy(out->pub, id->pub, 32);
}

/* One line of an identity file: [start, end) without the newline (and
 * without a CR, as Go's line scanner drops it). */
static int age_identity_line(const char *text, size_t len, size_t *pos, const char **line, size_t *line_len)
{
	const char *start = text + *pos, *nl;

	if (*pos >= len)
		return 0;
	nl = memchr(start, '\n', len - *pos);
	*line_len = nl ? (size_t)(nl - start) : len - *pos;
	*pos += *line_len + (nl ? 1 : 0);
	if (*line_len > 0 && start[*line_len - 1] == '\r')
		(*line_len)--;
	*line = start;
	return 1;
}

int age_identities_parse(const char *text, size_t len, struct age_identity **ids, size_t *n,
			 struct drctl_error *err)
{
	struct age_identity *out = NULL;
	size_t count = 0, got = 0, pos = 0, line_len, lineno = 0;
	const char *line;
	char buf[128];
	int rc = -1;

	*ids = NULL;
	*n = 0;
	/* Count first so that the array is allocated once: growing it with
	 * realloc would leave copies of secret keys in freed memory. */
	while (age_identity_line(text, len, &pos, &line, &line_len))
		if (line_len > 0 && line[0] != '#')
			count++;
	if (count == 0)
		return err_set(err, EXIT_USAGE, NULL, "generate one with `age-keygen -o FILE` or `drctl init`",
			       "the identity file holds no AGE-SECRET-KEY-1 line");
	out = calloc(count, sizeof(*out));
	if (!out)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	pos = 0;
	while (age_identity_line(text, len, &pos, &line, &line_len)) {
		lineno++;
		if (line_len == 0 || line[0] == '#')
			continue;
		if (line_len >= sizeof(buf) || memchr(line, '\0', line_len)) {
			err_set(err, EXIT_USAGE, NULL, NULL, "line %zu of the identity file is not an age identity", lineno);
			goto fail;
		}
		memcpy(buf, line, line_len);
		buf[line_len] = '\0';
		if (age_identity_parse(buf, &out[got], err) != 0) {
			err_prefix(err, "line %zu of the identity file", lineno);
			goto fail;
		}
		got++;
	}
	*ids = out;
	*n = got;
	out = NULL;
	rc = 0;
fail:
	secure_wipe(buf, sizeof(buf));
	age_identities_free(out, count);
	return rc;
}

void age_identities_free(struct age_identity *ids, size_t n)
{
	if (ids) {
		secure_wipe(ids, n * sizeof(*ids));
		free(ids);
	}
}
