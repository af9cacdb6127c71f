/*
 * archive_stream: tar + zstd (libarchive) on top of drctl's stream stages.
 *
 * Writing: members are added one by one into a tar (pax) compressed with
 * zstd, and the compressed bytes go into the next sink (age, then digest,
 * then the repository).  Every member's name, size and SHA-256 is recorded in
 * a JSON array for the manifest, computed while the bytes pass.
 *
 * Reading: members come out one at a time from a source.  Names are checked
 * before anything uses them: absolute paths, `..` components, empty names,
 * links and special files are refused, and sizes are bounded.
 */
#ifndef DRCTL_ARCHIVE_STREAM_H
#define DRCTL_ARCHIVE_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "lib/core/error.h"
#include "lib/stream/stream.h"

#define ARCHIVE_MEMBER_NAME_MAX 1024

struct archive_out;

/* zstd level 1..19; threads 0 = one per core.  `members` (a JSON array,
 * borrowed) receives {"name","size","sha256","mode"} per member.  On failure
 * `next` is aborted. */
struct archive_out *archive_out_new(struct sink *next, int zstd_level, int threads,
				    json_t *members, struct drctl_error *err);
/* A regular file from disk, streamed. */
int archive_out_add_file(struct archive_out *ao, const char *member, const char *path,
			 struct drctl_error *err);
/* A folder entry (so empty folders come back). */
int archive_out_add_dir(struct archive_out *ao, const char *member, mode_t mode,
			struct drctl_error *err);
/* A member whose bytes are in memory. */
int archive_out_add_buffer(struct archive_out *ao, const char *member, const void *buf,
			   size_t len, mode_t mode, struct drctl_error *err);
/* A member of known size written in pieces: begin, write..., end.  Writing
 * more or fewer bytes than announced is an error. */
int archive_out_begin(struct archive_out *ao, const char *member, uint64_t size, mode_t mode,
		      struct drctl_error *err);
int archive_out_write(struct archive_out *ao, const void *buf, size_t len, struct drctl_error *err);
int archive_out_end(struct archive_out *ao, struct drctl_error *err);
/* Finish the tar and the compression and close the next sink (commit). */
int archive_out_close(struct archive_out *ao, struct drctl_error *err);
/* Throw everything away (the repository object is not published). */
void archive_out_abort(struct archive_out *ao);
/* Uncompressed tar bytes produced so far. */
uint64_t archive_out_bytes(const struct archive_out *ao);

struct archive_member {
	char name[ARCHIVE_MEMBER_NAME_MAX + 1];
	uint64_t size;
	mode_t mode;
	int is_dir;
	int64_t mtime;
};

struct archive_in;

/* Read a tar.zst from `upstream` (owned: closed with the reader). */
struct archive_in *archive_in_new(struct source *upstream, const char *object_name,
				  struct drctl_error *err);
/* 1 and *m filled for the next member, 0 at the end, -1 on error (including
 * a refused member name or type). */
int archive_in_next(struct archive_in *ai, struct archive_member *m, struct drctl_error *err);
/* Data of the current member; *got == 0 at its end. */
int archive_in_read(struct archive_in *ai, void *buf, size_t cap, size_t *got, struct drctl_error *err);
/* The current member's data as a source (borrowed: do not outlive the next
 * archive_in_next; closing it does not close the archive). */
struct source *archive_in_member_source(struct archive_in *ai);
void archive_in_close(struct archive_in *ai);

/* The member-name rule, exposed for tests and for restore targets: 0 if the
 * name is a safe relative path, else -1 with the reason. */
int archive_member_name_check(const char *name, struct drctl_error *err);

/* A stream of unknown length (pg_dump's output, an RDB sent with `$EOF:`, a
 * Vault snapshot) is stored as parts: members "<name>.part-000001", ...
 * each at most ARCHIVE_PART_SIZE bytes, held in memory one at a time (tar
 * needs a member's size before its bytes), so memory stays flat whatever the
 * stream's length.  Break-glass: `cat <name>.part-* > <name>`.  The stream's
 * total size, SHA-256 and part count go into the JSON object `streams` given
 * to archive_out_stream_begin, keyed by name, so a reader knows how many parts
 * to expect. */
#define ARCHIVE_PART_SIZE (8u << 20)
int archive_out_stream_begin(struct archive_out *ao, const char *name, mode_t mode,
			     json_t *streams, struct drctl_error *err);
int archive_out_stream_write(struct archive_out *ao, const void *buf, size_t len,
			     struct drctl_error *err);
int archive_out_stream_end(struct archive_out *ao, struct drctl_error *err);
/* The part member name: "<name>.part-%06u" (index from 1). */
void archive_stream_part_name(const char *name, unsigned index, char *out, size_t cap);

/* Reading a stream written as parts: call when archive_in_next returned its
 * first part; the source reads across all `parts` parts (it advances the
 * archive itself) and fails if a part is missing, out of order, or the total
 * SHA-256/size differ from `expect` (the manifest's streams entry).  The
 * source is owned by the caller (source_close), the archive is not. */
struct source *archive_in_stream_source(struct archive_in *ai, const char *name, json_t *expect,
					struct drctl_error *err);

/* After the last member: read the rest of the upstream to its end, so that
 * stages below (digest, age's final-chunk check) see the whole object. */
int archive_in_drain(struct archive_in *ai, struct drctl_error *err);

#endif
