/*
 * bech32: the BIP173 encoding (original checksum, not Bech32m) that age uses
 * for its keys: "age1..." recipients and "AGE-SECRET-KEY-1..." identities.
 *
 * Unlike BIP173 there is no 90-character limit (age drops it), and the data
 * is carried as 8-bit bytes (converted to and from 5-bit groups here).
 */
#ifndef DRCTL_BECH32_H
#define DRCTL_BECH32_H

#include <stddef.h>
#include <stdint.h>

/* Encode hrp + data as "<hrp>1<data><checksum>", lower case, or upper case
 * when `upper`.  hrp must be lower case printable ASCII.  Returns the length
 * written (out is NUL-terminated), or 0 if out_cap is too small or the hrp
 * is invalid. */
size_t bech32_encode(const char *hrp, const uint8_t *data, size_t len, int upper,
		     char *out, size_t out_cap);

/* Decode a whole string (no surrounding spaces).  Mixed case is refused.  The
 * hrp is returned as written (so a caller can insist on a case), the data as
 * bytes; padding bits must be zero.  Returns 0, or -1 if the string is not
 * valid Bech32 or a buffer is too small. */
int bech32_decode(const char *text, char *hrp, size_t hrp_cap, uint8_t *data,
		  size_t *len, size_t data_cap);

#endif
