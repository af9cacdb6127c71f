/*
 * s3_object: the requests on objects (HeadObject, GetObject whole or in
 * ranges, PutObject, DeleteObject), ListObjectsV2 and
 * GetObjectLockConfiguration, on the request and error machinery of s3.c.  See s3.h for what each promises.
 */
#include "lib/clients/s3_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/core/log.h"

/* --- objects ---------------------------------------------------------------------------- */

static void s3_info_from(const struct http_response *res, struct s3_object_info *info)
{
	const char *len = http_response_header(res, "Content-Length"), *etag = http_response_header(res, "ETag");
	const char *mode = http_response_header(res, "x-amz-object-lock-mode");
	const char *until = http_response_header(res, "x-amz-object-lock-retain-until-date");

	info->size = len ? strtoull(len, NULL, 10) : 0;
	snprintf(info->etag, sizeof(info->etag), "%s", etag ? etag : "");
	/* Both or neither (S3 answers them together); a date drctl cannot read
	 * is kept as "retained" for a day-long margin rather than as none. */
	info->lock_mode[0] = '\0';
	info->retain_until = 0;
	if (mode && *mode && until && *until) {
		snprintf(info->lock_mode, sizeof(info->lock_mode), "%s", mode);
		if (s3_parse_time(until, &info->retain_until) != 0)
			info->retain_until = time(NULL) + 86400;
	}
}

int s3_head_object(struct s3_conn *conn, const char *key, struct s3_object_info *info, struct drctl_error *err)
{
	struct s3_call call = { .op = "HeadObject", .method = "HEAD", .key = key };
	struct http_response res = { 0 };
	int rc = -1;

	memset(info, 0, sizeof(*info));
	if (s3_call_perform(conn, &call, &res, err) != 0)
		goto done;
	if (res.status == 404)
		rc = 0;
	else if (res.status == 200)
		s3_info_from(&res, info), rc = 1;
	else
		s3_fail(conn, &call, &res, err);
done:
	http_response_free(&res);
	return rc;
}

/* A sink that keeps the first `cap` bytes of a body and then stops the
 * transfer (its write fails with `full` set). */
struct s3_head_sink {
	struct sink base;
	char *buf;
	size_t len, cap, alloc;
	int full;
};

static int s3_head_sink_write(struct sink *s, const void *p, size_t n, struct drctl_error *err)
{
	struct s3_head_sink *h = (struct s3_head_sink *)s;
	size_t take = n < h->cap - h->len ? n : h->cap - h->len;

	if (h->len + take > h->alloc) {
		size_t a = h->alloc ? h->alloc : 64u << 10;
		char *grown;
		while (a < h->len + take)
			a *= 2;
		if (a > h->cap)
			a = h->cap;
		if (!(grown = realloc(h->buf, a)))
			return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		h->buf = grown;
		h->alloc = a;
	}
	memcpy(h->buf + h->len, p, take);
	h->len += take;
	if (take < n) {
		h->full = 1;
		return err_set(err, EXIT_FAILED, NULL, NULL, "enough of the object for now");
	}
	return 0;
}

static int s3_head_sink_close(struct sink *s, struct drctl_error *err)
{
	(void)s;
	(void)err;
	return 0;
}

static void s3_head_sink_abort(struct sink *s)
{
	(void)s;
}

static const struct sink_ops s3_head_sink_ops = { s3_head_sink_write, s3_head_sink_close, s3_head_sink_abort };

int s3_get_first(struct s3_conn *conn, const char *key, size_t max, char **data, size_t *len,
		 struct s3_object_info *info, struct drctl_error *err)
{
	struct s3_head_sink h = { .base.ops = &s3_head_sink_ops, .cap = max };
	struct s3_call call = { .op = "GetObject", .method = "GET", .key = key, .streamed = 1, .sink = &h.base };
	struct http_response res = { 0 };
	struct drctl_error attempt;
	const char *length;
	int rc = -1, sent;

	*data = NULL;
	*len = 0;
	memset(info, 0, sizeof(*info));
	err_clear(&attempt);
	sent = s3_call_perform(conn, &call, &res, &attempt);
	length = http_response_header(&res, "Content-Length");
	if (sent != 0) {
		/* Stopped once the buffer was full, or cut short after some bytes:
		 * the rest comes in ranges.  Else the error stands. */
		if (!(h.len > 0 && res.status == 200 && (h.full || res.transport_failed))) {
			*err = attempt;
			goto done;
		}
		if (!length) {
			err_set(err, EXIT_IO, key, NULL,
				"S3 GetObject of s3://%s/%s answered without Content-Length, so the object cannot be read on in ranges",
				conn->c->bucket, key);
			goto done;
		}
	}
	if (res.status == 404) {
		rc = 0;
		goto done;
	}
	if (res.status != 200) {
		s3_fail(conn, &call, &res, err);
		goto done;
	}
	s3_info_from(&res, info);
	if (sent == 0 && !h.full)
		info->size = h.len; /* the whole object came */
	else if (info->size < h.len) {
		err_set(err, EXIT_IO, key, NULL, "S3 GetObject of s3://%s/%s sent more bytes than its Content-Length says",
			conn->c->bucket, key);
		goto done;
	}
	*data = h.buf;
	*len = h.len;
	h.buf = NULL;
	rc = 1;
done:
	free(h.buf);
	http_response_free(&res);
	return rc;
}

