/*
 * The HTTP retry policy (lib/clients/http_retry.c) with a fake world: a
 * clock that only moves when the test says so, a sleep that records instead
 * of sleeping, a chosen random number and scripted attempts.  Proves the
 * full-jitter bounds, Retry-After (seconds and HTTP-date, relative to the
 * response's Date) obeyed and capped, the attempt count and the time limit,
 * that what must not be retried is not, that a body is re-opened from its
 * origin for every attempt, and what the retry log says (and never says).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/clients/http.h"

/* --- the fake world ---------------------------------------------------------------- */

#define SCRIPT_MAX 16

struct scripted {
	long status;             /* 0: a transport failure */
	int tls, nothing_sent;   /* for transport failures */
	int callback_failed;     /* the sink or the body's source failed */
	uint64_t sink_bytes, sent_bytes;
	const char *retry_after, *date;
	double takes;            /* seconds the attempt lasts on the fake clock */
};

struct world {
	double now;
	time_t wall;
	double random;
	struct scripted script[SCRIPT_MAX];
	size_t n_script, performed;
	double began[SCRIPT_MAX];        /* clock at the start of each attempt */
	double slept[SCRIPT_MAX];
	size_t n_slept;
	const char *methods[SCRIPT_MAX]; /* what each attempt sent */
	struct source *bodies[SCRIPT_MAX];
};

static double w_now(void *ud) { return ((struct world *)ud)->now; }
static time_t w_wall(void *ud) { return ((struct world *)ud)->wall; }
static double w_random(void *ud) { return ((struct world *)ud)->random; }

static void w_sleep(void *ud, double s)
{
	struct world *w = ud;
	assert_true(w->n_slept < SCRIPT_MAX);
	w->slept[w->n_slept++] = s;
	w->now += s;
}

static void add_header(struct http_response *res, const char *name, const char *value)
{
	size_t nl = strlen(name) + 1, vl = strlen(value) + 1;

	res->header_data = realloc(res->header_data, res->header_data_len + nl + vl);
	assert_non_null(res->header_data);
	res->header_at[res->n_headers].name = (uint32_t)res->header_data_len;
	memcpy(res->header_data + res->header_data_len, name, nl);
	res->header_data_len += nl;
	res->header_at[res->n_headers].value = (uint32_t)res->header_data_len;
	memcpy(res->header_data + res->header_data_len, value, vl);
	res->header_data_len += vl;
	res->n_headers++;
}

static int w_perform(void *ud, struct http_client *c, const struct http_request *req, struct http_response *res,
		     struct drctl_error *err)
{
	struct world *w = ud;
	const struct scripted *s;

	(void)c;
	assert_true(w->performed < w->n_script); /* never more attempts than scripted */
	s = &w->script[w->performed];
	w->began[w->performed] = w->now;
	w->methods[w->performed] = req->method;
	w->bodies[w->performed] = req->body_src;
	w->performed++;
	w->now += s->takes;
	http_response_free(res);
	memset(res, 0, sizeof(*res));
	res->sink_bytes = s->sink_bytes;
	res->sent_bytes = s->sent_bytes;
	if (s->callback_failed)
		return err_set(err, EXIT_IO, NULL, NULL, "the sink failed");
	if (s->status == 0) {
		res->transport_failed = 1;
		res->tls_failed = s->tls;
		res->nothing_sent = s->nothing_sent;
		snprintf(res->transport_error, sizeof(res->transport_error), "Connection reset by peer");
		return err_set(err, EXIT_IO, req->url, NULL, "%s %s failed: Connection reset by peer", req->method, req->url);
	}
	res->status = s->status;
	if (s->retry_after)
		add_header(res, "Retry-After", s->retry_after);
	if (s->date)
		add_header(res, "Date", s->date);
	return 0;
}

static struct world *world_new(void)
{
	struct world *w = calloc(1, sizeof(*w));
	assert_non_null(w);
	w->now = 1000;
	w->wall = 1700000000;
	w->random = 0.5;
	return w;
}

static void script(struct world *w, struct scripted s)
{
	assert_true(w->n_script < SCRIPT_MAX);
	w->script[w->n_script++] = s;
}

static const struct http_retry_policy policy5 = {
	.max_attempts = 5, .max_elapsed_seconds = 1000, .base_delay = 1, .max_delay = 8, .max_retry_after = 30,
};

