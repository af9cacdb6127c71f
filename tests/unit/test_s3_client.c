/*
 * The S3 client (lib/clients/s3) against a scripted transport: the retry
 * world's perform is replaced (s3_client_set_retry), so each case sees
 * every request the client sends (URL, header lines, body) and answers it
 * as a store would, with a fake clock and no sleeping.  What is checked:
 * virtual-host and path-style addresses and the Host header; every request
 * signed with x-amz-content-sha256, every upload with a signed Content-MD5
 * of its bytes and UNSIGNED-PAYLOAD; S3 refusals turned into errors by cause, naming bucket, key, code
 * and request id, with the hint that fits (and never the secret, the token
 * or a signature); what is retried (5xx, SlowDown, RequestTimeout,
 * BadDigest, a 200 CompleteMultipartUpload holding an <Error>, a reset part
 * sent again from its own bytes) and what is not (RequestTimeTooSkewed,
 * AccessDenied).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "lib/clients/s3.h"
#include "lib/crypto/base64.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define TOKEN "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"

/* --- the scripted store ----------------------------------------------------------------- */

struct answer {
	long status;          /* 0: a transport failure (connection reset) */
	const char *body;
	const char *headers;  /* "Name: value\n" lines */
};

struct seen {
	char method[16];
	char url[2048];
	char headers[8192];   /* the request's header lines, "\n"-separated */
	const void *body;
	size_t body_len;
	char body_text[4096];  /* its first bytes, NUL-terminated */
};

static struct {
	const struct answer *answers;
	size_t n, next;
	struct seen seen[16];
	size_t n_seen;
	double clock;
} store;

static void script(const struct answer *answers, size_t n)
{
	memset(&store, 0, sizeof(store));
	store.answers = answers;
	store.n = n;
}

static void add_header(struct http_response *res, const char *name, size_t nlen, const char *value, size_t vlen)
{
	res->header_data = realloc(res->header_data, res->header_data_len + nlen + vlen + 2);
	assert_non_null(res->header_data);
	res->header_at[res->n_headers].name = (uint32_t)res->header_data_len;
	memcpy(res->header_data + res->header_data_len, name, nlen);
	res->header_data_len += nlen;
	res->header_data[res->header_data_len++] = '\0';
	res->header_at[res->n_headers].value = (uint32_t)res->header_data_len;
	memcpy(res->header_data + res->header_data_len, value, vlen);
	res->header_data_len += vlen;
	res->header_data[res->header_data_len++] = '\0';
	res->n_headers++;
}

static int fake_perform(void *ud, struct http_client *c, const struct http_request *req, struct http_response *res,
			struct drctl_error *err)
{
	const struct answer *a;
	struct seen *s;

	(void)ud;
	(void)c;
	http_response_free(res);
	memset(res, 0, sizeof(*res));
	if (store.next >= store.n)
		fail_msg("request %zu (%s %s) was not expected", store.next + 1, req->method, req->url);
	a = &store.answers[store.next++];
	assert_true(store.n_seen < sizeof(store.seen) / sizeof(store.seen[0]));
	s = &store.seen[store.n_seen++];
	snprintf(s->method, sizeof(s->method), "%s", req->method);
	snprintf(s->url, sizeof(s->url), "%s", req->url);
	for (size_t i = 0; i < req->n_headers; i++) {
		size_t used = strlen(s->headers);
		snprintf(s->headers + used, sizeof(s->headers) - used, "%s\n", req->headers[i]);
	}
	s->body = req->body;
	s->body_len = req->body_len;
	if (req->body)
		snprintf(s->body_text, sizeof(s->body_text), "%.*s", (int)req->body_len, (const char *)req->body);
	if (a->status == 0) {
		res->transport_failed = 1;
		snprintf(res->transport_error, sizeof(res->transport_error), "Connection reset by peer");
		return err_set(err, EXIT_IO, NULL, NULL, "%s %s failed: Connection reset by peer", req->method, req->url);
	}
	res->status = a->status;
	for (const char *h = a->headers; h && *h;) {
		const char *colon = strchr(h, ':'), *nl = strchr(h, '\n');
		add_header(res, h, (size_t)(colon - h), colon + 2, (size_t)(nl - colon - 2));
		h = nl + 1;
	}
	if (a->body) {
		res->body_len = strlen(a->body);
		res->body = strdup(a->body);
		if (req->sink && a->status >= 200 && a->status < 300) {
			res->sink_bytes = res->body_len;
			if (sink_write(req->sink, res->body, res->body_len, err) != 0)
				return -1;
		}
	}
	return 0;
}

