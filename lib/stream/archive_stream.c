/*
 * archive_stream: libarchive adapters.
 *
 * libarchive writes the tar and calls us back with its output, which we push
 * into our zstd stage and on into the next sink.  We ask for no blocking, so
 * nothing is copied on the way and nothing is padded at the end: the tar.zst
 * is exactly what `zstd -d | tar -t` reads.  Reading goes the other way
 * through a read callback over a source.
 */
#include "lib/stream/archive_stream.h"
#include "lib/stream/stream_thread.h"
#include "lib/stream/zstd_stream.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

enum { IO_BLOCK = 256 * 1024 };

/* --- writing ----------------------------------------------------------------- */

struct archive_out {
	struct archive *a;
	struct sink *next;       /* NULL once closed or aborted */
	struct sink *zstd;       /* in the chain after next: files are read into it */
	struct drctl_error cb_err; /* error raised inside a libarchive callback */
	json_t *members;
	uint64_t tar_bytes;
	/* the member being written */
	int in_member;
	char member[ARCHIVE_MEMBER_NAME_MAX + 1];
	uint64_t announced, written;
	mode_t mode;
	const char *of_stream; /* a part of this stream: hashed as the stream, not alone */
	EVP_MD_CTX *md;
	/* a stream being cut into parts */
	struct {
		int active;
		char name[ARCHIVE_MEMBER_NAME_MAX + 1];
		mode_t mode;
		unsigned char *buf;
		size_t used;
		unsigned parts;
		uint64_t total;
		EVP_MD_CTX *md;
		json_t *streams;
	} stream;
};

static la_ssize_t out_write_cb(struct archive *a, void *ctx, const void *buf, size_t len)
{
	struct archive_out *ao = ctx;
	(void)a;
	if (!ao->next) /* aborting: the rest of the chain is gone, discard */
		return (la_ssize_t)len;
	if (sink_write(ao->next, buf, len, &ao->cb_err) != 0)
		return -1;
	return (la_ssize_t)len;
}

static int out_error(struct archive_out *ao, struct drctl_error *err, const char *what)
{
	if (err_is_set(&ao->cb_err)) {
		*err = ao->cb_err;
		return -1;
	}
	return err_set(err, EXIT_FAILED, ao->member[0] ? ao->member : NULL, NULL,
		       "archive %s failed: %s", what, archive_error_string(ao->a) ? archive_error_string(ao->a) : "unknown error");
}

struct archive_out *archive_out_new(struct sink *next, int zstd_level, int threads,
				    json_t *members, struct drctl_error *err)
{
	struct archive_out *ao = calloc(1, sizeof(*ao));

	if (!ao) {
		sink_abort(next);
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		return NULL;
	}
	ao->next = next;
	ao->members = members;
	ao->md = EVP_MD_CTX_new();
	ao->a = archive_write_new();
	if (!ao->a || !ao->md) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		goto fail;
	}
	/* Compression is our own stage (bounded memory), so tar goes out plain. */
	ao->next = ao->zstd = zstd_sink_new(next, zstd_level, threads, err);
	/* Progress counts what is archived, before compression shrinks it. */
	if (ao->next)
		ao->next = progress_sink_new(ao->next, "archived", 0, err);
	if (!ao->next)
		goto fail;
	if (archive_write_set_format_pax_restricted(ao->a) != ARCHIVE_OK) {
		out_error(ao, err, "setup");
		goto fail;
	}
	/* No blocking: libarchive then hands every header and every data write
	 * straight to out_write_cb instead of copying it into a block buffer
	 * first, and pads nothing at the end. */
	archive_write_set_bytes_per_block(ao->a, 0);
	if (archive_write_open2(ao->a, ao, NULL, out_write_cb, NULL, NULL) != ARCHIVE_OK) {
		out_error(ao, err, "open");
		goto fail;
	}
	return ao;
fail:
	archive_out_abort(ao);
	return NULL;
}

int archive_out_begin(struct archive_out *ao, const char *member, uint64_t size, mode_t mode,
		      struct drctl_error *err)
{
	struct archive_entry *e;
	int rc;

