/*
 * rdb: streaming RDB parser (push model) and DUMP payload builder.
 *
 * Why a push parser: the RDB arrives from a replication socket at line rate
 * and is validated while it is written to the repository, then again from a
 * decrypting stream at verify and restore time.  Nobody holds the whole file,
 * and a 500 MB value must not be held either.  So the parser is a state
 * machine that can stop after any byte and resume with the next piece.
 *
 * Three layers:
 *  - take(): hands out a small fixed number of contiguous bytes (at most 16),
 *    straight from the input when they are all there, otherwise gathered in a
 *    carry buffer across feeds.  Everything but string bodies is read so.
 *  - primitives: a length (Redis's 6/14/32/64-bit length encoding), a string
 *    (length, or an 8/16/32-bit integer, or LZF: compressed and original
 *    lengths then the compressed bytes), a fixed field, a legacy text double.
 *    A string body is skipped (or, for keys and aux fields, copied) as bytes
 *    arrive, never buffered whole.
 *  - value programs: each value type is a tiny table of primitives with
 *    counted loops (`LEN, REPEAT, STR, STR, END` is a hash).  One interpreter
 *    runs them all, including the stream type with its nested consumer groups,
 *    pending entries and consumers, and module values of the opcode-tagged
 *    MODULE_2 format, which can be skipped without the module.
 *
 * Raw value bytes reach the caller by a "tap": while a value (or a function
 * library) is being parsed, every input byte consumed is passed on, in the
 * pieces the input came in.  The CRC64 is computed the same way, over whole
 * input ranges, which keeps the per-byte cost at the CRC's own.
 *
 * Format sources: Redis src/rdb.h (types, opcodes, length encodings) and
 * src/rdb.c (rdbLoadRioWithLoadingCtx for the opcodes, rdbLoadObject for the
 * value layouts, rdbLoadCheckModuleValue for module opcodes), 7.0 to 7.4,
 * including 7.4's hash-with-field-TTL types 22 to 25;
 * LZF per liblzf's lzf_d.c format description.  Written from those, not
 * copied.
 */
#include "rdb.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc64.h"

/* Opcodes (Redis rdb.h). */
#define OP_SLOT_INFO 0xF4
#define OP_FUNCTION2 0xF5
#define OP_FUNCTION_PRE_GA 0xF6
#define OP_MODULE_AUX 0xF7
#define OP_IDLE 0xF8
#define OP_FREQ 0xF9
#define OP_AUX 0xFA
#define OP_RESIZEDB 0xFB
#define OP_EXPIRETIME_MS 0xFC
#define OP_EXPIRETIME 0xFD
#define OP_SELECTDB 0xFE
#define OP_EOF 0xFF

/* Special string encodings (the 6 bits after the 11 length prefix). */
#define ENC_INT8 0
#define ENC_INT16 1
#define ENC_INT32 2
#define ENC_LZF 3

/* Module value opcodes (Redis rdb.h RDB_MODULE_OPCODE_*). */
#define MOD_EOF 0
#define MOD_SINT 1
#define MOD_UINT 2
#define MOD_FLOAT 3
#define MOD_DOUBLE 4
#define MOD_STRING 5

/* ---- value programs ---------------------------------------------------- */

enum vop_code {
	V_LEN,          /* a length; REPEAT uses the last one */
	V_STR,          /* a string, skipped */
	V_FIX,          /* arg bytes */
	V_DBL,          /* legacy zset score: 1-byte length or 253/254/255 */
	V_REPEAT,       /* run the block up to the matching V_END last-length times */
	V_END,
	V_IFTYPE,       /* the block up to V_ENDIF only when the value type >= arg */
	V_ENDIF,
	V_MODOPS,       /* module opcodes up to MOD_EOF */
	V_DONE,
};

struct vop {
	uint8_t code;
	uint8_t arg;
};

#define L {V_LEN, 0}
#define S {V_STR, 0}
#define F(n) {V_FIX, n}
#define R {V_REPEAT, 0}
#define E {V_END, 0}
#define DONE {V_DONE, 0}

static const struct vop prog_blob[] = {S, DONE};
static const struct vop prog_list[] = {L, R, S, E, DONE};          /* list, set, quicklist */
static const struct vop prog_zset[] = {L, R, S, {V_DBL, 0}, E, DONE};
static const struct vop prog_zset2[] = {L, R, S, F(8), E, DONE};   /* binary double */
static const struct vop prog_hash[] = {L, R, S, S, E, DONE};
static const struct vop prog_quicklist2[] = {L, R, L, S, E, DONE}; /* container, listpack */
/* Hashes with field TTLs (Redis 7.4): per field a TTL length, then field and
 * value; the GA types put the minimum expiry (8 bytes) first. */
static const struct vop prog_hash_ttl_pre_ga[] = {L, R, L, S, S, E, DONE};
static const struct vop prog_hash_ttl[] = {F(8), L, R, L, S, S, E, DONE};
static const struct vop prog_hash_listpack_ex[] = {F(8), S, DONE};
static const struct vop prog_module2[] = {L, {V_MODOPS, 0}, DONE}; /* module id, opcodes */
static const struct vop prog_module_aux[] = {L, L, {V_MODOPS, 0}, DONE}; /* when-opcode, when */
static const struct vop prog_slot_info[] = {L, L, L, DONE};       /* slot, size, expires */

