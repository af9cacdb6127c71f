/*
 * age_header: the header of an age file (age.md "Header"): an X25519 stanza
 * written for a recipient; the header text parsed completely (grammar,
 * canonical base64, stanza shapes) before any key is tried; the file key
 * unwrapped from a stanza with an identity or a passphrase.  Failures are
 * recorded with age's categories (age_fail).  age.c says why it is built
 * this way.
 */
#include "lib/crypto/age.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "lib/core/keyfile.h"
#include "lib/crypto/age_private.h"
#include "lib/crypto/base64.h"

/* --- writing ------------------------------------------------------------------ */

/* Append base64 of data wrapped at 64 columns; the last line is always
 * shorter than 64, so a multiple of 64 gets an empty final line. */
static size_t age_append_body(char *out, const uint8_t *data, size_t len)
{
	char text[64]; /* 44 characters for a 32-byte body */
	size_t tlen = base64_encode(data, len, text, 0), o = 0;

	for (size_t i = 0; i <= tlen; i += AGE_COLUMNS) {
		size_t line = tlen - i < AGE_COLUMNS ? tlen - i : AGE_COLUMNS;
		memcpy(out + o, text + i, line);
		o += line;
		out[o++] = '\n';
		if (line < AGE_COLUMNS)
			break;
	}
	return o;
}

/* The X25519 stanza (age.md "X25519 recipient stanza"), appended to out. */
int age_x25519_stanza(const struct age_recipient *r, const uint8_t file_key[AGE_FILE_KEY],
		      char *out, size_t *len)
{
	uint8_t eph[32], share[32], shared[32], salt[64], wrap_key[32], body[AGE_BODY];
	size_t o = *len;
	int rc = -1;

	if (RAND_bytes(eph, sizeof(eph)) != 1 || age_x25519_public(eph, share) != 0)
		goto fail;
	if (age_x25519_shared(eph, r->pub, shared) != 0)
		goto fail; /* a low-order recipient point: not a real key */
	memcpy(salt, share, 32);
	memcpy(salt + 32, r->pub, 32);
	if (age_hkdf(shared, 32, salt, 64, AGE_X25519_INFO, wrap_key, 32) != 0 ||
	    age_wrap(wrap_key, file_key, AGE_FILE_KEY, body, 1) != 0)
		goto fail;
	memcpy(out + o, "-> X25519 ", 10);
	o += 10;
	o += base64_encode(share, 32, out + o, 0);
	out[o++] = '\n';
	o += age_append_body(out + o, body, sizeof(body));
	*len = o;
	rc = 0;
fail:
	secure_wipe(eph, sizeof(eph));
	secure_wipe(shared, sizeof(shared));
	secure_wipe(wrap_key, sizeof(wrap_key));
	return rc;
}

/* --- parsing ------------------------------------------------------------------- */

int age_fail(struct age_failure_report *rep, enum age_failure kind, const char *fmt, ...)
{
	static const char *const prefix[] = {
		[AGE_NO_MATCH] = "age: no identity matches",
		[AGE_HEADER_FAILURE] = "age header is malformed",
		[AGE_HMAC_FAILURE] = "age header fails its MAC check",
		[AGE_PAYLOAD_FAILURE] = "age payload is damaged",
	};
	const char *hint = kind == AGE_NO_MATCH
		? "use the identity file whose public key is one of the backup's recipients" : AGE_HINT_DAMAGED;
	char msg[400];
	va_list ap;

	if (rep->kind != AGE_OK)
		return -1;
	rep->kind = kind;
	if (kind == AGE_IO_FAILURE)
		return -1; /* the upstream source set the error itself */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* No match is about the key (not the one the file was encrypted to),
	 * not proof that the file is damaged: callers that know more (a signed
	 * list of recipients) decide. */
	return err_set(rep->err, kind == AGE_NO_MATCH ? EXIT_NOT_FOUND : EXIT_INTEGRITY, NULL, hint, "%s: %s",
		       prefix[kind], msg);
}

/* Arguments: VCHAR (0x21-0x7e), at least one character, single spaces. */
static int age_parse_args(const char *p, size_t len, const char **args, size_t *arg_len, size_t max,
			  size_t *nargs)
{
	size_t n = 0, i = 0;

	while (i < len) {
		size_t start;
		if (p[i] != ' ' || n == max)
			return -1;
		start = ++i;
		while (i < len && p[i] >= 0x21 && p[i] <= 0x7e)
			i++;
		if (i == start || (i < len && p[i] != ' '))
			return -1;
		args[n] = p + start;
		arg_len[n++] = i - start;
	}
	*nargs = n;
	return n > 0 ? 0 : -1;
}

static int age_arg_is(const char *arg, size_t len, const char *word)
{
	return len == strlen(word) && memcmp(arg, word, len) == 0;
}

