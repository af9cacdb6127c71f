/*
 * base64: a strict codec for the standard alphabet (RFC 4648 section 4).
 *
 * Written here rather than taken from OpenSSL because EVP_EncodeBlock always
 * pads and EVP_DecodeBlock accepts what age must refuse.  age (C2SP age.md,
 * "Header") requires unpadded, canonical encodings: the unused low bits of
 * the last character must be zero, so every byte string has exactly one
 * accepted text.  minisign's files use the padded form, checked just as
 * strictly.  The decoder is table driven and never reads past `len`.
 */
#include "lib/crypto/base64.h"

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Value of an alphabet character, or -1. */
static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

size_t base64_encoded_len(size_t n, int padded)
{
	if (padded)
		return (n + 2) / 3 * 4;
	return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

size_t base64_encode(const uint8_t *in, size_t n, char *out, int padded)
{
	size_t i = 0, o = 0;

	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = b64_alphabet[(v >> 6) & 63];
		out[o++] = b64_alphabet[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		if (padded) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = b64_alphabet[(v >> 6) & 63];
		if (padded)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

long base64_decode(const char *in, size_t len, uint8_t *out, size_t out_cap, int padded)
{
	size_t body = len, o = 0, i;
	uint32_t acc = 0;
	unsigned bits = 0;

	if (padded) {
		/* Padding makes the length a multiple of 4, with one or two '='
		 * at the end and nowhere else. */
		if (len % 4 != 0)
			return -1;
		if (body > 0 && in[body - 1] == '=')
			body--;
		if (body > 0 && in[body - 1] == '=')
			body--;
	}
	/* A lone sixth of a byte cannot encode anything. */
	if (body % 4 == 1)
		return -1;
	if (body / 4 * 3 + (body % 4 ? body % 4 - 1 : 0) > out_cap)
		return -1;
	for (i = 0; i < body; i++) {
		int v = b64_value((unsigned char)in[i]);
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* Canonical: the bits left over after the last whole byte are zero. */
	if (acc != 0)
		return -1;
	return (long)o;
}