/* Streams (rdbLoadObject, RDB_TYPE_STREAM_LISTPACKS*): v2 (type 19) adds the
 * first id, max deleted id, entries added and each group's entries_read; v3
 * (type 21) adds each consumer's active time. */
static const struct vop prog_stream[] = {
	L, R, S, S, E,                  /* listpacks: master id (16 bytes), listpack */
	L, L, L,                        /* length, last id ms, seq */
	{V_IFTYPE, RDB_TYPE_STREAM_LISTPACKS_2}, L, L, L, L, L, {V_ENDIF, 0},
	L, R,                           /* consumer groups */
		S, L, L,                /* name, last id ms, seq */
		{V_IFTYPE, RDB_TYPE_STREAM_LISTPACKS_2}, L, {V_ENDIF, 0},
		L, R, F(16), F(8), L, E,        /* PEL: id, delivery ms, count */
		L, R,                   /* consumers */
			S, F(8),        /* name, seen time */
			{V_IFTYPE, RDB_TYPE_STREAM_LISTPACKS_3}, F(8), {V_ENDIF, 0},
			L, R, F(16), E, /* consumer PEL ids */
		E,
	E,
	DONE,
};

#undef L
#undef S
#undef F
#undef R
#undef E
#undef DONE

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

/* ---- small helpers ----------------------------------------------------- */