/* Run GET https://vault.example:8200/v1/sys/health in the world. */
static int run_in(struct world *w, const struct http_retry_policy *p, const char *method, struct http_retrying_request *rr,
		  struct http_response *res, struct drctl_error *err)
{
	struct http_retry_env env = { w_now, w_wall, w_sleep, w_random, w_perform, w };

	rr->req.method = method;
	rr->req.url = "https://vault.example:8200/v1/sys/health?standbyok=true";
	rr->policy = p;
	rr->env = &env;
	err_clear(err);
	return http_perform_retrying(NULL, rr, res, err);
}

static int run_get(struct world *w, const struct http_retry_policy *p, struct http_response *res, struct drctl_error *err)
{
	struct http_retrying_request rr = { .req = { 0 } };
	return run_in(w, p, "GET", &rr, res, err);
}

/* stderr into a temporary file while a run logs. */
static int stderr_saved = -1;
static FILE *stderr_file;

static void capture_begin(void)
{
	fflush(stderr);
	stderr_file = tmpfile();
	assert_non_null(stderr_file);
	stderr_saved = dup(2);
	assert_true(stderr_saved >= 0);
	assert_int_equal(dup2(fileno(stderr_file), 2), 2);
}

static char *capture_end(void)
{
	long n;
	char *text;

	fflush(stderr);
	assert_int_equal(dup2(stderr_saved, 2), 2);
	close(stderr_saved);
	n = ftell(stderr_file);
	text = calloc(1, (size_t)n + 1);
	assert_non_null(text);
	rewind(stderr_file);
	assert_int_equal(fread(text, 1, (size_t)n, stderr_file), (size_t)n);
	fclose(stderr_file);
	return text;
}

/* --- backoff: full jitter ------------------------------------------------------------ */

static void test_backoff_ceiling_doubles_from_the_base_up_to_the_maximum(void **state)
{
	static const double ceilings[] = { 1, 2, 4, 8, 8, 8 };

	(void)state;
	for (unsigned retry = 1; retry <= 6; retry++) {
		assert_float_equal(http_retry_backoff(&policy5, retry, 0.0), 0, 1e-12);
		assert_float_equal(http_retry_backoff(&policy5, retry, 0.5), ceilings[retry - 1] / 2, 1e-12);
		assert_true(http_retry_backoff(&policy5, retry, 0.999999) <= ceilings[retry - 1]);
		assert_true(http_retry_backoff(&policy5, retry, 0.999999) > ceilings[retry - 1] * 0.999);
	}
	/* no overflow however many retries */
	assert_true(http_retry_backoff(&policy5, 4000000000u, 0.999999) <= 8);
}

static void test_every_delay_is_within_the_jitter_bounds(void **state)
{
	struct http_response res = { 0 };
	struct drctl_error err;
	uint32_t lcg = 12345;

	(void)state;
	for (int round = 0; round < 200; round++) {
		struct world *w = world_new();
		for (int i = 0; i < 5; i++)
			script(w, (struct scripted){ .status = 503 });
		lcg = lcg * 1664525u + 1013904223u;
		w->random = (double)lcg / 4294967296.0;
		assert_int_equal(run_get(w, &policy5, &res, &err), 0);
		assert_int_equal(w->performed, 5);
		assert_int_equal(w->n_slept, 4);
		for (size_t i = 0; i < w->n_slept; i++) {
			double ceiling = i == 0 ? 1 : i == 1 ? 2 : i == 2 ? 4 : 8;
			assert_true(w->slept[i] >= 0);
			assert_true(w->slept[i] <= ceiling);
			assert_float_equal(w->slept[i], w->random * ceiling, 1e-9);
		}
		free(w);
	}
	http_response_free(&res);
}

/* --- Retry-After ------------------------------------------------------------------------ */

static void test_retry_after_seconds_set_the_delay_when_longer_than_the_backoff(void **state)
{
	struct world *w = world_new();
	struct http_response res = { 0 };
	struct drctl_error err;

	(void)state;
	script(w, (struct scripted){ .status = 429, .retry_after = "7" });
	script(w, (struct scripted){ .status = 503, .retry_after = "0" });
	script(w, (struct scripted){ .status = 200 });
	assert_int_equal(run_get(w, &policy5, &res, &err), 0);
	assert_int_equal(res.status, 200);
	assert_int_equal(w->n_slept, 2);
	assert_float_equal(w->slept[0], 7, 1e-9);
	/* Retry-After: 0 is shorter than the backoff (0.5 * 2 s): the backoff stands */
	assert_float_equal(w->slept[1], 1, 1e-9);
	free(w);
	http_response_free(&res);
}

