/*
 * fuzz_age: any bytes, read as an age file with a fixed identity (the one of
 * the CCTV test vectors, so the seed vectors decrypt and the fuzzer starts
 * from inputs that reach the payload), read to the end.  The same bytes also
 * go through the identity-file and recipient parsers.  What must hold: no
 * crash, no leak, no read past a buffer, and success only with a valid end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/crypto/age.h"

#define FUZZ_IDENTITY "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_reader(const uint8_t *data, size_t size, const struct age_identity *id, size_t cap)
{
	struct drctl_error err;
	enum age_failure why = AGE_OK;
	struct source *src;
	uint8_t *buf = malloc(cap);

	err_clear(&err);
	src = memory_source_new(data, size, &err);
	src = age_reader_new(src, id, 1, NULL, &why, &err);
	if (!src) {
		if (why == AGE_OK || !err_is_set(&err))
			abort(); /* a failure must say what kind and why */
		free(buf);
		return;
	}
	for (;;) {
		size_t got = 0;
		if (source_read(src, buf, cap, &got, &err) != 0) {
			if (age_reader_failure(src) == AGE_OK)
				abort();
			break;
		}
		if (got == 0 || got > cap) {
			if (got > cap)
				abort();
			break;
		}
	}
	source_close(src);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct age_identity id;
	static int ready;
	struct drctl_error err;
	struct age_identity *ids = NULL;
	struct age_recipient r;
	size_t n = 0;
	char text[200];

	err_clear(&err);
	if (!ready) {
		if (age_identity_parse(FUZZ_IDENTITY, &id, &err) != 0)
			abort();
		ready = 1;
	}
	/* Both read paths: into the caller's buffer, and through the reader's own. */
	fuzz_reader(data, size, &id, 64 * 1024);
	fuzz_reader(data, size, &id, 777);

	if (age_identities_parse((const char *)data, size, &ids, &n, &err) == 0)
		age_identities_free(ids, n);
	if (size < sizeof(text)) {
		memcpy(text, data, size);
		text[size] = '\0';
		err_clear(&err);
		(void)age_recipient_parse(text, &r, &err);
	}
	return 0;
}
