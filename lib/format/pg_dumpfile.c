/*
 * pg_dumpfile: reading pg_dump's custom format as it streams past, without
 * pg_restore: the header and table of contents (which tables have data, the
 * sequence values pg_dump wrote), and exact row counts from the data blocks.
 * The backup uses both for its fingerprints; deep verify uses the TOC reader;
 * the restore routes the data blocks to its loaders.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/format/pg_dumpfile.h"

/* ------------------------------------------------------------ custom-format TOC */

/*
 * The format (pg_backup_archiver.c, ReadHead/ReadToc; the custom format's
 * extra field is a data offset): "PGDMP", version major/minor/revision, int
 * size, offset size, format (1 = custom), compression (an int before 1.15,
 * one byte from 1.15), creation time (7 ints), database name, server and
 * pg_dump version strings, then the entry count and the entries.  An int is
 * a sign byte and `int size` little-endian bytes; a string is an int length
 * (-1 is NULL) and its bytes.  Versions 1.12 to 1.16 (PostgreSQL 11 to 17)
 * are read; anything else is refused rather than guessed.
 */

struct toc_reader {
	const unsigned char *start, *p, *end;
	int int_size, off_size;
	int need_more; /* ran out of bytes: not damage, just wait for more */
};

#define VERS(a, b) ((a) * 100 + (b))

/* pg_backup.h, teSection */
#define PG_SECTION_NONE 1
#define PG_SECTION_DATA 3
#define PG_SECTION_POST_DATA 4

static int toc_byte(struct toc_reader *r, int *out)
{
	if (r->p >= r->end)
		return r->need_more = 1, -1;
	*out = *r->p++;
	return 0;
}

static int toc_int(struct toc_reader *r, int64_t *out)
{
	int sign, b;
	uint64_t v = 0;

	if (toc_byte(r, &sign) != 0)
		return -1;
	for (int i = 0; i < r->int_size; i++) {
		if (toc_byte(r, &b) != 0)
			return -1;
		if (i < 8)
			v |= (uint64_t)b << (8 * i);
	}
	if (v > INT32_MAX * 2ull)
		return -2;
	*out = sign ? -(int64_t)v : (int64_t)v;
	return 0;
}

/* A string, borrowed from the buffer; *s NULL for a NULL string. */
static int toc_str(struct toc_reader *r, const char **s, size_t *len)
{
	int64_t n;
	int rc = toc_int(r, &n);

	if (rc != 0)
		return rc;
	*s = NULL;
	*len = 0;
	if (n < 0)
		return 0;
	if (n > (int64_t)PG_TOC_MAX)
		return -2;
	if ((size_t)(r->end - r->p) < (size_t)n)
		return r->need_more = 1, -1;
	*s = (const char *)r->p;
	*len = (size_t)n;
	r->p += n;
	return 0;
}

/* "SELECT pg_catalog.setval('public.s', 3838, true);" -> 3838, 1 */
static int setval_parse(const char *defn, size_t len, long long *value, int *called)
{
	char tmp[512];
	const char *close, *comma;

	if (len >= sizeof(tmp))
		return -1;
	memcpy(tmp, defn, len);
	tmp[len] = '\0';
	if (!(close = strrchr(tmp, ')')))
		return -1;
	*called = close - tmp >= 4 && !strncmp(close - 4, "true", 4);
	tmp[close - tmp] = '\0';
	if (!(comma = strrchr(tmp, ',')))
		return -1;
	tmp[comma - tmp] = '\0';
	if (!(comma = strrchr(tmp, ',')))
		return -1;
	*value = strtoll(comma + 1, NULL, 10);
	return 0;
}

/* A read that failed: 1 when the bytes ran out (wait for more), else -1
 * with why saying where the damage is. */
static int toc_damaged(const struct toc_reader *r, int rc, char *why, size_t cap)
{
	if (rc == -1 && r->need_more)
		return 1;
	snprintf(why, cap, "the table of contents is damaged near byte %zu", (size_t)(r->p - r->start));
	return -1;
}

