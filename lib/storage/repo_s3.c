/*
 * repo_s3: the repository in an S3-compatible bucket, the row
 * `[repository] type = s3` of the driver table.  Object names map onto keys
 * here and nowhere else: [repository] prefix followed by the name
 * ("prod/backups/<id>/manifest.json").
 *
 * What the store gives instead of a file system's tools:
 * - Publication: an object becomes visible whole when its upload completes
 *   (one PUT, or CompleteMultipartUpload: repo_s3_write.c); nothing is ever
 *   renamed.  An unfinished upload is invisible to GET and LIST, so there
 *   are no temporaries to hide; a killed writer's upload is aborted by
 *   remove_dir and by prune (repo_cleanup_stale_uploads).
 * - Folders are key prefixes: list asks ListObjectsV2 with delimiter "/"
 *   for the immediate children, remove_dir removes every key under
 *   "<dir>/" (and aborts the uploads there).
 * - Reading streams one GET into a buffer of READ_CHUNK bytes and stops it
 *   there; what follows comes in ranged GETs of READ_CHUNK bytes, each
 *   retried on its own and tied to the object's ETag (If-Match), so a reset
 *   costs one range and a replaced object is noticed.
 * - Locks are objects like any other, "<prefix>locks/<id>.json", the same
 *   as in a folder (lib/storage/repo_lock.c).
 */
#include "lib/storage/repo_s3_private.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "lib/core/log.h"

#define READ_CHUNK (8u << 20)

int repo_s3_key(const struct repo_s3 *r, const char *name, char *out, size_t cap, struct drctl_error *err)
{
	size_t prefix_len = strlen(r->prefix);
	size_t n = prefix_len + strlen(name);

	if (n > REPO_S3_KEY_MAX || n >= cap)
		return err_set(err, EXIT_FAILED, name, "shorten [repository] prefix",
			       "the key of %.200s with [repository] prefix \"%.200s\" is %zu bytes, longer than the %d S3 keeps",
			       name, r->prefix, n, REPO_S3_KEY_MAX);
	/* Copies rather than snprintf: the length is checked above, and gcc's
	 * truncation warning cannot see that. */
	memcpy(out, r->prefix, prefix_len);
	memcpy(out + prefix_len, name, n - prefix_len + 1);
	return 0;
}

void repo_s3_take(struct repo_s3 *r)
{
	pthread_mutex_lock(&r->mu);
}

void repo_s3_release(struct repo_s3 *r)
{
	pthread_mutex_unlock(&r->mu);
}

/* --- reading ------------------------------------------------------------------------ */

struct s3_reader {
	struct source base;
	struct repo_s3 *r;
	char key[REPO_S3_KEY_MAX + 1];
	char etag[S3_ETAG_MAX];
	uint64_t size, next;     /* the object's size; the offset of the next range */
	char *chunk;
	size_t len, pos;
};

/* The range at rd->next into rd->chunk; 1, 0 when the object is gone. */
static int s3_reader_fetch(struct s3_reader *rd, struct drctl_error *err)
{
	struct s3_object_info info;
	int rc;

	free(rd->chunk);
	rd->chunk = NULL;
	rd->len = rd->pos = 0;
	repo_s3_take(rd->r);
	if (rd->next == 0)
		rc = s3_get_first(rd->r->conn, rd->key, READ_CHUNK, &rd->chunk, &rd->len, &info, err);
	else
		rc = s3_get_range(rd->r->conn, rd->key, rd->next, READ_CHUNK, rd->etag[0] ? rd->etag : NULL, &rd->chunk,
				  &rd->len, &info, err);
	repo_s3_release(rd->r);
	if (rc != 1)
		return rc;
	if (rd->next == 0) {
		rd->size = info.size;
		snprintf(rd->etag, sizeof(rd->etag), "%s", info.etag);
	} else if (info.size != rd->size) {
		return err_set(err, EXIT_IO, rd->key, NULL, "s3://%s/%s changed size while it was being read (%llu, then %llu bytes)",
			       s3_client_bucket(rd->r->client), rd->key, (unsigned long long)rd->size,
			       (unsigned long long)info.size);
	}
	if (rd->len == 0 && rd->next < rd->size)
		return err_set(err, EXIT_IO, rd->key, NULL, "S3 answered an empty range at byte %llu of s3://%s/%s",
			       (unsigned long long)rd->next, s3_client_bucket(rd->r->client), rd->key);
	rd->next += rd->len;
	return 1;
}

