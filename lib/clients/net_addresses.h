/*
 * net_addresses: the addresses a host name resolves to, as text, so that
 * two endpoints written differently ("localhost", "127.0.0.1") can be
 * told to be the same server.
 */
#ifndef DRCTL_CLIENTS_NET_ADDRESSES_H
#define DRCTL_CLIENTS_NET_ADDRESSES_H

#include <jansson.h>

/* A new array of the host's addresses ("127.0.0.1", "::1"); when it does
 * not resolve, of the host as it is written. */
json_t *net_host_addresses(const char *host, const char *port);

#endif