/* Read expr; on failure return what toc_damaged says (r, why, cap in scope). */
#define NEED(expr)                                             \
	do {                                                   \
		int rc_ = (expr);                              \
		if (rc_ != 0)                                  \
			return toc_damaged(r, rc_, why, cap);  \
	} while (0)

/* The archive header, up to and with the entry count; 0, 1 (more bytes
 * needed) or -1. */
static int toc_header(struct toc_reader *r, json_t *info, int *version, int64_t *count, char *why, size_t cap)
{
	int vmaj, vmin, vrev = 0, format, b;
	int64_t v;
	const char *s;
	size_t sl;

	if (r->end - r->p < 5)
		return 1;
	if (memcmp(r->p, "PGDMP", 5) != 0)
		return snprintf(why, cap, "not a pg_dump archive (no PGDMP signature)"), -1;
	r->p += 5;
	NEED(toc_byte(r, &vmaj));
	NEED(toc_byte(r, &vmin));
	NEED(toc_byte(r, &vrev));
	*version = VERS(vmaj, vmin);
	if (*version < VERS(1, 12) || *version > VERS(1, 16))
		return snprintf(why, cap, "pg_dump archive version %d.%d.%d is not one drctl reads (1.12 to 1.16)", vmaj,
				vmin, vrev),
		       -1;
	NEED(toc_byte(r, &r->int_size));
	NEED(toc_byte(r, &r->off_size));
	if (r->int_size < 1 || r->int_size > 8 || r->off_size < 1 || r->off_size > 8)
		return snprintf(why, cap, "implausible integer sizes in the archive header"), -1;
	NEED(toc_byte(r, &format));
	if (format != 1)
		return snprintf(why, cap, "archive format %d, expected 1 (custom)", format), -1;
	if (*version >= VERS(1, 15))
		NEED(toc_byte(r, &b));
	else
		NEED(toc_int(r, &v));
	for (int i = 0; i < 7; i++) /* creation time */
		NEED(toc_int(r, &v));
	NEED(toc_str(r, &s, &sl));
	json_object_set_new(info, "dbname", json_stringn(s ? s : "", sl));
	NEED(toc_str(r, &s, &sl));
	json_object_set_new(info, "server_version", json_stringn(s ? s : "", sl));
	NEED(toc_str(r, &s, &sl));
	json_object_set_new(info, "pg_dump_version", json_stringn(s ? s : "", sl));
	NEED(toc_int(r, count));
	if (*count < 0 || *count > 10000000)
		return snprintf(why, cap, "implausible entry count %lld", (long long)*count), -1;
	return 0;
}

/* What the TOC says of one entry, borrowed from the buffer. */
struct toc_entry {
	int64_t dump_id, section;
	const char *tag, *desc, *ns, *defn;
	size_t tagl, descl, nsl, defnl;
};

/* One entry; its dependencies (dump ids) replace deps' contents. */
static int toc_entry_read(struct toc_reader *r, int version, struct toc_entry *e, json_t *deps, char *why, size_t cap)
{
	int64_t v;
	const char *s;
	size_t sl;
	int b;

	NEED(toc_int(r, &e->dump_id));
	NEED(toc_int(r, &v)); /* had dumper */
	NEED(toc_str(r, &s, &sl)); /* table oid */
	NEED(toc_str(r, &s, &sl)); /* oid */
	NEED(toc_str(r, &e->tag, &e->tagl));
	NEED(toc_str(r, &e->desc, &e->descl));
	NEED(toc_int(r, &e->section));
	NEED(toc_str(r, &e->defn, &e->defnl)); /* definition */
	NEED(toc_str(r, &s, &sl)); /* drop statement */
	NEED(toc_str(r, &s, &sl)); /* copy statement */
	NEED(toc_str(r, &e->ns, &e->nsl));
	NEED(toc_str(r, &s, &sl)); /* tablespace */
	if (version >= VERS(1, 14))
		NEED(toc_str(r, &s, &sl)); /* table access method */
	if (version >= VERS(1, 16))
		NEED(toc_int(r, &v)); /* relkind */
	NEED(toc_str(r, &s, &sl)); /* owner */
	NEED(toc_str(r, &s, &sl)); /* "false": with oids */
	json_array_clear(deps);
	for (int d = 0;; d++) {         /* dependencies (dump ids as text), up to a NULL */
		char idtext[24];
		NEED(toc_str(r, &s, &sl));
		if (!s)
			break;
		if (d > 1000000 || sl >= sizeof(idtext))
			return snprintf(why, cap, "implausible dependency list"), -1;
		memcpy(idtext, s, sl);
		idtext[sl] = '\0';
		json_array_append_new(deps, json_integer(strtoll(idtext, NULL, 10)));
	}
	NEED(toc_byte(r, &b)); /* data offset: flag, then off_size bytes */
	for (int k = 0; k < r->off_size; k++)
		NEED(toc_byte(r, &b));
	return 0;
}

