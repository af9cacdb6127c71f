/*
 * rdb_prim: the primitives of the RDB format, readable across any split of
 * the input (see rdb.c for the design of the whole parser).
 *
 * A primitive is started by the grammar and advanced by rdb_prim_step() with
 * whatever the current feed holds.  Small fixed reads go through take(),
 * which returns a pointer into the input when the bytes are all there (the
 * common case, no copy) and gathers them in a 16-byte carry buffer when they
 * straddle two feeds.  String bodies are never gathered: they are skipped as
 * they pass (the raw tap in rdb.c hands them to the caller), except for key
 * names and aux fields, which are decoded into bounded buffers.
 *
 * Sources: Redis src/rdb.c rdbLoadLenByRef (length encodings),
 * rdbGenericLoadStringObject / rdbLoadIntegerObject / rdbLoadLzfStringObject
 * (string encodings), rdbLoadDoubleValue (legacy scores); LZF per liblzf's
 * format.  Written from those descriptions, not copied.
 */
#include "lib/format/rdb_private.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ----------------------------------------------------- */

int rdb_fail(struct rdb_parser *p, struct drctl_error *err, const char *fmt, ...)
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

int rdb_prim_step(struct rdb_parser *p, struct drctl_error *err)
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

void rdb_start_fix(struct rdb_parser *p, size_t n)
{
	p->prim = PR_FIX;
	p->fix_n = n;
}

void rdb_start_len(struct rdb_parser *p)
{
	p->prim = PR_LEN;
	p->len_stage = 0;
}

void rdb_start_str(struct rdb_parser *p, enum capture cap)
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

