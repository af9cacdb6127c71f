/*
 * s3: what drctl says to an S3-compatible store (AWS S3, MinIO, Ceph RGW,
 * GCS in interoperability mode), on the HTTP layer (http.h) with AWS
 * Signature Version 4 (aws_sigv4.h).  The storage driver
 * (lib/storage/repo_s3.c) is its one user; it knows nothing of sets.
 *
 * Requests.  Every request is signed.  An upload (PUT of an object or of a
 * part) sends Content-MD5 of its bytes, signed, which the store checks
 * (BadDigest), and x-amz-content-sha256: UNSIGNED-PAYLOAD (SigV4 allows
 * it; the signed MD5 already vouches for the bytes, and a second pass for
 * their SHA-256 cost CPU the backup needs).  Every other request sends
 * and signs the SHA-256 of its (small or empty) body.
 * Addresses are virtual-host style (https://BUCKET.HOST/KEY) unless
 * [repository] force_path_style is set, the bucket's name is not a DNS
 * label, or it has dots and the endpoint is https (the store's wildcard
 * certificate cannot cover them): then path style (https://HOST/BUCKET/KEY).
 * With no endpoint the store is AWS: https://s3.REGION.amazonaws.com.
 *
 * Retries.  Every request runs under the HTTP layer's policy
 * (http_perform_retrying, http_retry_policy_default): 5xx, 429, 408,
 * connection resets and timeouts, plus what only S3 knows: 400
 * RequestTimeout, 400 BadDigest and 400 XAmzContentSHA256Mismatch (the
 * bytes arrived damaged), 409 OperationAborted, a CompleteMultipartUpload
 * answered 200 with an <Error> of InternalError or SlowDown inside, and the
 * POSTs of a multipart upload (after a start that was retried, the other
 * uploads of the key, begun by attempts whose answer was lost, are
 * aborted; completing one twice is caught by its ETag).  A part's bytes stay in memory until the
 * part is stored, so a retry sends the same part again and nothing else.
 * The HTTP layer logs each retry with its reason.
 *
 * Errors.  A failed request is a drctl error naming the operation, the
 * bucket and key (s3://BUCKET/KEY), the status, S3's Code and Message from
 * the <Error> body, and the request id (RequestId, or x-amz-request-id for
 * a HEAD), classified by cause: NoSuchKey/NoSuchBucket/404 EXIT_NOT_FOUND;
 * AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch, ExpiredToken,
 * RequestTimeTooSkewed and other 403s EXIT_USAGE with a hint (the
 * credentials and where they came from, the bucket policy, the secret, the
 * clock); 5xx, SlowDown, timeouts and connection failures (after the
 * retries) EXIT_IO; other refusals EXIT_FAILED.
 *
 * Secrets.  The secret key never leaves aws_sigv4; the Authorization and
 * x-amz-security-token headers exist only in memory for the request (the
 * header lines are wiped after it) and appear in no log, error or URL.
 * Nothing here logs a header; messages name the credentials' source, never
 * a value.
 *
 * Threads.  A `struct s3_client` (settings, credentials, the signing-key
 * cache) is shared and read-only after s3_client_open; a `struct s3_conn`
 * (one connection) is used by one thread at a time.
 */
#ifndef DRCTL_S3_H
#define DRCTL_S3_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/clients/http.h"
#include "lib/core/config.h"
#include "lib/core/error.h"

/* S3's limits on multipart uploads. */
#define S3_PART_MIN (5u << 20)
#define S3_PARTS_MAX 10000u
#define S3_ETAG_MAX 80

struct s3_client;
struct s3_conn;

/* Read [repository] bucket, region, endpoint, force_path_style, ca_file,
 * timeout_seconds, storage_class, object_lock_days and object_lock_mode,
 * and the credentials (aws_credentials.h). */
