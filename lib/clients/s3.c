/*
 * s3: the client (settings, credentials, connections), how one request is
 * built, signed, sent and retried, and how a refusal becomes a drctl error.
 * The requests themselves are in s3_object.c (objects, listing) and
 * s3_multipart.c, the XML answers in s3_xml.c.  See s3.h for what each
 * promises.
 */
#include "lib/clients/s3_private.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lib/core/keyfile.h"
#include "lib/crypto/base64.h"

#define S3_DEFAULT_TIMEOUT 60
#define S3_CALL_HEADERS_MAX 8

/* --- settings ------------------------------------------------------------------------ */

/* 1: a DNS label usable as BUCKET.HOST; 2: a legacy name only path style
 * can address (capitals, '_'); 0: not a bucket name at all. */
static int s3_bucket_kind(const char *b)
{
	size_t n = strlen(b);
	int dns = n >= 3 && n <= 63;

	if (n == 0 || n > 63)
		return 0;
	for (const unsigned char *p = (const unsigned char *)b; *p; p++) {
		if (!isalnum(*p) && *p != '.' && *p != '-' && *p != '_')
			return 0;
		if (isupper(*p) || *p == '_')
			dns = 0;
	}
	if (!isalnum((unsigned char)b[0]) || !isalnum((unsigned char)b[n - 1]) || strstr(b, ".."))
		dns = 0;
	return dns ? 1 : 2;
}