/* scrypt's work factor: decimal, no sign, no leading zero, 1..22. */
static int age_parse_log2n(const char *arg, size_t len, int *log2n)
{
	int v = 0;

	if (len == 0 || len > 2 || arg[0] == '0')
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (arg[i] < '0' || arg[i] > '9')
			return -1;
		v = v * 10 + (arg[i] - '0');
	}
	if (v < 1 || v > AGE_SCRYPT_MAX_LOG2N)
		return -1;
	*log2n = v;
	return 0;
}

/* Validate one stanza (arguments and decoded body) and keep it if it is a
 * type drctl unwraps.  Other types (grease, plugins) are skipped. */
static int age_keep_stanza(struct age_header *h, const char **args, const size_t *arg_len, size_t nargs,
			   const uint8_t *body, size_t body_len, struct age_failure_report *rep)
{
	struct age_stanza st;
	int is_x25519 = age_arg_is(args[0], arg_len[0], "X25519");
	int is_scrypt = age_arg_is(args[0], arg_len[0], "scrypt");

	h->n_total++;
	if (!is_x25519 && !is_scrypt)
		return 0;
	memset(&st, 0, sizeof(st));
	if (body_len != AGE_BODY)
		return age_fail(rep, AGE_HEADER_FAILURE, "a %s stanza body is %zu bytes, not %d",
				is_x25519 ? "X25519" : "scrypt", body_len, AGE_BODY);
	memcpy(st.body, body, AGE_BODY);
	if (is_x25519) {
		st.type = AGE_STANZA_X25519;
		if (nargs != 2 || base64_decode(args[1], arg_len[1], st.arg, 32, 0) != 32)
			return age_fail(rep, AGE_HEADER_FAILURE, "an X25519 stanza has no valid 32-byte share");
	} else {
		st.type = AGE_STANZA_SCRYPT;
		h->n_scrypt++;
		if (nargs != 3 || base64_decode(args[1], arg_len[1], st.arg, 16, 0) != 16)
			return age_fail(rep, AGE_HEADER_FAILURE, "a scrypt stanza has no valid 16-byte salt");
		if (age_parse_log2n(args[2], arg_len[2], &st.log2n) != 0)
			return age_fail(rep, AGE_HEADER_FAILURE,
					"a scrypt stanza's work factor is not a decimal from 1 to %d",
					AGE_SCRYPT_MAX_LOG2N);
	}
	if (h->n_known % 8 == 0) {
		struct age_stanza *grown = realloc(h->known, (h->n_known + 8) * sizeof(*grown));
		if (!grown)
			return age_fail(rep, AGE_HEADER_FAILURE, "out of memory");
		h->known = grown;
	}
	h->known[h->n_known++] = st;
	return 0;
}

/* Next line of the header text: every line ends in '\n' by construction. */
static const char *age_next_line(const char *hdr, size_t len, size_t *pos, size_t *line_len)
{
	const char *start = hdr + *pos, *nl;

	if (*pos >= len)
		return NULL;
	nl = memchr(start, '\n', len - *pos);
	*line_len = (size_t)(nl - start);
	*pos += *line_len + 1;
	return start;
}

/* Parse the header lines (age.md "Header" grammar); hdr ends with the MAC line. */
int age_parse_header(const char *hdr, size_t len, struct age_header *h, struct age_failure_report *rep)
{
	enum { MAX_ARGS = 32 };
	const char *args[MAX_ARGS];
	size_t arg_len[MAX_ARGS], nargs, pos = 0, line_len;
	const char *line = age_next_line(hdr, len, &pos, &line_len);

	if (!line || !age_arg_is(line, line_len, AGE_VERSION_LINE))
		return age_fail(rep, AGE_HEADER_FAILURE, "not an age v1 file (first line is not \"%s\")",
				AGE_VERSION_LINE);
	while ((line = age_next_line(hdr, len, &pos, &line_len)) != NULL) {
		uint8_t body[AGE_BODY], piece[48];
		size_t body_len = 0;
		int final = 0;

		if (line_len >= 3 && memcmp(line, "---", 3) == 0) {
			if (h->n_total == 0)
				return age_fail(rep, AGE_HEADER_FAILURE, "the header has no recipient stanza");
			if (line_len != 4 + 43 || line[3] != ' ' ||
			    base64_decode(line + 4, 43, h->mac, sizeof(h->mac), 0) != 32)
				return age_fail(rep, AGE_HEADER_FAILURE, "the MAC line is not \"--- \" and 43 base64 characters");
			h->mac_offset = (size_t)(line - hdr) + 3;
			return 0;
		}
		if (line_len < 2 || memcmp(line, "->", 2) != 0 ||
		    age_parse_args(line + 2, line_len - 2, args, arg_len, MAX_ARGS, &nargs) != 0)
			return age_fail(rep, AGE_HEADER_FAILURE, "a stanza line is not \"-> TYPE ARGS...\"");
		/* Body: full 64-column lines, ended by one shorter line. */
		while (!final) {
			long got;
			line = age_next_line(hdr, len, &pos, &line_len);
			if (!line || line_len > AGE_COLUMNS || (line_len >= 3 && memcmp(line, "---", 3) == 0))
				return age_fail(rep, AGE_HEADER_FAILURE, "a stanza body is not wrapped at 64 columns "
						"or lacks its short final line");
			final = line_len < AGE_COLUMNS;
			got = base64_decode(line, line_len, piece, sizeof(piece), 0);
			if (got < 0)
				return age_fail(rep, AGE_HEADER_FAILURE, "a stanza body is not canonical unpadded base64");
			/* Keep what fits: only 32-byte bodies are ever used. */
			if (body_len + (size_t)got <= sizeof(body))
				memcpy(body + body_len, piece, (size_t)got);
			body_len += (size_t)got;
		}
		if (age_keep_stanza(h, args, arg_len, nargs, body, body_len, rep) != 0)
			return -1;
	}
	return age_fail(rep, AGE_HEADER_FAILURE, "the header has no MAC line");
}