	if (ao->in_member)
		return err_set(err, EXIT_FAILED, member, NULL, "internal: member %s begun inside %s", member, ao->member);
	if (archive_member_name_check(member, err) != 0)
		return -1;
	snprintf(ao->member, sizeof(ao->member), "%s", member);
	e = archive_entry_new();
	if (!e)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	archive_entry_set_pathname(e, member);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, mode & 07777);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_mtime(e, time(NULL), 0);
	rc = archive_write_header(ao->a, e);
	archive_entry_free(e);
	if (rc != ARCHIVE_OK)
		return out_error(ao, err, "header");
	if (!ao->of_stream)
		EVP_DigestInit_ex(ao->md, EVP_sha256(), NULL);
	ao->in_member = 1;
	ao->announced = size;
	ao->written = 0;
	ao->mode = mode;
	return 0;
}

int archive_out_write(struct archive_out *ao, const void *buf, size_t len, struct drctl_error *err)
{
	const char *p = buf;
	if (len > ao->announced - ao->written)
		return err_set(err, EXIT_FAILED, ao->member, NULL,
			       "%s grew while it was being archived (announced %llu bytes)", ao->member,
			       (unsigned long long)ao->announced);
	if (!ao->of_stream)
		EVP_DigestUpdate(ao->md, buf, len);
	while (len > 0) {
		la_ssize_t n = archive_write_data(ao->a, p, len);
		if (n <= 0)
			return out_error(ao, err, "write");
		p += n;
		len -= (size_t)n;
		ao->written += (uint64_t)n;
	}
	return 0;
}

int archive_out_end(struct archive_out *ao, struct drctl_error *err)
{
	unsigned char sha[32];
	char hex[65], mode[8];
	json_t *rec;

	if (ao->written != ao->announced)
		return err_set(err, EXIT_FAILED, ao->member, NULL,
			       "%s changed size while it was being archived (%llu of %llu bytes)", ao->member,
			       (unsigned long long)ao->written, (unsigned long long)ao->announced);
	if (archive_write_finish_entry(ao->a) != ARCHIVE_OK)
		return out_error(ao, err, "entry");
	snprintf(mode, sizeof(mode), "%04o", (unsigned)(ao->mode & 07777));
	ao->in_member = 0;
	/* tar header + data rounded to 512 */
	ao->tar_bytes += 512 + ((ao->written + 511) / 512) * 512;
	if (!ao->members)
		return 0;
	if (ao->of_stream) {
		/* The stream's SHA-256 (in "streams") covers its parts: hashing
		 * each part as well would cost a second pass over the data. */
		rec = json_pack("{s:s, s:I, s:s, s:s}", "name", ao->member, "size", (json_int_t)ao->written,
				"stream", ao->of_stream, "mode", mode);
	} else {
		EVP_DigestFinal_ex(ao->md, sha, NULL);
		hex_encode(sha, 32, hex);
		rec = json_pack("{s:s, s:I, s:s, s:s}", "name", ao->member, "size", (json_int_t)ao->written,
				"sha256", hex, "mode", mode);
	}
	if (!rec || json_array_append_new(ao->members, rec) != 0)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	return 0;
}

int archive_out_add_buffer(struct archive_out *ao, const char *member, const void *buf,
			   size_t len, mode_t mode, struct drctl_error *err)
{
	if (archive_out_begin(ao, member, len, mode, err) != 0 ||
	    archive_out_write(ao, buf, len, err) != 0 || archive_out_end(ao, err) != 0)
		return -1;
	return 0;
}

int archive_out_add_dir(struct archive_out *ao, const char *member, mode_t mode, struct drctl_error *err)
{
	struct archive_entry *e;
	char name[ARCHIVE_MEMBER_NAME_MAX + 2];
	int rc;

	if (archive_member_name_check(member, err) != 0)
		return -1;
	snprintf(name, sizeof(name), "%s/", member);
	e = archive_entry_new();
	if (!e)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFDIR);
	archive_entry_set_perm(e, mode & 07777);
	archive_entry_set_mtime(e, time(NULL), 0);
	rc = archive_write_header(ao->a, e);
	archive_entry_free(e);
	ao->tar_bytes += 512;
	return rc == ARCHIVE_OK ? 0 : out_error(ao, err, "header");
}