static double fake_now(void *ud)
{
	(void)ud;
	return store.clock;
}

static void fake_sleep(void *ud, double s)
{
	(void)ud;
	store.clock += s;
}

static double fake_random(void *ud)
{
	(void)ud;
	return 0.5;
}

static const struct http_retry_env fake_env = { fake_now, NULL, fake_sleep, fake_random, fake_perform, NULL };

/* A value of the seen request's header (case-insensitive name), or NULL. */
static const char *seen_header(const struct seen *s, const char *name, char *out, size_t cap)
{
	size_t n = strlen(name);

	for (const char *p = s->headers; *p; p = strchr(p, '\n') + 1)
		if (!strncasecmp(p, name, n) && p[n] == ':') {
			snprintf(out, cap, "%.*s", (int)(strcspn(p + n + 2, "\n")), p + n + 2);
			return out;
		}
	return NULL;
}

/* --- clients ------------------------------------------------------------------------------ */

struct fixture {
	struct config *cfg;
	struct s3_client *client;
	struct s3_conn *conn;
};

static void open_client(struct fixture *f, const char *bucket, const char *endpoint, int path_style, int token)
{
	struct drctl_error err;

	err_clear(&err);
	setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
	if (token)
		setenv("AWS_SESSION_TOKEN", TOKEN, 1);
	else
		unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_S3");
	unsetenv("AWS_PROFILE");
	assert_non_null(f->cfg = config_new_empty());
	assert_int_equal(config_set(f->cfg, "repository", "type", "s3", &err), 0);
	assert_int_equal(config_set(f->cfg, "repository", "bucket", bucket, &err), 0);
	assert_int_equal(config_set(f->cfg, "repository", "region", "eu-west-1", &err), 0);
	if (endpoint)
		assert_int_equal(config_set(f->cfg, "repository", "endpoint", endpoint, &err), 0);
	if (path_style)
		assert_int_equal(config_set(f->cfg, "repository", "force_path_style", "true", &err), 0);
	if (s3_client_open(&f->client, f->cfg, &err) != 0)
		fail_msg("s3_client_open: %s", err.message);
	s3_client_set_retry(f->client, NULL, &fake_env);
	assert_non_null(f->conn = s3_conn_new(f->client, &err));
}

static void close_client(struct fixture *f)
{
	s3_conn_free(f->conn);
	s3_client_free(f->client);
	config_free(f->cfg);
}

/* No secret, token or signature in what a failure says. */
static void expect_clean(const struct drctl_error *err)
{
	const char *fields[] = { err->message, err->subject, err->hint };

	for (size_t i = 0; i < 3; i++)
		if (strstr(fields[i], SECRET) || strstr(fields[i], TOKEN) || strstr(fields[i], "Signature=") ||
		    strstr(fields[i], "AWS4-HMAC-SHA256"))
			fail_msg("an error shows a secret or a signature: \"%s\"", fields[i]);
}

/* --- addressing and signing ---------------------------------------------------------------------- */

