/*
 * age_reader: an age file read back as a source: the header collected line
 * by line and checked (age_header.c), the payload key derived, then one
 * sealed chunk opened at a time, reading one byte ahead: a full chunk with
 * more data behind it is not the last.  A truncated file, a missing final
 * chunk or data after it are payload failures.
 */
#include "lib/crypto/age.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "lib/core/keyfile.h"
#include "lib/crypto/age_private.h"

enum age_reader_state { AGE_READING, AGE_DONE, AGE_TRAILING, AGE_FAILED };

struct age_reader {
	struct source base;
	struct source *upstream;
	EVP_CIPHER_CTX *ctx;        /* keyed with the payload key */
	uint64_t counter;           /* index of the next chunk */
	enum age_reader_state state;
	enum age_failure failure;
	size_t enc_len;             /* bytes read ahead in enc */
	size_t plain_pos, plain_len; /* plaintext not yet handed out */
	uint8_t enc[AGE_SEALED + 1]; /* one sealed chunk and one byte more */
	uint8_t plain[AGE_CHUNK];
};

/* Read ahead until `want` bytes are buffered or the file ends. */
static int age_reader_fill(struct age_reader *r, size_t want, struct age_failure_report *rep)
{
	while (r->enc_len < want) {
		size_t got = 0;
		if (source_read(r->upstream, r->enc + r->enc_len, sizeof(r->enc) - r->enc_len, &got, rep->err) != 0)
			return age_fail(rep, AGE_IO_FAILURE, "read failed");
		if (got == 0)
			break;
		r->enc_len += got;
	}
	return 0;
}

/* Collect the header lines, through the MAC line, into a new buffer; what
 * was read past it stays at the start of r->enc. */
static int age_reader_header(struct age_reader *r, char **out, size_t *out_len, struct age_failure_report *rep)
{
	char *hdr = NULL;
	size_t len = 0, cap = 0, pos = 0;
	int rc = -1;

	for (;;) {
		uint8_t *nl = memchr(r->enc + pos, '\n', r->enc_len - pos);
		size_t line_len;

		if (!nl) {
			memmove(r->enc, r->enc + pos, r->enc_len - pos);
			r->enc_len -= pos;
			pos = 0;
			if (r->enc_len == sizeof(r->enc)) {
				age_fail(rep, AGE_HEADER_FAILURE, "a header line is too long");
				goto fail;
			}
			size_t before = r->enc_len;
			if (age_reader_fill(r, before + 1, rep) != 0)
				goto fail;
			if (r->enc_len == before) {
				age_fail(rep, AGE_HEADER_FAILURE, "the file ends inside the header");
				goto fail;
			}
			continue;
		}
		line_len = (size_t)(nl - (r->enc + pos)) + 1;
		if (len + line_len > AGE_MAX_HEADER) {
			age_fail(rep, AGE_HEADER_FAILURE, "the header is larger than %d bytes", AGE_MAX_HEADER);
			goto fail;
		}
		if (len + line_len > cap) {
			size_t ncap = cap ? cap * 2 : 1024;
			char *grown;
			while (ncap < len + line_len)
				ncap *= 2;
			grown = realloc(hdr, ncap);
			if (!grown) {
				age_fail(rep, AGE_HEADER_FAILURE, "out of memory");
				goto fail;
			}
			hdr = grown;
			cap = ncap;
		}
		memcpy(hdr + len, r->enc + pos, line_len);
		pos += line_len;
		/* Stop early on something that is not age at all. */
		if (len == 0 && !(line_len == sizeof(AGE_VERSION_LINE) &&
				  memcmp(hdr, AGE_VERSION_LINE, line_len - 1) == 0)) {
			age_fail(rep, AGE_HEADER_FAILURE, "not an age v1 file (first line is not \"%s\")",
				 AGE_VERSION_LINE);
			goto fail;
		}
		len += line_len;
		if (line_len >= 4 && memcmp(hdr + len - line_len, "---", 3) == 0)
			break;
	}
	memmove(r->enc, r->enc + pos, r->enc_len - pos);
	r->enc_len -= pos;
	*out = hdr;
	*out_len = len;
	hdr = NULL;
	rc = 0;
fail:
	free(hdr);
	return rc;
}