/* A file is read straight into the compression stage's job (the bytes pass
 * through libarchive and the progress stage by pointer), so it is copied
 * once, by the kernel, and hashed where it lands. */
int archive_out_add_file(struct archive_out *ao, const char *member, const char *path,
			 struct drctl_error *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int rc = -1;

	if (fd < 0)
		return err_set_errno(err, EXIT_IO, errno, path, "check [files] paths and the permissions of the file",
				     "cannot read %s", path);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		err_set(err, EXIT_USAGE, path, NULL, "%s is not a regular file", path);
		goto done;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (archive_out_begin(ao, member, (uint64_t)st.st_size, st.st_mode, err) != 0)
		goto done;
	for (;;) {
		void *buf;
		size_t room;
		ssize_t n;
		if (zstd_sink_reserve(ao->zstd, IO_BLOCK, &buf, &room, err) != 0)
			goto done;
		n = read(fd, buf, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_set_errno(err, EXIT_IO, errno, path, NULL, "cannot read %s", path);
			goto done;
		}
		if (n == 0)
			break;
		if (archive_out_write(ao, buf, (size_t)n, err) != 0)
			goto done;
	}
	rc = archive_out_end(ao, err);
done:
	close(fd);
	return rc;
}

int archive_out_close(struct archive_out *ao, struct drctl_error *err)
{
	int rc;

	if (ao->in_member || ao->stream.active) {
		err_set(err, EXIT_FAILED, ao->member, NULL, "internal: archive closed inside member %s", ao->member);
		archive_out_abort(ao);
		return -1;
	}
	if (archive_write_close(ao->a) != ARCHIVE_OK) {
		out_error(ao, err, "finish");
		archive_out_abort(ao);
		return -1;
	}
	rc = sink_close(ao->next, err);
	ao->next = NULL;
	archive_write_free(ao->a);
	EVP_MD_CTX_free(ao->md);
	EVP_MD_CTX_free(ao->stream.md);
	free(ao->stream.buf);
	free(ao);
	return rc;
}

void archive_out_abort(struct archive_out *ao)
{
	if (!ao)
		return;
	sink_abort(ao->next);
	ao->next = NULL;
	if (ao->a) {
		/* With next gone the callback discards; closing (not
		 * archive_write_fail) is what frees libarchive's buffers. */
		archive_write_close(ao->a);
		archive_write_free(ao->a);
	}
	EVP_MD_CTX_free(ao->md);
	EVP_MD_CTX_free(ao->stream.md);
	free(ao->stream.buf);
	free(ao);
}

uint64_t archive_out_bytes(const struct archive_out *ao)
{
	return ao->tar_bytes;
}

/* --- names -------------------------------------------------------------------- */

int archive_member_name_check(const char *name, struct drctl_error *err)
{
	size_t len = strlen(name);
	const char *p = name;

	if (len == 0)
		return err_set(err, EXIT_INTEGRITY, "(empty name)", NULL, "archive member with an empty name refused");
	if (len > ARCHIVE_MEMBER_NAME_MAX)
		return err_set(err, EXIT_INTEGRITY, name, NULL, "archive member name longer than %d bytes refused",
			       ARCHIVE_MEMBER_NAME_MAX);
	if (name[0] == '/')
		return err_set(err, EXIT_INTEGRITY, name, NULL, "archive member %s has an absolute path; refused", name);
	while (*p) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return err_set(err, EXIT_INTEGRITY, name, NULL, "archive member %s contains `..`; refused", name);
		if (!end)
			break;
		p = end + 1;
	}
	for (p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == '\\')
			return err_set(err, EXIT_INTEGRITY, name, NULL,
				       "archive member name with a control character or backslash refused");
	return 0;
}

/* --- reading ------------------------------------------------------------------- */

struct member_source {
	struct source base;
	struct archive_in *ai;
};

struct archive_in {
	struct archive *a;
	struct source *up;
	struct drctl_error cb_err;
	char object[256];
	int in_member;
	char member[ARCHIVE_MEMBER_NAME_MAX + 1];
	struct member_source msrc;
};

