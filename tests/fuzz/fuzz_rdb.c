/*
 * fuzz_rdb: the streaming RDB parser on arbitrary input.  The input is fed in
 * two pieces, split at the offset given by its first byte, so the fuzzer also
 * explores resuming in the middle of every primitive; then finish().  All
 * callbacks are set (they check the invariants the restore relies on: value
 * pieces only between key begin and end, never empty).  Nothing may crash,
 * leak or hang.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "lib/format/rdb.h"

struct fuzz_state {
	int in_key;
	uint64_t value_bytes;
};

static int fz_key_begin(void *ctx, const struct rdb_key_info *k, struct drctl_error *err)
{
	struct fuzz_state *s = ctx;

	(void)err;
	if (s->in_key || (k->key_len && !k->key))
		abort();
	s->in_key = 1;
	return 0;
}

static int fz_value(void *ctx, const uint8_t *raw, size_t len, struct drctl_error *err)
{
	struct fuzz_state *s = ctx;
	volatile uint8_t sink;

	(void)err;
	if (!s->in_key || len == 0)
		abort();
	sink = raw[0];
	sink = raw[len - 1];
	(void)sink;
	s->value_bytes += len;
	return 0;
}

static int fz_key_end(void *ctx, struct drctl_error *err)
{
	struct fuzz_state *s = ctx;

	(void)err;
	if (!s->in_key)
		abort();
	s->in_key = 0;
	return 0;
}

static int fz_aux(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
		  struct drctl_error *err)
{
	volatile uint8_t sink = 0;

	(void)ctx;
	(void)err;
	if (kl)
		sink = k[kl - 1];
	if (v && vl)
		sink = v[vl - 1];
	(void)sink;
	return 0;
}

static int fz_bytes(void *ctx, const uint8_t *raw, size_t len, struct drctl_error *err)
{
	(void)ctx;
	(void)raw;
	(void)err;
	if (len == 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct rdb_callbacks cb = {
		.on_aux = fz_aux,
		.on_key_begin = fz_key_begin,
		.on_value_bytes = fz_value,
		.on_key_end = fz_key_end,
		.on_function_bytes = fz_bytes,
	};
	struct fuzz_state st = {0};
	struct drctl_error err;
	struct rdb_parser *p;
	size_t cut;

	if (size == 0)
		return 0;
	cut = data[0] < size ? data[0] : size;
	err_clear(&err);
	p = rdb_parser_new(&cb, &st);
	if (!p)
		return 0;
	if (rdb_parser_feed(p, data, cut, &err) == 0 &&
	    rdb_parser_feed(p, data + cut, size - cut, &err) == 0 &&
	    rdb_parser_finish(p, &err) == 0) {
		const struct rdb_summary *sum = rdb_parser_summary(p);

		if (!sum->complete || st.in_key)
			abort();
	}
	rdb_parser_free(p);
	return 0;
}
