/*
 * http: a small libcurl wrapper for drctl's HTTP clients (Vault today, S3
 * and the Kubernetes API next), and the one retry policy they all share.
 *
 * One client = one curl easy handle, so consecutive requests reuse the
 * connection.  http_perform is a single attempt; http_perform_retrying runs
 * a request under a `struct http_retry_policy` (http_retry.c): bounded in
 * attempts and in time, full-jitter exponential backoff, `Retry-After`
 * obeyed, each retry logged with its reason.  What a status means beyond the
 * generic rules stays with the caller, through a predicate (vault.c knows
 * that 429 from sys/health is not a rate limit; S3 will know that a 200 can
 * carry an error).  Design choices, and why:
 *
 * - Redirects are never followed here.  The caller decides where a token may
 *   go and can replay a streamed body from its origin (a standby's 307).
 * - A 2xx body streams into the request's sink; any other body is kept in
 *   memory (bounded) so the caller can turn Vault's {"errors":[...]} into a
 *   message.  So a failed request never writes into an archive, and a
 *   request whose response already reached the sink is never retried.
 * - Request bodies come from memory, from a `struct source` (known length,
 *   or chunked when the length is unknown), or from an origin that opens a
 *   fresh source for every attempt, so a retry can send the body again.
 * - Response headers are all kept (bounded), those of the final response
 *   only (not a 100 Continue's), looked up by name: http_response_header.
 * - TLS verification is on unless skip_verify; CA bundle file, a folder of
 *   PEM files (read into memory, so no c_rehash is needed, as the Vault CLI
 *   does), client certificate and key.  server_name overrides the name used
 *   for SNI and certificate verification (VAULT_TLS_SERVER_NAME): the URL's
 *   host is replaced by it and CURLOPT_CONNECT_TO sends the connection to the
 *   real host and port.
 * - Timeouts: a whole-request limit for small requests; a streamed request
 *   instead fails when no byte moves for `timeout` seconds, because a 1 GiB
 *   snapshot legitimately takes longer than any sane total limit.
 * - Nothing here logs headers or bodies (they carry tokens and secrets), nor
 *   a URL's user info, query or fragment (presigned URLs carry signatures
 *   there); verbose mode is never on.
 */
#ifndef DRCTL_HTTP_H
#define DRCTL_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

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

/* Response header fields kept per response, and the bytes of their names
 * and values together; fields beyond either bound are dropped (and
 * headers_truncated is set). */
#define HTTP_HEADERS_MAX 100
#define HTTP_HEADER_BYTES_MAX (64u << 10)

struct http_response {
	long status;                 /* 0 when no response arrived */
	char *body;                  /* in-memory body (NUL-terminated), may be NULL */
	size_t body_len;
	uint64_t sink_bytes;         /* bytes handed to the sink */
	uint64_t sent_bytes;         /* request body bytes read from body_src */
	int transport_failed;        /* no (complete) response: connection, TLS, timeout */
	int tls_failed;              /* ... and it was the TLS handshake or the certificate */
	int nothing_sent;            /* ... and no byte of the request left (so it cannot have acted) */
	char transport_error[256];   /* ... curl's words for it (no URL, no header) */
	/* The final response's header fields: "name\0value\0" pairs in
	 * header_data, found with http_response_header. */
	struct { uint32_t name, value; } header_at[HTTP_HEADERS_MAX];
	size_t n_headers;
	char *header_data;
	size_t header_data_len;
	int headers_truncated;
};

/* One attempt.  res is zeroed, or holds an earlier response (freed here).
 * Returns 0 when a complete response arrived, whatever its status.  Returns
 * -1 with err set when the connection, TLS, or a timeout failed
 * (res->transport_failed = 1, EXIT_IO), or when the sink or the body source
 * failed (their error is kept).  The error shows the URL as
 * http_url_for_message does. */
int http_perform(struct http_client *c, const struct http_request *req, struct http_response *res,
		 struct drctl_error *err);
void http_response_free(struct http_response *res);

/* The value of the final response's header `name` (case-insensitive), with
 * surrounding whitespace trimmed; the first one when it came more than once.
 * NULL when absent. */
const char *http_response_header(const struct http_response *res, const char *name);

/* The URL as messages and logs may show it: scheme, host, port and path,
 * without user info, query or fragment. */
void http_url_for_message(const char *url, char *out, size_t cap);

/* Percent-encode one path segment (RFC 3986 unreserved kept) into out.
 * Returns -1 when it does not fit. */
int http_escape_segment(const char *in, char *out, size_t cap);

/* --- retries (http_retry.c) ------------------------------------------------- */

/* How hard a request is tried.  The delay before retry n (n = 1, 2, ...) is
 * drawn uniformly from [0, min(max_delay, base_delay * 2^(n-1))] ("full
 * jitter", AWS Architecture Blog, "Exponential Backoff And Jitter"), or is
 * the server's Retry-After when that is longer.  A Retry-After longer than
 * max_retry_after is not waited for: the request fails at once with the
 * server's answer.  No retry begins later than max_elapsed_seconds after the
 * first attempt began. */
