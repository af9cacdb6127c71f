/*
 * aws_sigv4: AWS Signature Version 4, the Authorization header every
 * S3-compatible store (AWS S3, MinIO, Ceph RGW, GCS interoperability)
 * checks, as AWS documents it:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 * and, for S3, https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
 *
 * Pure computation, no I/O: the caller (the S3 driver, on libcurl) gives the
 * request it is about to send and gets the headers to add to it:
 *
 *   char *path = aws_sigv4_encode_path("/bucket/backups/x.tar.zst.age");
 *   struct aws_sigv4_param q[] = { { "uploadId", id }, { "partNumber", "3" } };
 *   char *query = aws_sigv4_encode_query(q, 2);        // for the URL
 *   struct aws_sigv4_header h[] = { { "Host", host }, { "Content-Length", len } };
 *   struct aws_sigv4_request req = {
 *       .method = "PUT", .path = path, .query = q, .query_count = 2,
 *       .headers = h, .header_count = 2, .payload_hash = hex_sha256_of_body,
 *       .time = time(NULL), .region = "eu-west-1", .service = "s3",
 *       .flags = AWS_SIGV4_S3 };
 *   struct aws_sigv4_signed out;
 *   if (aws_sigv4_sign(&req, &credentials, cache, &out, &err) != 0) ...
 *   for (size_t i = 0; i < out.header_count; i++)
 *       ... curl_slist_append("%s: %s", out.headers[i].name, out.headers[i].value)
 *   aws_sigv4_signed_clear(&out);           // wipes the token it holds
 *
 * The URL must carry exactly the path and query that were signed: build both
 * with aws_sigv4_encode_path and aws_sigv4_encode_query, and send every
 * header that was signed unchanged; Host is the URL's host, with ":port"
 * when the URL names a port.  Headers libcurl adds on its own (Accept,
 * Content-Length, Expect) need not be signed.
 *
 * Secrets: the secret key and the keys derived from it are wiped
 * (OPENSSL_cleanse) as soon as they are used, and appear in no message.  The
 * session token is a secret too: it is in the x-amz-security-token header
 * and in the canonical request (it is signed), both wiped by
 * aws_sigv4_signed_clear; never log canonical_request.
 */
#ifndef DRCTL_AWS_SIGV4_H
#define DRCTL_AWS_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "lib/clients/aws_credentials.h"
#include "lib/core/error.h"

/* The payload hash of an upload whose body is not hashed (S3 only; the
 * request then relies on TLS for the body's integrity). */
#define AWS_SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
/* The hex SHA-256 of an empty body. */
#define AWS_SIGV4_EMPTY_PAYLOAD "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* How the request is canonicalized. */
enum aws_sigv4_flags {
	/* The path is signed exactly as given, which must be its one RFC 3986
	 * encoding (aws_sigv4_encode_path): not normalized, not encoded again.
	 * Without it (every service but S3) the path is normalized ("." and
	 * ".." segments and repeated slashes removed) and encoded once more. */
	AWS_SIGV4_PATH_AS_IS = 1u << 0,
	/* Send and sign x-amz-content-sha256 (the payload hash), as S3 requires. */
	AWS_SIGV4_CONTENT_SHA256 = 1u << 1,
	/* What drctl uses. */
	AWS_SIGV4_S3 = AWS_SIGV4_PATH_AS_IS | AWS_SIGV4_CONTENT_SHA256,
};

/* A request header, or a header to add.  Names are matched case-insensitively. */
struct aws_sigv4_header {
	const char *name;
	const char *value;
};

/* A query parameter, decoded ("prefix", "backups/2026").  value NULL is a
 * bare name on the wire ("?uploads"); it is signed as "uploads=" either way. */
struct aws_sigv4_param {
	const char *name;
	const char *value;
};

