/*
 * The age tests' shared part: random bytes, SHA-256 in hex, whole-buffer
 * encryption and decryption through drctl's age streams, fresh identities,
 * whole files read (helpers.c).  The key tests are keys.c, the ones against
 * the stock tools interop.c; test_age.c runs them after its own.
 */
#ifndef DRCTL_TEST_AGE_H
#define DRCTL_TEST_AGE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <zlib.h>

#include "lib/crypto/age.h"
#include "lib/crypto/bech32.h"
#include "lib/stream/stream.h"

extern char **environ;

#define TESTKIT_DIR TEST_DATA_DIR "/age-testkit"
#define TESTKIT_IDENTITY "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0"

enum { CHUNK = 65536 };

struct decrypted {
	enum age_failure failure; /* from age_reader_new, or the streaming failure */
	uint8_t *plain;           /* everything released before the end or failure */
	size_t len;
	char sha256[65];
	struct drctl_error err;
};

uint8_t *random_bytes(size_t n);
void sha256_hex(const void *p, size_t n, char out[65]);
void encrypt_buf(const uint8_t *plain, size_t len, const struct age_recipient *r, size_t n, char **out,
		 size_t *out_len);
void decrypt_buf(const void *ct, size_t ct_len, const struct age_identity *ids, size_t n, const char *passphrase,
		 size_t cap, struct decrypted *d);
void new_identity(struct age_identity *id, struct age_recipient *r);
uint8_t *read_all(const char *path, size_t *len);

/* The key tests (keys.c) and the stock tools' (interop.c). */
extern const struct CMUnitTest age_key_tests[];
extern const size_t age_key_test_count;
extern const struct CMUnitTest age_interop_tests[];
extern const size_t age_interop_test_count;

#endif
