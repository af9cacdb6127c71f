/*
 * vault_snapshot: Vault raft snapshots, checked while they stream.
 *
 * A snapshot is gzip over a tar of meta.json, state.bin, SHA256SUMS and
 * SHA256SUMS.sealed.  Vault sends the 200 before the data, so a snapshot that
 * broke half way looks like a success to anyone who only checks the status;
 * and one without SHA256SUMS.sealed is refused by Vault's own client.  The
 * check below therefore inflates the bytes as they pass (zlib, 32 KiB window
 * + 64 KiB buffer), walks the tar headers itself (no temporary file, no
 * libarchive seeking), hashes meta.json and state.bin, and at the end
 * demands: gzip complete, tar end-of-archive seen, all four members,
 * SHA256SUMS.sealed non-empty, SHA256SUMS lines equal to the computed hashes.
 * Memory stays flat whatever the size of state.bin.
 *
 * The same check runs on backup (tee into the archive), on restore (before
 * the last byte is released to Vault) and on deep verify.
 */
#include "lib/clients/vault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "lib/core/log.h"

#define SNAP_INFLATE_BUF (64u * 1024)
#define SNAP_KEEP_MAX (1u << 20)  /* meta.json, SHA256SUMS, pax headers */

enum snap_member { SNAP_META, SNAP_STATE, SNAP_SUMS, SNAP_SEALED, SNAP_N, SNAP_OTHER = SNAP_N };
static const char *const snap_names[SNAP_N] = { "meta.json", "state.bin", "SHA256SUMS", "SHA256SUMS.sealed" };

struct snap_entry {
	int seen;
	uint64_t size;
	char sha256[65];
};

struct vault_snapshot_check {
	z_stream z;
	int z_ready, z_end;
	EVP_MD_CTX *gz_md;       /* SHA-256 of the compressed bytes */
	uint64_t gz_bytes, tar_bytes;
	unsigned char *out;
	/* tar walker */
	unsigned char hdr[512];
	size_t hdr_used;
	int zero_blocks, tar_end;
	uint64_t left, pad;      /* data bytes of the current member, then padding */
	int in_data;
	enum snap_member cur;
	int cur_is_pax;
	char pax_path[256];
	uint64_t pax_size;
	int pax_has_size;
	EVP_MD_CTX *md;          /* of the current member */
	char *keep;              /* contents kept: meta.json, SHA256SUMS, pax */
	size_t keep_len;
	char *meta, *sums;
	size_t meta_len, sums_len;
	struct snap_entry e[SNAP_N];
	char other[128];         /* the first unexpected member, for the facts */
};

struct vault_snapshot_check *vault_snapshot_check_new(struct drctl_error *err)
{
	struct vault_snapshot_check *c = calloc(1, sizeof(*c));

	if (!c || !(c->out = malloc(SNAP_INFLATE_BUF)) || !(c->gz_md = EVP_MD_CTX_new()) ||
	    !(c->md = EVP_MD_CTX_new())) {
		vault_snapshot_check_free(c);
		return (err_set(err, EXIT_FAILED, NULL, NULL, "out of memory"), NULL);
	}
	/* 16 + MAX_WBITS: gzip wrapper only (a raw zlib stream is not a snapshot). */
	if (inflateInit2(&c->z, 16 + MAX_WBITS) != Z_OK) {
		vault_snapshot_check_free(c);
		return (err_set(err, EXIT_FAILED, NULL, NULL, "cannot initialise zlib"), NULL);
	}
	c->z_ready = 1;
	EVP_DigestInit_ex(c->gz_md, EVP_sha256(), NULL);
	return c;
}

void vault_snapshot_check_free(struct vault_snapshot_check *c)
{
	if (!c)
		return;
	if (c->z_ready)
		inflateEnd(&c->z);
	EVP_MD_CTX_free(c->gz_md);
	EVP_MD_CTX_free(c->md);
	free(c->out);
	free(c->keep);
	free(c->meta);
	free(c->sums);
	free(c);
}