struct http_retry_policy {
	unsigned max_attempts;       /* the first attempt included; 1 = never retry */
	double max_elapsed_seconds;
	double base_delay;           /* seconds */
	double max_delay;            /* seconds */
	double max_retry_after;      /* seconds */
};

/* For clients without their own settings (S3, Kubernetes): 5 attempts
 * within 120 s, 0.5 s base, 20 s ceiling, Retry-After up to 60 s. */
extern const struct http_retry_policy http_retry_policy_default;

/* A request body that can be produced again: open() returns a fresh, owned
 * source for each attempt (closed after it); attempt counts every attempt of
 * the request before this one (0 the first time, so anything > 0 means the
 * body is being sent again and must be read from its origin). */
struct http_body_origin {
	struct source *(*open)(void *ctx, unsigned attempt, struct drctl_error *err);
	void *ctx;
	uint64_t len;                /* HTTP_BODY_UNKNOWN = chunked */
};

/* A caller's say on an attempt, after the generic rules: */
enum http_retry_verdict {
	HTTP_RETRY_DEFAULT = -1,     /* the generic rules decide */
	HTTP_RETRY_NO = 0,
	HTTP_RETRY_YES = 1,
};

/* Progress of a request through its retries.  Zeroed for a new request;
 * runs that share one (a redirect followed by the caller) share the attempt
 * count, the retry budget and the time limit. */
struct http_retry_state {
	unsigned attempts;           /* attempts made, redirects included */
	unsigned retries;            /* of which retries */
	double started;              /* the first attempt's start (the clock's time) */
	double slept;                /* seconds waited between attempts */
};

/* The world a retrying request runs in: monotonic time, wall-clock time
 * (for Retry-After dates), sleeping, a uniform random number in [0, 1) and
 * the single attempt.  NULL members (or no env at all) mean the real ones;
 * tests replace them. */
struct http_retry_env {
	double (*now)(void *ud);
	time_t (*wall)(void *ud);
	void (*sleep)(void *ud, double seconds);
	double (*random)(void *ud);
	int (*perform)(void *ud, struct http_client *c, const struct http_request *req, struct http_response *res,
		       struct drctl_error *err);
	void *ud;
};

struct http_retrying_request {
	struct http_request req;     /* req.body_src is ignored when origin is set */
	const struct http_body_origin *origin;
	const struct http_retry_policy *policy;   /* NULL: http_retry_policy_default */
	/* Protocol knowledge (S3's 503 SlowDown, a 200 whose body is an error,
	 * Vault's sealed 503): return a verdict, and may write the reason the
	 * log shows into reason (cap bytes).  May be NULL. */
	enum http_retry_verdict (*retryable)(void *ctx, const struct http_request *req, const struct http_response *res,
					     char *reason, size_t cap);
	void *retryable_ctx;
	struct http_retry_state *state;           /* NULL: a fresh one */
	const struct http_retry_env *env;         /* NULL: the real world */
	/* What the log adds after the URL, in parentheses, to say which request
	 * of the protocol it is ("UploadPart part 3": the log shows no query).
	 * May be NULL. */
	const char *detail;
};

/* Run the request, retrying what may be retried.  Generic rules: a failure
 * of the sink or of the body's source is never retried, nor an attempt whose
 * response already reached the sink, nor a body source without an origin
 * once it was read; a TLS failure is not retried; a connection that failed
 * before any byte was sent is retried whatever the method, other transport
 * failures (reset, timeout) only for idempotent methods (RFC 9110 9.2.2);
 * 408, 429 and 5xx except 501 and 505 are retried; the predicate may then
 * decide otherwise.  Each retry is logged (log_warn) with the method, the
 * URL as http_url_for_message shows it (and the detail), the delay, the
 * attempt and the reason.  Returns like http_perform, for the last attempt; a transport
 * error after retries says how many. */
int http_perform_retrying(struct http_client *c, const struct http_retrying_request *rr, struct http_response *res,
			  struct drctl_error *err);

/* Retry-After (RFC 9110 10.2.3): delay-seconds, or an HTTP-date (IMF-fixdate,
 * and the obsolete RFC 850 and asctime forms recipients must accept), taken
 * relative to `now`.  A date in the past is 0.  Returns -1 when the value is
 * neither. */
int http_retry_after_parse(const char *value, time_t now, double *seconds);
/* An HTTP-date (the three forms above) as a time_t (now places RFC 850's
 * two-digit years); -1 when it is not one. */
int http_date_parse(const char *value, time_t now, time_t *out);
/* The delay before retry number `retry` (1-based), for a random number r in
 * [0, 1), before any Retry-After. */
double http_retry_backoff(const struct http_retry_policy *p, unsigned retry, double r);
/* "Service Unavailable" for 503, ... ("" for a code it does not know). */
const char *http_status_text(long status);

#endif
