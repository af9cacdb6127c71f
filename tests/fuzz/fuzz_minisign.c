/* fuzz_minisign: arbitrary bytes as a minisign public key (file or -P line),
 * as a secret key file, and as a .minisig checked against a fixed key and
 * message.  The parsers take (pointer, length) and must never read past it,
 * whatever the newlines, padding or NUL bytes.  Seeds: files stock minisign
 * 0.11 wrote (tests/fuzz/corpus/fuzz_minisign/), signed over MESSAGE below
 * with the key PUBLIC_KEY. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/crypto/minisign.h"

static const char PUBLIC_KEY[] = "RWSgSAcVtQ4O95zZijDVXzvFFB4ETpUj1IMhwYhODA5rKh9kf5pBRwMP";
static const char MESSAGE[] = "drctl minisign test message\n";
static const char SIGNATURE[] =
	"untrusted comment: signature from minisign secret key\n"
	"RUSgSAcVtQ4O9/nrGL8R3JL/uTpVwAmJM/lRUw9IHRvrDhuuilgp/0O7LdtziP1D0F8lj+cu4mnRkpbhwsQcKlE05Wq4STYOtQc=\n"
	"trusted comment: timestamp:1700000000\tfile:m.txt\thashed\n"
	"zPMUkQ4HpJgG6aZqQ7E3jwSwGENqyro9ZXOtwp4b64P1gSpjaOX+z1RUWW3wRFWKZlEBLPK2WP5dRHLDZ+e7Cw==\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct minisign_public_key fixed, pk;
	struct minisign_secret_key sk;
	struct drctl_error err = { 0 };
	char tc[64];
	/* An exact-size copy, so AddressSanitizer flags any read past `size`. */
	char *text = malloc(size ? size : 1);

	if (!text)
		return 0;
	if (size)
		memcpy(text, data, size);
	if (minisign_parse_public_key(PUBLIC_KEY, strlen(PUBLIC_KEY), &fixed, &err) != 0)
		abort();

	err = (struct drctl_error){ 0 };
	if (minisign_parse_public_key(text, size, &pk, &err) == 0) {
		/* Any parsed key goes through verification; only the real one passes. */
		err = (struct drctl_error){ 0 };
		int ok = minisign_verify(&pk, MESSAGE, strlen(MESSAGE), SIGNATURE, strlen(SIGNATURE),
					 "fixed", NULL, 0, &err) == 0;
		if (ok != (memcmp(&pk, &fixed, sizeof(pk)) == 0))
			abort();
	} else if (err.code == 0) {
		abort(); /* a failure always says why */
	}

	err = (struct drctl_error){ 0 };
	if (minisign_parse_secret_key(text, size, &sk, &err) == 0)
		minisign_secret_key_wipe(&sk);
	else if (err.code == 0)
		abort();

	err = (struct drctl_error){ 0 };
	if (minisign_verify(&fixed, MESSAGE, strlen(MESSAGE), text, size, "input", tc, sizeof(tc), &err) == 0) {
		if (strlen(tc) >= sizeof(tc))
			abort();
	} else if (err.code == 0) {
		abort();
	}
	free(text);
	return 0;
}