static int s3_reader_read(struct source *s, void *buf, size_t cap, size_t *got, struct drctl_error *err)
{
	struct s3_reader *rd = (struct s3_reader *)s;
	size_t n;

	*got = 0;
	if (rd->pos == rd->len) {
		int rc;
		if (rd->next >= rd->size)
			return 0;
		if ((rc = s3_reader_fetch(rd, err)) != 1)
			return rc == 0 ? err_set(err, EXIT_IO, rd->key, NULL, "s3://%s/%s disappeared while it was being read",
						 s3_client_bucket(rd->r->client), rd->key)
				       : -1;
	}
	n = rd->len - rd->pos < cap ? rd->len - rd->pos : cap;
	memcpy(buf, rd->chunk + rd->pos, n);
	rd->pos += n;
	*got = n;
	return 0;
}

static void s3_reader_close(struct source *s)
{
	struct s3_reader *rd = (struct s3_reader *)s;

	free(rd->chunk);
	free(rd);
}

static const struct source_ops s3_reader_ops = { s3_reader_read, s3_reader_close };

static struct source *s3_open_read(struct repo *base, const char *name, struct drctl_error *err)
{
	struct repo_s3 *r = (struct repo_s3 *)base;
	struct s3_reader *rd = calloc(1, sizeof(*rd));
	int rc;

	if (!rd) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		return NULL;
	}
	rd->r = r;
	rd->base.ops = &s3_reader_ops;
	if (repo_s3_key(r, name, rd->key, sizeof(rd->key), err) != 0)
		goto fail;
	/* The first range now: a missing object fails here, as a missing
	 * file fails open(). */
	if ((rc = s3_reader_fetch(rd, err)) < 0)
		goto fail;
	if (rc == 0) {
		err_set(err, EXIT_NOT_FOUND, name, NULL, "%s is missing from %s", name, base->description);
		goto fail;
	}
	return &rd->base;
fail:
	s3_reader_close(&rd->base);
	return NULL;
}