static void test_retry_after_http_date_is_taken_relative_to_the_response_date(void **state)
{
	struct world *w = world_new();
	struct http_response res = { 0 };
	struct drctl_error err;

	(void)state;
	/* The local clock is years off: the server's Date is what counts. */
	script(w, (struct scripted){ .status = 503, .retry_after = "Sun, 06 Nov 1994 08:49:49 GMT",
				     .date = "Sun, 06 Nov 1994 08:49:37 GMT" });
	/* No Date: relative to the local wall clock (1700000000 = Tue, 14 Nov 2023 22:13:20 GMT). */
	script(w, (struct scripted){ .status = 503, .retry_after = "Tue, 14 Nov 2023 22:13:29 GMT" });
	/* A date in the past: no wait beyond the backoff. */
	script(w, (struct scripted){ .status = 503, .retry_after = "Tue, 14 Nov 2023 22:00:00 GMT" });
	script(w, (struct scripted){ .status = 204 });
	assert_int_equal(run_get(w, &policy5, &res, &err), 0);
	assert_int_equal(w->n_slept, 3);
	assert_float_equal(w->slept[0], 12, 1e-9);
	assert_float_equal(w->slept[1], 9, 1e-9);
	assert_float_equal(w->slept[2], 0.5 * 4, 1e-9);
	free(w);
	http_response_free(&res);
}

static void test_retry_after_longer_than_the_cap_is_not_waited_for(void **state)
{
	struct world *w = world_new();
	struct http_response res = { 0 };
	struct drctl_error err;
	char *log;

	(void)state;
	script(w, (struct scripted){ .status = 429, .retry_after = "3600" });
	capture_begin();
	assert_int_equal(run_get(w, &policy5, &res, &err), 0);
	log = capture_end();
	/* the server's answer is the result, at once */
	assert_int_equal(res.status, 429);
	assert_int_equal(w->performed, 1);
	assert_int_equal(w->n_slept, 0);
	assert_non_null(strstr(log, "not retrying GET https://vault.example:8200/v1/sys/health (429 Too Many Requests): "
				    "the server asks to wait 3600 s, longer than the 30 s drctl waits"));
	free(log);
	free(w);
	http_response_free(&res);
}