int s3_client_open(struct s3_client **out, const struct config *cfg, struct drctl_error *err);
void s3_client_free(struct s3_client *c);
/* "https://HOST (REGION)": the endpoint, for messages. */
const char *s3_client_where(const struct s3_client *c);
const char *s3_client_bucket(const struct s3_client *c);
/* Where the credentials came from ("environment (AWS_ACCESS_KEY_ID, ...)"). */
const char *s3_client_credentials_source(const struct s3_client *c);
/* Replace the retry policy and the world retries run in (tests). */
void s3_client_set_retry(struct s3_client *c, const struct http_retry_policy *policy,
			 const struct http_retry_env *env);

struct s3_conn *s3_conn_new(struct s3_client *c, struct drctl_error *err);
void s3_conn_free(struct s3_conn *conn);
/* While *flag is non-zero (read atomically), no new attempt starts and
 * backoff sleeps end: a writer being aborted does not wait out retries.
 * NULL clears it. */
void s3_conn_set_cancel(struct s3_conn *conn, const int *flag);

/* --- objects ----------------------------------------------------------------------- */

struct s3_object_info {
	uint64_t size;
	char etag[S3_ETAG_MAX];  /* as the store gives it, quotes included */
	/* Object Lock retention (x-amz-object-lock-mode and
	 * x-amz-object-lock-retain-until-date of a HEAD or GET): the mode, ""
	 * when the version has none, and until when (0: none). */
	char lock_mode[16];
	time_t retain_until;
};

/* 1 with *info when the object exists, 0 when it does not, -1 on error. */
int s3_head_object(struct s3_conn *conn, const char *key, struct s3_object_info *info, struct drctl_error *err);

/* GET the start of key: its first bytes, at most max, into *data
 * (malloc'd; *len bytes); the transfer is stopped there.  1 with info->size
 * (the whole object's, from Content-Length) and info->etag, 0 when the
 * object does not exist, -1 on error.  A transfer cut short after some
 * bytes is not an error: *len says how far it got, and s3_get_range reads
 * on from there. */
int s3_get_first(struct s3_conn *conn, const char *key, size_t max, char **data, size_t *len,
		 struct s3_object_info *info, struct drctl_error *err);
/* GET bytes [offset, offset + max) of key (fewer at its end), into *data
 * (malloc'd; *len bytes).  if_match: the ETag the object must still have
 * (NULL: any).  1 with info->size (the whole object's) and info->etag, 0
 * when the object does not exist, -1 on error.  An empty object read from
 * offset 0 is 1 with *len = 0. */
int s3_get_range(struct s3_conn *conn, const char *key, uint64_t offset, size_t max, const char *if_match,
		 char **data, size_t *len, struct s3_object_info *info, struct drctl_error *err);

struct s3_put_options {
	int if_none_match;   /* only if no object has the key (If-None-Match: *) */
	int no_retention;    /* without Object Lock retention (the lock object) */
};

/* One PUT of a whole object.  1 when stored, 0 when if_none_match and the
 * key exists (412, or 409 from a concurrent conditional write), -1 on error. */
int s3_put_object(struct s3_conn *conn, const char *key, const void *data, size_t len,
		  const struct s3_put_options *opts, struct drctl_error *err);
/* DELETE, without a versionId; a key that is not there is success.  In a
 * versioned bucket (every Object Lock bucket) that only adds a delete
 * marker: the object is gone from listings and GETs, its versions stay,
 * those under retention included.  drctl never deletes a version. */
int s3_delete_object(struct s3_conn *conn, const char *key, struct drctl_error *err);

/* --- the bucket's Object Lock -------------------------------------------------------- */

/* GetObjectLockConfiguration (GET /?object-lock): 1 when the bucket has
 * Object Lock enabled, 0 when it has none (404
 * ObjectLockConfigurationNotFoundError, an <ObjectLockConfiguration>
 * without ObjectLockEnabled, or a store that does not implement it: 501 or
 * another 404 than NoSuchBucket), -1 on error. */
int s3_object_lock_enabled(struct s3_conn *conn, struct drctl_error *err);
/* [repository] object_lock_days (0: new objects get no retention). */
long s3_client_lock_days(const struct s3_client *c);

/* --- listing ------------------------------------------------------------------------ */