static la_ssize_t in_read_cb(struct archive *a, void *ctx, const void **out)
{
	struct archive_in *ai = ctx;
	size_t got = 0;
	/* libarchive reads straight from the hand-off's ring: the block stays
	 * valid until it asks for the next one. */
	if (thread_source_borrow(ai->up, out, &got, &ai->cb_err) != 0) {
		archive_set_error(a, EIO, "%s", ai->cb_err.message);
		return -1;
	}
	return (la_ssize_t)got;
}

static int in_error(struct archive_in *ai, struct drctl_error *err, const char *what)
{
	if (err_is_set(&ai->cb_err)) {
		*err = ai->cb_err;
		return -1;
	}
	return err_set(err, EXIT_INTEGRITY, ai->object,
		       "the object is damaged; run `drctl verify <id>` and restore from another backup set",
		       "%s: %s%s%s: %s", ai->object, what, ai->member[0] ? " at member " : "", ai->member,
		       archive_error_string(ai->a) ? archive_error_string(ai->a) : "unreadable archive");
}

static int member_source_read(struct source *s, void *buf, size_t cap, size_t *got, struct drctl_error *err)
{
	return archive_in_read(((struct member_source *)s)->ai, buf, cap, got, err);
}
static void member_source_close(struct source *s)
{
	(void)s; /* borrowed from the archive */
}
static const struct source_ops member_source_ops = { member_source_read, member_source_close };

struct archive_in *archive_in_new(struct source *upstream, const char *object_name, struct drctl_error *err)
{
	struct archive_in *ai = calloc(1, sizeof(*ai));

	if (!ai) {
		source_close(upstream);
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		return NULL;
	}
	snprintf(ai->object, sizeof(ai->object), "%s", object_name ? object_name : "archive");
	ai->msrc.base.ops = &member_source_ops;
	ai->msrc.ai = ai;
	/* Decompression on its own thread, so tar parsing and member hashing
	 * here overlap it (and the decryption a stage further up). */
	ai->up = zstd_source_new(upstream, ai->object, err);
	if (ai->up)
		ai->up = thread_source_new(ai->up, err);
	if (!ai->up) {
		free(ai);
		return NULL;
	}
	ai->a = archive_read_new();
	if (!ai->a || archive_read_support_format_tar(ai->a) != ARCHIVE_OK) {
		err_set(err, EXIT_FAILED, NULL, NULL, "cannot set up the archive reader");
		goto fail;
	}
	if (archive_read_open(ai->a, ai, NULL, in_read_cb, NULL) != ARCHIVE_OK) {
		in_error(ai, err, "not a tar.zst archive");
		goto fail;
	}
	return ai;
fail:
	archive_in_close(ai);
	return NULL;
}

int archive_in_next(struct archive_in *ai, struct archive_member *m, struct drctl_error *err)
{
	struct archive_entry *e;
	const char *name;
	mode_t type;
	size_t len;
	int rc = archive_read_next_header(ai->a, &e);

	ai->member[0] = '\0';
	if (rc == ARCHIVE_EOF)
		return 0;
	if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
		return in_error(ai, err, "cannot read the next member");
	name = archive_entry_pathname(e);
	if (!name)
		return err_set(err, EXIT_INTEGRITY, ai->object, NULL, "%s: member without a name refused", ai->object);
	snprintf(ai->member, sizeof(ai->member), "%s", name);
	memset(m, 0, sizeof(*m));
	type = archive_entry_filetype(e);
	if (archive_entry_hardlink(e) || archive_entry_symlink(e) || (type != AE_IFREG && type != AE_IFDIR))
		return err_set(err, EXIT_INTEGRITY, name, NULL,
			       "%s: member %s is a link or special file; refused (drctl archives hold only files and folders)",
			       ai->object, name);
	len = strlen(name);
	if (len > ARCHIVE_MEMBER_NAME_MAX)
		return archive_member_name_check(name, err);
	memcpy(m->name, name, len + 1);
	if (type == AE_IFDIR) {
		m->is_dir = 1;
		while (len > 1 && m->name[len - 1] == '/')
			m->name[--len] = '\0';
	}
	if (archive_member_name_check(m->name, err) != 0) {
		err_prefix(err, "%s", ai->object);
		return -1;
	}
	if (archive_entry_size(e) < 0)
		return err_set(err, EXIT_INTEGRITY, name, NULL, "%s: member %s has a negative size", ai->object, name);
	m->size = (uint64_t)archive_entry_size(e);
	m->mode = archive_entry_perm(e);
	m->mtime = archive_entry_mtime(e);
	ai->in_member = 1;
	return 1;
}