/* "bytes FIRST-LAST/TOTAL" */
static int s3_content_range(const char *v, uint64_t *first, uint64_t *last, uint64_t *total)
{
	unsigned long long a, b, t;
	int used = 0;

	if (!v || sscanf(v, "bytes %llu-%llu/%llu%n", &a, &b, &t, &used) != 3 || v[used] != '\0' || b < a || b >= t)
		return -1;
	*first = a;
	*last = b;
	*total = t;
	return 0;
}

static int s3_range_answer(struct s3_conn *conn, const struct s3_call *call, struct http_response *res, uint64_t offset,
			   size_t max, struct s3_object_info *info, struct drctl_error *err)
{
	const char *etag = http_response_header(res, "ETag");
	uint64_t first, last, total;

	snprintf(info->etag, sizeof(info->etag), "%s", etag ? etag : "");
	if (res->status == 206) {
		if (s3_content_range(http_response_header(res, "Content-Range"), &first, &last, &total) != 0 ||
		    first != offset || last - first + 1 != res->body_len || res->body_len > max)
			return err_set(err, EXIT_IO, call->key, NULL,
				       "S3 GetObject of s3://%s/%s answered a range other than bytes %llu-: %.80s", conn->c->bucket,
				       call->key, (unsigned long long)offset,
				       http_response_header(res, "Content-Range") ? http_response_header(res, "Content-Range") : "none");
		info->size = total;
		return 0;
	}
	/* 200: the store sent the whole object (it ignores Range). */
	if (offset != 0 || res->body_len > max)
		return err_set(err, EXIT_IO, call->key, NULL,
			       "S3 GetObject of s3://%s/%s ignored the byte range asked for (the store must support Range)",
			       conn->c->bucket, call->key);
	info->size = res->body_len;
	return 0;
}

int s3_get_range(struct s3_conn *conn, const char *key, uint64_t offset, size_t max, const char *if_match,
		 char **data, size_t *len, struct s3_object_info *info, struct drctl_error *err)
{
	char range[64];
	struct aws_sigv4_header h[2];
	size_t n = 0;
	struct s3_call call = { .op = "GetObject", .method = "GET", .key = key, .headers = h, .streamed = 1 };
	struct http_response res = { 0 };
	int rc = -1;

	*data = NULL;
	*len = 0;
	memset(info, 0, sizeof(*info));
	snprintf(range, sizeof(range), "bytes=%llu-%llu", (unsigned long long)offset,
		 (unsigned long long)(offset + (max ? max : 1) - 1));
	h[n++] = (struct aws_sigv4_header){ "Range", range };
	if (if_match && *if_match)
		h[n++] = (struct aws_sigv4_header){ "If-Match", if_match };
	call.n_headers = n;
	if (s3_call_perform(conn, &call, &res, err) != 0)
		goto done;
	if (res.status == 404) {
		rc = 0;
	} else if (res.status == 416 && offset == 0) {
		/* Range 0- of an empty object is not satisfiable. */
		rc = 1;
	} else if (res.status == 200 || res.status == 206) {
		if (s3_range_answer(conn, &call, &res, offset, max, info, err) == 0) {
			*data = res.body;
			*len = res.body_len;
			res.body = NULL;
			res.body_len = 0;
			rc = 1;
		}
	} else if (res.status == 412) {
		err_set(err, EXIT_IO, key, "run the command again; objects in a repository are written once, so check who writes there",
			"s3://%s/%s changed while it was being read (its ETag is no longer %s)", conn->c->bucket, key, if_match);
	} else {
		s3_fail(conn, &call, &res, err);
	}
done:
	http_response_free(&res);
	return rc;
}