static int s3_endpoint_parse(struct s3_client *c, const char *url, const char *source, struct drctl_error *err)
{
	const char *rest = strstr(url, "://"), *slash;
	size_t n;

	if (!rest || (size_t)(rest - url) >= sizeof(c->scheme))
		return err_set(err, EXIT_USAGE, source, "write it as https://host[:port]", "S3 endpoint from %s has no scheme",
			       source);
	snprintf(c->scheme, sizeof(c->scheme), "%.*s", (int)(rest - url), url);
	for (char *p = c->scheme; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	rest += 3;
	slash = strchr(rest, '/');
	n = slash ? (size_t)(slash - rest) : strlen(rest);
	if (memchr(rest, '@', n))
		return err_set(err, EXIT_USAGE, source,
			       "remove user:password@ from it: the keys come from [repository] *_file, AWS_* variables or ~/.aws/credentials",
			       "S3 endpoint from %s carries credentials in the URL; it is refused so they cannot end up in a log",
			       source);
	if (strpbrk(url, "?#"))
		return err_set(err, EXIT_USAGE, source, "write it as https://host[:port][/path]",
			       "S3 endpoint from %s has a query or a fragment", source);
	if (n == 0 || n >= sizeof(c->authority))
		return err_set(err, EXIT_USAGE, source, "write it as https://host[:port]", "S3 endpoint from %s has no host",
			       source);
	snprintf(c->authority, sizeof(c->authority), "%.*s", (int)n, rest);
	snprintf(c->base_path, sizeof(c->base_path), "%s", slash ? slash : "");
	n = strlen(c->base_path);
	while (n > 0 && c->base_path[n - 1] == '/')
		c->base_path[--n] = '\0';
	return 0;
}

static int s3_open_addressing(struct s3_client *c, const struct config *cfg, struct drctl_error *err)
{
	const char *bucket = config_get(cfg, "repository", "bucket");
	struct aws_setting region, endpoint;
	int kind;

	if (!bucket || !*bucket)
		return err_set(err, EXIT_USAGE, "[repository] bucket",
			       "set [repository] bucket (or DRCTL_REPOSITORY_BUCKET) to the bucket that holds the backups",
			       "[repository] type = s3 needs a bucket");
	if (!(kind = s3_bucket_kind(bucket)))
		return err_set(err, EXIT_USAGE, "[repository] bucket", "S3 bucket names are 3 to 63 letters, digits, '.' and '-'",
			       "[repository] bucket \"%.80s\" is not a bucket name", bucket);
	snprintf(c->bucket, sizeof(c->bucket), "%s", bucket);
	if (aws_region_resolve(cfg, &region, err) != 0 || aws_endpoint_resolve(cfg, &endpoint, err) != 0)
		return -1;
	snprintf(c->region, sizeof(c->region), "%.63s", region.value);
	if (endpoint.value[0]) {
		if (s3_endpoint_parse(c, endpoint.value, endpoint.source, err) != 0)
			return -1;
	} else {
		snprintf(c->scheme, sizeof(c->scheme), "https");
		snprintf(c->authority, sizeof(c->authority), "s3.%s.amazonaws.com", c->region);
	}
	/* Virtual-host style unless asked otherwise, or the name cannot be a
	 * host name, or (https) its dots would fall outside the store's
	 * wildcard certificate. */
	c->path_style = config_get_bool(cfg, "repository", "force_path_style") == 1 || kind != 1 ||
			(strchr(bucket, '.') && !strcmp(c->scheme, "https"));
	return 0;
}

static int s3_open_options(struct s3_client *c, const struct config *cfg, struct drctl_error *err)
{
	const char *ca = config_get_path(cfg, "repository", "ca_file");
	const char *sc = config_get(cfg, "repository", "storage_class");
	const char *mode = config_get(cfg, "repository", "object_lock_mode");

	if (ca && *ca) {
		if (access(ca, R_OK) != 0)
			return err_set_errno(err, EXIT_USAGE, errno, "[repository] ca_file",
					     "point [repository] ca_file at the PEM bundle of the CA that signed the store's certificate",
					     "cannot read [repository] ca_file %s", ca);
		if (!(c->ca_file = strdup(ca)))
			return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	}
	if (config_get_int(cfg, "repository", "timeout_seconds", &c->timeout) != 0 || c->timeout <= 0)
		c->timeout = S3_DEFAULT_TIMEOUT;
	if (sc && *sc) {
		if (strspn(sc, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != strlen(sc) || strlen(sc) >= sizeof(c->storage_class))
			return err_set(err, EXIT_USAGE, "[repository] storage_class", "e.g. STANDARD, STANDARD_IA, GLACIER_IR",
				       "[repository] storage_class \"%.40s\" is not an S3 storage class", sc);
		snprintf(c->storage_class, sizeof(c->storage_class), "%s", sc);
	}
	if (config_get_int(cfg, "repository", "object_lock_days", &c->lock_days) != 0)
		c->lock_days = 0;
	snprintf(c->lock_mode, sizeof(c->lock_mode), "%s", mode && *mode ? mode : "GOVERNANCE");
	return 0;
}

int s3_client_open(struct s3_client **out, const struct config *cfg, struct drctl_error *err)
{
	struct s3_client *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	c->policy = http_retry_policy_default;
	if (s3_open_addressing(c, cfg, err) != 0 || s3_open_options(c, cfg, err) != 0 ||
	    aws_credentials_load(cfg, &c->cred, err) != 0)
		goto fail;
	if (!(c->cache = aws_sigv4_cache_new())) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		goto fail;
	}
	snprintf(c->where, sizeof(c->where), "%.7s://%.400s%.200s (%.63s)", c->scheme, c->authority, c->base_path,
		 c->region);
	*out = c;
	return 0;
fail:
	s3_client_free(c);
	return -1;
}

void s3_client_free(struct s3_client *c)
{
	if (!c)
		return;
	aws_credentials_clear(&c->cred);
	aws_sigv4_cache_free(c->cache);
	free(c->ca_file);
	free(c);
}

const char *s3_client_where(const struct s3_client *c)
{
	return c->where;
}

const char *s3_client_bucket(const struct s3_client *c)
{
	return c->bucket;
}

long s3_client_lock_days(const struct s3_client *c)
{
	return c->lock_days;
}

const char *s3_client_credentials_source(const struct s3_client *c)
{
	return c->cred.source;
}

void s3_client_set_retry(struct s3_client *c, const struct http_retry_policy *policy, const struct http_retry_env *env)
{
	c->policy = policy ? *policy : http_retry_policy_default;
	c->env = env;
}

/* --- connections, and the world their retries run in ------------------------------------ */

static int s3_cancelled(const struct s3_conn *conn)
{
	return conn->cancel && __atomic_load_n(conn->cancel, __ATOMIC_ACQUIRE);
}

static double s3_env_now(void *ud)
{
	const struct http_retry_env *e = ((struct s3_conn *)ud)->c->env;
	struct timespec ts;

	if (e && e->now)
		return e->now(e->ud);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static time_t s3_env_wall(void *ud)
{
	const struct http_retry_env *e = ((struct s3_conn *)ud)->c->env;
	return e && e->wall ? e->wall(e->ud) : time(NULL);
}

static double s3_env_random(void *ud)
{
	const struct http_retry_env *e = ((struct s3_conn *)ud)->c->env;
	return e && e->random ? e->random(e->ud) : (double)arc4random() / 4294967296.0;
}

/* Sleeps in slices, so a cancel ends the wait. */
static void s3_env_sleep(void *ud, double seconds)
{
	struct s3_conn *conn = ud;
	const struct http_retry_env *e = conn->c->env;

	if (e && e->sleep) {
		e->sleep(e->ud, seconds);
		return;
	}
	while (seconds > 0 && !s3_cancelled(conn)) {
		double step = seconds < 0.1 ? seconds : 0.1;
		struct timespec ts = { 0, (long)(step * 1e9) };
		nanosleep(&ts, NULL);
		seconds -= step;
	}
}

static int s3_env_perform(void *ud, struct http_client *h, const struct http_request *req, struct http_response *res,
			  struct drctl_error *err)
{
	struct s3_conn *conn = ud;
	const struct http_retry_env *e = conn->c->env;

	if (s3_cancelled(conn)) {
		/* Not a transport failure: nothing retries it. */
		http_response_free(res);
		memset(res, 0, sizeof(*res));
		return err_set(err, EXIT_FAILED, NULL, NULL, "the upload was cancelled");
	}
	return e && e->perform ? e->perform(e->ud, h, req, res, err) : http_perform(h, req, res, err);
}

struct s3_conn *s3_conn_new(struct s3_client *c, struct drctl_error *err)
{
	struct http_tls tls = { .ca_file = c->ca_file };
	struct s3_conn *conn = calloc(1, sizeof(*conn));

	if (!conn) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		return NULL;
	}
	conn->c = c;
	if (!(conn->http = http_client_new(&tls, c->timeout, err))) {
		free(conn);
		return NULL;
	}
	conn->env = (struct http_retry_env){ s3_env_now, s3_env_wall, s3_env_sleep, s3_env_random, s3_env_perform, conn };
	return conn;
}

void s3_conn_free(struct s3_conn *conn)
{
	if (!conn)
		return;
	http_client_free(conn->http);
	free(conn);
}

void s3_conn_set_cancel(struct s3_conn *conn, const int *flag)
{
	conn->cancel = flag;
}

/* --- one request -------------------------------------------------------------------------- */

void s3_content_md5(const void *data, size_t len, char out[32], unsigned char md5[16])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_Digest(data, len, md, &n, EVP_md5(), NULL) != 1 || n != 16)
		memset(md, 0, 16); /* the store then refuses the upload (BadDigest) */
	base64_encode(md, 16, out, 1);
	if (md5)
		memcpy(md5, md, 16);
}

