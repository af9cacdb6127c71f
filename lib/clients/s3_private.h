/*
 * s3_private: what s3.c (client, requests, objects, listing) and
 * s3_multipart.c share.  Only they include it; s3.h is the module's public
 * face.
 */
#ifndef DRCTL_S3_PRIVATE_H
#define DRCTL_S3_PRIVATE_H

#include "lib/clients/aws_credentials.h"
#include "lib/clients/aws_sigv4.h"
#include "lib/clients/s3.h"

struct s3_client {
	char scheme[8];            /* "https" or "http" */
	char authority[512];       /* host[:port] of the endpoint */
	char base_path[256];       /* the endpoint URL's path ("" mostly), no trailing '/' */
	char bucket[64];
	char region[64];
	int path_style;
	char *ca_file;
	long timeout;
	char storage_class[64];    /* "" for the store's default */
	long lock_days;            /* Object Lock retention of new objects, 0 = none */
	char lock_mode[16];
	struct aws_credentials cred;
	struct aws_sigv4_cache *cache;
	struct http_retry_policy policy;
	const struct http_retry_env *env; /* tests' clock and transport, else NULL */
	char where[800];
};

struct s3_conn {
	struct s3_client *c;
	struct http_client *http;
	const int *cancel;
	struct http_retry_env env;  /* the client's world, with the cancel checks */
};

/* One request to the store. */
struct s3_call {
	const char *op;                           /* "PutObject": for messages and hints */
	const char *method;
	const char *key;                          /* NULL: the bucket itself */
	const struct aws_sigv4_param *query;
	size_t n_query;
	const struct aws_sigv4_header *headers;   /* sent and signed, besides Host */
	size_t n_headers;
	const void *body;                         /* NULL: no body */
	size_t body_len;
	const char *payload_hash;                 /* hex SHA-256 of the body, or UNSIGNED-PAYLOAD; NULL: computed */
	struct sink *sink;                        /* a 2xx body goes there, else to memory */
	int streamed;                             /* stall limit instead of a total time limit */
	int post_retryable;                       /* a transport failure of this POST may be retried */
	int complete;                             /* CompleteMultipartUpload: a 200 may hold an <Error> */
	struct http_retry_state *retry;           /* the caller's, to learn whether it was retried; NULL: none */
};

/* Sign and send, with retries.  0 when a response arrived (any status; the
 * caller reads it), -1 when none did (err says why, with the request's
 * target and a hint).  res is the caller's (zeroed, freed with
 * http_response_free). */
int s3_call_perform(struct s3_conn *conn, const struct s3_call *call, struct http_response *res,
		    struct drctl_error *err);
/* Turn a response that is not the one wanted into an error (see s3.h). */
int s3_fail(struct s3_conn *conn, const struct s3_call *call, const struct http_response *res,
	    struct drctl_error *err);
/* The headers every new object gets (at most 3): its storage class and,
 * with retention, its Object Lock mode and retain-until date (in until). */
size_t s3_new_object_headers(const struct s3_client *c, int retention, struct aws_sigv4_header *h, char *until,
			     size_t until_cap);
/* Content-MD5's value for a body, and its raw MD5 (md5 may be NULL). */
void s3_content_md5(const void *data, size_t len, char out[32], unsigned char md5[16]);

#endif