static uint64_t snap_octal(const unsigned char *p, size_t n, int *ok)
{
	uint64_t v = 0;
	size_t i = 0;

	/* GNU base-256 for sizes past 8 GiB. */
	if (p[0] & 0x80) {
		v = p[0] & 0x7f;
		for (i = 1; i < n; i++) {
			if (v >> 55) {
				*ok = 0;
				return 0;
			}
			v = (v << 8) | p[i];
		}
		return v;
	}
	while (i < n && (p[i] == ' ' || p[i] == '\0'))
		i++;
	for (; i < n && p[i] >= '0' && p[i] <= '7'; i++)
		v = (v << 3) | (uint64_t)(p[i] - '0');
	for (; i < n; i++)
		if (p[i] != ' ' && p[i] != '\0')
			*ok = 0;
	return v;
}

static int snap_header_checksum_ok(const unsigned char *h)
{
	unsigned long sum = 0;
	int ok = 1;
	uint64_t want = snap_octal(h + 148, 8, &ok);

	for (int i = 0; i < 512; i++)
		sum += (i >= 148 && i < 156) ? ' ' : h[i];
	return ok && want == sum;
}

/* pax records "<len> key=value\n": only path and size matter here. */
static int snap_parse_pax(struct vault_snapshot_check *c, struct drctl_error *err)
{
	size_t off = 0;

	c->pax_path[0] = '\0';
	c->pax_has_size = 0;
	while (off < c->keep_len) {
		char *end;
		unsigned long len = strtoul(c->keep + off, &end, 10);
		const char *rec = c->keep + off, *kv;
		if (end == rec || *end != ' ' || len < 5 || off + len > c->keep_len || rec[len - 1] != '\n')
			return err_set(err, EXIT_INTEGRITY, NULL, NULL, "snapshot tar: malformed pax header");
		kv = end + 1;
		if (!strncmp(kv, "path=", 5)) {
			int n = (int)(rec + len - 1 - (kv + 5));
			snprintf(c->pax_path, sizeof(c->pax_path), "%.*s", n, kv + 5);
		} else if (!strncmp(kv, "size=", 5)) {
			c->pax_size = strtoull(kv + 5, NULL, 10);
			c->pax_has_size = 1;
		}
		off += len;
	}
	return 0;
}

static int snap_header(struct vault_snapshot_check *c, struct drctl_error *err)
{
	const unsigned char *h = c->hdr;
	char name[256 + 2];
	int ok = 1, zero = 1;
	uint64_t size;
	char type = (char)h[156];

	for (int i = 0; i < 512 && zero; i++)
		zero = h[i] == 0;
	if (zero) {
		if (++c->zero_blocks == 2)
			c->tar_end = 1;
		return 0;
	}
	if (c->zero_blocks)
		return err_set(err, EXIT_INTEGRITY, NULL, NULL, "snapshot tar: data after an empty block");
	if (!snap_header_checksum_ok(h))
		return err_set(err, EXIT_INTEGRITY, NULL, NULL,
			       "snapshot tar: bad header checksum after %llu bytes (not a raft snapshot, or corrupted)",
			       (unsigned long long)c->tar_bytes);
	size = snap_octal(h + 124, 12, &ok);
	if (!ok)
		return err_set(err, EXIT_INTEGRITY, NULL, NULL, "snapshot tar: bad member size");
	if (!memcmp(h + 257, "ustar", 5) && h[345])
		snprintf(name, sizeof(name), "%.155s/%.100s", (const char *)h + 345, (const char *)h);
	else
		snprintf(name, sizeof(name), "%.100s", (const char *)h);
	c->cur_is_pax = type == 'x' || type == 'g';
	if (c->cur_is_pax) {
		if (size > SNAP_KEEP_MAX)
			return err_set(err, EXIT_INTEGRITY, NULL, NULL, "snapshot tar: pax header too large");
	} else {
		if (c->pax_path[0])
			snprintf(name, sizeof(name), "%s", c->pax_path);
		if (c->pax_has_size)
			size = c->pax_size;
		c->pax_path[0] = '\0';
		c->pax_has_size = 0;
		if (type != '0' && type != '\0')
			return err_set(err, EXIT_INTEGRITY, name, NULL, "snapshot tar: %s is not a regular file (type %c)", name, type);
		c->cur = SNAP_OTHER;
		for (int i = 0; i < SNAP_N; i++)
			if (!strcmp(name, snap_names[i]))
				c->cur = (enum snap_member)i;
		if (c->cur == SNAP_OTHER) {
			if (!c->other[0])
				snprintf(c->other, sizeof(c->other), "%.120s", name);
		} else {
			if (c->e[c->cur].seen)
				return err_set(err, EXIT_INTEGRITY, name, NULL, "snapshot tar: %s appears twice", name);
			c->e[c->cur].seen = 1;
			c->e[c->cur].size = size;
			if ((c->cur == SNAP_META || c->cur == SNAP_SUMS) && size > SNAP_KEEP_MAX)
				return err_set(err, EXIT_INTEGRITY, name, NULL, "snapshot tar: %s is %llu bytes, too large", name,
					       (unsigned long long)size);
		}
		EVP_DigestInit_ex(c->md, EVP_sha256(), NULL);
	}
	c->keep_len = 0;
	c->left = size;
	c->pad = (512 - size % 512) % 512;
	c->in_data = 1;
	return 0;
}