struct aws_sigv4_request {
	const char *method;                     /* "GET", "PUT", ... */
	const char *path;                       /* the URL's path as sent, "/" when empty */
	const struct aws_sigv4_param *query;    /* in any order; may be NULL when query_count is 0 */
	size_t query_count;
	/* Every header sent that is to be signed, Host included; a name given
	 * more than once is signed as its values joined with ',' in this order.
	 * Not Authorization, X-Amz-Date, X-Amz-Security-Token (nor
	 * X-Amz-Content-Sha256 with AWS_SIGV4_CONTENT_SHA256): the signer adds them. */
	const struct aws_sigv4_header *headers;
	size_t header_count;
	/* Hex SHA-256 of the body (aws_sigv4_payload_hash) or
	 * AWS_SIGV4_UNSIGNED_PAYLOAD; NULL is the hash of an empty body. */
	const char *payload_hash;
	time_t time;                            /* when it is signed (X-Amz-Date) */
	const char *region;                     /* "us-east-1" */
	const char *service;                    /* "s3" */
	unsigned flags;                         /* enum aws_sigv4_flags */
};

/* What signing gives: the headers to add, and the intermediate strings for
 * tests and debugging.  Owned by the caller; aws_sigv4_signed_clear wipes it. */
struct aws_sigv4_signed {
	/* x-amz-date, x-amz-content-sha256 (with AWS_SIGV4_CONTENT_SHA256),
	 * x-amz-security-token (when the credentials have a session token) and
	 * Authorization, in that order; values point into this struct. */
	struct aws_sigv4_header headers[4];
	size_t header_count;
	char *canonical_request;   /* holds the session token: never log it */
	char *string_to_sign;
	char *authorization;       /* the Authorization header's value */
	int signing_key_cached;    /* 1 when the signing key came from the cache */
	/* storage the header values point into */
	char amz_date[17];
	char content_sha256[68];
	char *security_token;
};

/* Signing keys, derived from the secret key for a (date, region, service)
 * and valid for that UTC day: the cache keeps the last one so it is derived
 * once a day, not once a request.  Safe to share between threads. */
struct aws_sigv4_cache;

struct aws_sigv4_cache *aws_sigv4_cache_new(void);      /* NULL when out of memory */
void aws_sigv4_cache_free(struct aws_sigv4_cache *cache); /* wipes the key it holds */
/* How many signing keys this cache has derived (a cache hit derives none). */
unsigned long aws_sigv4_cache_derivations(const struct aws_sigv4_cache *cache);

/* Sign req with cred (access_key_id, secret_access_key, and session_token
 * when not NULL).  cache may be NULL (the key is then derived every time).
 * Fills out (cleared first).  Fails, naming the header or parameter but
 * never a secret, when an input cannot be signed: a header value with a
 * line break, a path that is not in its encoded form under
 * AWS_SIGV4_PATH_AS_IS, a missing Host header, a header the signer adds
 * itself; EXIT_USAGE for those, EXIT_FAILED when out of memory. */
int aws_sigv4_sign(const struct aws_sigv4_request *req, const struct aws_credentials *cred,
		   struct aws_sigv4_cache *cache, struct aws_sigv4_signed *out,
		   struct drctl_error *err);
void aws_sigv4_signed_clear(struct aws_sigv4_signed *out);

/* A decoded path ("/bucket/my key") as sent and signed ("/bucket/my%20key"):
 * every byte but the RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~)
 * and '/' becomes %XX (upper-case hex).  malloc'd; NULL when out of memory. */
char *aws_sigv4_encode_path(const char *path);
/* The query string to send for these parameters ("a=1&b%2Fc=2", without
 * '?'), in the canonical order.  "" for none; malloc'd, NULL when out of memory. */
char *aws_sigv4_encode_query(const struct aws_sigv4_param *params, size_t count);
/* Hex SHA-256 of a body, for payload_hash and x-amz-content-sha256. */
void aws_sigv4_payload_hash(const void *data, size_t len, char out[65]);

#endif
