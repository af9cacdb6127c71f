/*
 * s3_multipart: the requests of a multipart upload (Amazon S3 API
 * Reference: CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
 * AbortMultipartUpload, ListMultipartUploads).  How the driver cuts an
 * object into parts is lib/storage/repo_s3_write.c's business.
 */
#include "lib/clients/s3_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/log.h"

/* After a start that was retried, the uploads of key other than ours were
 * begun by attempts whose answer was lost: abort them now rather than leave
 * their parts to prune.  (The repository's lock keeps other writers off the
 * key; a failure here only leaves what prune aborts anyway.) */
static void s3_abort_lost_starts(struct s3_conn *conn, const char *key, const char *ours)
{
	struct s3_uploads_page page;
	struct drctl_error err;

	err_clear(&err);
	if (s3_list_uploads(conn, key, NULL, NULL, &page, &err) != 1) {
		if (err_is_set(&err))
			log_warn("cannot list the uploads of s3://%s/%s to abort one a lost answer began: %s; prune aborts it later",
				 conn->c->bucket, key, err.message);
		return;
	}
	for (size_t i = 0; i < page.n; i++) {
		const struct s3_upload *u = &page.uploads[i];
		if (strcmp(u->key, key) != 0 || !strcmp(u->upload_id, ours))
			continue;
		err_clear(&err);
		if (s3_upload_abort(conn, key, u->upload_id, &err) == 0)
			log_info("aborted upload %s of s3://%s/%s, begun by an attempt whose answer was lost", u->upload_id,
				 conn->c->bucket, key);
		else
			log_warn("upload %s of s3://%s/%s, begun by an attempt whose answer was lost, was not aborted: %s; prune aborts it later",
				 u->upload_id, conn->c->bucket, key, err.message);
	}
	s3_uploads_page_free(&page);
}

int s3_upload_begin(struct s3_conn *conn, const char *key, char **upload_id, struct drctl_error *err)
{
	struct aws_sigv4_param q[] = { { "uploads", NULL } };
	struct aws_sigv4_header h[3];
	char until[32];
	struct http_retry_state retry = { 0 };
	struct s3_call call = {
		.op = "CreateMultipartUpload", .method = "POST", .key = key, .query = q, .n_query = 1, .headers = h,
		.body = "", .body_len = 0,
		/* A second start after a lost answer leaves one more unfinished
		 * upload: aborted below once ours is known. */
		.post_retryable = 1, .retry = &retry,
	};
	struct http_response res = { 0 };
	int rc = -1;

	*upload_id = NULL;
	call.n_headers = s3_new_object_headers(conn->c, 1, h, until, sizeof(until));
	if (s3_call_perform(conn, &call, &res, err) != 0)
		goto done;
	if (res.status != 200) {
		s3_fail(conn, &call, &res, err);
		goto done;
	}
	if (s3_parse_initiate(res.body, res.body_len, upload_id, err) != 0) {
		err_prefix(err, "starting the upload of s3://%s/%s", conn->c->bucket, key);
		goto done;
	}
	if (retry.retries > 0)
		s3_abort_lost_starts(conn, key, *upload_id);
	rc = 0;
done:
	http_response_free(&res);
	return rc;
}

int s3_upload_part(struct s3_conn *conn, const char *key, const char *upload_id, unsigned number,
		   const void *data, size_t len, struct s3_part *part, struct drctl_error *err)
{
	char num[16], md5[32];
	struct aws_sigv4_param q[] = { { "partNumber", num }, { "uploadId", upload_id } };
	struct aws_sigv4_header h[] = { { "Content-MD5", md5 } };
	/* The bytes are vouched for by the signed Content-MD5, which the store
	 * checks (s3.h, "Integrity"): a second pass over them for a SHA-256
	 * would only cost CPU. */
	struct s3_call call = {
		.op = "UploadPart", .method = "PUT", .key = key, .query = q, .n_query = 2, .headers = h, .n_headers = 1,
		.body = data ? data : "", .body_len = len, .payload_hash = AWS_SIGV4_UNSIGNED_PAYLOAD, .streamed = 1,
	};
	struct http_response res = { 0 };
	const char *etag;
	int rc = -1;

	memset(part, 0, sizeof(*part));
	snprintf(num, sizeof(num), "%u", number);
	/* Hashed once: every retry sends the same bytes. */
	s3_content_md5(call.body, len, md5, part->md5);
	if (s3_call_perform(conn, &call, &res, err) != 0) {
		err_prefix(err, "part %u", number);
		goto done;
	}
	if (res.status != 200) {
		s3_fail(conn, &call, &res, err);
		err_prefix(err, "part %u", number);
		goto done;
	}
	etag = http_response_header(&res, "ETag");
	if (!etag || !*etag || strlen(etag) >= sizeof(part->etag)) {
		err_set(err, EXIT_FAILED, key, NULL, "S3 stored part %u of s3://%s/%s but answered without a usable ETag", number,
			conn->c->bucket, key);
		goto done;
	}
	part->number = number;
	snprintf(part->etag, sizeof(part->etag), "%s", etag);
	rc = 0;
done:
	http_response_free(&res);
	return rc;
}

/* The CompleteMultipartUpload document; ETags are hex in quotes, escaped
 * anyway. */