static void virtual_host_and_path_style_addresses(void **state)
{
	static const struct answer ok[] = { { 404, NULL, "x-amz-request-id: R1\n" } };
	struct s3_object_info info;
	struct drctl_error err;
	struct fixture f = { 0 };
	char v[512];

	(void)state;
	err_clear(&err);
	script(ok, 1);
	open_client(&f, "my-bucket", "https://store.example:9000", 0, 0);
	assert_int_equal(s3_head_object(f.conn, "prod/a b+c.txt", &info, &err), 0);
	assert_string_equal(store.seen[0].url, "https://my-bucket.store.example:9000/prod/a%20b%2Bc.txt");
	assert_string_equal(seen_header(&store.seen[0], "Host", v, sizeof(v)), "my-bucket.store.example:9000");
	close_client(&f);

	script(ok, 1);
	open_client(&f, "my-bucket", "http://127.0.0.1:9000/", 1, 0);
	assert_int_equal(s3_head_object(f.conn, "k", &info, &err), 0);
	assert_string_equal(store.seen[0].url, "http://127.0.0.1:9000/my-bucket/k");
	assert_string_equal(seen_header(&store.seen[0], "Host", v, sizeof(v)), "127.0.0.1:9000");
	close_client(&f);

	/* Dots over https: the store's wildcard certificate cannot cover them. */
	script(ok, 1);
	open_client(&f, "backups.example.com", "https://store.example", 0, 0);
	assert_int_equal(s3_head_object(f.conn, "k", &info, &err), 0);
	assert_string_equal(store.seen[0].url, "https://store.example/backups.example.com/k");
	close_client(&f);

	/* No endpoint: AWS's own, for the region. */
	script(ok, 1);
	open_client(&f, "my-bucket", NULL, 0, 0);
	assert_int_equal(s3_head_object(f.conn, "k", &info, &err), 0);
	assert_string_equal(store.seen[0].url, "https://my-bucket.s3.eu-west-1.amazonaws.com/k");
	close_client(&f);
}