/* --- listing -------------------------------------------------------------------------- */

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Keep one child name (what follows the folder's key prefix). */
static int s3_list_keep(char ***names, size_t *n, size_t *cap, const char *child, size_t len)
{
	if (len == 0 || child[0] == '.' || memmem(child, len, REPO_RESERVED_MARK, strlen(REPO_RESERVED_MARK)))
		return 0; /* a folder marker some tools make ("dir/"), or no name of drctl's */
	if (*n == *cap) {
		char **grown = realloc(*names, (*cap = *cap ? *cap * 2 : 64) * sizeof(**names));
		if (!grown)
			return -1;
		*names = grown;
	}
	if (!((*names)[*n] = strndup(child, len)))
		return -1;
	(*n)++;
	return 0;
}

static int s3_list_page_names(const struct s3_list_page *page, size_t plen, char ***names, size_t *n, size_t *cap)
{
	for (size_t i = 0; i < page->n_keys; i++)
		if (strlen(page->keys[i]) >= plen &&
		    s3_list_keep(names, n, cap, page->keys[i] + plen, strlen(page->keys[i]) - plen) != 0)
			return -1;
	for (size_t i = 0; i < page->n_prefixes; i++) {
		size_t len = strlen(page->prefixes[i]);
		if (len > plen && page->prefixes[i][len - 1] == '/' &&
		    s3_list_keep(names, n, cap, page->prefixes[i] + plen, len - plen - 1) != 0)
			return -1;
	}
	return 0;
}

static int s3_list(struct repo *base, const char *dir, char ***names, size_t *n, struct drctl_error *err)
{
	struct repo_s3 *r = (struct repo_s3 *)base;
	char prefix[REPO_S3_KEY_MAX + 2], *token = NULL;
	char **out = NULL;
	size_t count = 0, cap = 0, k = 0;
	int rc = -1;

	*names = NULL;
	*n = 0;
	if (repo_s3_key(r, dir, prefix, sizeof(prefix) - 1, err) != 0)
		return -1;
	strcat(prefix, "/");
	do {
		struct s3_list_page page;
		repo_s3_take(r);
		rc = s3_list_objects(r->conn, prefix, "/", token, 0, &page, err);
		repo_s3_release(r);
		free(token);
		token = NULL;
		if (rc != 0)
			goto done;
		rc = s3_list_page_names(&page, strlen(prefix), &out, &count, &cap);
		token = page.truncated ? page.next_token : NULL;
		page.next_token = NULL;
		s3_list_page_free(&page);
		if (rc != 0) {
			err_set(err, EXIT_FAILED, NULL, NULL, "out of memory listing %s", dir);
			goto done;
		}
	} while (token);
	/* Contents and CommonPrefixes come as two sorted lists: merge them. */
	if (count)
		qsort(out, count, sizeof(*out), cmp_names);
	for (size_t i = 0; i < count; i++) {
		if (k > 0 && !strcmp(out[k - 1], out[i]))
			free(out[i]);
		else
			out[k++] = out[i];
	}
	*names = out;
	*n = k;
	out = NULL;
	count = 0;
	rc = 0;
done:
	free(token);
	repo_names_free(out, count);
	return rc;
}

/* --- stat, removal ---------------------------------------------------------------------- */

static int s3_stat(struct repo *base, const char *name, uint64_t *size, struct drctl_error *err)
{
	struct repo_s3 *r = (struct repo_s3 *)base;
	char key[REPO_S3_KEY_MAX + 1];
	struct s3_object_info info;
	int rc;

	if (repo_s3_key(r, name, key, sizeof(key), err) != 0)
		return -1;
	repo_s3_take(r);
	rc = s3_head_object(r->conn, key, &info, err);
	repo_s3_release(r);
	if (rc == 1 && size)
		*size = info.size;
	return rc;
}

static int s3_remove(struct repo *base, const char *name, struct drctl_error *err)
{
	struct repo_s3 *r = (struct repo_s3 *)base;
	char key[REPO_S3_KEY_MAX + 1];
	int rc;

	if (repo_s3_key(r, name, key, sizeof(key), err) != 0)
		return -1;
	repo_s3_take(r);
	rc = s3_delete_object(r->conn, key, err);
	repo_s3_release(r);
	return rc;
}

/* Abort the unfinished uploads under prefix (all of them, or those begun
 * before `before`); *aborted counts them.  *listed is 0 when the store
 * does not list uploads (some S3-compatible servers): that is no error,
 * there is nothing drctl can see to abort. */
static int s3_abort_uploads(struct repo_s3 *r, const char *prefix, int all, time_t before, size_t *aborted,
			    int *listed, struct drctl_error *err)
{
	char *key_marker = NULL, *id_marker = NULL;
	int rc;

	*listed = 1;
	for (;;) {
		struct s3_uploads_page page;
		repo_s3_take(r);
		rc = s3_list_uploads(r->conn, prefix, key_marker, id_marker, &page, err);
		for (size_t i = 0; rc == 1 && i < page.n; i++) {
			const struct s3_upload *u = &page.uploads[i];
			if (!all && (u->initiated == (time_t)-1 || u->initiated >= before))
				continue;
			if (s3_upload_abort(r->conn, u->key, u->upload_id, err) != 0)
				rc = -1;
			else
				(*aborted)++;
		}
		repo_s3_release(r);
		free(key_marker);
		free(id_marker);
		key_marker = id_marker = NULL;
		if (rc == 1 && page.truncated) {
			key_marker = page.next_key_marker;
			id_marker = page.next_upload_id_marker;
			page.next_key_marker = page.next_upload_id_marker = NULL;
		}
		s3_uploads_page_free(&page);
		if (rc == 0)
			*listed = 0;
		if (!key_marker)
			return rc < 0 ? -1 : 0;
	}
}

static int s3_remove_dir(struct repo *base, const char *dir, struct drctl_error *err)
{
	struct repo_s3 *r = (struct repo_s3 *)base;
	char prefix[REPO_S3_KEY_MAX + 2], *token = NULL;
	size_t aborted = 0;
	int rc, listed;

	if (repo_s3_key(r, dir, prefix, sizeof(prefix) - 1, err) != 0)
		return -1;
	strcat(prefix, "/");
	do {
		struct s3_list_page page;
		repo_s3_take(r);
		rc = s3_list_objects(r->conn, prefix, NULL, token, 0, &page, err);
		free(token);
		token = NULL;
		for (size_t i = 0; rc == 0 && i < page.n_keys; i++)
			rc = s3_delete_object(r->conn, page.keys[i], err);
		repo_s3_release(r);
		if (rc != 0) {
			s3_list_page_free(&page);
			return -1;
		}
		token = page.truncated ? page.next_token : NULL;
		page.next_token = NULL;
		s3_list_page_free(&page);
	} while (token);
	if (s3_abort_uploads(r, prefix, 1, 0, &aborted, &listed, err) != 0)
		return -1;
	if (aborted)
		log_info("aborted %zu unfinished upload%s under %s", aborted, aborted == 1 ? "" : "s", dir);
	return 0;
}

static int s3_cleanup_stale_uploads(struct repo *base, time_t older_than, size_t *aborted, struct drctl_error *err)
{
	struct repo_s3 *r = (struct repo_s3 *)base;
	int listed;

	*aborted = 0;
	if (s3_abort_uploads(r, r->prefix, 0, older_than, aborted, &listed, err) != 0)
		return -1;
	if (!listed)
		log_warn("%s does not list unfinished multipart uploads (ListMultipartUploads is not implemented there): none were aborted; a lifecycle rule (AbortIncompleteMultipartUpload) can remove them",
			 base->description);
	return 0;
}

/* --- open, close ------------------------------------------------------------------------------ */

static struct sink *s3_open_write(struct repo *base, const char *name, struct drctl_error *err)
{
	return repo_s3_writer_new((struct repo_s3 *)base, name, err);
}

static void s3_close(struct repo *base)
{
	struct repo_s3 *r = (struct repo_s3 *)base;

	s3_conn_free(r->conn);
	s3_client_free(r->client);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

static const struct repo_ops s3_ops = {
	.open_write = s3_open_write,
	.open_read = s3_open_read,
	.list = s3_list,
	.stat = s3_stat,
	.remove_dir = s3_remove_dir,
	.close = s3_close,
	.remove = s3_remove,
	.cleanup_stale_uploads = s3_cleanup_stale_uploads,
	.retained_until = repo_s3_retained_until,
};

/* [repository] prefix as a key prefix: no leading '/', one trailing '/',
 * components a name may have. */
static int s3_prefix(const struct config *cfg, char *out, size_t cap, struct drctl_error *err)
{
	const char *p = config_get(cfg, "repository", "prefix");
	char trimmed[REPO_S3_KEY_MAX];
	size_t n;

	out[0] = '\0';
	while (p && *p == '/')
		p++;
	if (!p || !*p)
		return 0;
	snprintf(trimmed, sizeof(trimmed), "%s", p);
	n = strlen(trimmed);
	while (n > 0 && trimmed[n - 1] == '/')
		trimmed[--n] = '\0';
	if (n == 0)
		return 0;
	if (n + 2 > cap || n + 1 >= REPO_S3_KEY_MAX / 2 || repo_name_check(trimmed, err) != 0) {
		err_clear(err);
		return err_set(err, EXIT_USAGE, "[repository] prefix", "e.g. prefix = prod/drctl/",
			       "[repository] prefix \"%.200s\" is not a key prefix drctl accepts (\"/\"-separated names, no \".\" or \"..\", under 512 bytes)",
			       p);
	}
	memcpy(out, trimmed, n); /* n + 2 <= cap, checked above */
	out[n] = '/';
	out[n + 1] = '\0';
	return 0;
}

static int s3_open(struct repo **out, const struct config *cfg, enum repo_open_mode mode, struct drctl_error *err)
{
	struct repo_s3 *r = calloc(1, sizeof(*r));
	struct s3_list_page page;
	long part_size;

	(void)mode; /* the bucket is made outside drctl; init checks it is there */
	*out = NULL;
	if (!r)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	pthread_mutex_init(&r->mu, NULL);
	r->base.ops = &s3_ops;
	r->object_lock = -1;
	if (s3_prefix(cfg, r->prefix, sizeof(r->prefix), err) != 0 || s3_client_open(&r->client, cfg, err) != 0 ||
	    !(r->conn = s3_conn_new(r->client, err)))
		goto fail;
	if (config_get_int(cfg, "repository", "part_size", &part_size) != 0 || part_size < (long)S3_PART_MIN)
		part_size = 16L << 20;
	r->part_size = (size_t)part_size;
	snprintf(r->base.description, sizeof(r->base.description), "S3 repository s3://%.63s/%.200s at %.200s",
		 s3_client_bucket(r->client), r->prefix, s3_client_where(r->client));
	/* One page of one key under the prefix: the bucket exists and the
	 * credentials may list there (a policy may allow only the prefix). */
	if (s3_list_objects(r->conn, r->prefix, "/", NULL, 1, &page, err) != 0)
		goto fail;
	s3_list_page_free(&page);
	if (repo_s3_check_object_lock(r, err) != 0)
		goto fail;
	log_debug("%s: credentials from %s", r->base.description, s3_client_credentials_source(r->client));
	*out = &r->base;
	return 0;
fail:
	s3_conn_free(r->conn);
	s3_client_free(r->client);
	pthread_mutex_destroy(&r->mu);
	free(r);
	return -1;
}

const struct repo_driver repo_driver_s3 = {
	.type = "s3",
	.summary = "an S3-compatible bucket ([repository] bucket, prefix, region, endpoint)",
	.caps = 0,
	.open = s3_open,
};
