/*
 * rdb: a streaming (push) parser of Redis RDB files, and the builder of DUMP
 * payloads that RESTORE accepts.
 *
 * The parser is fed the RDB in pieces of any size (one byte at a time works)
 * as they arrive from the network or a file, and reports what it finds
 * through callbacks: auxiliary fields, database changes, each key with its
 * expiry, the key's value as the RAW bytes of the RDB (in pieces), function
 * libraries (raw, in pieces) and module auxiliary data.  It never decodes or
 * holds a value: values are parsed only structurally (lengths, counts, the
 * fixed fields of streams and module opcodes) so their boundaries are exact,
 * and memory stays bounded whatever the size of a value.  Keys and auxiliary
 * fields are decoded (integer and LZF encodings) and buffered, up to
 * RDB_KEY_MAX and RDB_AUX_MAX.
 *
 * At the end (opcode 0xFF) the CRC64 of everything before it is checked
 * against the stored one; a stored 0 means the server had `rdbchecksum no`
 * and is accepted but reported.  rdb_parser_finish() fails when the stream
 * stopped before the CRC, and feeding any byte after the CRC fails.
 *
 * Format sources: Redis src/rdb.h and src/rdb.c (rdbLoadRioWithLoadingCtx,
 * rdbLoadObject, rdbLoadLen, rdbGenericLoadStringObject,
 * rdbLoadCheckModuleValue) of 7.0 to 7.4 (https://github.com/redis/redis); a
 * public description of the format is "Redis RDB File Format"
 * (https://rdb.fnordig.de/file_format.html), which predates the newer
 * encodings (listpack, streams, functions) that only the source describes.
 */
#ifndef DRCTL_RDB_H
#define DRCTL_RDB_H

#include <stddef.h>
#include <stdint.h>

#include "lib/core/error.h"

#define RDB_VERSION_MIN 1
#define RDB_VERSION_MAX 12          /* Redis 7.4 */
#define RDB_KEY_MAX (8u << 20)      /* longest key accepted (decoded), bytes */
#define RDB_AUX_MAX (1u << 20)      /* longest aux value handed to on_aux */
#define RDB_MAX_DATABASES 4096      /* distinct database numbers in one RDB */

/* Value types (the byte before each key), from Redis rdb.h. */
enum rdb_type {
	RDB_TYPE_STRING = 0,
	RDB_TYPE_LIST = 1,
	RDB_TYPE_SET = 2,
	RDB_TYPE_ZSET = 3,
	RDB_TYPE_HASH = 4,
	RDB_TYPE_ZSET_2 = 5,
	RDB_TYPE_MODULE = 6,            /* pre-4.0 modules: cannot be skipped, rejected */
	RDB_TYPE_MODULE_2 = 7,
	RDB_TYPE_HASH_ZIPMAP = 9,
	RDB_TYPE_LIST_ZIPLIST = 10,
	RDB_TYPE_SET_INTSET = 11,
	RDB_TYPE_ZSET_ZIPLIST = 12,
	RDB_TYPE_HASH_ZIPLIST = 13,
	RDB_TYPE_LIST_QUICKLIST = 14,
	RDB_TYPE_STREAM_LISTPACKS = 15,
	RDB_TYPE_HASH_LISTPACK = 16,
	RDB_TYPE_ZSET_LISTPACK = 17,
	RDB_TYPE_LIST_QUICKLIST_2 = 18,
	RDB_TYPE_STREAM_LISTPACKS_2 = 19,
	RDB_TYPE_SET_LISTPACK = 20,
	RDB_TYPE_STREAM_LISTPACKS_3 = 21,
	/* Redis 7.4 (RDB 12): hashes with field expirations (HEXPIRE). */
	RDB_TYPE_HASH_METADATA_PRE_GA = 22,
	RDB_TYPE_HASH_LISTPACK_EX_PRE_GA = 23,
	RDB_TYPE_HASH_METADATA = 24,
	RDB_TYPE_HASH_LISTPACK_EX = 25,
	RDB_TYPE_COUNT = 26,
};

/* The opcode that precedes a function library; also the first byte of a
 * FUNCTION DUMP / FUNCTION RESTORE payload. */
#define RDB_OPCODE_FUNCTION2 0xF5

/* A key, as on_key_begin sees it.  Pointers are valid until on_key_end. */
struct rdb_key_info {
	uint32_t db;
	uint8_t type;                   /* enum rdb_type: first byte of the DUMP payload */
	const uint8_t *key;             /* decoded key name, not NUL-terminated */
	size_t key_len;
	int64_t expire_ms;              /* absolute Unix time in ms, -1 when none */
	int64_t lru_idle;               /* seconds idle (opcode IDLE), -1 when absent */
	int lfu_freq;                   /* 0..255 (opcode FREQ), -1 when absent */
};

/*
 * All callbacks are optional.  Each returns 0 to go on or -1 to stop the
 * parse; a callback that returns -1 should set err (the parser sets a
 * generic one otherwise) and rdb_parser_feed() returns -1.
 */
