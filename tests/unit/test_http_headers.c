/*
 * The HTTP layer against a scripted server on a loopback socket (one thread,
 * one canned answer per connection): every response header field kept and
 * found by name (case-insensitive, trimmed, the first of duplicates, folded
 * lines joined), only the final response's fields after an interim 1xx, the
 * bounds on count and size, and the retry policy over real connections with
 * a fake clock: Retry-After from a real response, a refused connection
 * retried even for POST, a POST that reached the server and got no answer
 * not retried.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/clients/http.h"

/* --- the scripted server ------------------------------------------------------------- */

#define NO_ANSWER "" /* read the request, close without a byte */

struct server {
	int fd;
	int port;
	const char *const *answers;
	size_t n_answers, served;
	pthread_t thread;
	char url[64];
	char head[8192];  /* the last request's head */
};

/* The request's head (kept in s->head) and its Content-Length body. */
static void server_read_request(struct server *s, int c)
{
	char buf[65536];
	size_t len = 0;
	char *end = NULL;
	long body = 0;

	while (!end && len < sizeof(buf) - 1) {
		ssize_t n = read(c, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return;
		len += (size_t)n;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	if (!end)
		return;
	snprintf(s->head, sizeof(s->head), "%.*s", (int)(end - buf), buf);
	for (char *p = buf; p < end; p = strstr(p, "\r\n") + 2)
		if (!strncasecmp(p, "Content-Length:", 15))
			body = strtol(p + 15, NULL, 10);
	body -= (long)(len - (size_t)(end + 4 - buf));
	while (body > 0) {
		ssize_t n = read(c, buf, sizeof(buf));
		if (n <= 0)
			return;
		body -= n;
	}
}

static void *server_main(void *ud)
{
	struct server *s = ud;

	for (s->served = 0; s->served < s->n_answers; s->served++) {
		struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
		const char *a = s->answers[s->served];
		int c;

		/* a client that gave up early must not hang the test */
		if (poll(&pfd, 1, 20000) != 1 || (c = accept(s->fd, NULL, NULL)) < 0)
			break;
		server_read_request(s, c);
		for (size_t off = 0, n = strlen(a); off < n;) {
			ssize_t w = write(c, a + off, n - off);
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		close(c);
	}
	return NULL;
}

static void server_start(struct server *s, const char *const *answers, size_t n)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(addr);

	memset(s, 0, sizeof(*s));
	s->answers = answers;
	s->n_answers = n;
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(s->fd, 8), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&addr, &alen), 0);
	s->port = ntohs(addr.sin_port);
	snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d/thing?secret=1", s->port);
	assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
}

/* Join the thread; returns how many connections it answered. */
static size_t server_stop(struct server *s)
{
	pthread_join(s->thread, NULL);
	close(s->fd);
	return s->served;
}

/* A port nothing listens on (bound, then closed). */
static int closed_port(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &alen), 0);
	close(fd);
	return ntohs(addr.sin_port);
}

static struct http_client *client(void)
{
	struct drctl_error err;
	struct http_client *c;

	err_clear(&err);
	c = http_client_new(NULL, 10, &err);
	assert_non_null(c);
	return c;
}

static void get(const char *url, struct http_response *res)
{
	struct http_client *c = client();
	struct http_request req = { .method = "GET", .url = url };
	struct drctl_error err;

	err_clear(&err);
	assert_int_equal(http_perform(c, &req, res, &err), 0);
	http_client_free(c);
}

/* A GET of a server that gives `answer` once, and served it. */
static void get_answered(const char *answer, struct http_response *res)
{
	struct server s;

	server_start(&s, &answer, 1);
	get(s.url, res);
	assert_int_equal(server_stop(&s), 1);
}

/* --- request bodies -------------------------------------------------------------------- */

/* A body of known length goes out with Content-Length whatever its size
 * (S3 refuses an upload without one); only an unknown length is chunked. */
static void test_a_known_length_body_is_never_chunked(void **state)
{
	static const char *const answers[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
	};
	const size_t len = 3u << 20;
	char *body = calloc(1, len);
	struct http_client *c = client();
	struct http_request req = { .method = "PUT", .body = body, .body_len = len };
	struct http_response res = { 0 };
	struct drctl_error err;
	struct server s;

	(void)state;
	assert_non_null(body);
	err_clear(&err);
	server_start(&s, answers, 1);
	req.url = s.url;
	assert_int_equal(http_perform(c, &req, &res, &err), 0);
	assert_int_equal(server_stop(&s), 1);
	assert_int_equal(res.status, 200);
	if (!strcasestr(s.head, "\r\nContent-Length: 3145728") || strcasestr(s.head, "Transfer-Encoding"))
		fail_msg("a 3 MiB body of known length was sent as:\n%s", s.head);
	http_response_free(&res);
	http_client_free(c);
	free(body);
}