#undef NEED

/* Note a table's data entry under "tables" and a sequence's value under
 * "sequences", both by "schema.name". */
static void toc_entry_note(const struct toc_entry *e, json_t *data, json_t *seqs)
{
	char key[2 * PG_NAME_MAX + 8];
	long long value;
	int called;

	if (!e->tag || !e->desc)
		return;
	snprintf(key, sizeof(key), "%.*s.%.*s", (int)(e->nsl > PG_NAME_MAX ? PG_NAME_MAX : e->nsl), e->ns ? e->ns : "",
		 (int)(e->tagl > PG_NAME_MAX ? PG_NAME_MAX : e->tagl), e->tag);
	if (e->descl == 10 && !memcmp(e->desc, "TABLE DATA", 10))
		json_object_set_new(data, key, json_integer((json_int_t)e->dump_id));
	else if (e->descl == 12 && !memcmp(e->desc, "SEQUENCE SET", 12) && e->defn &&
		 setval_parse(e->defn, e->defnl, &value, &called) == 0)
		json_object_set_new(seqs, key, json_pack("{s:I, s:b}", "last_value", (json_int_t)value, "is_called", called));
}

int pg_toc_parse(const unsigned char *buf, size_t len, json_t *info, char *why, size_t cap)
{
	json_t *data = json_object(), *seqs = json_object(), *data_section = json_array(), *post_data = json_array(),
	       *deps = json_array();
	int64_t current_section = 0, count;
	struct toc_reader r = { .start = buf, .p = buf, .end = buf + len, .int_size = 4 };
	struct toc_entry e;
	int version, rc;

	json_object_set_new(info, "tables", data);
	json_object_set_new(info, "sequences", seqs);
	json_object_set_new(info, "data_section", data_section);
	json_object_set_new(info, "post_data", post_data);
	json_object_set_new(info, "deps_scratch", deps); /* owned by info, so an early return cannot leak it */
	if ((rc = toc_header(&r, info, &version, &count, why, cap)) != 0)
		return rc;
	for (int64_t i = 0; i < count; i++) {
		if ((rc = toc_entry_read(&r, version, &e, deps, why, cap)) != 0)
			return rc;
		/* Entries of no section (comments, ACLs) belong to the section
		 * before them, as pg_restore --section reads it. */
		if (e.section != PG_SECTION_NONE)
			current_section = e.section;
		if (current_section == PG_SECTION_DATA || current_section == PG_SECTION_POST_DATA)
			json_array_append_new(current_section == PG_SECTION_DATA ? data_section : post_data,
					      json_pack("{s:I, s:s%, s:o}", "id", (json_int_t)e.dump_id, "desc",
							e.desc ? e.desc : "", e.desc ? e.descl : 0, "deps", json_deep_copy(deps)));
		toc_entry_note(&e, data, seqs);
	}
	json_object_del(info, "deps_scratch");
	json_object_set_new(info, "entries", json_integer((json_int_t)count));
	json_object_set_new(info, "toc_end", json_integer((json_int_t)(r.p - buf)));
	json_object_set_new(info, "int_size", json_integer(r.int_size));
	return 0;
}

/* ------------------------------------------------------------ the data blocks */

