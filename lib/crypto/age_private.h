/*
 * age_private: what age.c (the format) and age_keys.c (keys and identity
 * files) share.  Not part of the public face (age.h).
 */
#ifndef DRCTL_AGE_PRIVATE_H
#define DRCTL_AGE_PRIVATE_H

#include <stdint.h>

/* X25519 public key of a 32-byte secret; 0 or -1. */
int age_x25519_public(const uint8_t secret[32], uint8_t pub[32]);

#endif