static void s3_target(const struct s3_client *c, const char *key, char *out, size_t cap)
{
	snprintf(out, cap, "s3://%s%s%.900s", c->bucket, key ? "/" : "", key ? key : "");
}

/* Codes after which the same request may well succeed. */
static int s3_code_transient(const char *code)
{
	static const char *const codes[] = {
		"InternalError", "SlowDown", "ServiceUnavailable", "RequestTimeout", "BadDigest", "OperationAborted",
		"ThrottlingException",
		/* the bytes arrived damaged, like BadDigest: which of the two
		 * checks a store makes first is its own choice */
		"XAmzContentSHA256Mismatch",
	};

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (!strcmp(code, codes[i]))
			return 1;
	return 0;
}

/* What S3 knows beyond the HTTP layer's generic rules (s3.h, "Retries"). */
static enum http_retry_verdict s3_retryable(void *ctx, const struct http_request *req, const struct http_response *res,
					    char *reason, size_t cap)
{
	const struct s3_call *call = ctx;
	struct s3_error_body e;

	(void)req;
	if (res->transport_failed)
		return !res->tls_failed && call->post_retryable ? HTTP_RETRY_YES : HTTP_RETRY_DEFAULT;
	if (res->status >= 200 && res->status < 300) {
		if (!call->complete || !s3_parse_error(res->body, res->body_len, &e))
			return HTTP_RETRY_DEFAULT;
		snprintf(reason, cap, "%ld with an <Error> inside: %s: %.160s", res->status, e.code, e.message);
		return s3_code_transient(e.code) ? HTTP_RETRY_YES : HTTP_RETRY_NO;
	}
	if (!s3_parse_error(res->body, res->body_len, &e) || !e.code[0])
		return HTTP_RETRY_DEFAULT;
	snprintf(reason, cap, "%ld %s: %.160s", res->status, e.code, e.message);
	return s3_code_transient(e.code) ? HTTP_RETRY_YES : HTTP_RETRY_DEFAULT;
}