/* Unwrap an X25519 stanza: 1 if this identity is not its recipient. */
static int age_unwrap_x25519(const struct age_stanza *st, const struct age_identity *id,
			     uint8_t file_key[AGE_FILE_KEY], struct age_failure_report *rep)
{
	uint8_t shared[32], salt[64], wrap_key[32];
	int rc = -1;

	if (age_x25519_shared(id->secret, st->arg, shared) != 0) {
		age_fail(rep, AGE_HEADER_FAILURE, "an X25519 share is a low-order point");
		goto fail;
	}
	memcpy(salt, st->arg, 32);
	memcpy(salt + 32, id->pub, 32);
	if (age_hkdf(shared, 32, salt, sizeof(salt), AGE_X25519_INFO, wrap_key, sizeof(wrap_key)) != 0) {
		age_fail(rep, AGE_HEADER_FAILURE, "HKDF failed: %s", err_openssl_reason());
		goto fail;
	}
	rc = age_wrap(wrap_key, st->body, AGE_BODY, file_key, 0) == 0 ? 0 : 1;
fail:
	secure_wipe(shared, sizeof(shared));
	secure_wipe(wrap_key, sizeof(wrap_key));
	return rc;
}

/* Unwrap a scrypt stanza (age.md "scrypt recipient stanza"): 1 if the
 * passphrase is not the one it was sealed with. */
static int age_unwrap_scrypt(const struct age_stanza *st, const char *passphrase,
			     uint8_t file_key[AGE_FILE_KEY], struct age_failure_report *rep)
{
	uint8_t salt[sizeof(AGE_SCRYPT_LABEL) - 1 + 16], wrap_key[32];
	uint64_t n = (uint64_t)1 << st->log2n;
	/* scrypt with r = 8 needs 1 KiB per unit of N, plus small buffers. */
	uint64_t maxmem = 1024 * (n + 2) + 64 * 1024;
	int rc = -1;

	memcpy(salt, AGE_SCRYPT_LABEL, sizeof(AGE_SCRYPT_LABEL) - 1);
	memcpy(salt + sizeof(AGE_SCRYPT_LABEL) - 1, st->arg, 16);
	if (EVP_PBE_scrypt(passphrase, strlen(passphrase), salt, sizeof(salt), n, 8, 1, maxmem, wrap_key,
			   sizeof(wrap_key)) != 1) {
		age_fail(rep, AGE_HEADER_FAILURE, "scrypt with work factor %d failed (out of memory?): %s",
			 st->log2n, err_openssl_reason());
		goto fail;
	}
	rc = age_wrap(wrap_key, st->body, AGE_BODY, file_key, 0) == 0 ? 0 : 1;
fail:
	secure_wipe(wrap_key, sizeof(wrap_key));
	return rc;
}

/* Find the file key in any stanza we can open. */
int age_unwrap(const struct age_header *h, const struct age_identity *ids, size_t n,
	       const char *passphrase, uint8_t file_key[AGE_FILE_KEY], struct age_failure_report *rep)
{
	if (h->n_scrypt > 0 && h->n_total != 1)
		return age_fail(rep, AGE_HEADER_FAILURE, "a scrypt stanza must be the only stanza");
	for (size_t s = 0; s < h->n_known; s++) {
		const struct age_stanza *st = &h->known[s];
		if (st->type == AGE_STANZA_SCRYPT && passphrase) {
			int rc = age_unwrap_scrypt(st, passphrase, file_key, rep);
			if (rc <= 0)
				return rc;
		}
		for (size_t i = 0; st->type == AGE_STANZA_X25519 && i < n; i++) {
			int rc = age_unwrap_x25519(st, &ids[i], file_key, rep);
			if (rc <= 0)
				return rc;
		}
	}
	if (n == 0 && !passphrase)
		return age_fail(rep, AGE_NO_MATCH, "no identity or passphrase was given");
	return age_fail(rep, AGE_NO_MATCH, "%s%zu identit%s open%s none of the file's %zu stanza%s",
			passphrase ? "the passphrase and " : "", n, n == 1 ? "y" : "ies",
			n == 1 && !passphrase ? "s" : "", h->n_total, h->n_total == 1 ? "" : "s");
}