static void uploads_carry_a_signed_content_md5_and_unsigned_payload(void **state)
{
	static const struct answer ok[] = { { 200, NULL, "ETag: \"5d41402abc4b2a76b9719d911017c592\"\n" } };
	struct drctl_error err;
	struct fixture f = { 0 };
	unsigned char md5[16];
	char v[512], want[128];

	(void)state;
	err_clear(&err);
	script(ok, 1);
	open_client(&f, "bkt", "http://127.0.0.1:9000", 1, 1);
	assert_int_equal(s3_put_object(f.conn, "o", "hello", 5, NULL, &err), 1);
	assert_string_equal(store.seen[0].method, "PUT");
	EVP_Digest("hello", 5, md5, NULL, EVP_md5(), NULL);
	base64_encode(md5, 16, want, 1);
	assert_string_equal(seen_header(&store.seen[0], "Content-MD5", v, sizeof(v)), want);
	/* The signed Content-MD5 vouches for the bytes: no SHA-256 pass. */
	assert_string_equal(seen_header(&store.seen[0], "x-amz-content-sha256", v, sizeof(v)), "UNSIGNED-PAYLOAD");
	assert_non_null(seen_header(&store.seen[0], "x-amz-date", v, sizeof(v)));
	assert_string_equal(seen_header(&store.seen[0], "x-amz-security-token", v, sizeof(v)), TOKEN);
	seen_header(&store.seen[0], "Authorization", v, sizeof(v));
	assert_non_null(strstr(v, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"));
	assert_non_null(strstr(v, "/eu-west-1/s3/aws4_request"));
	assert_non_null(strstr(v, "content-md5;host;x-amz-content-sha256;x-amz-date;x-amz-security-token"));
	assert_int_equal(store.seen[0].body_len, 5);
	close_client(&f);
}

/* --- errors ------------------------------------------------------------------------------------ */

static const char access_denied[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message>"
	"<RequestId>4442587FB7D0A2F9</RequestId></Error>";

static void refusals_are_errors_by_cause_with_the_request_id(void **state)
{
	static const struct answer denied[] = { { 403, access_denied, NULL } };
	static const struct answer signature[] = {
		{ 403, "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match"
		       "</Message><RequestId>R2</RequestId></Error>", NULL },
	};
	static const struct answer skewed[] = {
		{ 403, "<Error><Code>RequestTimeTooSkewed</Code><Message>The difference between the request time and the "
		       "current time is too large.</Message><RequestId>R3</RequestId></Error>", NULL },
	};
	static const struct answer head_denied[] = { { 403, NULL, "x-amz-request-id: HEADREQ\n" } };
	struct s3_object_info info;
	struct drctl_error err;
	struct fixture f = { 0 };
	char *data;
	size_t len;

	(void)state;
	open_client(&f, "bkt", "http://127.0.0.1:9000", 1, 1);
	err_clear(&err);
	script(denied, 1);
	assert_int_equal(s3_get_range(f.conn, "prod/x", 0, 100, NULL, &data, &len, &info, &err), -1);
	assert_int_equal(err.code, EXIT_USAGE);
	assert_non_null(strstr(err.message, "S3 GetObject of s3://bkt/prod/x failed: 403 AccessDenied: Access Denied"));
	assert_non_null(strstr(err.message, "4442587FB7D0A2F9"));
	assert_string_equal(err.subject, "s3://bkt/prod/x");
	assert_non_null(strstr(err.hint, "AWS_ACCESS_KEY_ID"));
	assert_non_null(strstr(err.hint, "s3:GetObject"));
	expect_clean(&err);
	assert_int_equal(store.n_seen, 1); /* not retried */

	err_clear(&err);
	script(signature, 1);
	assert_int_equal(s3_put_object(f.conn, "prod/y", "z", 1, NULL, &err), -1);
	assert_int_equal(err.code, EXIT_USAGE);
	assert_non_null(strstr(err.message, "SignatureDoesNotMatch"));
	/* a credentials error, named by the key id, never the secret */
	assert_non_null(strstr(err.message, "refused the credentials of access key id AKIDEXAMPLE"));
	assert_non_null(strstr(err.hint, "secret access key"));
	assert_non_null(strstr(err.hint, "access key id AKIDEXAMPLE"));
	assert_non_null(strstr(err.hint, "clock"));
	expect_clean(&err);

	err_clear(&err);
	script(skewed, 1);
	assert_int_equal(s3_delete_object(f.conn, "prod/y", &err), -1);
	assert_int_equal(err.code, EXIT_USAGE);
	assert_non_null(strstr(err.hint, "clock"));
	assert_int_equal(store.n_seen, 1); /* the clock stays wrong: not retried */
	expect_clean(&err);

	/* A HEAD has no body: the status and the request id header. */
	err_clear(&err);
	script(head_denied, 1);
	assert_int_equal(s3_head_object(f.conn, "prod/z", &info, &err), -1);
	assert_int_equal(err.code, EXIT_USAGE);
	assert_non_null(strstr(err.message, "403 AccessDenied"));
	assert_non_null(strstr(err.message, "HEADREQ"));
	close_client(&f);
}

static void slow_down_is_retried_then_is_an_io_error(void **state)
{
	static const struct answer slow = {
		503, "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>R5</RequestId></Error>",
		NULL,
	};
	const struct answer five[] = { slow, slow, slow, slow, slow };
	const struct answer then_ok[] = { slow, { 500, NULL, NULL }, { 200, NULL, "ETag: \"x\"\n" } };
	struct drctl_error err;
	struct fixture f = { 0 };

	(void)state;
	open_client(&f, "bkt", "http://127.0.0.1:9000", 1, 0);
	err_clear(&err);
	script(five, 5);
	assert_int_equal(s3_put_object(f.conn, "k", "abc", 3, NULL, &err), -1);
	assert_int_equal(store.n_seen, 5);
	assert_int_equal(err.code, EXIT_IO);
	assert_non_null(strstr(err.message, "503 SlowDown"));
	assert_non_null(strstr(err.message, "s3://bkt/k"));
	assert_non_null(strstr(err.hint, "5 attempts"));
	err_clear(&err);
	script(then_ok, 3);
	assert_int_equal(s3_put_object(f.conn, "k", "abc", 3, NULL, &err), 1);
	assert_int_equal(store.n_seen, 3);
	close_client(&f);
}

static void a_part_is_sent_again_from_its_own_bytes(void **state)
{
	static const struct answer answers[] = {
		{ 0, NULL, NULL },                                                   /* reset mid-part */
		{ 400, "<Error><Code>BadDigest</Code><Message>The Content-MD5 you specified did not match what we received."
		       "</Message></Error>", NULL },
		{ 400, "<Error><Code>RequestTimeout</Code><Message>Your socket connection to the server was not read from "
		       "or written to within the timeout period.</Message></Error>", NULL },
		{ 400, "<Error><Code>XAmzContentSHA256Mismatch</Code><Message>The provided 'x-amz-content-sha256' header "
		       "does not match what was computed.</Message></Error>", NULL },
		{ 200, NULL, "ETag: \"b1946ac92492d2347c6235b4d2611184\"\n" },
	};
	static const char bytes[] = "the bytes of part three";
	struct drctl_error err;
	struct fixture f = { 0 };
	struct s3_part part;
	char first[64], v[64], auth[512];

	(void)state;
	open_client(&f, "bkt", "http://127.0.0.1:9000", 1, 0);
	err_clear(&err);
	script(answers, 5);
	assert_int_equal(s3_upload_part(f.conn, "big", "UPLOAD-ID", 3, bytes, sizeof(bytes), &part, &err), 0);
	assert_int_equal(store.n_seen, 5);
	assert_string_equal(part.etag, "\"b1946ac92492d2347c6235b4d2611184\"");
	assert_int_equal(part.number, 3);
	seen_header(&store.seen[0], "Content-MD5", first, sizeof(first));
	for (size_t i = 0; i < 5; i++) {
		assert_string_equal(store.seen[i].url, "http://127.0.0.1:9000/bkt/big?partNumber=3&uploadId=UPLOAD-ID");
		assert_ptr_equal(store.seen[i].body, bytes);
		assert_int_equal(store.seen[i].body_len, sizeof(bytes));
		assert_string_equal(seen_header(&store.seen[i], "Content-MD5", v, sizeof(v)), first);
		assert_string_equal(seen_header(&store.seen[i], "x-amz-content-sha256", v, sizeof(v)), "UNSIGNED-PAYLOAD");
		seen_header(&store.seen[i], "Authorization", auth, sizeof(auth));
		assert_non_null(strstr(auth, "SignedHeaders=content-md5;host;x-amz-content-sha256;x-amz-date"));
	}
	close_client(&f);
}

static void a_200_complete_holding_an_error_is_a_failure(void **state)
{
	static const char internal[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\n<Error><Code>InternalError</Code><Message>We encountered an "
		"internal error. Please try again.</Message><RequestId>656c76696e6727732072657175657374</RequestId></Error>";
	static const char result[] =
		"<CompleteMultipartUploadResult><Bucket>bkt</Bucket><Key>big</Key><ETag>\"abc-2\"</ETag></CompleteMultipartUploadResult>";
	const struct answer retried[] = { { 200, internal, NULL }, { 200, result, NULL } };
	const struct answer denied[] = { { 200, access_denied, NULL } };
	struct s3_part parts[2] = { { 1, "\"e1\"", { 0 } }, { 2, "\"e2\"", { 0 } } };
	struct drctl_error err;
	struct fixture f = { 0 };

	(void)state;
	open_client(&f, "bkt", "http://127.0.0.1:9000", 1, 0);
	err_clear(&err);
	script(retried, 2);
	assert_int_equal(s3_upload_complete(f.conn, "big", "UPLOAD-ID", parts, 2, &err), 0);
	assert_int_equal(store.n_seen, 2);
	assert_string_equal(store.seen[0].method, "POST");
	assert_non_null(strstr(store.seen[0].body_text,
			       "<Part><PartNumber>1</PartNumber><ETag>&quot;e1&quot;</ETag></Part><Part><PartNumber>2</PartNumber>"));
	err_clear(&err);
	script(denied, 1);
	assert_int_equal(s3_upload_complete(f.conn, "big", "UPLOAD-ID", parts, 2, &err), -1);
	assert_int_equal(store.n_seen, 1);
	assert_non_null(strstr(err.message, "200 with an <Error> inside, AccessDenied"));
	assert_non_null(strstr(err.message, "4442587FB7D0A2F9"));
	close_client(&f);
}

/* A start whose answer was lost began an upload: once the retry's own id is
 * known, the key's other uploads are aborted (not those of other keys under
 * it, and not ours); a start that was not retried lists nothing. */
static void a_start_whose_answer_was_lost_is_aborted(void **state)
{
	static const char initiated[] =
		"<InitiateMultipartUploadResult><Bucket>bkt</Bucket><Key>big</Key><UploadId>OURS</UploadId></InitiateMultipartUploadResult>";
	static const char listed[] =
		"<ListMultipartUploadsResult><Bucket>bkt</Bucket><IsTruncated>false</IsTruncated>"
		"<Upload><Key>big</Key><UploadId>LOST</UploadId><Initiated>2026-01-01T00:00:00.000Z</Initiated></Upload>"
		"<Upload><Key>big</Key><UploadId>OURS</UploadId><Initiated>2026-01-01T00:00:01.000Z</Initiated></Upload>"
		"<Upload><Key>big.other</Key><UploadId>ELSE</UploadId><Initiated>2026-01-01T00:00:02.000Z</Initiated></Upload>"
		"</ListMultipartUploadsResult>";
	const struct answer lost[] = { { 0, NULL, NULL }, { 200, initiated, NULL }, { 200, listed, NULL }, { 204, NULL, NULL } };
	const struct answer once[] = { { 200, initiated, NULL } };
	struct drctl_error err;
	struct fixture f = { 0 };
	char *id = NULL;

	(void)state;
	open_client(&f, "bkt", "http://127.0.0.1:9000", 1, 0);
	err_clear(&err);
	script(lost, 4);
	assert_int_equal(s3_upload_begin(f.conn, "big", &id, &err), 0);
	assert_string_equal(id, "OURS");
	free(id);
	assert_int_equal(store.n_seen, 4);
	assert_string_equal(store.seen[2].url, "http://127.0.0.1:9000/bkt?prefix=big&uploads");
	assert_string_equal(store.seen[3].method, "DELETE");
	assert_string_equal(store.seen[3].url, "http://127.0.0.1:9000/bkt/big?uploadId=LOST");
	err_clear(&err);
	script(once, 1);
	assert_int_equal(s3_upload_begin(f.conn, "big", &id, &err), 0);
	free(id);
	assert_int_equal(store.n_seen, 1);
	close_client(&f);
}

static void a_store_without_upload_listing_is_said_so(void **state)
{
	static const struct answer answers[] = {
		{ 501, "<Error><Code>NotImplemented</Code><Message>A parameter you provided implies functionality that is not "
		       "implemented</Message></Error>", NULL },
	};
	struct s3_uploads_page page;
	struct drctl_error err;
	struct fixture f = { 0 };

	(void)state;
	open_client(&f, "bkt", "http://127.0.0.1:9000", 1, 0);
	err_clear(&err);
	script(answers, 1);
	assert_int_equal(s3_list_uploads(f.conn, "prod/", NULL, NULL, &page, &err), 0);
	assert_int_equal(page.n, 0);
	assert_false(err_is_set(&err));
	assert_string_equal(store.seen[0].url, "http://127.0.0.1:9000/bkt?prefix=prod%2F&uploads");
	close_client(&f);
}

/* --- Object Lock ------------------------------------------------------------------------------- */

/* GetObjectLockConfiguration: enabled, none (404
 * ObjectLockConfigurationNotFoundError, or 501 from a store without it), a
 * missing bucket an error; a HEAD's retention headers read into the info;
 * with object_lock_days every new object asks for its retention. */
static void object_lock_configuration_retention_and_lock_headers(void **state)
{
	static const struct answer answers[] = {
		{ 200, "<ObjectLockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><ObjectLockEnabled>Enabled"
		       "</ObjectLockEnabled></ObjectLockConfiguration>", NULL },
		{ 404, "<Error><Code>ObjectLockConfigurationNotFoundError</Code><Message>Object Lock configuration does not "
		       "exist for this bucket</Message></Error>", NULL },
		{ 501, "<Error><Code>NotImplemented</Code></Error>", NULL },
		{ 404, "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>", NULL },
		{ 200, NULL, "Content-Length: 5\nETag: \"e\"\nx-amz-object-lock-mode: GOVERNANCE\n"
			     "x-amz-object-lock-retain-until-date: 2030-01-02T03:04:05.000Z\n" },
		{ 200, NULL, "Content-Length: 5\nETag: \"e\"\n" },
		{ 200, NULL, "ETag: \"5d41402abc4b2a76b9719d911017c592\"\n" },
		{ 200, NULL, "ETag: \"5d41402abc4b2a76b9719d911017c592\"\n" },
	};
	struct s3_put_options no_retention = { .no_retention = 1 };
	struct s3_object_info info;
	struct drctl_error err;
	struct fixture f = { 0 };
	char v[512], want[32];
	time_t later = time(NULL) + 86400 * 3;
	struct tm tm;

	(void)state;
	err_clear(&err);
	script(answers, sizeof(answers) / sizeof(answers[0]));
	open_client(&f, "bkt", "http://127.0.0.1:9000", 1, 0);
	s3_client_free(f.client);
	s3_conn_free(f.conn);
	assert_int_equal(config_set(f.cfg, "repository", "object_lock_days", "3", &err), 0);
	assert_int_equal(config_set(f.cfg, "repository", "object_lock_mode", "COMPLIANCE", &err), 0);
	assert_int_equal(s3_client_open(&f.client, f.cfg, &err), 0);
	s3_client_set_retry(f.client, NULL, &fake_env);
	assert_non_null(f.conn = s3_conn_new(f.client, &err));
	assert_int_equal(s3_client_lock_days(f.client), 3);

	assert_int_equal(s3_object_lock_enabled(f.conn, &err), 1);
	assert_string_equal(store.seen[0].method, "GET");
	assert_string_equal(store.seen[0].url, "http://127.0.0.1:9000/bkt?object-lock");
	assert_int_equal(s3_object_lock_enabled(f.conn, &err), 0);
	assert_int_equal(s3_object_lock_enabled(f.conn, &err), 0);
	assert_false(err_is_set(&err));
	assert_int_equal(s3_object_lock_enabled(f.conn, &err), -1);
	assert_int_equal(err.code, EXIT_NOT_FOUND);
	assert_non_null(strstr(err.message, "GetObjectLockConfiguration"));
	err_clear(&err);

	assert_int_equal(s3_head_object(f.conn, "k", &info, &err), 1);
	assert_string_equal(info.lock_mode, "GOVERNANCE");
	assert_int_equal(info.retain_until, 1893553445); /* 2030-01-02T03:04:05Z */
	assert_int_equal(s3_head_object(f.conn, "k", &info, &err), 1);
	assert_string_equal(info.lock_mode, "");
	assert_int_equal(info.retain_until, 0);

	assert_int_equal(s3_put_object(f.conn, "o", "hello", 5, NULL, &err), 1);
	assert_string_equal(seen_header(&store.seen[6], "x-amz-object-lock-mode", v, sizeof(v)), "COMPLIANCE");
	seen_header(&store.seen[6], "x-amz-object-lock-retain-until-date", v, sizeof(v));
	gmtime_r(&later, &tm);
	strftime(want, sizeof(want), "%Y-%m-%dT", &tm);
	assert_int_equal(strncmp(v, want, strlen(want)), 0);
	assert_int_equal(strlen(v), 20);
	assert_int_equal(v[19], 'Z');
	assert_non_null(seen_header(&store.seen[6], "Content-MD5", v, sizeof(v)));
	assert_int_equal(s3_put_object(f.conn, "lock", "hello", 5, &no_retention, &err), 1);
	assert_null(seen_header(&store.seen[7], "x-amz-object-lock-mode", v, sizeof(v)));
	close_client(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(virtual_host_and_path_style_addresses),
		cmocka_unit_test(uploads_carry_a_signed_content_md5_and_unsigned_payload),
		cmocka_unit_test(refusals_are_errors_by_cause_with_the_request_id),
		cmocka_unit_test(slow_down_is_retried_then_is_an_io_error),
		cmocka_unit_test(a_part_is_sent_again_from_its_own_bytes),
		cmocka_unit_test(a_200_complete_holding_an_error_is_a_failure),
		cmocka_unit_test(a_start_whose_answer_was_lost_is_aborted),
		cmocka_unit_test(a_store_without_upload_listing_is_said_so),
		cmocka_unit_test(object_lock_configuration_retention_and_lock_headers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
