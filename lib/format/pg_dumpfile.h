/*
 * pg_dumpfile: reading pg_dump's custom format as it streams past, without
 * pg_restore: the header and table of contents (which tables have data, the
 * sequence values pg_dump wrote), and the data blocks (exact row counts,
 * COPY text sizes, and routing each block to a loader).  Pure parsing: no
 * connection, no I/O.
 */
#ifndef DRCTL_FORMAT_PG_DUMPFILE_H
#define DRCTL_FORMAT_PG_DUMPFILE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define PG_NAME_MAX 63 /* NAMEDATALEN - 1: longer identifiers are truncated by the server */

#define PG_TOC_MAX (16u << 20)
/* Parse the header and table of contents at the start of a custom-format
 * dump.  0: parsed, `info` gets "tables" ({"schema.table": dump id} per TABLE
 * DATA entry), "sequences" ({"schema.seq": {"last_value","is_called"}} from
 * the SEQUENCE SET entries), "data_section" and "post_data" ([{"id", "desc",
 * "deps": [dump ids]}] of every entry pg_restore --section=data, or
 * post-data, restores, in order), "dbname", "server_version",
 * "pg_dump_version", "entries", "toc_end" (bytes), "int_size"; 1: more bytes
 * needed; -1: not readable (reason in why). */
int pg_toc_parse(const unsigned char *buf, size_t len, json_t *info, char *why, size_t cap);

/* The data blocks of a custom-format dump written with --compress=0, read
 * as they stream past: feed it every byte after the TOC (pg_toc_parse's
 * "toc_end").  pg_data_reader_rows then gives the exact rows of a TABLE DATA
 * entry by its dump id (pg_toc_parse's "tables" values), -1 when the dump
 * had no block for it; pg_data_reader_bytes its COPY text's size.  With a
 * route, every block is also handed to route(arg, dump id, piece, bytes,
 * len) in order, as a valid block of the same format (header included);
 * with `coalesce` > 0, the chunks of table data re-framed into chunks of up
 * to that many bytes (pg_restore sends one chunk per CopyData message), cut
 * at a row's end wherever a row fits, and the piece says what each hand-on
 * is, so that a table's rows can be shared out between loaders: the head
 * and the end go to each, every ROWS chunk to any one (a row that goes on
 * in PART chunks stays with the loader it began with).
 * pg_data_reader_route returns -1 when out of memory.  Feeding and finishing
 * return -1 with the reason in why on a malformed stream, feeding -2 when
 * the route returned non-zero. */
struct pg_data_reader;
enum pg_piece {
	PG_PIECE_HEAD, /* a block's type byte and dump id */
	PG_PIECE_ROWS, /* a chunk of COPY text ending at a row's end */
	PG_PIECE_PART, /* a chunk of COPY text ending inside a row */
	PG_PIECE_END,  /* a table data block's end: COPY's end marker chunk and the zero length */
	PG_PIECE_RAW,  /* block bytes as they came (large objects; any block when not coalescing) */
};
typedef int (*pg_block_route_fn)(void *arg, int64_t dump_id, enum pg_piece piece, const unsigned char *buf,
				 size_t len);
struct pg_data_reader *pg_data_reader_new(int int_size);
int pg_data_reader_route(struct pg_data_reader *c, pg_block_route_fn route, void *arg, size_t coalesce);
int pg_data_reader_feed(struct pg_data_reader *c, const unsigned char *buf, size_t len, char *why, size_t cap);
int pg_data_reader_finish(const struct pg_data_reader *c, char *why, size_t cap);
int64_t pg_data_reader_rows(const struct pg_data_reader *c, int64_t dump_id);
uint64_t pg_data_reader_bytes(const struct pg_data_reader *c, int64_t dump_id);
void pg_data_reader_free(struct pg_data_reader *c);

#endif
