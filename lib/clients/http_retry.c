/*
 * http_retry: the one retry policy of drctl's HTTP clients (see http.h).
 *
 * Why it looks the way it does:
 * - Full jitter (a delay drawn from [0, ceiling]) rather than a delay around
 *   the ceiling: clients that failed together (a Vault leader election, an
 *   S3 partition throttled) spread out instead of coming back in step.
 * - Retry-After is the server's own estimate: never retried sooner, and a
 *   request is given up rather than retried early when it asks for more than
 *   the policy waits (an early retry would only be refused again).  An
 *   HTTP-date is taken relative to the response's Date when it has one, so a
 *   skewed local clock does not stretch or shrink the wait.
 * - The time limit is checked before sleeping: a retry that could only begin
 *   after it is not waited for.
 * - The clock, sleep, randomness and the attempt itself come from an env, so
 *   the unit test runs the policy without sleeping or a server.
 */
#include "lib/clients/http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/core/log.h"

const struct http_retry_policy http_retry_policy_default = {
	.max_attempts = 5,
	.max_elapsed_seconds = 120,
	.base_delay = 0.5,
	.max_delay = 20,
	.max_retry_after = 60,
};

/* --- the real world ------------------------------------------------------------ */

static double http_real_now(void *ud)
{
	struct timespec ts;

	(void)ud;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static time_t http_real_wall(void *ud)
{
	(void)ud;
	return time(NULL);
}

static void http_real_sleep(void *ud, double seconds)
{
	struct timespec ts;

	(void)ud;
	if (seconds <= 0)
		return;
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static double http_real_random(void *ud)
{
	(void)ud;
	return (double)arc4random() / 4294967296.0;
}

static int http_real_perform(void *ud, struct http_client *c, const struct http_request *req, struct http_response *res,
			     struct drctl_error *err)
{
	(void)ud;
	return http_perform(c, req, res, err);
}

/* --- pure parts: status texts, dates, Retry-After, backoff ----------------------- */

const char *http_status_text(long status)
{
	static const struct {
		long code;
		const char *text;
	} texts[] = {
		{ 200, "OK" }, { 201, "Created" }, { 204, "No Content" }, { 206, "Partial Content" },
		{ 301, "Moved Permanently" }, { 302, "Found" }, { 303, "See Other" }, { 304, "Not Modified" },
		{ 307, "Temporary Redirect" }, { 308, "Permanent Redirect" }, { 400, "Bad Request" },
		{ 401, "Unauthorized" }, { 403, "Forbidden" }, { 404, "Not Found" }, { 405, "Method Not Allowed" },
		{ 408, "Request Timeout" }, { 409, "Conflict" }, { 412, "Precondition Failed" },
		{ 413, "Content Too Large" }, { 416, "Range Not Satisfiable" }, { 429, "Too Many Requests" },
		{ 500, "Internal Server Error" }, { 501, "Not Implemented" }, { 502, "Bad Gateway" },
		{ 503, "Service Unavailable" }, { 504, "Gateway Timeout" }, { 505, "HTTP Version Not Supported" },
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (texts[i].code == status)
			return texts[i].text;
	return "";
}

static int http_month(const char *name)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

	if (strlen(name) != 3)
		return -1;
	for (int i = 0; i < 12; i++)
		if (!strncmp(name, months + 3 * i, 3))
			return i;
	return -1;
}

/* Only whitespace after what sscanf consumed. */
static int http_rest_blank(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return *s == '\0';
}

struct http_date_fields {
	char mon[4];
	int day, year, hh, mm, ss;
};

/* The three forms of RFC 9110 5.6.7; each must use the whole value. */
static int http_date_scan(const char *v, struct http_date_fields *f)
{
	int used = -1;

	if (sscanf(v, "%*[A-Za-z], %2d %3s %4d %2d:%2d:%2d GMT%n", &f->day, f->mon, &f->year, &f->hh, &f->mm, &f->ss,
		   &used) == 6 && used > 0 && http_rest_blank(v + used))
		return 1; /* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
	used = -1;
	if (sscanf(v, "%*[A-Za-z], %2d-%3s-%2d %2d:%2d:%2d GMT%n", &f->day, f->mon, &f->year, &f->hh, &f->mm, &f->ss,
		   &used) == 6 && used > 0 && http_rest_blank(v + used))
		return 2; /* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
	used = -1;
	if (sscanf(v, "%*[A-Za-z] %3s %2d %2d:%2d:%2d %4d%n", f->mon, &f->day, &f->hh, &f->mm, &f->ss, &f->year,
		   &used) == 6 && used > 0 && http_rest_blank(v + used))
		return 3; /* asctime: Sun Nov  6 08:49:37 1994 */
	return 0;
}

int http_date_parse(const char *value, time_t now, time_t *out)
{
	struct http_date_fields f = { "", 0, 0, 0, 0, 0 };
	struct tm tm = { 0 };
	int form = http_date_scan(value, &f);
	time_t t;

	if (form == 0)
		return -1;
	if (form == 2) {
		/* A two-digit year more than 50 years ahead is in the past. */
		struct tm now_tm;
		gmtime_r(&now, &now_tm);
		f.year += 1900 + (now_tm.tm_year / 100) * 100;
		if (f.year > now_tm.tm_year + 1900 + 50)
			f.year -= 100;
	}
	tm.tm_mon = http_month(f.mon);
	if (tm.tm_mon < 0 || f.day < 1 || f.day > 31 || f.hh < 0 || f.hh > 23 || f.mm < 0 || f.mm > 59 || f.ss < 0 ||
	    f.ss > 60 || f.year < 1900)
		return -1;
	tm.tm_mday = f.day;
	tm.tm_year = f.year - 1900;
	tm.tm_hour = f.hh;
	tm.tm_min = f.mm;
	tm.tm_sec = f.ss;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = t;
	return 0;
}

int http_retry_after_parse(const char *value, time_t now, double *seconds)
{
	const char *p = value;
	double n = 0;
	time_t when;

	if (!value || !*value)
		return -1;
	if (*p >= '0' && *p <= '9') {
		for (; *p >= '0' && *p <= '9'; p++)
			if (n < 1e12)
				n = n * 10 + (*p - '0');
		if (!http_rest_blank(p))
			return -1;
		*seconds = n;
		return 0;
	}
	if (http_date_parse(value, now, &when) != 0)
		return -1;
	*seconds = when > now ? difftime(when, now) : 0;
	return 0;
}

double http_retry_backoff(const struct http_retry_policy *p, unsigned retry, double r)
{
	double ceiling = p->base_delay;

	for (unsigned i = 1; i < retry && ceiling < p->max_delay; i++)
		ceiling *= 2;
	if (ceiling > p->max_delay)
		ceiling = p->max_delay;
	return r * ceiling;
}

/* --- one request, retried ------------------------------------------------------------ */

struct http_retry_run {
	struct http_client *c;
	const struct http_retrying_request *rr;
	const struct http_retry_policy *p;
	struct http_retry_env env;
	struct http_retry_state *st;
	unsigned max_attempts;
	char shown[1024];
};

static void http_retry_run_init(struct http_retry_run *run, struct http_client *c, const struct http_retrying_request *rr,
				struct http_retry_state *fresh)
{
	const struct http_retry_env *e = rr->env;

	memset(run, 0, sizeof(*run));
	run->c = c;
	run->rr = rr;
	run->p = rr->policy ? rr->policy : &http_retry_policy_default;
	run->st = rr->state ? rr->state : fresh;
	run->max_attempts = run->p->max_attempts > 0 ? run->p->max_attempts : 1;
	run->env.now = e && e->now ? e->now : http_real_now;
	run->env.wall = e && e->wall ? e->wall : http_real_wall;
	run->env.sleep = e && e->sleep ? e->sleep : http_real_sleep;
	run->env.random = e && e->random ? e->random : http_real_random;
	run->env.perform = e && e->perform ? e->perform : http_real_perform;
	run->env.ud = e ? e->ud : NULL;
	http_url_for_message(rr->req.url, run->shown, sizeof(run->shown));
	if (rr->detail && *rr->detail) {
		size_t o = strlen(run->shown);
		snprintf(run->shown + o, sizeof(run->shown) - o, " (%s)", rr->detail);
	}
	if (run->st->attempts == 0)
		run->st->started = run->env.now(run->env.ud);
}

/* One attempt, with the body opened afresh from its origin. */
static int http_retry_attempt(struct http_retry_run *run, struct http_response *res, struct drctl_error *err)
{
	const struct http_body_origin *origin = run->rr->origin;
	struct http_request req = run->rr->req;
	struct source *body = NULL;
	int rc;

	if (origin) {
		http_response_free(res);
		memset(res, 0, sizeof(*res));
		body = origin->open(origin->ctx, run->st->attempts, err);
		if (!body)
			return -1; /* its error stands: res->transport_failed is 0 */
		req.body = NULL;
		req.body_src = body;
		req.body_src_len = origin->len;
	}
	run->st->attempts++;
	rc = run->env.perform(run->env.ud, run->c, &req, res, err);
	source_close(body);
	return rc;
}

static int http_method_idempotent(const char *m)
{
	return !strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "PUT") || !strcmp(m, "DELETE") ||
	       !strcmp(m, "OPTIONS") || !strcmp(m, "TRACE");
}

/* The generic rules (http.h), with the reason the log shows. */
static enum http_retry_verdict http_retry_generic(const struct http_request *req, const struct http_response *res,
						  char *reason, size_t cap)
{
	long st = res->status;

	if (res->transport_failed) {
		snprintf(reason, cap, "%s", res->transport_error);
		if (res->tls_failed)
			return HTTP_RETRY_NO;
		return res->nothing_sent || http_method_idempotent(req->method) ? HTTP_RETRY_YES : HTTP_RETRY_NO;
	}
	snprintf(reason, cap, "%ld%s%s", st, http_status_text(st)[0] ? " " : "", http_status_text(st));
	if (st == 408 || st == 429 || (st >= 500 && st <= 599 && st != 501 && st != 505))
		return HTTP_RETRY_YES;
	return HTTP_RETRY_NO;
}

static int http_retry_wanted(const struct http_retry_run *run, const struct http_response *res, char *reason, size_t cap)
{
	const struct http_retrying_request *rr = run->rr;
	enum http_retry_verdict v, said;

	if (res->sink_bytes > 0) /* the response is in the sink: cannot be taken back */
		return 0;
	if (!rr->origin && rr->req.body_src && res->sent_bytes > 0) /* the body cannot be read again */
		return 0;
	v = http_retry_generic(&rr->req, res, reason, cap);
	if (rr->retryable && (said = rr->retryable(rr->retryable_ctx, &rr->req, res, reason, cap)) != HTTP_RETRY_DEFAULT)
		v = said;
	return v == HTTP_RETRY_YES;
}

/* The server's Retry-After in seconds, -1 when there is none. */
static double http_retry_after(const struct http_retry_run *run, const struct http_response *res)
{
	const char *value = res->transport_failed ? NULL : http_response_header(res, "Retry-After");
	const char *date = http_response_header(res, "Date");
	time_t now = run->env.wall(run->env.ud), server_now;
	double s;

	if (!value)
		return -1;
	if (date && http_date_parse(date, now, &server_now) == 0)
		now = server_now;
	return http_retry_after_parse(value, now, &s) == 0 ? s : -1;
}

/* Whether another attempt fits the policy, and the delay before it. */
static int http_retry_next_delay(struct http_retry_run *run, const struct http_response *res, const char *reason,
				 double *delay)
{
	const struct http_retry_policy *p = run->p;
	double asked, elapsed;

	if (run->st->retries + 1 >= run->max_attempts)
		return 0;
	*delay = http_retry_backoff(p, run->st->retries + 1, run->env.random(run->env.ud));
	asked = http_retry_after(run, res);
	if (asked > p->max_retry_after) {
		log_warn("not retrying %s %s (%s): the server asks to wait %.0f s, longer than the %.0f s drctl waits",
			 run->rr->req.method, run->shown, reason, asked, p->max_retry_after);
		return 0;
	}
	if (asked > *delay)
		*delay = asked;
	elapsed = run->env.now(run->env.ud) - run->st->started;
	if (elapsed + *delay > p->max_elapsed_seconds) {
		log_warn("not retrying %s %s (%s): attempt %u would begin after the %.0f s retry time limit",
			 run->rr->req.method, run->shown, reason, run->st->retries + 2, p->max_elapsed_seconds);
		return 0;
	}
	return 1;
}

int http_perform_retrying(struct http_client *c, const struct http_retrying_request *rr, struct http_response *res,
			  struct drctl_error *err)
{
	struct http_retry_state fresh = { 0 };
	struct http_retry_run run;
	struct drctl_error attempt_err;
	int rc;

	http_retry_run_init(&run, c, rr, &fresh);
	for (;;) {
		char reason[320];
		double delay;

		err_clear(&attempt_err);
		rc = http_retry_attempt(&run, res, &attempt_err);
		if (rc != 0 && !res->transport_failed)
			break; /* the sink or the body's source failed: their error stands */
		if (!http_retry_wanted(&run, res, reason, sizeof(reason)) ||
		    !http_retry_next_delay(&run, res, reason, &delay))
			break;
		log_warn("retrying %s %s in %.1f s (attempt %u of %u): %s", rr->req.method, run.shown, delay,
			 run.st->retries + 2, run.max_attempts, reason);
		run.env.sleep(run.env.ud, delay);
		run.st->slept += delay;
		run.st->retries++;
	}
	if (rc != 0) {
		*err = attempt_err;
		if (res->transport_failed && run.st->retries > 0)
			err_prefix(err, "after %u retries", run.st->retries);
	}
	return rc;
}