struct s3_list_page {
	char **keys;             /* Contents/Key */
	size_t n_keys;
	char **prefixes;         /* CommonPrefixes/Prefix */
	size_t n_prefixes;
	char *next_token;        /* NextContinuationToken when truncated, else NULL */
	int truncated;
};

/* One page of ListObjectsV2 (delimiter may be NULL, token NULL for the
 * first page, max_keys 0 for the store's page size, at most 1000). */
int s3_list_objects(struct s3_conn *conn, const char *prefix, const char *delimiter, const char *token,
		    unsigned max_keys, struct s3_list_page *page, struct drctl_error *err);
void s3_list_page_free(struct s3_list_page *page);

/* --- multipart uploads --------------------------------------------------------------- */

struct s3_part {
	unsigned number;         /* 1..S3_PARTS_MAX */
	char etag[S3_ETAG_MAX];
	unsigned char md5[16];   /* of the part's bytes, for the object's ETag */
};

/* CreateMultipartUpload: *upload_id malloc'd. */
int s3_upload_begin(struct s3_conn *conn, const char *key, char **upload_id, struct drctl_error *err);
/* UploadPart: fills part (number, etag, md5). */
int s3_upload_part(struct s3_conn *conn, const char *key, const char *upload_id, unsigned number,
		   const void *data, size_t len, struct s3_part *part, struct drctl_error *err);
/* CompleteMultipartUpload with the parts in order; a 200 whose body is an
 * <Error> is a failure (retried when S3 says to). */
int s3_upload_complete(struct s3_conn *conn, const char *key, const char *upload_id, const struct s3_part *parts,
		       size_t n, struct drctl_error *err);
/* AbortMultipartUpload; an upload that is gone already is success. */
int s3_upload_abort(struct s3_conn *conn, const char *key, const char *upload_id, struct drctl_error *err);

struct s3_upload {
	char *key;
	char *upload_id;
	time_t initiated;        /* -1 when the store did not say */
};

struct s3_uploads_page {
	struct s3_upload *uploads;
	size_t n;
	char *next_key_marker, *next_upload_id_marker;
	int truncated;
};

/* One page of ListMultipartUploads under prefix (markers NULL for the
 * first).  1 with the page, 0 when the store does not list uploads (501
 * NotImplemented, 405: some S3-compatible servers), -1 on error. */
int s3_list_uploads(struct s3_conn *conn, const char *prefix, const char *key_marker, const char *upload_id_marker,
		    struct s3_uploads_page *page, struct drctl_error *err);
void s3_uploads_page_free(struct s3_uploads_page *page);

/* --- the XML answers (s3_xml.c), each checked for its root element --------------------- */

struct s3_error_body {
	char code[64];
	char message[256];
	char request_id[128];
};

/* 1 with *out when body is an <Error> document, else 0 (out zeroed). */
int s3_parse_error(const char *body, size_t len, struct s3_error_body *out);
int s3_parse_list_objects(const char *body, size_t len, struct s3_list_page *page, struct drctl_error *err);
int s3_parse_initiate(const char *body, size_t len, char **upload_id, struct drctl_error *err);
/* 1 with the result's ETag, 0 when the body is an <Error> (in *error), -1
 * when it is neither. */
int s3_parse_complete(const char *body, size_t len, char etag[S3_ETAG_MAX], struct s3_error_body *error,
		      struct drctl_error *err);
int s3_parse_list_uploads(const char *body, size_t len, struct s3_uploads_page *page, struct drctl_error *err);
/* 1 when an <ObjectLockConfiguration> says ObjectLockEnabled Enabled, 0
 * when it does not, -1 when the body is no such document. */
int s3_parse_object_lock_config(const char *body, size_t len, struct drctl_error *err);
/* "2010-11-10T20:48:33.000Z" (ISO 8601 as S3 writes it, fraction optional). */
int s3_parse_time(const char *text, time_t *out);
/* The ETag S3 gives an object made of these parts: the MD5 of their MD5s,
 * "-" and their count, quoted. */
void s3_multipart_etag(const struct s3_part *parts, size_t n, char out[S3_ETAG_MAX]);

#endif