int archive_in_read(struct archive_in *ai, void *buf, size_t cap, size_t *got, struct drctl_error *err)
{
	la_ssize_t n = archive_read_data(ai->a, buf, cap);
	if (n < 0)
		return in_error(ai, err, "cannot read data");
	*got = (size_t)n;
	return 0;
}

struct source *archive_in_member_source(struct archive_in *ai)
{
	return &ai->msrc.base;
}

void archive_in_close(struct archive_in *ai)
{
	if (!ai)
		return;
	if (ai->a)
		archive_read_free(ai->a);
	source_close(ai->up);
	free(ai);
}

int archive_in_drain(struct archive_in *ai, struct drctl_error *err)
{
	for (;;) {
		const void *block;
		size_t got = 0;
		if (thread_source_borrow(ai->up, &block, &got, err) != 0)
			return -1;
		if (got == 0)
			return 0;
	}
}

/* --- streams of unknown length, as parts ------------------------------------------ */

void archive_stream_part_name(const char *name, unsigned index, char *out, size_t cap)
{
	if (snprintf(out, cap, "%s.part-%06u", name, index) >= (int)cap)
		out[cap - 1] = '\0';
}

static int stream_flush_part(struct archive_out *ao, struct drctl_error *err)
{
	char member[ARCHIVE_MEMBER_NAME_MAX + 16];

	int rc;

	archive_stream_part_name(ao->stream.name, ++ao->stream.parts, member, sizeof(member));
	ao->of_stream = ao->stream.name;
	rc = archive_out_add_buffer(ao, member, ao->stream.buf, ao->stream.used, ao->stream.mode, err);
	ao->of_stream = NULL;
	ao->stream.used = 0;
	return rc;
}

int archive_out_stream_begin(struct archive_out *ao, const char *name, mode_t mode,
			     json_t *streams, struct drctl_error *err)
{
	if (ao->stream.active || ao->in_member)
		return err_set(err, EXIT_FAILED, name, NULL, "internal: stream %s begun inside another member", name);
	if (archive_member_name_check(name, err) != 0)
		return -1;
	if (strlen(name) > ARCHIVE_MEMBER_NAME_MAX - 16)
		return err_set(err, EXIT_FAILED, name, NULL, "stream name %s is too long", name);
	if (!ao->stream.buf && !(ao->stream.buf = malloc(ARCHIVE_PART_SIZE)))
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	if (!ao->stream.md && !(ao->stream.md = EVP_MD_CTX_new()))
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	EVP_DigestInit_ex(ao->stream.md, EVP_sha256(), NULL);
	snprintf(ao->stream.name, sizeof(ao->stream.name), "%s", name);
	ao->stream.mode = mode;
	ao->stream.used = 0;
	ao->stream.parts = 0;
	ao->stream.total = 0;
	ao->stream.streams = streams;
	ao->stream.active = 1;
	return 0;
}

int archive_out_stream_write(struct archive_out *ao, const void *buf, size_t len, struct drctl_error *err)
{
	const unsigned char *p = buf;

	EVP_DigestUpdate(ao->stream.md, buf, len);
	ao->stream.total += len;
	while (len > 0) {
		size_t room = ARCHIVE_PART_SIZE - ao->stream.used;
		size_t n = len < room ? len : room;
		memcpy(ao->stream.buf + ao->stream.used, p, n);
		ao->stream.used += n;
		p += n;
		len -= n;
		if (ao->stream.used == ARCHIVE_PART_SIZE) {
			ao->stream.active = 0; /* add_buffer refuses nesting */
			if (stream_flush_part(ao, err) != 0)
				return -1;
			ao->stream.active = 1;
		}
	}
	return 0;
}