/* --- headers --------------------------------------------------------------------------- */

static void test_every_header_is_found_by_name_trimmed(void **state)
{
	static const char answer[] =
		"HTTP/1.1 200 OK\r\n"
		"ETag:   \"9b2cf535f27731c974343645a3985328\"  \r\n"
		"x-amz-request-id: 4442587FB7D0A2F9\r\n"
		"Content-Type: application/json; charset=utf-8\r\n"
		"X-Dup: first\r\n"
		"x-dup: second\r\n"
		"X-Empty:\r\n"
		"X-Folded: part one\r\n"
		"   part two \r\n"
		"Content-Length: 2\r\n"
		"Connection: close\r\n"
		"\r\n"
		"ok";
	struct http_response res = { 0 };

	(void)state;
	get_answered(answer, &res);
	assert_int_equal(res.status, 200);
	assert_string_equal(http_response_header(&res, "etag"), "\"9b2cf535f27731c974343645a3985328\"");
	assert_string_equal(http_response_header(&res, "ETAG"), "\"9b2cf535f27731c974343645a3985328\"");
	assert_string_equal(http_response_header(&res, "X-Amz-Request-Id"), "4442587FB7D0A2F9");
	assert_string_equal(http_response_header(&res, "content-type"), "application/json; charset=utf-8");
	assert_string_equal(http_response_header(&res, "X-Dup"), "first");
	assert_string_equal(http_response_header(&res, "x-empty"), "");
	assert_string_equal(http_response_header(&res, "x-folded"), "part one part two");
	assert_string_equal(http_response_header(&res, "content-length"), "2");
	assert_null(http_response_header(&res, "Retry-After"));
	assert_null(http_response_header(&res, "ETa"));
	assert_int_equal(res.n_headers, 9);
	assert_int_equal(res.headers_truncated, 0);
	assert_int_equal(res.body_len, 2);
	http_response_free(&res);
	assert_null(http_response_header(&res, "etag")); /* freed: nothing left to find */
}

static void test_only_the_final_response_headers_are_kept_after_an_interim_one(void **state)
{
	static const char answer[] =
		"HTTP/1.1 103 Early Hints\r\n"
		"Link: </style.css>; rel=preload\r\n"
		"ETag: \"interim\"\r\n"
		"\r\n"
		"HTTP/1.1 200 OK\r\n"
		"ETag: \"final\"\r\n"
		"Content-Length: 0\r\n"
		"Connection: close\r\n"
		"\r\n";
	struct http_response res = { 0 };

	(void)state;
	get_answered(answer, &res);
	assert_int_equal(res.status, 200);
	assert_string_equal(http_response_header(&res, "ETag"), "\"final\"");
	assert_null(http_response_header(&res, "Link"));
	http_response_free(&res);
}

static char *many_headers_answer(int count, size_t value_len)
{
	size_t cap = (size_t)count * (value_len + 32) + 256, o = 0;
	char *a = malloc(cap), *v = malloc(value_len + 1);

	assert_non_null(a);
	assert_non_null(v);
	memset(v, 'v', value_len);
	v[value_len] = '\0';
	o += (size_t)snprintf(a + o, cap - o, "HTTP/1.1 200 OK\r\n");
	for (int i = 0; i < count; i++)
		o += (size_t)snprintf(a + o, cap - o, "X-H-%d: %s\r\n", i, v);
	snprintf(a + o, cap - o, "Content-Length: 0\r\nConnection: close\r\n\r\n");
	free(v);
	return a;
}

static void test_header_count_and_size_are_bounded(void **state)
{
	char *many = many_headers_answer(150, 3), *big = many_headers_answer(12, 8000);
	const char *answers[] = { many, big };
	struct server s;
	struct http_response res = { 0 };
	char name[32];

	(void)state;
	server_start(&s, answers, 2);
	get(s.url, &res);
	assert_int_equal(res.status, 200);
	assert_int_equal(res.n_headers, HTTP_HEADERS_MAX);
	assert_int_equal(res.headers_truncated, 1);
	assert_string_equal(http_response_header(&res, "x-h-0"), "vvv");
	assert_string_equal(http_response_header(&res, "x-h-99"), "vvv");
	assert_null(http_response_header(&res, "x-h-100"));
	get(s.url, &res); /* the same response struct, used again */
	assert_int_equal(server_stop(&s), 2);
	assert_int_equal(res.status, 200);
	assert_int_equal(res.headers_truncated, 1);
	assert_true(res.header_data_len <= HTTP_HEADER_BYTES_MAX);
	/* 8 fields of 8000 bytes fit in 64 KiB, the 9th does not; later small
	 * fields still do */
	for (int i = 0; i < 12; i++) {
		const char *v;
		snprintf(name, sizeof(name), "X-H-%d", i);
		v = http_response_header(&res, name);
		if (i < 8) {
			assert_non_null(v);
			assert_int_equal(strlen(v), 8000);
		} else {
			assert_null(v);
		}
	}
	assert_string_equal(http_response_header(&res, "Content-Length"), "0");
	http_response_free(&res);
	free(many);
	free(big);
}