/* The URL, the Host header and the signed path of a call. */
static int s3_address(const struct s3_client *c, const struct s3_call *call, char **url, char *host, size_t host_cap,
		      char **path, char **query)
{
	char *raw = NULL;
	int n;

	*url = *path = *query = NULL;
	if (c->path_style) {
		snprintf(host, host_cap, "%s", c->authority);
		n = asprintf(&raw, "%s/%s%s%s", c->base_path, c->bucket, call->key ? "/" : "", call->key ? call->key : "");
	} else {
		snprintf(host, host_cap, "%s.%s", c->bucket, c->authority);
		n = asprintf(&raw, "%s/%s", c->base_path, call->key ? call->key : "");
	}
	if (n < 0)
		return -1;
	*path = aws_sigv4_encode_path(raw);
	*query = aws_sigv4_encode_query(call->query, call->n_query);
	free(raw);
	if (!*path || !*query ||
	    asprintf(url, "%s://%s%s%s%s", c->scheme, host, *path, **query ? "?" : "", *query) < 0) {
		*url = NULL;
		return -1;
	}
	return 0;
}

/* The header lines curl sends: Host, the call's, and the signer's. */
static int s3_header_lines(const char *host, const struct s3_call *call, const struct aws_sigv4_signed *sig,
			   char **lines, size_t *n)
{
	*n = 0;
	if (asprintf(&lines[(*n)++], "Host: %s", host) < 0)
		return (*n)--, -1;
	for (size_t i = 0; i < call->n_headers; i++)
		if (asprintf(&lines[(*n)++], "%s: %s", call->headers[i].name, call->headers[i].value) < 0)
			return (*n)--, -1;
	for (size_t i = 0; i < sig->header_count; i++)
		if (asprintf(&lines[(*n)++], "%s: %s", sig->headers[i].name, sig->headers[i].value) < 0)
			return (*n)--, -1;
	return 0;
}

static void s3_transport_error(const struct s3_client *c, const struct s3_call *call, const struct http_response *res,
			       struct drctl_error *err)
{
	char target[1000];

	if (!res->transport_failed)
		return;
	s3_target(c, call->key, target, sizeof(target));
	err->code = EXIT_IO;
	err_prefix(err, "S3 %s of %s", call->op, target);
	snprintf(err->subject, sizeof(err->subject), "%.500s", target);
	if (res->tls_failed)
		err_hint(err, "check [repository] ca_file (the CA that signed the store's certificate) and that the certificate names %s",
			 c->authority);
	else
		err_hint(err, "check [repository] endpoint (%s://%s) and that the store is reachable from here, then run the command again",
			 c->scheme, c->authority);
}

/* The operation, and the part of an UploadPart, for the retry log: the
 * log shows no query. */
static void s3_call_detail(const struct s3_call *call, char *out, size_t cap)
{
	snprintf(out, cap, "%s", call->op);
	for (size_t i = 0; i < call->n_query; i++)
		if (!strcmp(call->query[i].name, "partNumber") && call->query[i].value)
			snprintf(out, cap, "%s part %.16s", call->op, call->query[i].value);
}

int s3_call_perform(struct s3_conn *conn, const struct s3_call *call, struct http_response *res,
		    struct drctl_error *err)
{
	const struct s3_client *c = conn->c;
	struct aws_sigv4_header signed_headers[S3_CALL_HEADERS_MAX + 1];
	char host[700], hash[65], detail[96], *url = NULL, *path = NULL, *query = NULL;
	char *lines[S3_CALL_HEADERS_MAX + 6];
	size_t n_lines = 0;
	struct aws_sigv4_signed sig;
	struct http_retrying_request rr;
	int rc = -1;