struct rdb_callbacks {
	/* value is NULL (and value_len its real length) when it is longer
	 * than RDB_AUX_MAX: the field is skipped, not buffered. */
	int (*on_aux)(void *ctx, const uint8_t *key, size_t key_len,
		      const uint8_t *value, size_t value_len, struct drctl_error *err);
	int (*on_select_db)(void *ctx, uint32_t db, struct drctl_error *err);
	/* RESIZEDB: the server's own key and expire counts for the database. */
	int (*on_resize_db)(void *ctx, uint32_t db, uint64_t keys, uint64_t expires,
			    struct drctl_error *err);
	int (*on_key_begin)(void *ctx, const struct rdb_key_info *key, struct drctl_error *err);
	/* The value exactly as in the RDB, in pieces: type byte (from
	 * on_key_begin) || these bytes || trailer = a DUMP payload. */
	int (*on_value_bytes)(void *ctx, const uint8_t *raw, size_t len, struct drctl_error *err);
	int (*on_key_end)(void *ctx, struct drctl_error *err);
	/* A function library (FUNCTION2 opcode): its raw string encoding, in
	 * pieces.  RDB_OPCODE_FUNCTION2 || these bytes || trailer is a payload
	 * for FUNCTION RESTORE. */
	int (*on_function_bytes)(void *ctx, const uint8_t *raw, size_t len, struct drctl_error *err);
	int (*on_function_end)(void *ctx, struct drctl_error *err);
	/* MODULE_AUX: module id and its 9-character name (NUL-terminated). */
	int (*on_module_aux)(void *ctx, uint64_t module_id, const char *module_name,
			     struct drctl_error *err);
};

/* How the CRC64 at the end was found. */
enum rdb_crc_status {
	RDB_CRC_NOT_READ = 0,           /* the stream has not reached it */
	RDB_CRC_VERIFIED,               /* stored CRC equals the computed one */
	RDB_CRC_DISABLED,               /* stored CRC is 0: saved with rdbchecksum no */
	RDB_CRC_ABSENT,                 /* RDB version < 5 has no CRC */
};

struct rdb_db_stats {
	uint32_t db;
	uint64_t keys;                  /* keys parsed */
	uint64_t expires;               /* of which with an expiry */
	int has_resize;                 /* a RESIZEDB hint was present */
	uint64_t resize_keys;           /* the hint, as the server wrote it */
	uint64_t resize_expires;
};

struct rdb_summary {
	int version;                    /* 0 until the header was read */
	int complete;                   /* EOF opcode (and CRC) read */
	enum rdb_crc_status crc_status;
	uint64_t crc_stored;
	uint64_t crc_computed;
	uint64_t bytes;                 /* bytes consumed so far */
	uint64_t keys;                  /* all databases */
	uint64_t expires;
	uint64_t keys_by_type[RDB_TYPE_COUNT];
	uint64_t functions;             /* FUNCTION2 libraries */
	uint64_t aux_fields;
	uint64_t module_aux;
	size_t ndbs;
	const struct rdb_db_stats *dbs; /* in the order first seen */
};

struct rdb_parser;

/* cb is copied; ctx is passed to every callback.  NULL when out of memory. */
struct rdb_parser *rdb_parser_new(const struct rdb_callbacks *cb, void *ctx);
void rdb_parser_free(struct rdb_parser *p);

/* Consume len bytes.  -1 with err set on a format error, an error of a
 * callback, or any byte after the CRC.  Once failed, every later call fails. */
int rdb_parser_feed(struct rdb_parser *p, const void *buf, size_t len, struct drctl_error *err);

/* The stream has ended: -1 unless it ended exactly after the CRC. */
int rdb_parser_finish(struct rdb_parser *p, struct drctl_error *err);

/* Valid until the parser is freed; dbs may move while feeding. */
const struct rdb_summary *rdb_parser_summary(const struct rdb_parser *p);

/* Name of a value type for messages ("zset-listpack"), "unknown" otherwise. */
const char *rdb_type_name(int type);

/* The 9-character module name a module id encodes (out: 10 bytes). */
void rdb_module_name(uint64_t module_id, char out[10]);

/*
 * DUMP payload = first byte (the value type, or RDB_OPCODE_FUNCTION2 for
 * FUNCTION RESTORE) || raw bytes || trailer, where the trailer is the RDB
 * version (2 bytes LE) and the CRC64 of everything before it (8 bytes LE).
 * The builder keeps only the running CRC, so a restore can stream RESTORE's
 * payload argument as the parser delivers the value.
 */
#define RDB_DUMP_TRAILER_LEN 10
struct rdb_dump_builder {
	uint64_t crc;
};
void rdb_dump_begin(struct rdb_dump_builder *b, uint8_t first_byte);
void rdb_dump_add(struct rdb_dump_builder *b, const void *raw, size_t len);
void rdb_dump_trailer(struct rdb_dump_builder *b, int rdb_version,
		      uint8_t trailer[RDB_DUMP_TRAILER_LEN]);

#endif
