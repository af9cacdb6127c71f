/*
 * pg_private: what the files of the pg module share (pg.c, pg_tool.c); not
 * for use outside lib/clients.  pg.h is the module's public face.
 */
#ifndef DRCTL_PG_PRIVATE_H
#define DRCTL_PG_PRIVATE_H

#include <stddef.h>

/* A server's or a tool's message on one line, without the trailing newline. */
void pg_one_line(const char *in, char *out, size_t cap);

#endif