	memset(&sig, 0, sizeof(sig));
	if (call->n_headers > S3_CALL_HEADERS_MAX)
		return err_set(err, EXIT_FAILED, NULL, NULL, "too many headers for one S3 request");
	if (s3_address(c, call, &url, host, sizeof(host), &path, &query) != 0) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		goto done;
	}
	if (call->payload_hash)
		snprintf(hash, sizeof(hash), "%s", call->payload_hash);
	else
		aws_sigv4_payload_hash(call->body ? call->body : "", call->body ? call->body_len : 0, hash);
	signed_headers[0] = (struct aws_sigv4_header){ "Host", host };
	for (size_t i = 0; i < call->n_headers; i++)
		signed_headers[1 + i] = call->headers[i];
	{
		struct aws_sigv4_request sr = {
			.method = call->method, .path = path, .query = call->query, .query_count = call->n_query,
			.headers = signed_headers, .header_count = call->n_headers + 1, .payload_hash = hash,
			.time = time(NULL), .region = c->region, .service = "s3", .flags = AWS_SIGV4_S3,
		};
		if (aws_sigv4_sign(&sr, &c->cred, c->cache, &sig, err) != 0) {
			err_prefix(err, "signing S3 %s", call->op);
			goto done;
		}
	}
	if (s3_header_lines(host, call, &sig, lines, &n_lines) != 0) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		goto done;
	}
	memset(&rr, 0, sizeof(rr));
	rr.req = (struct http_request){
		.method = call->method, .url = url, .headers = (const char *const *)lines, .n_headers = n_lines,
		.body = call->body, .body_len = call->body_len, .sink = call->sink, .streamed = call->streamed,
	};
	rr.policy = &c->policy;
	rr.retryable = s3_retryable;
	rr.retryable_ctx = (void *)call;
	rr.env = &conn->env;
	rr.state = call->retry;
	s3_call_detail(call, detail, sizeof(detail));
	rr.detail = detail;
	rc = http_perform_retrying(conn->http, &rr, res, err);
	if (rc != 0)
		s3_transport_error(c, call, res, err);
done:
	/* The lines hold the session token and the signature. */
	for (size_t i = 0; i < n_lines; i++) {
		secure_wipe(lines[i], strlen(lines[i]));
		free(lines[i]);
	}
	aws_sigv4_signed_clear(&sig);
	free(url);
	free(path);
	free(query);
	return rc;
}

/* --- errors ---------------------------------------------------------------------------- */

/* The IAM action a refused operation needs, for the hint. */
static const char *s3_action(const char *op)
{
	static const struct { const char *op, *action; } map[] = {
		{ "GetObject", "s3:GetObject" }, { "HeadObject", "s3:GetObject" }, { "PutObject", "s3:PutObject" },
		{ "CreateMultipartUpload", "s3:PutObject" }, { "UploadPart", "s3:PutObject" },
		{ "CompleteMultipartUpload", "s3:PutObject" }, { "DeleteObject", "s3:DeleteObject" },
		{ "ListObjectsV2", "s3:ListBucket" }, { "HeadBucket", "s3:ListBucket" },
		{ "AbortMultipartUpload", "s3:AbortMultipartUpload" },
		{ "ListMultipartUploads", "s3:ListBucketMultipartUploads" },
		{ "GetObjectLockConfiguration", "s3:GetBucketObjectLockConfiguration" },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i].op, op))
			return map[i].action;
	return "the S3 actions drctl uses";
}

static const char *s3_code_of_status(long status)
{
	switch (status) {
	case 301: return "PermanentRedirect";
	case 403: return "AccessDenied";
	case 404: return "NotFound";
	case 412: return "PreconditionFailed";
	case 503: return "ServiceUnavailable";
	default: return http_status_text(status);
	}
}

static int s3_is_code(const char *code, const char *const *codes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(code, codes[i]))
			return 1;
	return 0;
}

/* Codes that say the keys themselves are wrong (not what they may do). */
static int s3_code_credentials(const char *code)
{
	static const char *const codes[] = { "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken",
					     "TokenRefreshRequired" };

	return s3_is_code(code, codes, sizeof(codes) / sizeof(codes[0]));
}

static int s3_exit_code(long status, const char *code)
{
	static const char *const missing[] = { "NoSuchKey", "NoSuchBucket", "NoSuchUpload", "NotFound" };
	static const char *const usage[] = {
		"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "RequestTimeTooSkewed", "ExpiredToken",
		"InvalidToken", "TokenRefreshRequired", "AccountProblem", "AllAccessDisabled", "PermanentRedirect",
		"AuthorizationHeaderMalformed", "InvalidBucketName", "IllegalLocationConstraintException",
	};

	if (s3_is_code(code, missing, sizeof(missing) / sizeof(missing[0])) || status == 404)
		return EXIT_NOT_FOUND;
	if (s3_is_code(code, usage, sizeof(usage) / sizeof(usage[0])) || status == 403 || status == 301)
		return EXIT_USAGE;
	if (s3_code_transient(code) || status >= 500 || status == 408 || status == 429)
		return EXIT_IO;
	return EXIT_FAILED;
}

