/*
 * redis_primary: the primary's side of Redis replication, as little of it as
 * a full synchronisation needs, so that a Redis server can be told
 * `REPLICAOF <here>` and load an RDB it receives from drctl at the speed of
 * loading its own dump file.
 *
 * The protocol (https://redis.io/docs/latest/operate/oss_and_stack/management/replication/
 * and the PSYNC command's page): the replica connects and sends, as RESP
 * arrays, PING, maybe AUTH, REPLCONF listening-port / ip-address / capa eof
 * capa psync2, then PSYNC <replid> <offset>.  The primary answers +PONG,
 * +OK, and "+FULLRESYNC <40-character replication id> <offset>", then the
 * RDB.  With the "eof" capability the RDB is sent as "$EOF:<40 random
 * characters>\r\n", the bytes, and the same 40 characters: the replica
 * writes what it receives aside and replaces its data set only once the
 * mark has arrived.  So the mark is the commit: a payload that stops short
 * of it (a hash that did not match, drctl killed) leaves the server's data
 * as it was.  Only that form is offered; a replica that does not announce
 * "eof" (older than Redis 2.8.18) is refused.
 *
 * Plain TCP only: a server configured with tls-replication would expect TLS.
 */
#ifndef DRCTL_CLIENTS_REDIS_PRIMARY_H
#define DRCTL_CLIENTS_REDIS_PRIMARY_H

#include <stddef.h>

#include "lib/core/error.h"

struct redis_primary;

/* Listen on host:port (port 0: a free one, see redis_primary_port). */
int redis_primary_listen(struct redis_primary **out, const char *host, int port, int timeout_seconds,
			 struct drctl_error *err);
int redis_primary_port(const struct redis_primary *p);
/* Wait up to the timeout for a replica to connect, answer its handshake up
 * to its PSYNC, and begin the payload.  `display` names the server in
 * messages. */
int redis_primary_begin_sync(struct redis_primary *p, const char *display, struct drctl_error *err);
/* Payload bytes (the RDB), as they come. */
int redis_primary_send(struct redis_primary *p, const void *buf, size_t len, struct drctl_error *err);
/* The end mark: the replica now replaces its data set with the payload. */
int redis_primary_commit(struct redis_primary *p, struct drctl_error *err);
/* Read and drop what the replica sends after the payload (REPLCONF ACK), so
 * its writes never block; 1 when a replica connected again (it could not
 * load the payload and retries the synchronisation), else 0. */
int redis_primary_poll(struct redis_primary *p);
void redis_primary_close(struct redis_primary *p);

#endif
