/*
 * http: a small libcurl wrapper for drctl's HTTP clients (Vault today).
 *
 * One client = one curl easy handle, so consecutive requests reuse the
 * connection.  A request is a single attempt: retries, backoff and what a
 * status means belong to the caller (vault.c knows that 429 from sys/health
 * is not a rate limit).  Design choices, and why:
 *
 * - Redirects are never followed here.  The caller decides where a token may
 *   go and can replay a streamed body from its origin (a standby's 307).
 * - A 2xx body streams into the request's sink; any other body is kept in
 *   memory (bounded) so the caller can turn Vault's {"errors":[...]} into a
 *   message.  So a failed request never writes into an archive.
 * - Request bodies come from memory or from a `struct source` (known length,
 *   or chunked when the length is unknown).
 * - TLS verification is on unless skip_verify; CA bundle file, a folder of
 *   PEM files (read into memory, so no c_rehash is needed, as the Vault CLI
 *   does), client certificate and key.  server_name overrides the name used
 *   for SNI and certificate verification (VAULT_TLS_SERVER_NAME): the URL's
 *   host is replaced by it and CURLOPT_CONNECT_TO sends the connection to the
 *   real host and port.
 * - Timeouts: a whole-request limit for small requests; a streamed request
 *   instead fails when no byte moves for `timeout` seconds, because a 1 GiB
 *   snapshot legitimately takes longer than any sane total limit.
 * - Nothing here logs headers (they carry tokens); verbose mode is never on.
 */
#ifndef DRCTL_HTTP_H
#define DRCTL_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "lib/core/error.h"
#include "lib/stream/stream.h"

struct http_tls {
	const char *ca_file;     /* PEM bundle */
	const char *ca_path;     /* folder of PEM files */
	const char *client_cert; /* PEM */
	const char *client_key;  /* PEM */
	const char *server_name; /* SNI / verification name override */
	int skip_verify;
};

struct http_client;

/* timeout_seconds: whole request (small) or stall limit (streamed). */
struct http_client *http_client_new(const struct http_tls *tls, long timeout_seconds,
				    struct drctl_error *err);
void http_client_free(struct http_client *c);

#define HTTP_BODY_UNKNOWN UINT64_MAX

struct http_request {
	const char *method;          /* "GET", "POST", ... */
	const char *url;
	const char *const *headers;  /* "Name: value" lines */
	size_t n_headers;
	/* Request body: from memory, or from a source (not closed here). */
	const void *body;
	size_t body_len;
	struct source *body_src;
	uint64_t body_src_len;       /* HTTP_BODY_UNKNOWN = chunked */
	/* A 2xx response body goes here (not closed) when set, else to memory. */
	struct sink *sink;
	int streamed;                /* stall timeout instead of a total one */
};

struct http_response {
	long status;                 /* 0 when no response arrived */
	char location[2048];         /* Location header, if any */
	char content_type[128];
	long retry_after;            /* seconds, -1 when absent */
	char *body;                  /* in-memory body (NUL-terminated), may be NULL */
	size_t body_len;
	uint64_t sink_bytes;         /* bytes handed to the sink */
	uint64_t sent_bytes;         /* request body bytes read from body_src */
	int transport_failed;        /* no (complete) response: connection, TLS, timeout */
	int tls_failed;              /* ... and it was the TLS handshake or the certificate */
};

/* One attempt.  Returns 0 when a complete response arrived, whatever its
 * status.  Returns -1 with err set when the connection, TLS, or a timeout
 * failed (res->transport_failed = 1, EXIT_IO), or when the sink or the body
 * source failed (their error is kept).  The error names the URL without its
 * query string. */
int http_perform(struct http_client *c, const struct http_request *req, struct http_response *res,
		 struct drctl_error *err);
void http_response_free(struct http_response *res);

/* Percent-encode one path segment (RFC 3986 unreserved kept) into out.
 * Returns -1 when it does not fit. */
int http_escape_segment(const char *in, char *out, size_t cap);

#endif