/* --- retries over real connections ----------------------------------------------------- */

struct fake_clock {
	double now, slept[8];
	size_t n_slept;
};

static double fc_now(void *ud) { return ((struct fake_clock *)ud)->now; }
static double fc_random(void *ud) { (void)ud; return 0.5; }
static void fc_sleep(void *ud, double s)
{
	struct fake_clock *f = ud;
	assert_true(f->n_slept < 8);
	f->slept[f->n_slept++] = s;
	f->now += s;
}

static const struct http_retry_policy policy3 = {
	.max_attempts = 3, .max_elapsed_seconds = 600, .base_delay = 0.1, .max_delay = 1, .max_retry_after = 30,
};

static int retrying(const char *method, const char *url, struct fake_clock *f, struct http_retry_state *st,
		    struct http_response *res, struct drctl_error *err)
{
	struct http_client *c = client();
	struct http_retry_env env = { .now = fc_now, .sleep = fc_sleep, .random = fc_random, .ud = f };
	struct http_retrying_request rr = {
		.req = { .method = method, .url = url, .body = method[0] == 'P' ? "{}" : NULL, .body_len = 2 },
		.policy = &policy3, .state = st, .env = &env,
	};
	int rc;

	err_clear(err);
	rc = http_perform_retrying(c, &rr, res, err);
	http_client_free(c);
	return rc;
}

static void test_retry_after_of_a_real_response_sets_the_delay(void **state)
{
	static const char *const answers[] = {
		"HTTP/1.1 503 Service Unavailable\r\nRetry-After:  2 \r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nyes",
	};
	struct server s;
	struct fake_clock f = { .now = 10 };
	struct http_retry_state st = { 0 };
	struct http_response res = { 0 };
	struct drctl_error err;

	(void)state;
	server_start(&s, answers, 2);
	assert_int_equal(retrying("GET", s.url, &f, &st, &res, &err), 0);
	assert_int_equal(server_stop(&s), 2);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.body, "yes");
	assert_int_equal(st.attempts, 2);
	assert_int_equal(f.n_slept, 1);
	assert_float_equal(f.slept[0], 2, 1e-9);
	http_response_free(&res);
}

static void test_a_refused_connection_is_retried_even_for_post(void **state)
{
	char url[64];
	struct fake_clock f = { .now = 10 };
	struct http_retry_state st = { 0 };
	struct http_response res = { 0 };
	struct drctl_error err;

	(void)state;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/auth/approle/login", closed_port());
	assert_int_equal(retrying("POST", url, &f, &st, &res, &err), -1);
	assert_int_equal(res.transport_failed, 1);
	assert_int_equal(res.nothing_sent, 1);
	assert_int_equal(st.attempts, 3);
	assert_int_equal(err.code, EXIT_IO);
	assert_non_null(strstr(err.message, "after 2 retries: POST http://127.0.0.1:"));
	http_response_free(&res);
}

static void test_a_post_that_reached_the_server_is_not_sent_again(void **state)
{
	static const char *const answers[] = { NO_ANSWER, NO_ANSWER, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n" };
	struct server s;
	struct fake_clock f = { .now = 10 };
	struct http_retry_state st = { 0 };
	struct http_response res = { 0 };
	struct drctl_error err;

	(void)state;
	server_start(&s, answers, 3);
	/* POST: the server may have acted on it; the empty reply is the answer */
	assert_int_equal(retrying("POST", s.url, &f, &st, &res, &err), -1);
	assert_int_equal(st.attempts, 1);
	assert_int_equal(res.transport_failed, 1);
	assert_int_equal(res.nothing_sent, 0);
	assert_null(strstr(err.message, "secret=1")); /* the query is not shown */
	/* GET is safe to send again: the second empty reply, then the 204 */
	memset(&st, 0, sizeof(st));
	assert_int_equal(retrying("GET", s.url, &f, &st, &res, &err), 0);
	assert_int_equal(server_stop(&s), 3);
	assert_int_equal(st.attempts, 2);
	assert_int_equal(res.status, 204);
	http_response_free(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_known_length_body_is_never_chunked),
		cmocka_unit_test(test_every_header_is_found_by_name_trimmed),
		cmocka_unit_test(test_only_the_final_response_headers_are_kept_after_an_interim_one),
		cmocka_unit_test(test_header_count_and_size_are_bounded),
		cmocka_unit_test(test_retry_after_of_a_real_response_sets_the_delay),
		cmocka_unit_test(test_a_refused_connection_is_retried_even_for_post),
		cmocka_unit_test(test_a_post_that_reached_the_server_is_not_sent_again),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