/*
 * After the TOC come the data blocks (pg_backup_custom.c, _StartData,
 * _CustomWriteFunc, _EndData, _StartBlobs...): a block type byte (1 = table
 * data, 3 = large objects), the entry's dump id, then chunks (an int length
 * and that many bytes) up to a zero length; large objects repeat (oid,
 * chunks) up to a zero oid.  With --compress=0 the chunks of a TABLE DATA
 * block are the table's COPY text, where a row ends with a newline and a
 * newline inside a value is written as "\n", so counting newline bytes
 * counts rows exactly, in the very snapshot pg_dump read.
 *
 * With a route set, every block is handed on, whole, together with its dump
 * id, so that it can be passed to whichever consumer loads that entry.
 * With coalescing on, a TABLE DATA block's chunks are re-framed on the way:
 * pg_dump writes one chunk per row, and pg_restore sends each chunk to the
 * server as one CopyData message; joined into chunks of up to `coalesce`
 * bytes, the same COPY text travels in a few large messages (COPY data need
 * not be split at rows, but a chunk is cut after its last whole row, the
 * rest carried into the next, so that whole chunks of rows can go to
 * different loaders).  Large-object blocks pass byte for byte.
 */
enum { RC_BLOCK, RC_ID, RC_LEN, RC_DATA, RC_BLOB_OID };

struct pg_data_reader {
	int int_size;
	int state, in_blobs;
	int int_pos, int_sign;
	uint64_t int_val;
	uint64_t remaining;
	uint64_t chunk_len;      /* length of the chunk being read */
	unsigned char tail[5];   /* its first bytes, to recognise the end marker */
	int last_was_marker;     /* the block's latest chunk was the end marker */
	int64_t cur_id;
	int64_t *rows;   /* by dump id; -1 = no block */
	uint64_t *bytes; /* by dump id: chunk bytes */
	size_t rows_cap;
	/* routing */
	pg_block_route_fn route;
	void *route_arg;
	int in_block, id_known;
	unsigned char head[2 + 8]; /* a block's type byte and id */
	size_t head_len;
	/* coalescing: frame[0, 1 + int_size) is the chunk's length, then the data */
	size_t coalesce, frame_len;
	int coalescing; /* this block's chunks are being re-framed */
	unsigned char *frame;
};

struct pg_data_reader *pg_data_reader_new(int int_size)
{
	struct pg_data_reader *c = calloc(1, sizeof(*c));
	if (c)
		c->int_size = int_size;
	return c;
}

int pg_data_reader_route(struct pg_data_reader *c, pg_block_route_fn route, void *arg, size_t coalesce)
{
	c->route = route;
	c->route_arg = arg;
	c->coalesce = coalesce;
	if (coalesce && !(c->frame = malloc(1 + (size_t)c->int_size + coalesce)))
		return -1;
	return 0;
}

void pg_data_reader_free(struct pg_data_reader *c)
{
	if (c) {
		free(c->rows);
		free(c->bytes);
		free(c->frame);
		free(c);
	}
}

int64_t pg_data_reader_rows(const struct pg_data_reader *c, int64_t dump_id)
{
	return dump_id >= 0 && (size_t)dump_id < c->rows_cap ? c->rows[dump_id] : -1;
}

uint64_t pg_data_reader_bytes(const struct pg_data_reader *c, int64_t dump_id)
{
	return dump_id >= 0 && (size_t)dump_id < c->rows_cap ? c->bytes[dump_id] : 0;
}

/* One byte of an int; 1 when the int is complete. */
static int rc_int_byte(struct pg_data_reader *c, unsigned char b, int64_t *out)
{
	if (c->int_pos == 0) {
		c->int_sign = b;
		c->int_val = 0;
	} else if (c->int_pos <= 8) {
		c->int_val |= (uint64_t)b << (8 * (c->int_pos - 1));
	}
	if (c->int_pos++ < c->int_size)
		return 0;
	c->int_pos = 0;
	*out = c->int_sign ? -(int64_t)c->int_val : (int64_t)c->int_val;
	return 1;
}