size_t s3_new_object_headers(const struct s3_client *c, int retention, struct aws_sigv4_header *h, char *until,
				    size_t until_cap)
{
	size_t n = 0;

	if (c->storage_class[0])
		h[n++] = (struct aws_sigv4_header){ "x-amz-storage-class", c->storage_class };
	if (retention && c->lock_days > 0) {
		time_t t = time(NULL) + (time_t)c->lock_days * 86400;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(until, until_cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
		h[n++] = (struct aws_sigv4_header){ "x-amz-object-lock-mode", c->lock_mode };
		h[n++] = (struct aws_sigv4_header){ "x-amz-object-lock-retain-until-date", until };
	}
	return n;
}

int s3_put_object(struct s3_conn *conn, const char *key, const void *data, size_t len,
		  const struct s3_put_options *opts, struct drctl_error *err)
{
	struct aws_sigv4_header h[6];
	char md5[32], until[32];
	size_t n = 0;
	struct s3_call call = { .op = "PutObject", .method = "PUT", .key = key, .headers = h };
	struct http_response res = { 0 };
	int rc = -1;

	s3_content_md5(data, len, md5, NULL);
	h[n++] = (struct aws_sigv4_header){ "Content-MD5", md5 };
	if (opts && opts->if_none_match)
		h[n++] = (struct aws_sigv4_header){ "If-None-Match", "*" };
	n += s3_new_object_headers(conn->c, !(opts && opts->no_retention), h + n, until, sizeof(until));
	call.n_headers = n;
	call.body = data ? data : "";
	call.body_len = len;
	/* Signed Content-MD5 instead of the body's SHA-256, as for a part. */
	call.payload_hash = AWS_SIGV4_UNSIGNED_PAYLOAD;
	call.streamed = len > (1u << 20);
	if (s3_call_perform(conn, &call, &res, err) != 0)
		goto done;
	if (res.status == 200 || res.status == 201 || res.status == 204) {
		rc = 1;
	} else if (opts && opts->if_none_match && (res.status == 412 || res.status == 409)) {
		rc = 0;
	} else {
		s3_fail(conn, &call, &res, err);
	}
done:
	http_response_free(&res);
	return rc;
}

int s3_delete_object(struct s3_conn *conn, const char *key, struct drctl_error *err)
{
	struct s3_call call = { .op = "DeleteObject", .method = "DELETE", .key = key };
	struct http_response res = { 0 };
	int rc = -1;

	if (s3_call_perform(conn, &call, &res, err) != 0)
		goto done;
	if (res.status == 200 || res.status == 204 || res.status == 404) {
		const char *marker = http_response_header(&res, "x-amz-delete-marker");
		/* A versioned bucket (Object Lock makes one) keeps every version
		 * behind the marker: see docs/s3.md, "Delete markers". */
		if (marker && !strcmp(marker, "true"))
			log_debug("s3://%s/%s: hidden behind a delete marker; its versions stay in the bucket",
				  conn->c->bucket, key);
		rc = 0;
	} else {
		s3_fail(conn, &call, &res, err);
	}
done:
	http_response_free(&res);
	return rc;
}

/* --- the bucket's Object Lock ----------------------------------------------------------- */

int s3_object_lock_enabled(struct s3_conn *conn, struct drctl_error *err)
{
	struct aws_sigv4_param q[] = { { "object-lock", NULL } };
	struct s3_call call = { .op = "GetObjectLockConfiguration", .method = "GET", .query = q, .n_query = 1 };
	struct http_response res = { 0 };
	struct s3_error_body e;
	int rc = -1;

	if (s3_call_perform(conn, &call, &res, err) != 0)
		goto done;
	s3_parse_error(res.body, res.body_len, &e);
	if (res.status == 200) {
		if ((rc = s3_parse_object_lock_config(res.body, res.body_len, err)) < 0)
			err_prefix(err, "reading the Object Lock configuration of bucket %s", conn->c->bucket);
	} else if ((res.status == 404 && strcmp(e.code, "NoSuchBucket") != 0) || res.status == 501) {
		/* ObjectLockConfigurationNotFoundError, or a store without the
		 * subresource: either way no retention holds anything there. */
		rc = 0;
	} else {
		s3_fail(conn, &call, &res, err);
	}
done:
	http_response_free(&res);
	return rc;
}

/* --- listing ---------------------------------------------------------------------------- */

int s3_list_objects(struct s3_conn *conn, const char *prefix, const char *delimiter, const char *token,
		    unsigned max_keys, struct s3_list_page *page, struct drctl_error *err)
{
	struct aws_sigv4_param q[5];
	char max[16];
	size_t n = 0;
	struct s3_call call = { .op = "ListObjectsV2", .method = "GET", .query = q };
	struct http_response res = { 0 };
	int rc = -1;

	memset(page, 0, sizeof(*page));
	q[n++] = (struct aws_sigv4_param){ "list-type", "2" };
	q[n++] = (struct aws_sigv4_param){ "prefix", prefix ? prefix : "" };
	if (delimiter)
		q[n++] = (struct aws_sigv4_param){ "delimiter", delimiter };
	if (token)
		q[n++] = (struct aws_sigv4_param){ "continuation-token", token };
	if (max_keys) {
		snprintf(max, sizeof(max), "%u", max_keys);
		q[n++] = (struct aws_sigv4_param){ "max-keys", max };
	}
	call.n_query = n;
	if (s3_call_perform(conn, &call, &res, err) != 0)
		goto done;
	if (res.status != 200) {
		s3_fail(conn, &call, &res, err);
		goto done;
	}
	if (s3_parse_list_objects(res.body, res.body_len, page, err) != 0) {
		err_prefix(err, "listing s3://%s/%s", conn->c->bucket, prefix ? prefix : "");
		goto done;
	}
	rc = 0;
done:
	http_response_free(&res);
	return rc;
}