static void s3_error_hint(const struct s3_client *c, const struct s3_call *call, const struct http_response *res,
			  const char *code, const char *message, struct drctl_error *err)
{
	const char *src = c->cred.source, *region = http_response_header(res, "x-amz-bucket-region");

	if (!strcmp(code, "AccessDenied") && strcasestr(message, "object lock"))
		err_hint(err, "the object is under S3 Object Lock retention and cannot be removed or replaced before it ends ([repository] object_lock_days); nothing was changed");
	else if (!strcmp(code, "AccessDenied"))
		err_hint(err, "check that the credentials from %.300s are the intended ones and that their policy allows %s on bucket %s",
			 src, s3_action(call->op), c->bucket);
	else if (!strcmp(code, "InvalidAccessKeyId"))
		err_hint(err, "the access key id from %.300s is unknown to this store: check the credentials and [repository] endpoint",
			 src);
	else if (!strcmp(code, "SignatureDoesNotMatch"))
		err_hint(err, "the secret access key from %.300s does not belong to access key id %.128s: "
			 "check the secret (or the id); if both are right, check this machine's clock",
			 src, c->cred.access_key_id ? c->cred.access_key_id : "(none)");
	else if (!strcmp(code, "RequestTimeTooSkewed"))
		err_hint(err, "this machine's clock is more than 15 minutes off the store's: set it right (timedatectl, chronyc makestep), then run the command again");
	else if (!strcmp(code, "ExpiredToken") || !strcmp(code, "InvalidToken") || !strcmp(code, "TokenRefreshRequired"))
		err_hint(err, "the session token from %.300s has expired or is not valid: get fresh temporary credentials", src);
	else if (!strcmp(code, "NoSuchBucket"))
		err_hint(err, "check [repository] bucket and endpoint; a new bucket is made outside drctl (e.g. `aws s3api create-bucket --bucket %s`)",
			 c->bucket);
	else if (region || !strcmp(code, "PermanentRedirect") || !strcmp(code, "AuthorizationHeaderMalformed"))
		err_hint(err, "the bucket is in another region%s%s: set [repository] region to it", region ? " (" : "",
			 region ? region : "");
	else if (!strcmp(code, "InvalidRequest") && strcasestr(message, "object lock"))
		err_hint(err, "the bucket has no Object Lock: set [repository] object_lock_days = 0, or use a bucket made with Object Lock enabled");
	else if (!strcmp(code, "BadDigest") || !strcmp(code, "XAmzContentSHA256Mismatch"))
		err_hint(err, "after %u attempts the store still received other bytes than drctl sent (Content-MD5 or SHA-256 did not match) "
			 "and stored none of them: something between here and %s (a proxy, a network device) alters request bodies",
			 c->policy.max_attempts, c->authority);
	else if (s3_exit_code(res->status, code) == EXIT_IO)
		err_hint(err, "the store is failing or throttling after %u attempts; run the command again later",
			 c->policy.max_attempts);
}

int s3_fail(struct s3_conn *conn, const struct s3_call *call, const struct http_response *res,
	    struct drctl_error *err)
{
	const struct s3_client *c = conn->c;
	struct s3_error_body e;
	const char *code, *request_id;
	char target[1000];

	s3_parse_error(res->body, res->body_len, &e);
	code = e.code[0] ? e.code : s3_code_of_status(res->status);
	request_id = e.request_id[0] ? e.request_id : http_response_header(res, "x-amz-request-id");
	s3_target(c, call->key, target, sizeof(target));
	if (s3_code_credentials(code))
		/* A credentials error, named by its key id (not a secret; the
		 * secret and the token never appear). */
		err_set(err, s3_exit_code(res->status, code), target, NULL,
			"S3 refused the credentials of access key id %.128s (from %.300s) on %s of %s: %ld %s%s%.300s (request id %s)",
			c->cred.access_key_id ? c->cred.access_key_id : "(none)", c->cred.source, call->op, target,
			res->status, code, e.message[0] ? ": " : "", e.message,
			request_id && *request_id ? request_id : "none given");
	else
		err_set(err, s3_exit_code(res->status, code), target, NULL, "S3 %s of %s failed: %ld%s %s%s%.300s (request id %s)",
			call->op, target, res->status, res->status < 300 ? " with an <Error> inside," : "", code,
			e.message[0] ? ": " : "", e.message, request_id && *request_id ? request_id : "none given");
	s3_error_hint(c, call, res, code, e.message, err);
	return -1;
}
