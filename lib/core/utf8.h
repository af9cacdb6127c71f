/*
 * utf8: strict UTF-8 (RFC 3629): no overlong forms, no UTF-16 surrogates,
 * nothing above U+10FFFF.  Object names and metric label values must be
 * valid UTF-8; both ask here.
 */
#ifndef DRCTL_CORE_UTF8_H
#define DRCTL_CORE_UTF8_H

#include <stddef.h>

/* Length of the UTF-8 sequence at p (1..4), or 0 when it is not one (a
 * sequence cut short by the string's end included). */
size_t utf8_sequence_length(const unsigned char *p);
/* 1 when the whole string s is valid UTF-8. */
int utf8_valid(const char *s);

#endif
