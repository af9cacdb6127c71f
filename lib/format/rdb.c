/*
 * rdb: streaming RDB parser (push model) and DUMP payload builder.
 *
 * Why a push parser: the RDB arrives from a replication socket at line rate
 * and is validated while it is written to the repository, then again from a
 * decrypting stream at verify and restore time.  Nobody holds the whole file,
 * and a 500 MB value must not be held either.  So the parser is a state
 * machine that can stop after any byte and resume with the next piece.
 *
 * Three layers (the first two in rdb_prim.c, shared state in rdb_private.h):
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
#include "lib/format/rdb.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/format/crc64.h"
#include "lib/format/rdb_private.h"

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

/* ---- names ---------------------------------------------------------- */

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

/* ---- callbacks ------------------------------------------------------- */

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