static char *s3_complete_body(const struct s3_part *parts, size_t n, size_t *len)
{
	size_t cap = 128 + n * (64 + 6 * S3_ETAG_MAX), o = 0;
	char *b = malloc(cap);

	if (!b)
		return NULL;
	o += (size_t)snprintf(b + o, cap - o, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
	for (size_t i = 0; i < n; i++) {
		o += (size_t)snprintf(b + o, cap - o, "<Part><PartNumber>%u</PartNumber><ETag>", parts[i].number);
		for (const char *p = parts[i].etag; *p; p++) {
			const char *esc = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;" : *p == '"' ? "&quot;" : NULL;
			if (esc)
				o += (size_t)snprintf(b + o, cap - o, "%s", esc);
			else
				b[o++] = *p;
		}
		o += (size_t)snprintf(b + o, cap - o, "</ETag></Part>");
	}
	o += (size_t)snprintf(b + o, cap - o, "</CompleteMultipartUpload>");
	*len = o;
	return b;
}

/* After a retried completion the upload may be gone because the first
 * attempt completed it: the object then has exactly these parts' ETag. */
static int s3_completed_already(struct s3_conn *conn, const char *key, const struct s3_part *parts, size_t n)
{
	struct s3_object_info info;
	struct drctl_error ignored;
	char want[S3_ETAG_MAX];

	err_clear(&ignored);
	s3_multipart_etag(parts, n, want);
	return s3_head_object(conn, key, &info, &ignored) == 1 && want[0] && !strcmp(info.etag, want);
}

int s3_upload_complete(struct s3_conn *conn, const char *key, const char *upload_id, const struct s3_part *parts,
		       size_t n, struct drctl_error *err)
{
	struct aws_sigv4_param q[] = { { "uploadId", upload_id } };
	struct aws_sigv4_header h[] = { { "Content-Type", "application/xml" } };
	struct s3_call call = {
		.op = "CompleteMultipartUpload", .method = "POST", .key = key, .query = q, .n_query = 1, .headers = h,
		.n_headers = 1, .streamed = 1, .post_retryable = 1, .complete = 1,
	};
	struct http_response res = { 0 };
	struct s3_error_body inside;
	char etag[S3_ETAG_MAX], *body;
	size_t len = 0;
	int rc = -1, parsed;

	if (!(body = s3_complete_body(parts, n, &len)))
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	call.body = body;
	call.body_len = len;
	if (s3_call_perform(conn, &call, &res, err) != 0)
		goto done;
	if (res.status == 404 && s3_completed_already(conn, key, parts, n)) {
		rc = 0;
	} else if (res.status != 200) {
		s3_fail(conn, &call, &res, err);
	} else if ((parsed = s3_parse_complete(res.body, res.body_len, etag, &inside, err)) == 0) {
		/* 200 with an <Error>: the object was not made. */
		s3_fail(conn, &call, &res, err);
	} else if (parsed > 0) {
		rc = 0;
	} else {
		err_prefix(err, "completing the upload of s3://%s/%s", conn->c->bucket, key);
	}
done:
	http_response_free(&res);
	free(body);
	return rc;
}

int s3_upload_abort(struct s3_conn *conn, const char *key, const char *upload_id, struct drctl_error *err)
{
	struct aws_sigv4_param q[] = { { "uploadId", upload_id } };
	struct s3_call call = { .op = "AbortMultipartUpload", .method = "DELETE", .key = key, .query = q, .n_query = 1 };
	struct http_response res = { 0 };
	int rc = -1;

	if (s3_call_perform(conn, &call, &res, err) != 0)
		goto done;
	if (res.status == 200 || res.status == 204 || res.status == 404)
		rc = 0;
	else
		s3_fail(conn, &call, &res, err);
done:
	http_response_free(&res);
	return rc;
}

int s3_list_uploads(struct s3_conn *conn, const char *prefix, const char *key_marker, const char *upload_id_marker,
		    struct s3_uploads_page *page, struct drctl_error *err)
{
	struct aws_sigv4_param q[4];
	size_t n = 0;
	struct s3_call call = { .op = "ListMultipartUploads", .method = "GET", .query = q };
	struct http_response res = { 0 };
	struct s3_error_body e;
	int rc = -1;

	memset(page, 0, sizeof(*page));
	q[n++] = (struct aws_sigv4_param){ "uploads", NULL };
	q[n++] = (struct aws_sigv4_param){ "prefix", prefix ? prefix : "" };
	if (key_marker)
		q[n++] = (struct aws_sigv4_param){ "key-marker", key_marker };
	if (key_marker && upload_id_marker)
		q[n++] = (struct aws_sigv4_param){ "upload-id-marker", upload_id_marker };
	call.n_query = n;
	if (s3_call_perform(conn, &call, &res, err) != 0)
		goto done;
	s3_parse_error(res.body, res.body_len, &e);
	if (res.status == 501 || res.status == 405 || !strcmp(e.code, "NotImplemented")) {
		rc = 0;
	} else if (res.status != 200) {
		s3_fail(conn, &call, &res, err);
	} else if (s3_parse_list_uploads(res.body, res.body_len, page, err) != 0) {
		err_prefix(err, "listing the unfinished uploads of s3://%s/%s", conn->c->bucket, prefix ? prefix : "");
	} else {
		rc = 1;
	}
done:
	http_response_free(&res);
	return rc;
}