static int rc_start_block(struct pg_data_reader *c, int64_t id, char *why, size_t cap)
{
	if (id < 0 || id > 100000000)
		return snprintf(why, cap, "implausible dump id %lld in a data block", (long long)id), -1;
	if ((size_t)id >= c->rows_cap) {
		size_t n = (size_t)id + 1024;
		int64_t *grown = realloc(c->rows, n * sizeof(*grown));
		uint64_t *grown_bytes;
		if (!grown)
			return snprintf(why, cap, "out of memory"), -1;
		c->rows = grown;
		if (!(grown_bytes = realloc(c->bytes, n * sizeof(*grown_bytes))))
			return snprintf(why, cap, "out of memory"), -1;
		c->bytes = grown_bytes;
		for (size_t i = c->rows_cap; i < n; i++) {
			grown[i] = -1;
			grown_bytes[i] = 0;
		}
		c->rows_cap = n;
	}
	if (!c->in_blobs)
		c->rows[id] = 0;
	c->cur_id = id;
	return 0;
}

/* The archive's int: a sign byte, then int_size bytes, least significant first. */
static void rc_put_int(const struct pg_data_reader *c, unsigned char *out, uint64_t v)
{
	out[0] = 0;
	for (int i = 0; i < c->int_size; i++)
		out[1 + i] = i < 8 ? (unsigned char)(v >> (8 * i)) : 0;
}

/* Send the first `len` bytes of the chunk being joined; the rest, if any,
 * begins the next one. */
static int rc_send_frame(struct pg_data_reader *c, size_t len)
{
	size_t hdr = 1 + (size_t)c->int_size, keep = c->frame_len - len;
	unsigned char *data = c->frame + hdr;

	if (len == 0)
		return 0;
	rc_put_int(c, c->frame, len);
	if (c->route(c->route_arg, c->cur_id, data[len - 1] == '\n' ? PG_PIECE_ROWS : PG_PIECE_PART, c->frame,
		     hdr + len) != 0)
		return -1;
	memmove(data, data + len, keep);
	c->frame_len = keep;
	return 0;
}

/* Send the chunk being joined, if any. */
static int rc_flush_frame(struct pg_data_reader *c)
{
	return rc_send_frame(c, c->frame_len);
}

/* The chunk is full: send it up to its last row's end (all of it when it
 * holds no row's end: one long row goes on in the next). */
static int rc_flush_full_frame(struct pg_data_reader *c)
{
	const unsigned char *data = c->frame + 1 + (size_t)c->int_size;
	const unsigned char *last = memrchr(data, '\n', c->frame_len);

	return rc_send_frame(c, last ? (size_t)(last - data) + 1 : c->frame_len);
}

/* The block's end: the rows joined so far, COPY's end marker as a chunk of
 * its own, and the zero length. */
static int rc_end_frames(struct pg_data_reader *c)
{
	size_t hdr = 1 + (size_t)c->int_size;
	unsigned char tail[2 * (1 + 8) + 5];

	if (rc_flush_frame(c) != 0)
		return -1;
	rc_put_int(c, tail, 5);
	memcpy(tail + hdr, c->tail, 5);
	rc_put_int(c, tail + hdr + 5, 0);
	return c->route(c->route_arg, c->cur_id, PG_PIECE_END, tail, 2 * hdr + 5);
}

static int rc_join(struct pg_data_reader *c, const unsigned char *p, size_t n)
{
	size_t hdr = 1 + (size_t)c->int_size;

	while (n > 0) {
		size_t take = c->coalesce - c->frame_len < n ? c->coalesce - c->frame_len : n;
		memcpy(c->frame + hdr + c->frame_len, p, take);
		c->frame_len += take;
		p += take;
		n -= take;
		if (c->frame_len == c->coalesce && rc_flush_full_frame(c) != 0)
			return -1;
	}
	return 0;
}

/* Hand buf[from, to) of the current block on unchanged; -2 when the route refuses. */
static int rc_route(struct pg_data_reader *c, const unsigned char *buf, size_t from, size_t to)
{
	if (!c->route || c->coalescing || to == from)
		return 0;
	return c->route(c->route_arg, c->cur_id, PG_PIECE_RAW, buf + from, to - from) == 0 ? 0 : -2;
}