static int snap_member_done(struct vault_snapshot_check *c, struct drctl_error *err)
{
	if (c->cur_is_pax)
		return snap_parse_pax(c, err);
	if (c->cur != SNAP_OTHER) {
		unsigned char sha[32];
		EVP_DigestFinal_ex(c->md, sha, NULL);
		hex_encode(sha, 32, c->e[c->cur].sha256);
		if (c->cur == SNAP_META || c->cur == SNAP_SUMS) {
			char **dst = c->cur == SNAP_META ? &c->meta : &c->sums;
			size_t *dlen = c->cur == SNAP_META ? &c->meta_len : &c->sums_len;
			free(*dst);
			*dst = c->keep;
			*dlen = c->keep_len;
			c->keep = NULL;
			c->keep_len = 0;
		}
	}
	return 0;
}

static int snap_keep(struct vault_snapshot_check *c, const unsigned char *p, size_t n, struct drctl_error *err)
{
	char *grown = realloc(c->keep, c->keep_len + n + 1);
	if (!grown)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	c->keep = grown;
	memcpy(c->keep + c->keep_len, p, n);
	c->keep_len += n;
	c->keep[c->keep_len] = '\0';
	return 0;
}

/* Uncompressed tar bytes: header (512) -> data (size) -> padding -> header... */
static int snap_tar(struct vault_snapshot_check *c, const unsigned char *p, size_t n, struct drctl_error *err)
{
	c->tar_bytes += n;
	while (n > 0) {
		size_t k;
		if (c->tar_end) {
			/* Writers may pad the archive with more zero blocks. */
			for (size_t i = 0; i < n; i++)
				if (p[i])
					return err_set(err, EXIT_INTEGRITY, NULL, NULL, "snapshot tar: data after the end of the archive");
			return 0;
		}
		if (c->in_data && c->left > 0) {
			k = n < c->left ? n : (size_t)c->left;
			if (c->cur_is_pax || c->cur == SNAP_META || c->cur == SNAP_SUMS)
				if (snap_keep(c, p, k, err) != 0)
					return -1;
			if (!c->cur_is_pax)
				EVP_DigestUpdate(c->md, p, k);
			c->left -= k;
			if (c->left == 0 && snap_member_done(c, err) != 0)
				return -1;
		} else if (c->in_data && c->pad > 0) {
			k = n < c->pad ? n : (size_t)c->pad;
			c->pad -= k;
		} else {
			k = 512 - c->hdr_used;
			if (k > n)
				k = n;
			memcpy(c->hdr + c->hdr_used, p, k);
			c->hdr_used += k;
			if (c->hdr_used == 512) {
				c->hdr_used = 0;
				if (snap_header(c, err) != 0)
					return -1;
				/* An empty member is complete at once. */
				if (c->in_data && c->left == 0 && snap_member_done(c, err) != 0)
					return -1;
			}
		}
		p += k;
		n -= k;
		if (c->in_data && c->left == 0 && c->pad == 0)
			c->in_data = 0;
	}
	return 0;
}