static void test_retry_after_parses_seconds_and_the_three_date_forms(void **state)
{
	time_t now = 784111777; /* Sun, 06 Nov 1994 08:49:37 GMT */
	double s = -1;
	time_t t;

	(void)state;
	assert_int_equal(http_retry_after_parse("120", now, &s), 0);
	assert_float_equal(s, 120, 0);
	assert_int_equal(http_retry_after_parse("0", now, &s), 0);
	assert_float_equal(s, 0, 0);
	assert_int_equal(http_retry_after_parse("Sun, 06 Nov 1994 08:49:47 GMT", now, &s), 0);
	assert_float_equal(s, 10, 0);
	assert_int_equal(http_retry_after_parse("Sunday, 06-Nov-94 08:49:57 GMT", now, &s), 0);
	assert_float_equal(s, 20, 0);
	assert_int_equal(http_retry_after_parse("Sun Nov  6 08:50:07 1994", now, &s), 0);
	assert_float_equal(s, 30, 0);
	assert_int_equal(http_retry_after_parse("Sat, 05 Nov 1994 08:49:37 GMT", now, &s), 0);
	assert_float_equal(s, 0, 0); /* the past: no wait */
	static const char *const bad[] = { "", "-1", "1.5", "5x", "soon", "Sun, 06 Nov 1994 08:49:37",
					   "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 32 Nov 1994 08:49:37 GMT",
					   "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT trailing" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(http_retry_after_parse(bad[i], now, &s), -1);
	/* RFC 850's two-digit year: more than 50 years ahead means the past century */
	assert_int_equal(http_date_parse("Friday, 01-Jan-99 00:00:00 GMT", 1700000000, &t), 0);
	assert_int_equal((long long)t, 915148800LL);
	assert_int_equal(http_date_parse("Saturday, 01-Jan-50 00:00:00 GMT", 1700000000, &t), 0);
	assert_int_equal((long long)t, 2524608000LL);
}

/* --- bounds ----------------------------------------------------------------------------- */

static void test_the_attempt_count_is_bounded(void **state)
{
	struct world *w = world_new();
	struct http_response res = { 0 };
	struct http_retry_state st = { 0 };
	struct http_retrying_request rr = { .state = &st };
	struct drctl_error err;

	(void)state;
	for (int i = 0; i < 6; i++)
		script(w, (struct scripted){ .status = 500 });
	assert_int_equal(run_in(w, &policy5, "GET", &rr, &res, &err), 0);
	assert_int_equal(res.status, 500); /* the last answer, for the caller's message */
	assert_int_equal(w->performed, 5);
	assert_int_equal(st.attempts, 5);
	assert_int_equal(st.retries, 4);
	assert_float_equal(st.slept, 0.5 + 1 + 2 + 4, 1e-9);
	free(w);
	http_response_free(&res);
}

static void test_no_retry_begins_after_the_time_limit(void **state)
{
	static const struct http_retry_policy p = {
		.max_attempts = 10, .max_elapsed_seconds = 35, .base_delay = 1, .max_delay = 8, .max_retry_after = 30,
	};
	struct world *w = world_new();
	struct http_response res = { 0 };
	struct drctl_error err;
	char *log;

	(void)state;
	w->random = 0.999;
	for (int i = 0; i < 10; i++)
		script(w, (struct scripted){ .status = 0, .takes = 10 }); /* each attempt times out after 10 s */
	capture_begin();
	assert_int_equal(run_get(w, &p, &res, &err), -1);
	log = capture_end();
	/* attempts at 0, 11, 23 (10 s + ~1, ~2 s backoff); the next would start at ~37 */
	assert_int_equal(w->performed, 3);
	for (size_t i = 0; i < w->performed; i++)
		assert_true(w->began[i] - 1000 <= p.max_elapsed_seconds);
	assert_non_null(strstr(log, "attempt 4 would begin after the 35 s retry time limit"));
	assert_int_equal(err.code, EXIT_IO);
	assert_non_null(strstr(err.message, "after 2 retries"));
	free(log);
	free(w);
	http_response_free(&res);
}

static void test_max_attempts_one_never_retries(void **state)
{
	static const struct http_retry_policy once = { .max_attempts = 1, .max_elapsed_seconds = 60, .base_delay = 1,
						       .max_delay = 8, .max_retry_after = 30 };
	struct world *w = world_new();
	struct http_response res = { 0 };
	struct drctl_error err;

	(void)state;
	script(w, (struct scripted){ .status = 503 });
	assert_int_equal(run_get(w, &once, &res, &err), 0);
	assert_int_equal(w->performed, 1);
	assert_int_equal(w->n_slept, 0);
	free(w);
	http_response_free(&res);
}

/* --- what is retried, what is not --------------------------------------------------------- */

static size_t attempts_for(const char *method, struct scripted first)
{
	struct world *w = world_new();
	struct http_response res = { 0 };
	struct http_retrying_request rr = { .req = { 0 } };
	struct drctl_error err;
	size_t n;

	script(w, first);
	script(w, (struct scripted){ .status = 200 });
	run_in(w, &policy5, method, &rr, &res, &err);
	n = w->performed;
	free(w);
	http_response_free(&res);
	return n;
}

static void test_transient_statuses_are_retried_and_others_are_not(void **state)
{
	static const long retried[] = { 408, 429, 500, 502, 503, 504, 599 };
	static const long final[] = { 200, 204, 301, 307, 400, 401, 403, 404, 409, 412, 501, 505 };

	(void)state;
	for (size_t i = 0; i < sizeof(retried) / sizeof(retried[0]); i++)
		assert_int_equal(attempts_for("GET", (struct scripted){ .status = retried[i] }), 2);
	for (size_t i = 0; i < sizeof(final) / sizeof(final[0]); i++)
		assert_int_equal(attempts_for("GET", (struct scripted){ .status = final[i] }), 1);
}

static void test_transport_failures_are_retried_only_when_safe(void **state)
{
	(void)state;
	/* a reset or a timeout: the request may have acted, so only idempotent methods */
	assert_int_equal(attempts_for("GET", (struct scripted){ .status = 0 }), 2);
	assert_int_equal(attempts_for("PUT", (struct scripted){ .status = 0 }), 2);
	assert_int_equal(attempts_for("DELETE", (struct scripted){ .status = 0 }), 2);
	assert_int_equal(attempts_for("POST", (struct scripted){ .status = 0 }), 1);
	/* refused before a byte left: safe whatever the method */
	assert_int_equal(attempts_for("POST", (struct scripted){ .status = 0, .nothing_sent = 1 }), 2);
	/* a certificate does not fix itself */
	assert_int_equal(attempts_for("GET", (struct scripted){ .status = 0, .tls = 1, .nothing_sent = 1 }), 1);
	/* a response that reached the sink cannot be taken back */
	assert_int_equal(attempts_for("GET", (struct scripted){ .status = 0, .sink_bytes = 1 }), 1);
	/* the sink or the body's source failed: their error, no retry */
	assert_int_equal(attempts_for("GET", (struct scripted){ .callback_failed = 1 }), 1);
}

static void test_a_body_source_without_origin_is_not_sent_twice(void **state)
{
	struct world *w = world_new();
	struct http_response res = { 0 };
	struct drctl_error err;
	struct source *src = memory_source_new("body", 4, &err);
	struct http_retrying_request rr = { .req = { .body_src = src, .body_src_len = 4 } };

	(void)state;
	script(w, (struct scripted){ .status = 503, .sent_bytes = 4 });
	script(w, (struct scripted){ .status = 200 });
	assert_int_equal(run_in(w, &policy5, "PUT", &rr, &res, &err), 0);
	assert_int_equal(w->performed, 1);
	assert_int_equal(res.status, 503);
	source_close(src);
	free(w);
	http_response_free(&res);
}

struct origin_log {
	unsigned opened[SCRIPT_MAX];
	size_t n;
	struct source *made[SCRIPT_MAX];
};

static struct source *origin_open(void *ctx, unsigned attempt, struct drctl_error *err)
{
	struct origin_log *o = ctx;
	o->opened[o->n] = attempt;
	return o->made[o->n++] = memory_source_new("snapshot", 8, err);
}

static void test_a_body_is_opened_from_its_origin_for_every_attempt(void **state)
{
	struct world *w = world_new();
	struct http_response res = { 0 };
	struct http_retry_state st = { 0 };
	struct origin_log o = { .n = 0 };
	struct http_body_origin origin = { origin_open, &o, 8 };
	struct http_retrying_request rr = { .origin = &origin, .state = &st };
	struct drctl_error err;

	(void)state;
	script(w, (struct scripted){ .status = 500, .sent_bytes = 8 });
	script(w, (struct scripted){ .status = 503, .sent_bytes = 8 });
	script(w, (struct scripted){ .status = 307 });
	script(w, (struct scripted){ .status = 204 });
	assert_int_equal(run_in(w, &policy5, "POST", &rr, &res, &err), 0);
	assert_int_equal(res.status, 307);
	/* the caller follows the redirect with the same state: the count goes on */
	assert_int_equal(run_in(w, &policy5, "POST", &rr, &res, &err), 0);
	assert_int_equal(res.status, 204);
	assert_int_equal(o.n, 4);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(o.opened[i], i);
		assert_ptr_equal(w->bodies[i], o.made[i]); /* each attempt sent its own, fresh source */
	}
	assert_int_equal(st.attempts, 4);
	assert_int_equal(st.retries, 2);
	free(w);
	http_response_free(&res);
}