static uint64_t rdb_le(const uint8_t *b, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

static uint64_t rdb_pos(const struct rdb_parser *p)
{
	return p->offset + (uint64_t)(p->in - p->chunk);
}

__attribute__((format(printf, 3, 4)))
static int rdb_fail(struct rdb_parser *p, struct drctl_error *err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->failed = 1;
	return err_set(err, EXIT_INTEGRITY, "RDB", "the RDB is damaged, truncated or not an RDB; "
		       "check a copy with redis-check-rdb and take a new backup",
		       "RDB format error at byte %" PRIu64 ": %s", rdb_pos(p), msg);
}

/* A callback said stop: keep its error, or say which callback it was. */
static int rdb_callback_failed(struct rdb_parser *p, struct drctl_error *err, const char *name)
{
	p->failed = 1;
	return err_set(err, EXIT_FAILED, "RDB", NULL, "RDB parse stopped by %s at byte %" PRIu64,
		       name, rdb_pos(p));
}

#define RDB_CALL(p, err, name, ...) \
	((p)->cb.name && (p)->cb.name((p)->ctx, __VA_ARGS__, (err)) != 0 ? \
	 rdb_callback_failed((p), (err), #name) : 0)
#define RDB_CALL0(p, err, name) \
	((p)->cb.name && (p)->cb.name((p)->ctx, (err)) != 0 ? \
	 rdb_callback_failed((p), (err), #name) : 0)

static int rdb_buf_reserve(struct rdb_buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 256;
	uint8_t *d;

	if (need <= b->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	d = realloc(b->data, cap);
	if (!d)
		return -1;
	b->data = d;
	b->cap = cap;
	return 0;
}

static int rdb_buf_append(struct rdb_buf *b, const uint8_t *d, size_t n)
{
	if (n == 0)
		return 0;
	if (rdb_buf_reserve(b, b->len + n) != 0)
		return -1;
	memcpy(b->data + b->len, d, n);
	b->len += n;
	return 0;
}

const char *rdb_type_name(int type)
{
	static const char *const names[RDB_TYPE_COUNT] = {
		"string", "list", "set", "zset", "hash", "zset2", "module", "module2", NULL,
		"hash-zipmap", "list-ziplist", "set-intset", "zset-ziplist", "hash-ziplist",
		"list-quicklist", "stream", "hash-listpack", "zset-listpack",
		"list-quicklist2", "stream2", "set-listpack", "stream3",
		"hash-ttl-pre-ga", "hash-listpack-ex-pre-ga", "hash-ttl", "hash-listpack-ex",
	};

	if (type < 0 || type >= RDB_TYPE_COUNT || !names[type])
		return "unknown";
	return names[type];
}

/* Redis moduleTypeEncodeId: 9 characters of 6 bits each (first character in
 * the highest bits), then a 10-bit encoding version. */
void rdb_module_name(uint64_t module_id, char out[10])
{
	static const char charset[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint64_t id = module_id >> 10;

	for (int i = 8; i >= 0; i--) {
		out[i] = charset[id & 63];
		id >>= 6;
	}
	out[9] = '\0';
}

/*
 * LZF decompression, for keys and aux fields only (values stay raw).  The
 * format: a control byte below 32 starts a literal run of ctrl+1 bytes;
 * otherwise its top 3 bits are a length (7 = add the next byte) and the low
 * 5 bits with the following byte an offset back into the output, copying
 * length+2 bytes (which may overlap what they produce).
 */
static int rdb_lzf_decompress(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len)
{
	const uint8_t *ip, *in_end;
	size_t op = 0;

	if (in_len == 0)
		return out_len == 0 ? 0 : -1;
	ip = in;
	in_end = in + in_len;

	while (ip < in_end) {
		unsigned ctrl = *ip++;

		if (ctrl < 32) {
			size_t run = ctrl + 1;

			if (run > (size_t)(in_end - ip) || run > out_len - op)
				return -1;
			memcpy(out + op, ip, run);
			ip += run;
			op += run;
		} else {
			size_t len = ctrl >> 5, back = (size_t)(ctrl & 0x1f) << 8;

			if (len == 7) {
				if (ip >= in_end)
					return -1;
				len += *ip++;
			}
			if (ip >= in_end)
				return -1;
			back += *ip++;
			len += 2;
			if (back + 1 > op || len > out_len - op)
				return -1;
			for (size_t i = 0; i < len; i++, op++)
				out[op] = out[op - back - 1];
		}
	}
	return op == out_len ? 0 : -1;
}

/* ---- take() and primitives ---------------------------------------------- */

/* n (<= 16) contiguous bytes in p->got, or 0 when the input ran out (the
 * bytes seen so far wait in the carry buffer). */
static int rdb_take(struct rdb_parser *p, size_t n)
{
	size_t avail = (size_t)(p->end - p->in), want;

	if (p->carry_len == 0 && avail >= n) {
		p->got = p->in;
		p->in += n;
		return 1;
	}
	want = n - p->carry_len;
	if (want > avail)
		want = avail;
	memcpy(p->carry + p->carry_len, p->in, want);
	p->carry_len += want;
	p->in += want;
	if (p->carry_len < n)
		return 0;
	p->carry_len = 0;
	p->got = p->carry;
	return 1;
}

/* Redis rdbLoadLenByRef: 00 6-bit, 01 14-bit, 0x80 32-bit BE, 0x81 64-bit BE,
 * 11 "encoded" (the 6 bits say which special string encoding). */
static int rdb_len_step(struct rdb_parser *p, uint64_t *out, int *encoded, struct drctl_error *err)
{
	if (p->len_stage == 0) {
		if (!rdb_take(p, 1))
			return 0;
		p->len_first = p->got[0];
		*encoded = 0;
		switch (p->len_first >> 6) {
		case 0:
			*out = p->len_first & 0x3f;
			return 1;
		case 3:
			*out = p->len_first & 0x3f;
			*encoded = 1;
			return 1;
		case 2:
			if (p->len_first != 0x80 && p->len_first != 0x81)
				return rdb_fail(p, err, "invalid length encoding 0x%02x", p->len_first);
			break;
		}
		p->len_stage = 1;
	}
	switch (p->len_first) {
	case 0x80:
		if (!rdb_take(p, 4))
			return 0;
		*out = (uint64_t)p->got[0] << 24 | (uint64_t)p->got[1] << 16 |
		       (uint64_t)p->got[2] << 8 | p->got[3];
		break;
	case 0x81:
		if (!rdb_take(p, 8))
			return 0;
		*out = 0;
		for (int i = 0; i < 8; i++)
			*out = *out << 8 | p->got[i];
		break;
	default:
		if (!rdb_take(p, 1))
			return 0;
		*out = (uint64_t)(p->len_first & 0x3f) << 8 | p->got[0];
		break;
	}
	*encoded = 0;
	p->len_stage = 0;
	return 1;
}

static struct rdb_buf *rdb_cap_buf(struct rdb_parser *p)
{
	return p->cap == CAP_AUX_VALUE ? &p->valbuf : &p->keybuf;
}

/* A captured string is about to be ulen bytes long: within its limit? */
static int rdb_cap_check(struct rdb_parser *p, uint64_t ulen, struct drctl_error *err)
{
	p->cap_full_len = ulen;
	if (p->cap == CAP_AUX_VALUE) {
		if (ulen > RDB_AUX_MAX)
			p->cap_skipped = 1;
		return 0;
	}
	if (ulen > RDB_KEY_MAX)
		return rdb_fail(p, err, "%s of %" PRIu64 " bytes is longer than drctl accepts (%u)",
				p->cap == CAP_KEY ? "key" : "aux field name", ulen, RDB_KEY_MAX);
	return 0;
}

static int rdb_str_step(struct rdb_parser *p, struct drctl_error *err)
{
	uint64_t n;
	int enc, r;

	switch (p->str_stage) {
	case SS_HDR:
		r = rdb_len_step(p, &n, &enc, err);
		if (r <= 0)
			return r;
		p->str_lzf = 0;
		if (!enc) {
			if (p->cap != CAP_NONE && rdb_cap_check(p, n, err) != 0)
				return -1;
			p->str_left = n;
			p->str_stage = SS_BODY;
			break;
		}
		if (n == ENC_LZF) {
			p->str_stage = SS_CLEN;
			return rdb_str_step(p, err);
		}
		if (n > ENC_INT32)
			return rdb_fail(p, err, "unknown string encoding %u", (unsigned)n);
		p->fix_n = (size_t)1 << n;
		p->str_stage = SS_INT;
		/* fall through */
	case SS_INT:
		if (!rdb_take(p, p->fix_n))
			return 0;
		if (p->cap != CAP_NONE) {
			int64_t v = p->fix_n == 1 ? (int8_t)p->got[0] :
				    p->fix_n == 2 ? (int16_t)rdb_le(p->got, 2) :
				    (int32_t)rdb_le(p->got, 4);
			char txt[24];
			int tl = snprintf(txt, sizeof(txt), "%" PRId64, v);
			struct rdb_buf *b = rdb_cap_buf(p);

			b->len = 0;
			p->cap_full_len = (uint64_t)tl;
			if (rdb_buf_append(b, (const uint8_t *)txt, (size_t)tl) != 0)
				return rdb_fail(p, err, "out of memory");
		}
		return 1;
	case SS_CLEN:
		r = rdb_len_step(p, &n, &enc, err);
		if (r <= 0)
			return r;
		if (enc)
			return rdb_fail(p, err, "encoded length where an LZF length belongs");
		p->str_left = n;
		p->str_stage = SS_ULEN;
		/* fall through */
	case SS_ULEN:
		r = rdb_len_step(p, &n, &enc, err);
		if (r <= 0)
			return r;
		if (enc)
			return rdb_fail(p, err, "encoded length where an LZF length belongs");
		p->lzf_ulen = n;
		p->str_lzf = 1;
		if (p->cap != CAP_NONE) {
			if (rdb_cap_check(p, n, err) != 0)
				return -1;
			if (!p->cap_skipped && p->str_left > n + 64)
				return rdb_fail(p, err, "LZF string of %" PRIu64 " bytes compressed "
						"to %" PRIu64, n, p->str_left);
		}
		p->str_stage = SS_BODY;
		break;
	case SS_BODY:
		break;
	}

	/* SS_BODY: skip or copy what this piece holds of it. */
	if (p->str_stage == SS_BODY && p->cap != CAP_NONE && !p->cap_skipped && p->in < p->end) {
		struct rdb_buf *b = p->str_lzf ? &p->lzfbuf : rdb_cap_buf(p);
		size_t n2 = (size_t)(p->end - p->in);

		if (n2 > p->str_left)
			n2 = (size_t)p->str_left;
		if (rdb_buf_append(b, p->in, n2) != 0)
			return rdb_fail(p, err, "out of memory");
		p->in += n2;
		p->str_left -= n2;
	} else {
		uint64_t n2 = (uint64_t)(p->end - p->in);

		if (n2 > p->str_left)
			n2 = p->str_left;
		p->in += n2;
		p->str_left -= n2;
	}
	if (p->str_left)
		return 0;
	if (p->cap != CAP_NONE && !p->cap_skipped && p->str_lzf) {
		struct rdb_buf *b = rdb_cap_buf(p);

		if (rdb_buf_reserve(b, (size_t)p->lzf_ulen) != 0)
			return rdb_fail(p, err, "out of memory");
		if (rdb_lzf_decompress(p->lzfbuf.data, p->lzfbuf.len, b->data,
				       (size_t)p->lzf_ulen) != 0)
			return rdb_fail(p, err, "invalid LZF compressed string");
		b->len = (size_t)p->lzf_ulen;
	}
	return 1;
}

/* Legacy zset score (rdbLoadDoubleValue): a length byte, 253/254/255 mean
 * nan/+inf/-inf with nothing after, else that many bytes of text. */
static int rdb_dbl_step(struct rdb_parser *p)
{
	if (p->dbl_stage == 0) {
		if (!rdb_take(p, 1))
			return 0;
		if (p->got[0] >= 253)
			return 1;
		p->str_left = p->got[0];
		p->dbl_stage = 1;
	}
	{
		uint64_t n = (uint64_t)(p->end - p->in);

		if (n > p->str_left)
			n = p->str_left;
		p->in += n;
		p->str_left -= n;
	}
	return p->str_left ? 0 : 1;
}

static int rdb_prim_step(struct rdb_parser *p, struct drctl_error *err)
{
	int enc, r;

	switch (p->prim) {
	case PR_FIX:
		return rdb_take(p, p->fix_n);
	case PR_LEN:
		r = rdb_len_step(p, &p->num, &enc, err);
		if (r == 1 && enc)
			return rdb_fail(p, err, "string encoding 0x%02x where a length belongs",
					p->len_first);
		return r;
	case PR_STR:
		return rdb_str_step(p, err);
	case PR_DBL:
		return rdb_dbl_step(p);
	case PR_NONE:
		break;
	}
	return 1;
}

static void rdb_start_fix(struct rdb_parser *p, size_t n)
{
	p->prim = PR_FIX;
	p->fix_n = n;
}

static void rdb_start_len(struct rdb_parser *p)
{
	p->prim = PR_LEN;
	p->len_stage = 0;
}

static void rdb_start_str(struct rdb_parser *p, enum capture cap)
{
	p->prim = PR_STR;
	p->str_stage = SS_HDR;
	p->len_stage = 0;
	p->cap = cap;
	p->cap_skipped = 0;
	p->cap_full_len = 0;
	p->lzfbuf.len = 0;
	if (cap != CAP_NONE)
		rdb_cap_buf(p)->len = 0;
}

/* ---- value program interpreter ------------------------------------------ */

/* pc of the op after the V_END matching the V_REPEAT at pc. */
static size_t rdb_prog_skip_loop(const struct vop *prog, size_t pc)
{
	int nest = 0;

	for (;; pc++) {
		if (prog[pc].code == V_REPEAT)
			nest++;
		else if (prog[pc].code == V_END && --nest == 0)
			return pc + 1;
	}
}

/* Run control ops until a primitive is started (0) or the program ends (1). */
static int rdb_prog_advance(struct rdb_parser *p, struct drctl_error *err)
{
	for (;;) {
		const struct vop *op = &p->prog[p->pc];
		struct prog_frame *top;

		switch (op->code) {
		case V_LEN:
			rdb_start_len(p);
			return 0;
		case V_STR:
			rdb_start_str(p, CAP_NONE);
			return 0;
		case V_FIX:
			rdb_start_fix(p, op->arg);
			return 0;
		case V_DBL:
			p->prim = PR_DBL;
			p->dbl_stage = 0;
			return 0;
		case V_REPEAT:
			if (p->num == 0) {
				p->pc = rdb_prog_skip_loop(p->prog, p->pc);
				break;
			}
			if (p->depth == PROG_DEPTH)
				return rdb_fail(p, err, "internal: value program nests too deep");
			p->stack[p->depth].body = p->pc + 1;
			p->stack[p->depth].left = p->num;
			p->depth++;
			p->pc++;
			break;
		case V_END:
			top = &p->stack[p->depth - 1];
			if (--top->left) {
				p->pc = top->body;
			} else {
				p->depth--;
				p->pc++;
			}
			break;
		case V_IFTYPE:
			if (p->vtype >= op->arg)
				p->pc++;
			else
				while (p->prog[p->pc].code != V_ENDIF)
					p->pc++;
			break;
		case V_ENDIF:
			p->pc++;
			break;
		case V_MODOPS:
			rdb_start_len(p);
			p->mod_stage = 1;
			return 0;
		case V_DONE:
			return 1;
		}
	}
}

/* The primitive of the current op finished: step past it. */
static int rdb_prog_prim_done(struct rdb_parser *p, struct drctl_error *err)
{
	if (p->prog[p->pc].code != V_MODOPS) {
		p->pc++;
		return rdb_prog_advance(p, err);
	}
	if (p->mod_stage == 2) {
		rdb_start_len(p);
		p->mod_stage = 1;
		return 0;
	}
	p->mod_stage = 2;
	switch (p->num) {
	case MOD_EOF:
		p->mod_stage = 0;
		p->pc++;
		return rdb_prog_advance(p, err);
	case MOD_SINT:
	case MOD_UINT:
		rdb_start_len(p);
		return 0;
	case MOD_FLOAT:
		rdb_start_fix(p, 4);
		return 0;
	case MOD_DOUBLE:
		rdb_start_fix(p, 8);
		return 0;
	case MOD_STRING:
		rdb_start_str(p, CAP_NONE);
		return 0;
	}
	return rdb_fail(p, err, "unknown module value opcode %" PRIu64, p->num);
}

static int rdb_start_prog(struct rdb_parser *p, const struct vop *prog, enum pstate state,
			  enum tap tap, struct drctl_error *err)
{
	p->prog = prog;
	p->pc = 0;
	p->depth = 0;
	p->mod_stage = 0;
	p->state = state;
	p->tap = tap;
	p->tap_from = p->in;
	return rdb_prog_advance(p, err) < 0 ? -1 : 0;
}

static const struct vop *rdb_value_prog(uint8_t type)
{
	switch (type) {
	case RDB_TYPE_STRING:
	case RDB_TYPE_HASH_ZIPMAP:
	case RDB_TYPE_LIST_ZIPLIST:
	case RDB_TYPE_SET_INTSET:
	case RDB_TYPE_ZSET_ZIPLIST:
	case RDB_TYPE_HASH_ZIPLIST:
	case RDB_TYPE_HASH_LISTPACK:
	case RDB_TYPE_ZSET_LISTPACK:
	case RDB_TYPE_SET_LISTPACK:
	case RDB_TYPE_HASH_LISTPACK_EX_PRE_GA:
		return prog_blob;
	case RDB_TYPE_HASH_METADATA_PRE_GA:
		return prog_hash_ttl_pre_ga;
	case RDB_TYPE_HASH_METADATA:
		return prog_hash_ttl;
	case RDB_TYPE_HASH_LISTPACK_EX:
		return prog_hash_listpack_ex;
	case RDB_TYPE_LIST:
	case RDB_TYPE_SET:
	case RDB_TYPE_LIST_QUICKLIST:
		return prog_list;
	case RDB_TYPE_ZSET:
		return prog_zset;
	case RDB_TYPE_ZSET_2:
		return prog_zset2;
	case RDB_TYPE_HASH:
		return prog_hash;
	case RDB_TYPE_LIST_QUICKLIST_2:
		return prog_quicklist2;
	case RDB_TYPE_MODULE_2:
		return prog_module2;
	case RDB_TYPE_STREAM_LISTPACKS:
	case RDB_TYPE_STREAM_LISTPACKS_2:
	case RDB_TYPE_STREAM_LISTPACKS_3:
		return prog_stream;
	}
	return NULL;
}

/* Hand the tapped bytes consumed so far to the callback. */
static int rdb_tap_flush(struct rdb_parser *p, struct drctl_error *err)
{
	size_t n = (size_t)(p->in - p->tap_from);
	const uint8_t *from = p->tap_from;

	p->tap_from = p->in;
	if (!n)
		return 0;
	if (p->tap == TAP_VALUE)
		return RDB_CALL(p, err, on_value_bytes, from, n);
	if (p->tap == TAP_FUNCTION)
		return RDB_CALL(p, err, on_function_bytes, from, n);
	return 0;
}

/* ---- opcodes ----------------------------------------------------------- */

static struct rdb_db_stats *rdb_db_stats(struct rdb_parser *p, uint32_t db)
{
	struct rdb_db_stats *s;

	if (p->cur_db != SIZE_MAX && p->dbs[p->cur_db].db == db)
		return &p->dbs[p->cur_db];
	for (size_t i = 0; i < p->sum.ndbs; i++)
		if (p->dbs[i].db == db) {
			p->cur_db = i;
			return &p->dbs[i];
		}
	if (p->sum.ndbs == RDB_MAX_DATABASES)
		return NULL;
	if (p->sum.ndbs == p->dbs_cap) {
		size_t cap = p->dbs_cap ? p->dbs_cap * 2 : 16;

		s = realloc(p->dbs, cap * sizeof(*s));
		if (!s)
			return NULL;
		p->dbs = s;
		p->dbs_cap = cap;
		p->sum.dbs = s;
	}
	s = &p->dbs[p->sum.ndbs];
	memset(s, 0, sizeof(*s));
	s->db = db;
	p->cur_db = p->sum.ndbs++;
	return s;
}

static void rdb_expect_opcode(struct rdb_parser *p)
{
	p->state = ST_OPCODE;
	rdb_start_fix(p, 1);
}

static int rdb_opcode(struct rdb_parser *p, uint8_t op, struct drctl_error *err)
{
	switch (op) {
	case OP_AUX:
		p->state = ST_AUX_KEY;
		rdb_start_str(p, CAP_AUX_KEY);
		return 0;
	case OP_SELECTDB:
		p->state = ST_SELECTDB;
		rdb_start_len(p);
		return 0;
	case OP_RESIZEDB:
		p->state = ST_RESIZE_KEYS;
		rdb_start_len(p);
		return 0;
	case OP_EXPIRETIME_MS:
		p->state = ST_EXPIRE_MS;
		rdb_start_fix(p, 8);
		return 0;
	case OP_EXPIRETIME:
		p->state = ST_EXPIRE_S;
		rdb_start_fix(p, 4);
		return 0;
	case OP_IDLE:
		p->state = ST_IDLE;
		rdb_start_len(p);
		return 0;
	case OP_FREQ:
		p->state = ST_FREQ;
		rdb_start_fix(p, 1);
		return 0;
	case OP_MODULE_AUX:
		p->state = ST_MODULE_AUX_ID;
		rdb_start_len(p);
		return 0;
	case OP_SLOT_INFO:
		return rdb_start_prog(p, prog_slot_info, ST_SLOT_INFO, TAP_NONE, err);
	case OP_FUNCTION2:
		return rdb_start_prog(p, prog_blob, ST_FUNCTION, TAP_FUNCTION, err);
	case OP_FUNCTION_PRE_GA:
		return rdb_fail(p, err, "function opcode 0xF6 of Redis 7.0 release candidates "
				"is not supported");
	case OP_EOF:
		/* The CRC covers every byte up to and including this one. */
		p->crc = crc64_update(p->crc, p->crc_from, (size_t)(p->in - p->crc_from));
		p->crc_on = 0;
		p->sum.crc_computed = p->crc;
		if (p->sum.version >= 5) {
			p->state = ST_CRC;
			rdb_start_fix(p, 8);
		} else {
			p->sum.crc_status = RDB_CRC_ABSENT;
			p->sum.complete = 1;
			p->state = ST_DONE;
			p->prim = PR_NONE;
		}
		return 0;
	}
	if (op >= RDB_TYPE_COUNT || !rdb_value_prog(op)) {
		if (op == RDB_TYPE_MODULE)
			return rdb_fail(p, err, "module value of the pre-4.0 format (type 6) "
					"cannot be parsed without its module: not supported");
		return rdb_fail(p, err, "unknown value type or opcode 0x%02x", op);
	}
	p->vtype = op;
	p->state = ST_KEY;
	rdb_start_str(p, CAP_KEY);
	return 0;
}

static int rdb_key_read(struct rdb_parser *p, struct drctl_error *err)
{
	struct rdb_db_stats *s = rdb_db_stats(p, p->db);
	struct rdb_key_info ki;

	if (!s)
		return rdb_fail(p, err, "more than %d databases", RDB_MAX_DATABASES);
	s->keys++;
	p->sum.keys++;
	p->sum.keys_by_type[p->vtype]++;
	if (p->expire_ms != -1) {
		s->expires++;
		p->sum.expires++;
	}
	ki.db = p->db;
	ki.type = p->vtype;
	ki.key = p->keybuf.data ? p->keybuf.data : (const uint8_t *)"";
	ki.key_len = p->keybuf.len;
	ki.expire_ms = p->expire_ms;
	ki.lru_idle = p->lru_idle;
	ki.lfu_freq = p->lfu_freq;
	if (RDB_CALL(p, err, on_key_begin, &ki) != 0)
		return -1;
	return rdb_start_prog(p, rdb_value_prog(p->vtype), ST_VALUE, TAP_VALUE, err);
}

/* A program (value, function, module aux, slot info) ran to its end. */
static int rdb_prog_finished(struct rdb_parser *p, struct drctl_error *err)
{
	char name[10];

	if (rdb_tap_flush(p, err) != 0)
		return -1;
	p->tap = TAP_NONE;
	switch (p->state) {
	case ST_VALUE:
		p->expire_ms = -1;
		p->lru_idle = -1;
		p->lfu_freq = -1;
		if (RDB_CALL0(p, err, on_key_end) != 0)
			return -1;
		break;
	case ST_FUNCTION:
		p->sum.functions++;
		if (RDB_CALL0(p, err, on_function_end) != 0)
			return -1;
		break;
	case ST_MODULE_AUX:
		p->sum.module_aux++;
		rdb_module_name(p->module_id, name);
		if (RDB_CALL(p, err, on_module_aux, p->module_id, name) != 0)
			return -1;
		break;
	default:
		break;
	}
	rdb_expect_opcode(p);
	return 0;
}

/* The primitive started by the current state completed: act on it. */
static int rdb_state_step(struct rdb_parser *p, struct drctl_error *err)
{
	const uint8_t *g = p->got;
	struct rdb_db_stats *s;
	int r;

	switch (p->state) {
	case ST_MAGIC: {
		int v = 0;

		if (memcmp(g, "REDIS", 5) != 0)
			return rdb_fail(p, err, "no REDIS magic: not an RDB file");
		for (int i = 5; i < 9; i++) {
			if (g[i] < '0' || g[i] > '9')
				return rdb_fail(p, err, "RDB version is not 4 digits");
			v = v * 10 + (g[i] - '0');
		}
		if (v < RDB_VERSION_MIN || v > RDB_VERSION_MAX)
			return rdb_fail(p, err, "RDB version %d is not supported (drctl reads "
					"versions %d to %d)", v, RDB_VERSION_MIN, RDB_VERSION_MAX);
		p->sum.version = v;
		rdb_expect_opcode(p);
		return 0;
	}
	case ST_OPCODE:
		return rdb_opcode(p, g[0], err);
	case ST_AUX_KEY:
		p->state = ST_AUX_VALUE;
		rdb_start_str(p, CAP_AUX_VALUE);
		return 0;
	case ST_AUX_VALUE:
		p->sum.aux_fields++;
		if (RDB_CALL(p, err, on_aux, p->keybuf.data ? p->keybuf.data : (const uint8_t *)"",
			     p->keybuf.len,
			     p->cap_skipped ? NULL : p->valbuf.data ? p->valbuf.data : (const uint8_t *)"",
			     p->cap_skipped ? (size_t)p->cap_full_len : p->valbuf.len) != 0)
			return -1;
		break;
	case ST_SELECTDB:
		if (p->num > INT32_MAX)
			return rdb_fail(p, err, "database number %" PRIu64 " out of range", p->num);
		p->db = (uint32_t)p->num;
		if (!rdb_db_stats(p, p->db))
			return rdb_fail(p, err, "more than %d databases", RDB_MAX_DATABASES);
		if (RDB_CALL(p, err, on_select_db, p->db) != 0)
			return -1;
		break;
	case ST_RESIZE_KEYS:
		p->resize_keys = p->num;
		p->state = ST_RESIZE_EXPIRES;
		rdb_start_len(p);
		return 0;
	case ST_RESIZE_EXPIRES:
		s = rdb_db_stats(p, p->db);
		if (!s)
			return rdb_fail(p, err, "more than %d databases", RDB_MAX_DATABASES);
		s->has_resize = 1;
		s->resize_keys = p->resize_keys;
		s->resize_expires = p->num;
		if (RDB_CALL(p, err, on_resize_db, p->db, p->resize_keys, p->num) != 0)
			return -1;
		break;
	case ST_EXPIRE_MS:
		p->expire_ms = (int64_t)rdb_le(g, 8);
		break;
	case ST_EXPIRE_S:
		p->expire_ms = (int64_t)(int32_t)rdb_le(g, 4) * 1000;
		break;
	case ST_IDLE:
		p->lru_idle = p->num > INT64_MAX ? INT64_MAX : (int64_t)p->num;
		break;
	case ST_FREQ:
		p->lfu_freq = g[0];
		break;
	case ST_KEY:
		return rdb_key_read(p, err);
	case ST_MODULE_AUX_ID:
		p->module_id = p->num;
		return rdb_start_prog(p, prog_module_aux, ST_MODULE_AUX, TAP_NONE, err);
	case ST_VALUE:
	case ST_FUNCTION:
	case ST_MODULE_AUX:
	case ST_SLOT_INFO:
		r = rdb_prog_prim_done(p, err);
		if (r <= 0)
			return r;
		return rdb_prog_finished(p, err);
	case ST_CRC:
		p->sum.crc_stored = rdb_le(g, 8);
		if (p->sum.crc_stored == 0) {
			p->sum.crc_status = RDB_CRC_DISABLED;
		} else if (p->sum.crc_stored != p->sum.crc_computed) {
			return rdb_fail(p, err, "checksum mismatch: stored CRC64 %016" PRIx64
					", computed %016" PRIx64, p->sum.crc_stored,
					p->sum.crc_computed);
		} else {
			p->sum.crc_status = RDB_CRC_VERIFIED;
		}
		p->sum.complete = 1;
		p->state = ST_DONE;
		p->prim = PR_NONE;
		return 0;
	case ST_DONE:
		break;
	}
	rdb_expect_opcode(p);
	return 0;
}

/* ---- public ------------------------------------------------------------ */

struct rdb_parser *rdb_parser_new(const struct rdb_callbacks *cb, void *ctx)
{
	struct rdb_parser *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	if (cb)
		p->cb = *cb;
	p->ctx = ctx;
	p->state = ST_MAGIC;
	rdb_start_fix(p, 9);
	p->crc_on = 1;
	p->expire_ms = -1;
	p->lru_idle = -1;
	p->lfu_freq = -1;
	p->cur_db = SIZE_MAX;
	return p;
}

void rdb_parser_free(struct rdb_parser *p)
{
	if (!p)
		return;
	free(p->keybuf.data);
	free(p->valbuf.data);
	free(p->lzfbuf.data);
	free(p->dbs);
	free(p);
}

int rdb_parser_feed(struct rdb_parser *p, const void *buf, size_t len, struct drctl_error *err)
{
	if (p->failed)
		return err_set(err, EXIT_INTEGRITY, "RDB", NULL, "RDB parser already failed");
	p->chunk = p->in = buf;
	p->end = p->in + len;
	p->tap_from = p->in;
	p->crc_from = p->in;
	for (;;) {
		if (p->prim != PR_NONE) {
			int r = rdb_prim_step(p, err);

			if (r < 0)
				goto fail;
			if (r == 0)
				break;
			p->prim = PR_NONE;
		} else if (p->state == ST_DONE) {
			if (p->in < p->end) {
				rdb_fail(p, err, "%zu bytes after the end of the RDB (EOF and CRC)",
					 (size_t)(p->end - p->in));
				goto fail;
			}
			break;
		}
		if (rdb_state_step(p, err) != 0)
			goto fail;
	}
	if (p->tap != TAP_NONE && rdb_tap_flush(p, err) != 0)
		goto fail;
	if (p->crc_on)
		p->crc = crc64_update(p->crc, p->crc_from, (size_t)(p->in - p->crc_from));
	p->offset += len;
	p->sum.bytes = p->offset;
	return 0;
fail:
	p->failed = 1;
	return -1;
}

int rdb_parser_finish(struct rdb_parser *p, struct drctl_error *err)
{
	static const char *const where[] = {
		[ST_MAGIC] = "the header", [ST_OPCODE] = "between records",
		[ST_AUX_KEY] = "an aux field", [ST_AUX_VALUE] = "an aux field",
		[ST_SELECTDB] = "SELECTDB", [ST_RESIZE_KEYS] = "RESIZEDB",
		[ST_RESIZE_EXPIRES] = "RESIZEDB", [ST_EXPIRE_MS] = "an expiry",
		[ST_EXPIRE_S] = "an expiry", [ST_IDLE] = "IDLE", [ST_FREQ] = "FREQ",
		[ST_KEY] = "a key name", [ST_VALUE] = "a value", [ST_FUNCTION] = "a function",
		[ST_MODULE_AUX_ID] = "module aux data", [ST_MODULE_AUX] = "module aux data",
		[ST_SLOT_INFO] = "SLOT_INFO", [ST_CRC] = "the CRC64", [ST_DONE] = "",
	};

	if (p->failed)
		return err_set(err, EXIT_INTEGRITY, "RDB", NULL, "RDB parser already failed");
	if (p->state == ST_DONE)
		return 0;
	p->chunk = p->in = p->end;
	if (p->state == ST_OPCODE && p->sum.version)
		return rdb_fail(p, err, "the RDB ends without its EOF marker and CRC (truncated)");
	return rdb_fail(p, err, "the RDB ends inside %s (truncated)", where[p->state]);
}

const struct rdb_summary *rdb_parser_summary(const struct rdb_parser *p)
{
	return &p->sum;
}

void rdb_dump_begin(struct rdb_dump_builder *b, uint8_t first_byte)
{
	b->crc = crc64_update(0, &first_byte, 1);
}

void rdb_dump_add(struct rdb_dump_builder *b, const void *raw, size_t len)
{
	b->crc = crc64_update(b->crc, raw, len);
}

void rdb_dump_trailer(struct rdb_dump_builder *b, int rdb_version,
		      uint8_t trailer[RDB_DUMP_TRAILER_LEN])
{
	trailer[0] = (uint8_t)(rdb_version & 0xff);
	trailer[1] = (uint8_t)((rdb_version >> 8) & 0xff);
	b->crc = crc64_update(b->crc, trailer, 2);
	for (int i = 0; i < 8; i++)
		trailer[2 + i] = (uint8_t)(b->crc >> (8 * i));
}