/* Open the next chunk into `out` (AGE_CHUNK bytes of room). */
static int age_reader_chunk(struct age_reader *r, uint8_t *out, size_t *out_len, struct age_failure_report *rep)
{
	uint8_t nonce[12];
	size_t sealed;
	int more, last;

	if (age_reader_fill(r, sizeof(r->enc), rep) != 0)
		return -1;
	more = r->enc_len == sizeof(r->enc);
	sealed = more ? AGE_SEALED : r->enc_len;
	if (sealed == 0 && r->counter > 0)
		return age_fail(rep, AGE_PAYLOAD_FAILURE, "the file ends without its final chunk (truncated?)");
	if (sealed < AGE_TAG)
		return age_fail(rep, AGE_PAYLOAD_FAILURE, "chunk %llu is truncated (%zu bytes)",
				(unsigned long long)r->counter, sealed);
	if (r->counter == UINT64_MAX)
		return age_fail(rep, AGE_PAYLOAD_FAILURE, "too many chunks");
	/* A short chunk can only be the last.  A full one is tried as a
	 * middle chunk first, then as the last, as age does: a full middle
	 * chunk at the end of the file is released and the missing final chunk
	 * reported on the next read; a full last chunk with data behind it is
	 * released and the trailing data reported after it. */
	last = sealed < AGE_SEALED;
	age_chunk_nonce(r->counter, last, nonce);
	if (age_open(r->ctx, NULL, nonce, r->enc, sealed, out) != 0) {
		if (last)
			return age_fail(rep, AGE_PAYLOAD_FAILURE,
					"chunk %llu does not authenticate as the final chunk (damaged or truncated)",
					(unsigned long long)r->counter);
		last = 1;
		age_chunk_nonce(r->counter, last, nonce);
		if (age_open(r->ctx, NULL, nonce, r->enc, sealed, out) != 0)
			return age_fail(rep, AGE_PAYLOAD_FAILURE, "chunk %llu does not authenticate",
					(unsigned long long)r->counter);
	}
	if (last && sealed == AGE_TAG && r->counter > 0)
		return age_fail(rep, AGE_PAYLOAD_FAILURE, "the final chunk is empty but the payload is not");
	r->counter++;
	if (more) {
		r->enc[0] = r->enc[AGE_SEALED];
		r->enc_len = 1;
	} else {
		r->enc_len = 0;
	}
	if (last)
		r->state = more ? AGE_TRAILING : AGE_DONE;
	*out_len = sealed - AGE_TAG;
	return 0;
}

static int age_reader_read(struct source *s, void *buf, size_t cap, size_t *got, struct drctl_error *err)
{
	struct age_reader *r = (struct age_reader *)s;
	struct age_failure_report rep = { AGE_OK, err };
	size_t n;

	*got = 0;
	while (r->plain_pos == r->plain_len) {
		uint8_t *out;
		size_t len = 0;

		if (cap == 0)
			return 0;
		switch (r->state) {
		case AGE_DONE:
			return 0;
		case AGE_TRAILING:
			r->state = AGE_FAILED;
			r->failure = AGE_PAYLOAD_FAILURE;
			return age_fail(&rep, AGE_PAYLOAD_FAILURE, "data follows the final chunk");
		case AGE_FAILED:
			return err_set(err, EXIT_INTEGRITY, NULL, AGE_HINT_DAMAGED, "age: reading after a failure (%s)",
				       age_failure_name(r->failure));
		case AGE_READING:
			break;
		}
		/* A whole chunk fits: open it straight into the caller's buffer. */
		out = cap >= AGE_CHUNK ? buf : r->plain;
		if (age_reader_chunk(r, out, &len, &rep) != 0) {
			r->state = AGE_FAILED;
			r->failure = rep.kind;
			return -1;
		}
		if (out == buf) {
			*got = len;
			if (len > 0)
				return 0;
		} else {
			r->plain_pos = 0;
			r->plain_len = len;
		}
	}
	n = r->plain_len - r->plain_pos < cap ? r->plain_len - r->plain_pos : cap;
	memcpy(buf, r->plain + r->plain_pos, n);
	r->plain_pos += n;
	*got = n;
	return 0;
}

