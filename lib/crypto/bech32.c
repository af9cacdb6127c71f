/*
 * bech32: BIP173 ("Base32 address format"), the original checksum constant 1.
 *
 * age keys are Bech32 strings: the checksum catches typing errors in keys that
 * operators copy by hand.  The algorithm is BIP173's: the human readable part
 * is expanded (high bits, a zero, low bits), followed by the 5-bit data
 * groups, and the BCH polymod over all of it (with six zero groups appended)
 * XOR 1 is the six-group checksum.  Decoding recomputes the polymod over the
 * whole string, which must come out as 1.
 */
#include "lib/crypto/bech32.h"

#include <string.h>

static const char bech32_charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t bech32_polymod_step(uint32_t chk, uint8_t v)
{
	static const uint32_t gen[5] = { 0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3 };
	uint32_t top = chk >> 25;

	chk = (chk & 0x1ffffff) << 5 ^ v;
	for (int i = 0; i < 5; i++)
		if ((top >> i) & 1)
			chk ^= gen[i];
	return chk;
}

static uint32_t bech32_hrp_checksum(const char *hrp, size_t hlen)
{
	uint32_t chk = 1;

	for (size_t i = 0; i < hlen; i++)
		chk = bech32_polymod_step(chk, (uint8_t)((unsigned char)hrp[i] >> 5));
	chk = bech32_polymod_step(chk, 0);
	for (size_t i = 0; i < hlen; i++)
		chk = bech32_polymod_step(chk, (uint8_t)(hrp[i] & 31));
	return chk;
}

static int bech32_charset_value(char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(bech32_charset, c);
	return p ? (int)(p - bech32_charset) : -1;
}

static char to_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static char to_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

size_t bech32_encode(const char *hrp, const uint8_t *data, size_t len, int upper,
		     char *out, size_t out_cap)
{
	size_t hlen = strlen(hrp), groups = (len * 8 + 4) / 5, o = 0;
	uint32_t chk, acc = 0;
	unsigned bits = 0;

	if (hlen == 0 || hlen + 1 + groups + 6 + 1 > out_cap)
		return 0;
	for (size_t i = 0; i < hlen; i++)
		if (hrp[i] < 33 || hrp[i] > 126 || (hrp[i] >= 'A' && hrp[i] <= 'Z'))
			return 0;
	chk = bech32_hrp_checksum(hrp, hlen);
	memcpy(out, hrp, hlen);
	o = hlen;
	out[o++] = '1';
	for (size_t i = 0; i < len; i++) {
		acc = acc << 8 | data[i];
		bits += 8;
		while (bits >= 5) {
			uint8_t v = (uint8_t)((acc >> (bits - 5)) & 31);
			bits -= 5;
			chk = bech32_polymod_step(chk, v);
			out[o++] = bech32_charset[v];
		}
		acc &= (1u << bits) - 1;
	}
	if (bits > 0) {
		uint8_t v = (uint8_t)((acc << (5 - bits)) & 31);
		chk = bech32_polymod_step(chk, v);
		out[o++] = bech32_charset[v];
	}
	for (int i = 0; i < 6; i++)
		chk = bech32_polymod_step(chk, 0);
	chk ^= 1;
	for (int i = 0; i < 6; i++)
		out[o++] = bech32_charset[(chk >> (5 * (5 - i))) & 31];
	out[o] = '\0';
	if (upper)
		for (size_t i = 0; i < o; i++)
			out[i] = to_upper(out[i]);
	return o;
}

int bech32_decode(const char *text, char *hrp, size_t hrp_cap, uint8_t *data,
		  size_t *len, size_t data_cap)
{
	size_t n = strlen(text), sep, hlen, dlen, o = 0;
	int has_lower = 0, has_upper = 0;
	char lower_hrp[256];
	uint32_t chk, acc = 0;
	unsigned bits = 0;

	for (size_t i = 0; i < n; i++) {
		char c = text[i];
		if (c < 33 || c > 126)
			return -1;
		has_lower |= c >= 'a' && c <= 'z';
		has_upper |= c >= 'A' && c <= 'Z';
	}
	if (has_lower && has_upper)
		return -1;
	/* The separator is the last '1': the hrp may itself contain a '1'. */
	sep = n;
	while (sep > 0 && text[sep - 1] != '1')
		sep--;
	if (sep == 0)
		return -1;
	hlen = sep - 1;
	dlen = n - sep;
	if (hlen == 0 || hlen >= hrp_cap || hlen >= sizeof(lower_hrp) || dlen < 6)
		return -1;
	for (size_t i = 0; i < hlen; i++)
		lower_hrp[i] = to_lower(text[i]);
	chk = bech32_hrp_checksum(lower_hrp, hlen);
	for (size_t i = 0; i < dlen; i++) {
		int v = bech32_charset_value(to_lower(text[sep + i]));
		if (v < 0)
			return -1;
		chk = bech32_polymod_step(chk, (uint8_t)v);
		if (i >= dlen - 6)
			continue; /* checksum groups carry no data */
		acc = acc << 5 | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (o >= data_cap)
				return -1;
			data[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (chk != 1)
		return -1;
	/* At most 4 bits of zero padding (BIP173's convertbits, pad = false). */
	if (bits > 4 || acc != 0)
		return -1;
	memcpy(hrp, text, hlen);
	hrp[hlen] = '\0';
	*len = o;
	return 0;
}