struct verdicts {
	long status;
	enum http_retry_verdict say;
};

static enum http_retry_verdict predicate(void *ctx, const struct http_request *req, const struct http_response *res,
					 char *reason, size_t cap)
{
	const struct verdicts *v = ctx;

	(void)req;
	if (res->status != v->status)
		return HTTP_RETRY_DEFAULT;
	if (v->say == HTTP_RETRY_YES)
		snprintf(reason, cap, "%ld, but the body says InternalError", res->status);
	return v->say;
}

static void test_the_caller_predicate_decides_protocol_cases(void **state)
{
	struct verdicts v200 = { 200, HTTP_RETRY_YES }, v503 = { 503, HTTP_RETRY_NO };
	struct http_response res = { 0 };
	struct drctl_error err;
	struct world *w = world_new();
	struct http_retrying_request rr = { .retryable = predicate, .retryable_ctx = &v200 };
	char *log;

	(void)state;
	/* a 200 whose body is an error (S3 CompleteMultipartUpload) */
	script(w, (struct scripted){ .status = 200 });
	script(w, (struct scripted){ .status = 201 });
	capture_begin();
	assert_int_equal(run_in(w, &policy5, "POST", &rr, &res, &err), 0);
	log = capture_end();
	assert_int_equal(res.status, 201);
	assert_int_equal(w->performed, 2);
	assert_non_null(strstr(log, "(attempt 2 of 5): 200, but the body says InternalError"));
	free(log);
	free(w);
	/* a 503 that will not get better (Vault sealed) */
	w = world_new();
	rr.retryable_ctx = &v503;
	script(w, (struct scripted){ .status = 503 });
	assert_int_equal(run_in(w, &policy5, "GET", &rr, &res, &err), 0);
	assert_int_equal(w->performed, 1);
	free(w);
	http_response_free(&res);
}