static void age_reader_free(struct age_reader *r)
{
	source_close(r->upstream);
	EVP_CIPHER_CTX_free(r->ctx);
	secure_wipe(r->plain, sizeof(r->plain));
	free(r);
}

static void age_reader_close(struct source *s)
{
	age_reader_free((struct age_reader *)s);
}

static const struct source_ops age_reader_ops = { age_reader_read, age_reader_close };

enum age_failure age_reader_failure(const struct source *s)
{
	return s && s->ops == &age_reader_ops ? ((const struct age_reader *)s)->failure : AGE_OK;
}

struct source *age_reader_new(struct source *upstream, const struct age_identity *ids, size_t n,
			      const char *passphrase, enum age_failure *failure, struct drctl_error *err)
{
	struct age_failure_report rep = { AGE_OK, err };
	struct age_header h;
	struct age_reader *r = calloc(1, sizeof(*r));
	uint8_t file_key[AGE_FILE_KEY], mac[32], payload_key[32];
	char *hdr = NULL;
	size_t hdr_len = 0;

	memset(&h, 0, sizeof(h));
	if (!r || !(r->ctx = EVP_CIPHER_CTX_new())) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		rep.kind = AGE_IO_FAILURE;
		goto fail;
	}
	r->base.ops = &age_reader_ops;
	r->upstream = upstream;
	upstream = NULL;
	if (age_reader_header(r, &hdr, &hdr_len, &rep) != 0 || age_parse_header(hdr, hdr_len, &h, &rep) != 0 ||
	    age_unwrap(&h, ids, n, passphrase, file_key, &rep) != 0)
		goto fail;
	if (age_header_mac(file_key, hdr, h.mac_offset, mac) != 0) {
		age_fail(&rep, AGE_HMAC_FAILURE, "cannot compute the MAC: %s", err_openssl_reason());
		goto fail;
	}
	if (CRYPTO_memcmp(mac, h.mac, sizeof(mac)) != 0) {
		age_fail(&rep, AGE_HMAC_FAILURE, "the header MAC does not match (header altered)");
		goto fail;
	}
	/* The payload nonce; age counts a missing one as a header failure. */
	if (age_reader_fill(r, AGE_NONCE, &rep) != 0)
		goto fail;
	if (r->enc_len < AGE_NONCE) {
		age_fail(&rep, AGE_HEADER_FAILURE, "the file ends before the payload nonce");
		goto fail;
	}
	if (age_hkdf(file_key, AGE_FILE_KEY, r->enc, AGE_NONCE, "payload", payload_key, sizeof(payload_key)) != 0 ||
	    EVP_DecryptInit_ex(r->ctx, EVP_chacha20_poly1305(), NULL, payload_key, NULL) != 1) {
		age_fail(&rep, AGE_HEADER_FAILURE, "cannot derive the payload key: %s", err_openssl_reason());
		goto fail;
	}
	memmove(r->enc, r->enc + AGE_NONCE, r->enc_len - AGE_NONCE);
	r->enc_len -= AGE_NONCE;
	secure_wipe(file_key, sizeof(file_key));
	secure_wipe(payload_key, sizeof(payload_key));
	free(h.known);
	free(hdr);
	if (failure)
		*failure = AGE_OK;
	return &r->base;

fail:
	secure_wipe(file_key, sizeof(file_key));
	secure_wipe(payload_key, sizeof(payload_key));
	free(h.known);
	free(hdr);
	if (r)
		age_reader_free(r);
	source_close(upstream);
	if (failure)
		*failure = rep.kind;
	return NULL;
}