int archive_out_stream_end(struct archive_out *ao, struct drctl_error *err)
{
	unsigned char sha[32];
	char hex[65];

	ao->stream.active = 0;
	/* An empty stream still gets one (empty) part, so readers find it. */
	if ((ao->stream.used > 0 || ao->stream.parts == 0) && stream_flush_part(ao, err) != 0)
		return -1;
	EVP_DigestFinal_ex(ao->stream.md, sha, NULL);
	hex_encode(sha, 32, hex);
	if (ao->stream.streams &&
	    json_object_set_new(ao->stream.streams, ao->stream.name,
				json_pack("{s:I, s:s, s:i}", "size", (json_int_t)ao->stream.total, "sha256", hex,
					  "parts", (int)ao->stream.parts)) != 0)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	return 0;
}

struct parts_source {
	struct source base;
	struct archive_in *ai;
	char name[ARCHIVE_MEMBER_NAME_MAX + 1];
	unsigned part, parts;
	uint64_t total, want_size;
	char want_sha[65];
	EVP_MD_CTX *md;
	int done;
};

static int parts_source_read(struct source *s, void *buf, size_t cap, size_t *got, struct drctl_error *err)
{
	struct parts_source *p = (struct parts_source *)s;

	*got = 0;
	while (!p->done) {
		struct archive_member m;
		char want[ARCHIVE_MEMBER_NAME_MAX + 16];
		int rc;

		if (archive_in_read(p->ai, buf, cap, got, err) != 0)
			return -1;
		if (*got > 0) {
			EVP_DigestUpdate(p->md, buf, *got);
			p->total += *got;
			return 0;
		}
		if (p->part == p->parts) {
			unsigned char sha[32];
			char hex[65];
			EVP_DigestFinal_ex(p->md, sha, NULL);
			hex_encode(sha, 32, hex);
			p->done = 1;
			if (p->total != p->want_size || strcmp(hex, p->want_sha) != 0)
				return err_set(err, EXIT_INTEGRITY, p->name, NULL,
					       "stream %s does not match the signed manifest (size %llu, expected %llu, or SHA-256 differs)",
					       p->name, (unsigned long long)p->total, (unsigned long long)p->want_size);
			return 0;
		}
		rc = archive_in_next(p->ai, &m, err);
		if (rc < 0)
			return -1;
		archive_stream_part_name(p->name, ++p->part, want, sizeof(want));
		if (rc == 0 || m.is_dir || strcmp(m.name, want) != 0)
			return err_set(err, EXIT_INTEGRITY, p->name, NULL, "stream %s: expected member %s, found %s",
				       p->name, want, rc == 0 ? "the end of the archive" : m.name);
	}
	return 0;
}

static void parts_source_close(struct source *s)
{
	struct parts_source *p = (struct parts_source *)s;
	EVP_MD_CTX_free(p->md);
	free(p);
}

static const struct source_ops parts_source_ops = { parts_source_read, parts_source_close };

struct source *archive_in_stream_source(struct archive_in *ai, const char *name, json_t *expect,
					struct drctl_error *err)
{
	struct parts_source *p;
	const char *sha = json_string_value(json_object_get(expect, "sha256"));
	json_int_t parts = json_integer_value(json_object_get(expect, "parts"));
	char first[ARCHIVE_MEMBER_NAME_MAX + 16];

	archive_stream_part_name(name, 1, first, sizeof(first));
	if (!sha || strlen(sha) != 64 || parts < 1 || parts > 10000000)
		return (err_set(err, EXIT_INTEGRITY, name, NULL, "the manifest has no valid entry for stream %s", name), NULL);
	if (strcmp(ai->member, first) != 0)
		return (err_set(err, EXIT_INTEGRITY, name, NULL, "stream %s should start with member %s, found %s",
				name, first, ai->member), NULL);
	p = calloc(1, sizeof(*p));
	if (!p || !(p->md = EVP_MD_CTX_new())) {
		free(p);
		return (err_set(err, EXIT_FAILED, NULL, NULL, "out of memory"), NULL);
	}
	EVP_DigestInit_ex(p->md, EVP_sha256(), NULL);
	p->base.ops = &parts_source_ops;
	p->ai = ai;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->part = 1;
	p->parts = (unsigned)parts;
	p->want_size = (uint64_t)json_integer_value(json_object_get(expect, "size"));
	snprintf(p->want_sha, sizeof(p->want_sha), "%s", sha);
	return &p->base;
}
