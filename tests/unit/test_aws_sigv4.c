/* aws_sigv4: every case of tests/data/sigv4/vectors.json (the AWS Signature
 * Version 4 test suite and the S3 API Reference's examples) signed, with the
 * canonical request, the string to sign and the Authorization header checked;
 * the signing key derived once a day per (region, service, secret); session
 * tokens signed; encodings; and the inputs that must be refused, without the
 * secret in any message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "lib/clients/aws_sigv4.h"

#define MAX_ITEMS 16

/* A request of the suite's text form, split into what the signer takes. */
struct parsed {
	char *copy, *qcopy;
	char method[16];
	const char *path, *body;
	size_t body_len;
	struct aws_sigv4_header headers[MAX_ITEMS];
	size_t header_count;
	struct aws_sigv4_param params[MAX_ITEMS];
	size_t param_count;
	const char *query;         /* as in the request line, "" when none */
	const char *amz_date;      /* the X-Amz-Date it carries */
	const char *token;         /* its X-Amz-Security-Token, or NULL */
	const char *content_sha;   /* its x-amz-content-sha256, or NULL */
};

static char *trim(char *s)
{
	char *e = s + strlen(s);

	while (*s == ' ' || *s == '\t')
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

static void percent_decode(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
			char hex[3] = { s[1], s[2], 0 };
			*w++ = (char)strtol(hex, NULL, 16);
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

static void parse_query(struct parsed *p, const char *query)
{
	char *save = NULL;

	p->qcopy = strdup(query);
	assert_non_null(p->qcopy);
	for (char *item = strtok_r(p->qcopy, "&", &save); item; item = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(item, '=');

		assert_true(p->param_count < MAX_ITEMS);
		if (eq)
			*eq++ = '\0';
		percent_decode(item);
		if (eq)
			percent_decode(eq);
		p->params[p->param_count++] = (struct aws_sigv4_param){ item, eq };
	}
}

/* Request line, headers (an indented line is one more value of the header
 * above it), blank line, body.  The headers the signer adds itself are
 * taken out and kept as what it must produce. */
static void parse_request(struct parsed *p, const char *req)
{
	char *line, *next, *sp, *q, *last = NULL;

	memset(p, 0, sizeof(*p));
	p->copy = strdup(req);
	assert_non_null(p->copy);
	line = p->copy;
	next = strchr(line, '\n');
	if (next)
		*next++ = '\0';
	sp = strchr(line, ' ');
	assert_non_null(sp);
	snprintf(p->method, sizeof(p->method), "%.*s", (int)(sp - line), line);
	*strrchr(line, ' ') = '\0'; /* " HTTP/1.1" */
	p->path = sp + 1;
	q = strchr(sp + 1, '?');
	p->query = "";
	if (q) {
		*q++ = '\0';
		p->query = q;
		parse_query(p, q);
	}
	while (next && *next) {
		char *colon, *name, *value;

		line = next;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!line[0])
			break; /* the body follows */
		if (line[0] == ' ' || line[0] == '\t') {
			name = last;
			value = trim(line);
		} else {
			colon = strchr(line, ':');
			assert_non_null(colon);
			*colon = '\0';
			name = last = line;
			value = colon + 1;
		}
		assert_non_null(name);
		if (!strcasecmp(name, "x-amz-date"))
			p->amz_date = trim(value);
		else if (!strcasecmp(name, "x-amz-security-token"))
			p->token = trim(value);
		else if (!strcasecmp(name, "x-amz-content-sha256"))
			p->content_sha = trim(value);
		else {
			assert_true(p->header_count < MAX_ITEMS);
			p->headers[p->header_count++] = (struct aws_sigv4_header){ name, value };
		}
	}
	p->body = next ? next : "";
	p->body_len = strlen(p->body);
}

static void parsed_free(struct parsed *p)
{
	free(p->copy);
	free(p->qcopy);
}

static time_t parse_amz_date(const char *s)
{
	struct tm tm = { 0 };

	assert_non_null(s);
	assert_non_null(strptime(s, "%Y%m%dT%H%M%SZ", &tm));
	return timegm(&tm);
}

static json_t *vectors;

static int load_vectors(void **state)
{
	json_error_t jerr;

	(void)state;
	vectors = json_load_file(TEST_DATA_DIR "/sigv4/vectors.json", 0, &jerr);
	if (!vectors)
		fprintf(stderr, "vectors.json: %s (line %d)\n", jerr.text, jerr.line);
	return vectors ? 0 : -1;
}

static int free_vectors(void **state)
{
	(void)state;
	json_decref(vectors);
	return 0;
}

static const char *jstr(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	assert_non_null(s);
	return s;
}

/* "a, b" -> "a,b": the S3 page prints the Authorization value without spaces. */
static void drop_comma_spaces(char *s)
{
	char *w = s, *start = s;

	for (; *s; s++)
		if (!(*s == ' ' && w > start && w[-1] == ','))
			*w++ = *s;
	*w = '\0';
}

static void check_case(json_t *c)
{
	const char *name = jstr(c, "name"), *mode = jstr(c, "mode");
	json_t *cred_set = json_object_get(json_object_get(vectors, "credentials"), jstr(c, "credentials"));
	struct aws_credentials cred = { 0 };
	struct aws_sigv4_request req = { 0 };
	struct aws_sigv4_signed out;
	struct drctl_error err;
	struct parsed p;
	char payload[65], *path = NULL, *authz, *wire_query;
	size_t want_headers = 2;

	print_message("case %s\n", name);
	parse_request(&p, jstr(c, "req"));
	cred.access_key_id = (char *)jstr(cred_set, "access_key_id");
	cred.secret_access_key = (char *)jstr(cred_set, "secret_access_key");
	cred.session_token = (char *)p.token;
	aws_sigv4_payload_hash(p.body, p.body_len, payload);
	if (p.content_sha)
		assert_string_equal(p.content_sha, payload);

	req.method = p.method;
	req.query = p.params;
	req.query_count = p.param_count;
	req.headers = p.headers;
	req.header_count = p.header_count;
	req.payload_hash = payload;
	req.time = parse_amz_date(p.amz_date);
	req.region = jstr(cred_set, "region");
	req.service = jstr(cred_set, "service");
	if (!strcmp(mode, "s3")) {
		/* as the S3 driver does: encode the key, sign and send that */
		path = aws_sigv4_encode_path(p.path);
		assert_non_null(path);
		req.path = path;
		req.flags = AWS_SIGV4_S3;
		wire_query = aws_sigv4_encode_query(p.params, p.param_count);
		assert_non_null(wire_query);
		assert_string_equal(wire_query, p.query);
		free(wire_query);
	} else {
		req.path = p.path;
		req.flags = !strcmp(mode, "path-as-is") ? AWS_SIGV4_PATH_AS_IS : 0;
		assert_string_equal(mode, !strcmp(mode, "path-as-is") ? "path-as-is" : "generic");
	}

	err_clear(&err);
	assert_int_equal(aws_sigv4_sign(&req, &cred, NULL, &out, &err), 0);
	assert_string_equal(out.canonical_request, jstr(c, "creq"));
	assert_string_equal(out.string_to_sign, jstr(c, "sts"));
	authz = strdup(out.authorization);
	assert_non_null(authz);
	if (!strcmp(mode, "s3"))
		drop_comma_spaces(authz);
	assert_string_equal(authz, jstr(c, "authz"));
	free(authz);

	/* the headers to add: x-amz-date, [x-amz-content-sha256], [token], Authorization */
	assert_string_equal(out.headers[0].name, "x-amz-date");
	assert_string_equal(out.headers[0].value, p.amz_date);
	if (req.flags & AWS_SIGV4_CONTENT_SHA256) {
		assert_string_equal(out.headers[1].name, "x-amz-content-sha256");
		assert_string_equal(out.headers[1].value, payload);
		want_headers++;
	}
	if (p.token) {
		assert_string_equal(out.headers[want_headers - 1].name, "x-amz-security-token");
		assert_string_equal(out.headers[want_headers - 1].value, p.token);
		want_headers++;
	}
	assert_int_equal(out.header_count, want_headers);
	assert_string_equal(out.headers[want_headers - 1].name, "Authorization");
	assert_string_equal(out.headers[want_headers - 1].value, out.authorization);

	aws_sigv4_signed_clear(&out);
	assert_null(out.canonical_request);
	assert_int_equal(out.header_count, 0);
	free(path);
	parsed_free(&p);
}

static void test_every_vector(void **state)
{
	json_t *cases = json_object_get(vectors, "cases"), *c;
	size_t i, generic = 0, s3 = 0;

	(void)state;
	assert_true(json_array_size(cases) >= 38);
	json_array_foreach(cases, i, c) {
		check_case(c);
		generic += !strcmp(jstr(c, "mode"), "generic");
		s3 += !strcmp(jstr(c, "mode"), "s3");
	}
	assert_int_equal(s3, 4);
	assert_true(generic >= 31);
}

/* The brief's list of suite cases must all be there. */
static void test_vector_file_has_the_required_cases(void **state)
{
	static const char *const required[] = {
		"get-vanilla", "get-vanilla-query", "get-vanilla-empty-query-key", "get-vanilla-query-order-key",
		"get-vanilla-query-order-key-case", "get-vanilla-query-order-value", "get-vanilla-query-unreserved",
		"get-vanilla-utf8-query", "get-utf8", "get-unreserved", "get-header-key-duplicate",
		"get-header-value-order", "get-header-value-trim", "get-header-value-multiline",
		"post-header-key-case", "post-header-key-sort", "post-header-value-case", "post-vanilla",
		"post-vanilla-empty-query-value", "post-vanilla-query", "post-x-www-form-urlencoded",
		"post-x-www-form-urlencoded-parameters", "post-sts-header-before", "post-sts-header-after",
		"get-space", "get-slash", "get-slashes", "get-slash-dot-slash", "get-slash-pointless-dot",
		"get-relative", "get-relative-relative", "s3-get-object", "s3-put-object",
		"s3-get-bucket-lifecycle", "s3-get-bucket-list-objects",
	};
	json_t *cases = json_object_get(vectors, "cases"), *c;
	size_t i;

	(void)state;
	for (size_t r = 0; r < sizeof(required) / sizeof(required[0]); r++) {
		int found = 0;

		json_array_foreach(cases, i, c)
			found |= !strcmp(jstr(c, "name"), required[r]);
		print_message("required case %s\n", required[r]);
		assert_true(found);
	}
}

static const struct aws_sigv4_header s3_host[] = { { "Host", "examplebucket.s3.amazonaws.com" } };

static struct aws_sigv4_request s3_request(time_t when, const char *region)
{
	struct aws_sigv4_request req = {
		.method = "GET", .path = "/test.txt", .headers = s3_host, .header_count = 1,
		.payload_hash = AWS_SIGV4_EMPTY_PAYLOAD, .time = when, .region = region,
		.service = "s3", .flags = AWS_SIGV4_S3,
	};
	return req;
}

static void test_signing_key_derived_once_per_day(void **state)
{
	struct aws_credentials cred = { .access_key_id = "AKIAIOSFODNN7EXAMPLE",
					.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
	struct aws_credentials other = cred;
	struct aws_sigv4_cache *cache = aws_sigv4_cache_new();
	const time_t day1 = 1369353600; /* 2013-05-24T00:00:00Z */
	struct aws_sigv4_request req;
	struct aws_sigv4_signed a, b;
	struct drctl_error err;

	(void)state;
	assert_non_null(cache);
	assert_int_equal(aws_sigv4_cache_derivations(cache), 0);
	err_clear(&err);

	/* three requests on one day: one derivation, same signature as uncached */
	for (int i = 0; i < 3; i++) {
		req = s3_request(day1 + i * 3600, "us-east-1");
		assert_int_equal(aws_sigv4_sign(&req, &cred, cache, &a, &err), 0);
		assert_int_equal(a.signing_key_cached, i > 0);
		assert_int_equal(aws_sigv4_sign(&req, &cred, NULL, &b, &err), 0);
		assert_int_equal(b.signing_key_cached, 0);
		assert_string_equal(a.authorization, b.authorization);
		aws_sigv4_signed_clear(&a);
		aws_sigv4_signed_clear(&b);
	}
	assert_int_equal(aws_sigv4_cache_derivations(cache), 1);
	/* the last second of the day still hits; the next day derives again */
	req = s3_request(day1 + 86399, "us-east-1");
	assert_int_equal(aws_sigv4_sign(&req, &cred, cache, &a, &err), 0);
	assert_int_equal(a.signing_key_cached, 1);
	aws_sigv4_signed_clear(&a);
	req = s3_request(day1 + 86400, "us-east-1");
	assert_int_equal(aws_sigv4_sign(&req, &cred, cache, &a, &err), 0);
	assert_int_equal(a.signing_key_cached, 0);
	aws_sigv4_signed_clear(&a);
	assert_int_equal(aws_sigv4_cache_derivations(cache), 2);
	/* another region, another service, another secret: each derives its key */
	req = s3_request(day1 + 86400, "eu-west-1");
	assert_int_equal(aws_sigv4_sign(&req, &cred, cache, &a, &err), 0);
	assert_int_equal(a.signing_key_cached, 0);
	aws_sigv4_signed_clear(&a);
	req.service = "sts";
	assert_int_equal(aws_sigv4_sign(&req, &cred, cache, &a, &err), 0);
	assert_int_equal(a.signing_key_cached, 0);
	assert_int_equal(aws_sigv4_sign(&req, &cred, cache, &b, &err), 0);
	assert_int_equal(b.signing_key_cached, 1);
	aws_sigv4_signed_clear(&b);
	other.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEZ";
	assert_int_equal(aws_sigv4_sign(&req, &other, cache, &b, &err), 0);
	assert_int_equal(b.signing_key_cached, 0);
	assert_string_not_equal(a.authorization, b.authorization);
	aws_sigv4_signed_clear(&a);
	aws_sigv4_signed_clear(&b);
	assert_int_equal(aws_sigv4_cache_derivations(cache), 5);
	assert_false(err_is_set(&err));
	aws_sigv4_cache_free(cache);
}

static void test_session_token_is_sent_and_signed(void **state)
{
	struct aws_credentials cred = { .access_key_id = "AKIAIOSFODNN7EXAMPLE",
					.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
					.session_token = "FwoGZXIvYXdzEXAMPLETOKEN+/=" };
	struct aws_sigv4_request req = s3_request(1369353600, "us-east-1");
	struct aws_sigv4_signed out;
	struct drctl_error err;

	(void)state;
	err_clear(&err);
	req.payload_hash = AWS_SIGV4_UNSIGNED_PAYLOAD;
	assert_int_equal(aws_sigv4_sign(&req, &cred, NULL, &out, &err), 0);
	assert_int_equal(out.header_count, 4);
	assert_string_equal(out.headers[1].name, "x-amz-content-sha256");
	assert_string_equal(out.headers[1].value, "UNSIGNED-PAYLOAD");
	assert_string_equal(out.headers[2].name, "x-amz-security-token");
	assert_string_equal(out.headers[2].value, "FwoGZXIvYXdzEXAMPLETOKEN+/=");
	assert_string_equal(out.canonical_request,
			    "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\n"
			    "x-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-date:20130524T000000Z\n"
			    "x-amz-security-token:FwoGZXIvYXdzEXAMPLETOKEN+/=\n\n"
			    "host;x-amz-content-sha256;x-amz-date;x-amz-security-token\nUNSIGNED-PAYLOAD");
	assert_non_null(strstr(out.authorization,
			       "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature="));
	aws_sigv4_signed_clear(&out);
}

static void test_encodings(void **state)
{
	const struct aws_sigv4_param params[] = {
		{ "prefix", "backups/2026 01+x" }, { "list-type", "2" }, { "uploads", NULL },
		{ "a", "2" }, { "a", "10" }, { "\xe1\x88\xb4", "=&" },
	};
	char *s;

	(void)state;
	s = aws_sigv4_encode_path("/examplebucket/my key/\xe1\x88\xb4$+=&~._-/");
	assert_string_equal(s, "/examplebucket/my%20key/%E1%88%B4%24%2B%3D%26~._-/");
	free(s);
	s = aws_sigv4_encode_path("");
	assert_string_equal(s, "/");
	free(s);
	/* sorted by encoded name, then value; bare names stay bare on the wire */
	s = aws_sigv4_encode_query(params, 6);
	assert_string_equal(s, "%E1%88%B4=%3D%26&a=10&a=2&list-type=2&prefix=backups%2F2026%2001%2Bx&uploads");
	free(s);
	s = aws_sigv4_encode_query(NULL, 0);
	assert_string_equal(s, "");
	free(s);
}

/* The canonical query of the same parameters has "uploads=". */
static void test_bare_query_name_signed_with_equals(void **state)
{
	const struct aws_sigv4_param params[] = { { "uploads", NULL }, { "partNumber", "1" } };
	struct aws_credentials cred = { .access_key_id = "AKID", .secret_access_key = "secret" };
	struct aws_sigv4_request req = s3_request(1369353600, "us-east-1");
	struct aws_sigv4_signed out;
	struct drctl_error err;

	(void)state;
	err_clear(&err);
	req.query = params;
	req.query_count = 2;
	assert_int_equal(aws_sigv4_sign(&req, &cred, NULL, &out, &err), 0);
	assert_non_null(strstr(out.canonical_request, "\n/test.txt\npartNumber=1&uploads=\nhost:"));
	aws_sigv4_signed_clear(&out);
}

/* Outside S3 the path, as sent, is encoded once more: "/%E1%88%B4" (the
 * wire form of "/ሴ") is signed as "/%25E1%2588%25B4", and normalized. */
static void test_generic_mode_encodes_the_sent_path_again(void **state)
{
	const struct aws_sigv4_header h[] = { { "Host", "example.amazonaws.com" } };
	struct aws_credentials cred = { .access_key_id = "AKID", .secret_access_key = "secret" };
	struct aws_sigv4_request req = { .method = "GET", .path = "/a/./%E1%88%B4//b/../", .headers = h,
					 .header_count = 1, .time = 1440938160, .region = "us-east-1",
					 .service = "service" };
	struct aws_sigv4_signed out;
	struct drctl_error err;

	(void)state;
	err_clear(&err);
	assert_int_equal(aws_sigv4_sign(&req, &cred, NULL, &out, &err), 0);
	assert_true(!strncmp(out.canonical_request, "GET\n/a/%25E1%2588%25B4/\n\n", 25));
	assert_int_equal(out.header_count, 2); /* x-amz-date, Authorization: no content hash */
	aws_sigv4_signed_clear(&out);
	/* the same path under the S3 rule is signed as sent */
	req.flags = AWS_SIGV4_PATH_AS_IS;
	assert_int_equal(aws_sigv4_sign(&req, &cred, NULL, &out, &err), 0);
	assert_true(!strncmp(out.canonical_request, "GET\n/a/./%E1%88%B4//b/../\n\n", 27));
	aws_sigv4_signed_clear(&out);
}

static void expect_refused(struct aws_sigv4_request *req, const struct aws_credentials *cred, const char *needle)
{
	struct aws_sigv4_signed out;
	struct drctl_error err;

	err_clear(&err);
	assert_int_equal(aws_sigv4_sign(req, cred, NULL, &out, &err), -1);
	print_message("refused: %s\n", err.message);
	assert_int_equal(err.code, EXIT_USAGE);
	assert_non_null(strstr(err.message, needle));
	/* nothing of the secret or the token in the error */
	assert_null(strstr(err.message, "EXAMPLEKEY"));
	assert_null(strstr(err.hint, "EXAMPLEKEY"));
	assert_null(strstr(err.subject, "EXAMPLEKEY"));
	assert_null(strstr(err.message, "TOKENVALUE"));
	assert_null(out.canonical_request);
	assert_int_equal(out.header_count, 0);
}

/* Each case changes one thing of a request that signs, and names what the
 * refusal must say. */
static void test_refuses_what_cannot_be_signed(void **state)
{
	static const struct {
		struct aws_sigv4_header first, second; /* the request's two headers, when given */
		const char *path, *payload_hash, *region;
		char *session_token, *access_key_id, *secret_access_key; /* as struct aws_credentials holds them */
		const char *needle;
	} cases[] = {
		{ .second = { "X-Injected", "a\r\nAuthorization: x" }, .needle = "line break" },
		{ .second = { "X-Amz-Date", "20130524T000000Z" }, .needle = "already carries header x-amz-date" },
		{ .second = { "authorization", "AWS4-HMAC-SHA256 x" }, .needle = "already carries header authorization" },
		{ .second = { "X-Amz-Content-SHA256", AWS_SIGV4_EMPTY_PAYLOAD },
		  .needle = "already carries header x-amz-content-sha256" },
		{ .second = { "Bad Name", "v" }, .needle = "header named" },
		{ .first = { "Content-Length", "0" }, .needle = "without a Host header" },
		/* under the S3 rule the path must be its encoding */
		{ .path = "/my key", .needle = "not in its encoded form" },
		{ .path = "/a%2fb", .needle = "not in its encoded form" },
		{ .path = "/a%4", .needle = "not in its encoded form" },
		{ .path = "test.txt", .needle = "does not start with '/'" },
		{ .payload_hash = "E3B0", .needle = "payload hash" },
		{ .region = "us-east-1/x", .needle = "region" },
		{ .session_token = "TOKENVALUE\r\nX: y", .needle = "session token" },
		{ .access_key_id = "AKID/x", .needle = "access key id" },
		{ .secret_access_key = "", .needle = "secret access key" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct aws_credentials cred = {
			.access_key_id = cases[i].access_key_id ?: "AKIAIOSFODNN7EXAMPLE",
			.secret_access_key = cases[i].secret_access_key ?: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
			.session_token = cases[i].session_token ?: "TOKENVALUE",
		};
		struct aws_sigv4_header hdrs[2] = { { "Host", "examplebucket.s3.amazonaws.com" }, { "Range", "bytes=0-9" } };
		struct aws_sigv4_request req = s3_request(1369353600, "us-east-1");

		if (cases[i].first.name)
			hdrs[0] = cases[i].first;
		if (cases[i].second.name)
			hdrs[1] = cases[i].second;
		req.headers = hdrs;
		req.header_count = 2;
		req.path = cases[i].path ?: "/test.txt";
		req.payload_hash = cases[i].payload_hash ?: AWS_SIGV4_EMPTY_PAYLOAD;
		req.region = cases[i].region ?: "us-east-1";
		expect_refused(&req, &cred, cases[i].needle);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector_file_has_the_required_cases),
		cmocka_unit_test(test_every_vector),
		cmocka_unit_test(test_signing_key_derived_once_per_day),
		cmocka_unit_test(test_session_token_is_sent_and_signed),
		cmocka_unit_test(test_encodings),
		cmocka_unit_test(test_bare_query_name_signed_with_equals),
		cmocka_unit_test(test_generic_mode_encodes_the_sent_path_again),
		cmocka_unit_test(test_refuses_what_cannot_be_signed),
	};
	return cmocka_run_group_tests(tests, load_vectors, free_vectors);
}
