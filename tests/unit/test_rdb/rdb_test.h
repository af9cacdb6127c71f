/*
 * The rdb parser's tests' shared part: a growable byte buffer (also the
 * writer of synthetic RDBs), a recorder of everything the callbacks saw, and
 * feeding the parser in whole, one-byte or random pieces (recorder.c).  The
 * synthetic RDBs' tests are synthetic.c; test_rdb.c runs them after its own.
 */
#ifndef DRCTL_TEST_RDB_H
#define DRCTL_TEST_RDB_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/format/crc64.h"
#include "lib/format/rdb.h"

#define FIXTURES TEST_DATA_DIR "/rdb/"
#define TTL_2100 4102444800000LL

/* A growable byte buffer (also the synthetic RDB writer). */
struct wbuf {
	uint8_t *d;
	size_t len, cap;
};

/* The recorder: everything the callbacks saw. */
#define MAX_KEYS 64

struct rkey {
	uint32_t db;
	uint8_t type;
	char key[256];
	int64_t expire_ms, lru_idle;
	int lfu_freq;
	struct wbuf raw;
};

struct rec {
	struct rkey keys[MAX_KEYS];
	int nkeys;
	int in_key;
	struct wbuf fn;         /* raw bytes of all function libraries */
	int fn_ends;
	struct wbuf log;        /* every event, for comparing feeding patterns */
	char redis_ver[32], redis_bits[32];
	int module_aux;
	char module_name[10];
	int resize_calls, select_calls;
	size_t max_piece;
	const uint8_t *lo, *hi; /* the buffer fed, for the zero-copy check */
	int pieces_outside;
	int stop_at_key;        /* on_key_begin fails at this key (1-based), 0 never */
};

/* One parse, the RDB fed whole, a byte at a time or in random pieces. */
enum split { WHOLE, ONE_BYTE, RANDOM };

struct run {
	struct rec *rec;
	struct rdb_summary sum;
	struct rdb_db_stats dbs[8];
	int feed_rc, finish_rc;
	struct drctl_error err;
};

/* A synthetic RDB and where each of its values lies in it. */
struct synth {
	struct wbuf b;
	struct {
		char key[32];
		uint8_t type;
		size_t start, end;  /* the value's bytes in b */
	} v[32];
	int n;
};

void wb_put(struct wbuf *b, const void *p, size_t n);
void wb_byte(struct wbuf *b, uint8_t c);
void wb_printf(struct wbuf *b, const char *fmt, ...);
void wb_le(struct wbuf *b, uint64_t v, int n);
void wb_len(struct wbuf *b, uint64_t v, int force64);
void wb_str(struct wbuf *b, const char *s);
void wb_free(struct wbuf *b);
struct wbuf read_file(const char *name);
void rec_free(struct rec *r);
const struct rkey *rec_key(const struct rec *r, uint32_t db, const char *name);
/* Feed data in the given pattern; the summary is copied out. */
struct run parse(const uint8_t *data, size_t len, enum split split, unsigned seed);
int run_ok(const struct run *r);
const struct rdb_db_stats *db_stats(const struct run *r, uint32_t db);

/* Callbacks that record into the struct rec they are given. */
extern const struct rdb_callbacks all_callbacks;

/* The synthetic RDBs' tests (synthetic.c). */
extern const struct CMUnitTest rdb_synthetic_tests[];
extern const size_t rdb_synthetic_test_count;

#endif