/* --- the log ------------------------------------------------------------------------------ */

static void test_each_retry_is_logged_with_its_reason_and_no_secret(void **state)
{
	struct world *w = world_new();
	struct http_response res = { 0 };
	const char *headers[] = { "X-Vault-Token: hvs.sekrit" };
	struct http_retrying_request rr = { .req = { .headers = headers, .n_headers = 1, .body = "{\"password\":\"pw\"}",
						     .body_len = 17 } };
	struct drctl_error err;
	char *log;

	(void)state;
	w->random = 0.6;
	script(w, (struct scripted){ .status = 503 });
	script(w, (struct scripted){ .status = 0 });
	script(w, (struct scripted){ .status = 200 });
	capture_begin();
	assert_int_equal(run_in(w, &policy5, "GET", &rr, &res, &err), 0);
	log = capture_end();
	assert_non_null(strstr(log, "warning: retrying GET https://vault.example:8200/v1/sys/health in 0.6 s (attempt 2 of 5): "
				    "503 Service Unavailable\n"));
	assert_non_null(strstr(log, "warning: retrying GET https://vault.example:8200/v1/sys/health in 1.2 s (attempt 3 of 5): "
				    "Connection reset by peer\n"));
	assert_null(strstr(log, "standbyok"));  /* no query string */
	assert_null(strstr(log, "sekrit"));     /* no header */
	assert_null(strstr(log, "password"));   /* no body */
	free(log);
	free(w);
	http_response_free(&res);
}

static void test_urls_in_messages_lose_user_info_query_and_fragment(void **state)
{
	static const struct {
		const char *url, *shown;
	} cases[] = {
		{ "https://vault.example:8200/v1/sys/health?standbyok=true", "https://vault.example:8200/v1/sys/health" },
		{ "https://AKIA:secret@bucket.s3.example/key?X-Amz-Signature=abc#frag", "https://bucket.s3.example/key" },
		{ "http://user@host:1/p@th", "http://host:1/p@th" },
		{ "https://kube.example/api/v1/namespaces#x", "https://kube.example/api/v1/namespaces" },
		{ "https://a@b@host/", "https://host/" },
		{ "/relative?token=x", "/relative" },
	};
	char out[256], tiny[12];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		http_url_for_message(cases[i].url, out, sizeof(out));
		assert_string_equal(out, cases[i].shown);
	}
	http_url_for_message("https://user:pw@host.example/path", tiny, sizeof(tiny));
	assert_string_equal(tiny, "https://hos");
}

static void test_status_texts(void **state)
{
	(void)state;
	assert_string_equal(http_status_text(503), "Service Unavailable");
	assert_string_equal(http_status_text(429), "Too Many Requests");
	assert_string_equal(http_status_text(299), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_ceiling_doubles_from_the_base_up_to_the_maximum),
		cmocka_unit_test(test_every_delay_is_within_the_jitter_bounds),
		cmocka_unit_test(test_retry_after_seconds_set_the_delay_when_longer_than_the_backoff),
		cmocka_unit_test(test_retry_after_http_date_is_taken_relative_to_the_response_date),
		cmocka_unit_test(test_retry_after_longer_than_the_cap_is_not_waited_for),
		cmocka_unit_test(test_retry_after_parses_seconds_and_the_three_date_forms),
		cmocka_unit_test(test_the_attempt_count_is_bounded),
		cmocka_unit_test(test_no_retry_begins_after_the_time_limit),
		cmocka_unit_test(test_max_attempts_one_never_retries),
		cmocka_unit_test(test_transient_statuses_are_retried_and_others_are_not),
		cmocka_unit_test(test_transport_failures_are_retried_only_when_safe),
		cmocka_unit_test(test_a_body_source_without_origin_is_not_sent_twice),
		cmocka_unit_test(test_a_body_is_opened_from_its_origin_for_every_attempt),
		cmocka_unit_test(test_the_caller_predicate_decides_protocol_cases),
		cmocka_unit_test(test_each_retry_is_logged_with_its_reason_and_no_secret),
		cmocka_unit_test(test_urls_in_messages_lose_user_info_query_and_fragment),
		cmocka_unit_test(test_status_texts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
