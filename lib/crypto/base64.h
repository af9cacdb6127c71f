/*
 * base64: the standard alphabet (RFC 4648 section 4), in the two forms drctl's
 * formats use.  age's header wants no padding and only canonical encodings
 * (a reader must reject anything else); minisign's files use padding.
 */
#ifndef DRCTL_BASE64_H
#define DRCTL_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Length of the encoding of n bytes, without the terminating NUL. */
size_t base64_encoded_len(size_t n, int padded);
/* Encode; out must hold base64_encoded_len(n, padded) + 1 bytes.  Returns the length. */
size_t base64_encode(const uint8_t *in, size_t n, char *out, int padded);
/* Decode strictly: only the standard alphabet; with padded, '=' padding is
 * required exactly where due; without, any '=' is refused; non-canonical
 * encodings (unused low bits set) are refused.  Returns the decoded length,
 * or -1.  out must hold at least (len * 3) / 4 + 3 bytes. */
long base64_decode(const char *in, size_t len, uint8_t *out, size_t out_cap, int padded);

#endif
