/*
 * rdb_private: what the two halves of the RDB parser share; not for other
 * modules.  rdb_prim.c reads the primitives of the format (lengths,
 * strings, fixed fields) across feed boundaries; rdb.c runs the grammar
 * (opcodes, value programs) on top of them.  Both work on struct rdb_parser.
 */
#ifndef DRCTL_RDB_PRIVATE_H
#define DRCTL_RDB_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/core/error.h"
#include "lib/format/rdb.h"

/* Special string encodings (the 6 bits after the 11 length prefix). */
#define ENC_INT8 0
#define ENC_INT16 1
#define ENC_INT32 2
#define ENC_LZF 3

struct vop;

#define PROG_DEPTH 4

/* ---- parser state ------------------------------------------------------ */

enum prim {
	PR_NONE,
	PR_FIX,
	PR_LEN,
	PR_STR,
	PR_DBL,
};

enum str_stage {
	SS_HDR,
	SS_INT,
	SS_CLEN,
	SS_ULEN,
	SS_BODY,
};

enum capture {
	CAP_NONE,       /* skip the string */
	CAP_KEY,        /* decode into keybuf; too long is an error */
	CAP_AUX_KEY,    /* decode into keybuf; too long is an error */
	CAP_AUX_VALUE,  /* decode into valbuf; too long: skipped, reported NULL */
};

enum pstate {
	ST_MAGIC,
	ST_OPCODE,
	ST_AUX_KEY,
	ST_AUX_VALUE,
	ST_SELECTDB,
	ST_RESIZE_KEYS,
	ST_RESIZE_EXPIRES,
	ST_EXPIRE_MS,
	ST_EXPIRE_S,
	ST_IDLE,
	ST_FREQ,
	ST_KEY,
	ST_VALUE,
	ST_FUNCTION,
	ST_MODULE_AUX_ID,
	ST_MODULE_AUX,
	ST_SLOT_INFO,
	ST_CRC,
	ST_DONE,
};

enum tap {
	TAP_NONE,
	TAP_VALUE,
	TAP_FUNCTION,
};

struct rdb_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

struct prog_frame {
	size_t body;    /* pc of the first op of the loop body */
	uint64_t left;  /* iterations left, including the current one */
};

struct rdb_parser {
	struct rdb_callbacks cb;
	void *ctx;
	enum pstate state;
	int failed;

	/* the piece being fed */
	const uint8_t *chunk;
	const uint8_t *in;
	const uint8_t *end;
	uint64_t offset;        /* stream offset of chunk[0] */

	/* take() */
	uint8_t carry[16];
	size_t carry_len;
	const uint8_t *got;     /* result of the last completed take() */

	/* primitives */
	enum prim prim;
	size_t fix_n;
	int len_stage;
	uint8_t len_first;
	uint64_t num;           /* result of the last PR_LEN */
	enum str_stage str_stage;
	uint64_t str_left;
	int str_lzf;
	uint64_t lzf_ulen;
	enum capture cap;
	int cap_skipped;        /* CAP_AUX_VALUE longer than RDB_AUX_MAX */
	uint64_t cap_full_len;
	int dbl_stage;

	/* value programs */
	const struct vop *prog;
	size_t pc;
	struct prog_frame stack[PROG_DEPTH];
	int depth;
	int mod_stage;          /* 0 at an opcode, 1 reading it, 2 reading its operand */
	uint8_t vtype;
	enum tap tap;
	const uint8_t *tap_from;
	const uint8_t *crc_from;
	int crc_on;

	/* key in progress */
	uint32_t db;
	int64_t expire_ms;
	int64_t lru_idle;
	int lfu_freq;
	uint64_t resize_keys;
	uint64_t module_id;

	struct rdb_buf keybuf;
	struct rdb_buf valbuf;
	struct rdb_buf lzfbuf;

	uint64_t crc;
	struct rdb_summary sum;
	struct rdb_db_stats *dbs;
	size_t dbs_cap;
	size_t cur_db;          /* index in dbs, or SIZE_MAX before any */
};

static inline uint64_t rdb_le(const uint8_t *b, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

/* Stream offset of the next input byte, for messages. */
static inline uint64_t rdb_pos(const struct rdb_parser *p)
{
	return p->offset + (uint64_t)(p->in - p->chunk);
}

/* Mark the parser failed and set a format error naming the stream offset. */
int rdb_fail(struct rdb_parser *p, struct drctl_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Start reading a primitive; rdb_prim_step() then advances it with the
 * input of the current feed: 1 done, 0 input exhausted, -1 error. */
void rdb_start_fix(struct rdb_parser *p, size_t n);  /* n <= 16 bytes, in p->got */
void rdb_start_len(struct rdb_parser *p);            /* result in p->num */
void rdb_start_str(struct rdb_parser *p, enum capture cap);
int rdb_prim_step(struct rdb_parser *p, struct drctl_error *err);

#endif