int vault_snapshot_check_feed(struct vault_snapshot_check *c, const void *buf, size_t len, struct drctl_error *err)
{
	EVP_DigestUpdate(c->gz_md, buf, len);
	c->gz_bytes += len;
	c->z.next_in = (unsigned char *)buf;
	c->z.avail_in = (uInt)len;
	while (c->z.avail_in > 0) {
		int zr;
		if (c->z_end) {
			/* Go's gzip reader accepts concatenated members: so do we. */
			if (inflateReset(&c->z) != Z_OK)
				return err_set(err, EXIT_FAILED, NULL, NULL, "zlib reset failed");
			c->z_end = 0;
		}
		c->z.next_out = c->out;
		c->z.avail_out = SNAP_INFLATE_BUF;
		zr = inflate(&c->z, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
			return err_set(err, EXIT_INTEGRITY, NULL, NULL,
				       "snapshot is not valid gzip after %llu bytes: %s (damaged, or not a raft snapshot)",
				       (unsigned long long)(c->gz_bytes - c->z.avail_in), c->z.msg ? c->z.msg : "inflate error");
		if (snap_tar(c, c->out, SNAP_INFLATE_BUF - c->z.avail_out, err) != 0)
			return -1;
		if (zr == Z_STREAM_END)
			c->z_end = 1;
	}
	/* Drain output zlib still holds for input already consumed. */
	while (!c->z_end) {
		size_t produced;
		int zr;
		c->z.next_out = c->out;
		c->z.avail_out = SNAP_INFLATE_BUF;
		zr = inflate(&c->z, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
			return err_set(err, EXIT_INTEGRITY, NULL, NULL, "snapshot is not valid gzip: %s",
				       c->z.msg ? c->z.msg : "inflate error");
		produced = SNAP_INFLATE_BUF - c->z.avail_out;
		if (produced && snap_tar(c, c->out, produced, err) != 0)
			return -1;
		if (zr == Z_STREAM_END)
			c->z_end = 1;
		if (produced == 0 || zr == Z_BUF_ERROR)
			break;
	}
	return 0;
}

/* SHA256SUMS: "<64 hex>  <name>" lines; both files must be listed and match. */
static int snap_check_sums(struct vault_snapshot_check *c, struct drctl_error *err)
{
	int listed[2] = { 0, 0 };
	char *save = NULL, *line;
	char *text = strndup(c->sums ? c->sums : "", c->sums_len);
	int rc = -1;

	if (!text)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t n = strlen(line);
		if (n && line[n - 1] == '\r')
			line[--n] = '\0';
		if (n == 0)
			continue;
		if (n < 67 || line[64] != ' ' || (line[65] != ' ' && line[65] != '*') ||
		    strspn(line, "0123456789abcdef") != 64) {
			err_set(err, EXIT_INTEGRITY, "SHA256SUMS", NULL, "snapshot's SHA256SUMS has a malformed line: %.80s", line);
			goto done;
		}
		line[64] = '\0';
		for (int i = 0; i < 2; i++) {
			if (strcmp(line + 66, snap_names[i]) != 0)
				continue;
			listed[i] = 1;
			if (strcmp(line, c->e[i].sha256) != 0) {
				err_set(err, EXIT_INTEGRITY, snap_names[i], NULL,
					"snapshot's %s has SHA-256 %s but its SHA256SUMS says %s: the snapshot is damaged",
					snap_names[i], c->e[i].sha256, line);
				goto done;
			}
		}
	}
	for (int i = 0; i < 2; i++)
		if (!listed[i]) {
			err_set(err, EXIT_INTEGRITY, "SHA256SUMS", NULL, "snapshot's SHA256SUMS does not list %s", snap_names[i]);
			goto done;
		}
	rc = 0;
done:
	free(text);
	return rc;
}

int vault_snapshot_check_finish(struct vault_snapshot_check *c, json_t **facts, struct drctl_error *err)
{
	const char *hint = "take a new snapshot (`drctl backup --component vault`); if it happens again, check Vault's log and the network path (a proxy cutting long responses)";
	unsigned char sha[32];
	char hex[65];
	json_t *members, *meta;

	if (facts)
		*facts = NULL;
	if (c->gz_bytes == 0)
		return err_set(err, EXIT_INTEGRITY, NULL, hint, "the snapshot is empty");
	if (!c->z_end)
		return err_set(err, EXIT_INTEGRITY, NULL, hint,
			       "truncated snapshot: the gzip stream ends after %llu bytes without its end (incomplete transfer)",
			       (unsigned long long)c->gz_bytes);
	if (!c->tar_end || c->in_data || c->hdr_used)
		return err_set(err, EXIT_INTEGRITY, NULL, hint,
			       "truncated snapshot: the tar inside ends after %llu bytes without its end-of-archive",
			       (unsigned long long)c->tar_bytes);
	for (int i = 0; i < SNAP_N; i++)
		if (!c->e[i].seen)
			return err_set(err, EXIT_INTEGRITY, snap_names[i], hint,
				       "incomplete snapshot: %s is missing%s", snap_names[i],
				       i == SNAP_SEALED ? " (Vault's own client refuses such a snapshot; the seal may have been unavailable)" : "");
	if (c->e[SNAP_SEALED].size == 0)
		return err_set(err, EXIT_INTEGRITY, "SHA256SUMS.sealed", hint,
			       "incomplete snapshot: SHA256SUMS.sealed is empty (Vault's own client refuses such a snapshot)");
	if (snap_check_sums(c, err) != 0)
		return -1;
	if (!facts)
		return 0;
	EVP_DigestFinal_ex(c->gz_md, sha, NULL);
	hex_encode(sha, 32, hex);
	members = json_object();
	for (int i = 0; i < SNAP_N; i++)
		json_object_set_new(members, snap_names[i], json_pack("{s:I, s:s}", "size", (json_int_t)c->e[i].size,
								     "sha256", c->e[i].sha256));
	meta = c->meta ? json_loadb(c->meta, c->meta_len, 0, NULL) : NULL;
	if (json_is_object(meta)) {
		/* Only the facts an operator compares; Peers etc. stay in the archive. */
		json_t *keep = json_object();
		const char *k;
		json_t *v;
		json_object_foreach(meta, k, v)
			if (!strcmp(k, "ID") || !strcmp(k, "Index") || !strcmp(k, "Term") || !strcmp(k, "Version"))
				json_object_set(keep, k, v);
		json_decref(meta);
		meta = keep;
	} else {
		json_decref(meta);
		meta = json_null();
	}
	*facts = json_pack("{s:I, s:s, s:I, s:o, s:o}", "size", (json_int_t)c->gz_bytes, "sha256", hex, "tar_bytes",
			   (json_int_t)c->tar_bytes, "members", members, "meta", meta);
	if (c->other[0])
		json_object_set_new(*facts, "unexpected_member", json_string(c->other));
	return *facts ? 0 : err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
}

/* --- backup: GET into the archive ------------------------------------------- */

/* The tee: each piece is checked first (so garbage stops the download at
 * once), then stored.  The part stream is begun on the first byte, so an
 * error answer leaves no member behind. */
struct snap_tee {
	struct sink base;
	struct archive_out *ao;
	const char *member;
	json_t *streams;
	struct vault_snapshot_check *check;
	int begun;
	struct progress progress;
	uint64_t bytes;
};

static int snap_tee_write(struct sink *s, const void *buf, size_t len, struct drctl_error *err)
{
	struct snap_tee *t = (struct snap_tee *)s;

	if (vault_snapshot_check_feed(t->check, buf, len, err) != 0)
		return -1;
	if (!t->begun) {
		if (archive_out_stream_begin(t->ao, t->member, 0600, t->streams, err) != 0)
			return -1;
		t->begun = 1;
	}
	t->bytes += len;
	progress_update(&t->progress, t->bytes);
	return archive_out_stream_write(t->ao, buf, len, err);
}

static int snap_tee_close(struct sink *s, struct drctl_error *err)
{
	(void)s;
	(void)err;
	return 0;
}

static void snap_tee_abort(struct sink *s)
{
	(void)s;
}

static const struct sink_ops snap_tee_ops = { snap_tee_write, snap_tee_close, snap_tee_abort };

int vault_snapshot_save(struct vault_client *vc, struct archive_out *ao, const char *member,
			json_t *streams, json_t **facts, struct drctl_error *err)
{
	struct snap_tee tee = { .base.ops = &snap_tee_ops, .ao = ao, .member = member, .streams = streams };
	struct vault_call call = { .method = "GET", .path = "sys/storage/raft/snapshot",
				   .flags = VAULT_CALL_FOLLOW_307, .sink = &tee.base, .streamed = 1 };
	double t0 = now_seconds();
	int rc = -1;

	*facts = NULL;
	if (!(tee.check = vault_snapshot_check_new(err)))
		return -1;
	progress_start(&tee.progress, "vault snapshot", 0);
	if (vault_call(vc, &call, err) != 0) {
		if (call.status == 400 && strstr(err->message, "raft storage is not in use")) {
			err_clear(err);
			rc = 1;
			goto done;
		}
		if (call.sink_bytes > 0)
			err_prefix(err, "the snapshot stream from %s broke after %llu bytes", call.node,
				   (unsigned long long)call.sink_bytes);
		goto done;
	}
	if (vault_snapshot_check_finish(tee.check, facts, err) != 0) {
		err_prefix(err, "snapshot from %s", call.node);
		goto done;
	}
	/* begun is set: check_finish refuses an empty snapshot. */
	if (archive_out_stream_end(ao, err) != 0)
		goto done;
	json_object_set_new(*facts, "node", json_string(call.node));
	json_object_set_new(*facts, "seconds", json_real(now_seconds() - t0));
	log_info("vault snapshot from %s: %llu bytes, checked (gzip, tar, 4 members, SHA256SUMS)", call.node,
		 (unsigned long long)tee.bytes);
	rc = 0;
done:
	progress_end(&tee.progress);
	if (rc < 0) {
		json_decref(*facts);
		*facts = NULL;
	}
	vault_snapshot_check_free(tee.check);
	return rc;
}

/* --- restore: POST with the body checked and the last byte held back ------------- */

struct snap_checked_source {
	struct source base;
	struct source *up;
	struct vault_snapshot_check *check;
	unsigned char held;
	int have_held, eof;
};

static int snap_checked_read(struct source *s, void *buf, size_t cap, size_t *got, struct drctl_error *err)
{
	struct snap_checked_source *c = (struct snap_checked_source *)s;
	unsigned char *out = buf;

	*got = 0;
	if (c->eof || cap < 2)
		return c->eof ? 0 : err_set(err, EXIT_FAILED, NULL, NULL, "internal: read buffer too small");
	for (;;) {
		size_t n = 0, total;
		if (source_read(c->up, out + c->have_held, cap - (size_t)c->have_held, &n, err) != 0)
			return -1;
		if (n == 0) {
			/* The upstream ended cleanly (for a part stream: SHA-256 matched
			 * the signed manifest); only a proven snapshot is completed. */
			if (vault_snapshot_check_finish(c->check, NULL, err) != 0) {
				err_prefix(err, "the snapshot in the backup set failed its check; Vault received an incomplete upload and restored nothing");
				return -1;
			}
			if (c->have_held)
				out[0] = c->held;
			*got = (size_t)c->have_held;
			c->have_held = 0;
			c->eof = 1;
			return 0;
		}
		if (vault_snapshot_check_feed(c->check, out + c->have_held, n, err) != 0) {
			err_prefix(err, "the snapshot in the backup set failed its check; Vault received an incomplete upload and restored nothing");
			return -1;
		}
		if (c->have_held)
			out[0] = c->held;
		total = (size_t)c->have_held + n;
		c->held = out[total - 1];
		c->have_held = 1;
		if (total - 1 > 0) {
			*got = total - 1;
			return 0;
		}
	}
}

static void snap_checked_close(struct source *s)
{
	struct snap_checked_source *c = (struct snap_checked_source *)s;
	source_close(c->up);
	vault_snapshot_check_free(c->check);
	free(c);
}

static const struct source_ops snap_checked_ops = { snap_checked_read, snap_checked_close };

struct source *vault_snapshot_checked_source(struct source *upstream, struct drctl_error *err)
{
	struct snap_checked_source *c = calloc(1, sizeof(*c));

	if (!c || !(c->check = vault_snapshot_check_new(err))) {
		free(c);
		source_close(upstream);
		if (!err_is_set(err))
			err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		return NULL;
	}
	c->base.ops = &snap_checked_ops;
	c->up = upstream;
	return &c->base;
}

int vault_snapshot_restore(struct vault_client *vc, int force,
			   struct source *(*open_body)(void *ctx, unsigned attempt, struct drctl_error *err),
			   void *body_ctx, uint64_t body_len, char *node, size_t node_cap,
			   struct drctl_error *err)
{
	struct vault_call call = {
		.method = "POST",
		.path = force ? "sys/storage/raft/snapshot-force" : "sys/storage/raft/snapshot",
		.flags = VAULT_CALL_FOLLOW_307, .open_body = open_body, .body_ctx = body_ctx,
		.body_len = body_len, .streamed = 1,
	};
	int rc = vault_call(vc, &call, err);

	if (node)
		snprintf(node, node_cap, "%s", call.node);
	json_decref(call.json);
	return rc;
}