int pg_data_reader_feed(struct pg_data_reader *c, const unsigned char *buf, size_t len, char *why, size_t cap)
{
	size_t i = 0, run = 0; /* run: where this buffer's not yet routed block bytes start */
	int64_t v;

	while (i < len) {
		if (c->state == RC_DATA) {
			size_t n = len - i < c->remaining ? len - i : (size_t)c->remaining;
			uint64_t done = c->chunk_len - c->remaining;
			if (c->chunk_len == 5 && done < 5)
				memcpy(c->tail + done, buf + i, n < 5 - done ? n : (size_t)(5 - done));
			if (!c->in_blobs) {
				const unsigned char *p = buf + i, *end = buf + i + n;
				int64_t rows = 0;
				while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
					rows++;
					p++;
				}
				c->rows[c->cur_id] += rows;
			}
			/* A 5-byte chunk may be COPY's end marker, which stays a chunk
			 * of its own, as pg_dump writes it: held in tail until known. */
			if (c->coalescing && c->chunk_len != 5 && rc_join(c, buf + i, n) != 0)
				return -2;
			c->bytes[c->cur_id] += n;
			i += n;
			c->remaining -= n;
			if (c->remaining == 0) {
				c->last_was_marker = c->chunk_len == 5 && !memcmp(c->tail, "\\.\n\n\n", 5);
				if (c->coalescing && c->chunk_len == 5 && !c->last_was_marker && rc_join(c, c->tail, 5) != 0)
					return -2;
				c->state = RC_LEN;
			}
			continue;
		}
		if (c->state == RC_BLOCK) {
			unsigned char b = buf[i++];
			if (b != 1 && b != 3)
				return snprintf(why, cap, "unknown data block type %u", b), -1;
			c->in_blobs = b == 3;
			c->in_block = 1;
			c->id_known = 0;
			c->head[0] = b;
			c->head_len = 1;
			c->coalescing = c->route && c->coalesce && !c->in_blobs;
			c->state = RC_ID;
			continue;
		}
		if (c->state == RC_ID)
			c->head[c->head_len++] = buf[i];
		if (!rc_int_byte(c, buf[i++], &v))
			continue;
		switch (c->state) {
		case RC_ID:
			if (rc_start_block(c, v, why, cap) != 0)
				return -1;
			c->id_known = 1;
			if (c->route && c->route(c->route_arg, c->cur_id, c->coalescing ? PG_PIECE_HEAD : PG_PIECE_RAW, c->head,
						 c->head_len) != 0)
				return -2;
			run = i;
			c->state = c->in_blobs ? RC_BLOB_OID : RC_LEN;
			break;
		case RC_BLOB_OID:
			c->state = v == 0 ? RC_BLOCK : RC_LEN;
			break;
		case RC_LEN:
			if (v < 0)
				return snprintf(why, cap, "negative chunk length in a data block"), -1;
			if (v == 0 && !c->in_blobs) {
				if (!c->last_was_marker)
					return snprintf(why, cap, "the data of dump entry %lld does not end with COPY's end marker",
							(long long)c->cur_id), -1;
				c->rows[c->cur_id] -= 3;
				c->last_was_marker = 0;
				if (c->coalescing && rc_end_frames(c) != 0)
					return -2;
				c->state = RC_BLOCK;
			} else if (v == 0) {
				c->state = RC_BLOB_OID;
			} else {
				/* a marker that was not the last chunk is plain data after all */
				if (c->coalescing && c->last_was_marker && rc_join(c, c->tail, 5) != 0)
					return -2;
				c->remaining = c->chunk_len = (uint64_t)v;
				c->last_was_marker = 0;
				c->state = RC_DATA;
			}
			break;
		}
		if (c->state == RC_BLOCK) { /* the block just ended */
			if (rc_route(c, buf, run, i) != 0)
				return -2;
			c->in_block = 0;
		}
	}
	if (c->in_block && c->id_known && rc_route(c, buf, run, len) != 0)
		return -2;
	return 0;
}

int pg_data_reader_finish(const struct pg_data_reader *c, char *why, size_t cap)
{
	if (c->state != RC_BLOCK || c->int_pos != 0)
		return snprintf(why, cap, "the dump ends inside a data block"), -1;
	return 0;
}
