/*
 * metrics_publish: a rendered push goes to the Pushgateway (one POST per
 * group) and to the textfile collector folder (one file per job kind and
 * group, merged with the file it replaces and written atomically).  Why POST
 * and why groups: metrics.h.
 */
#include "lib/report/metrics.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/clients/http.h"
#include "lib/core/fsutil.h"
#include "lib/core/keyfile.h"
#include "lib/core/log.h"
#include "lib/report/metrics_private.h"

#define METRICS_FILE_MAX (4u << 20)
#define METRICS_URL_MAX 2048

/* A batch job waits for its metrics briefly: a few attempts within 10 s. */
static const struct http_retry_policy metrics_retry_policy = {
	.max_attempts = 3,
	.max_elapsed_seconds = 10,
	.base_delay = 0.5,
	.max_delay = 2,
	.max_retry_after = 5,
};

/* --- the textfile collector ---------------------------------------------------- */

/* Is the line (len bytes, no '\n') a sample of family `name`, or, with
 * comments, its HELP or TYPE line? */
static int line_of_family(const char *line, size_t len, const char *name, int comments)
{
	size_t n = strlen(name);
	int comment = len > 7 && (!strncmp(line, "# HELP ", 7) || !strncmp(line, "# TYPE ", 7));

	if (comment) {
		if (!comments)
			return 0;
		line += 7;
		len -= 7;
		return len > n && !strncmp(line, name, n) && line[n] == ' ';
	}
	return len > n && !strncmp(line, name, n) && (line[n] == ' ' || line[n] == '{');
}

/* A sample line as drctl writes them: no control character, the labels
 * closed, and a finite number last.  Anything else in an old file is not
 * carried over. */
static int sample_line_sane(const char *line, size_t len)
{
	char value[64], *end;
	const char *space = NULL;
	double v;

	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			return 0;
		if (line[i] == ' ')
			space = line + i;
	}
	if (!space || (size_t)(line + len - space - 1) >= sizeof(value) ||
	    (memchr(line, '{', (size_t)(space - line)) && space[-1] != '}'))
		return 0;
	memcpy(value, space + 1, (size_t)(line + len - space - 1));
	value[line + len - space - 1] = '\0';
	v = strtod(value, &end);
	return *value && !*end && isfinite(v);
}

/* Append the lines of family `name` in text; returns how many were samples. */
static size_t append_family(struct metrics_buf *b, const char *text, const char *name, int comments)
{
	size_t samples = 0;

	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (line_of_family(p, len, name, comments) && (comments || sample_line_sane(p, len))) {
			metrics_buf_append(b, p, len);
			metrics_buf_printf(b, "\n");
			samples += p[0] != '#';
		}
		p = nl ? nl + 1 : NULL;
	}
	return samples;
}

char *metrics_textfile_merge(const char *kind, const char *previous, const struct metrics_group *g)
{
	struct metrics_buf b = { 0 };

	for (size_t i = 0; i < metrics_family_count; i++) {
		const struct metrics_family *f = &metrics_families[i];
		struct metrics_buf old = { 0 };
		if (strcmp(f->kind, kind) != 0 || f->label_is_group != (g->label != NULL))
			continue;
		if (append_family(&b, g->text, f->name, 1) == 0 && previous && append_family(&old, previous, f->name, 0) > 0) {
			metrics_buf_family_header(&b, f);
			metrics_buf_append(&b, old.data, old.len);
		}
		b.failed |= old.failed;
		free(old.data);
	}
	if (b.failed || !b.data) {
		free(b.data);
		return b.failed ? NULL : strdup("");
	}
	return b.data;
}

static int textfile_write_group(const char *dir, const char *kind, const struct metrics_group *g,
				struct drctl_error *err)
{
	char name[300], path[4096];
	char *previous = NULL, *content = NULL;
	size_t previous_len = 0;
	int rc = -1;

	if (metrics_textfile_name(kind, g, name, sizeof(name)) != 0 ||
	    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return err_set(err, EXIT_USAGE, dir, NULL, "the metrics file name in %s is too long", dir);
	if (keyfile_read(path, "metrics file", 0, METRICS_FILE_MAX, &previous, &previous_len, err) != 0) {
		if (err->code != EXIT_NOT_FOUND) {
			err_prefix(err, "%s was left as it was", path);
			return -1;
		}
		err_clear(err);
	}
	content = metrics_textfile_merge(kind, previous, g);
	if (!content) {
		err_set(err, EXIT_FAILED, path, NULL, "out of memory");
		goto done;
	}
	/* 0644: node_exporter runs as a user of its own. */
	rc = fs_write_atomic(path, content, strlen(content), 0644, err);
	if (rc == 0)
		log_debug("metrics written to %s", path);
done:
	free(previous);
	free(content);
	return rc;
}

static int textfile_publish(const char *dir, const struct metrics_rendering *r)
{
	struct drctl_error err;
	struct stat st;
	int failed = 0;
	int found = stat(dir, &st) == 0;

	if (!found || !S_ISDIR(st.st_mode)) {
		log_warn("metrics of this %s were not written: [metrics] textfile_dir %s is not a folder (%s); "
			 "the %s's own result is unchanged (hint: point textfile_dir at node_exporter's "
			 "--collector.textfile.directory)",
			 r->kind, dir, found ? "not a directory" : strerror(errno), r->kind);
		return -1;
	}
	for (size_t i = 0; i < r->n_groups; i++) {
		err_clear(&err);
		if (textfile_write_group(dir, r->kind, &r->groups[i], &err) != 0) {
			log_warn("metrics of this %s were not written to %s: %s; the %s's own result is unchanged",
				 r->kind, err.subject[0] ? err.subject : dir, err.message, r->kind);
			failed = 1;
		}
	}
	return failed ? -1 : 0;
}

/* --- the Pushgateway ------------------------------------------------------------ */

/* The first line of an error answer, printable, bounded. */
static void answer_excerpt(const struct http_response *res, char *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; res->body && i < res->body_len && n + 1 < cap && res->body[i] != '\n'; i++)
		out[n++] = (unsigned char)res->body[i] < 0x20 || res->body[i] == 0x7f ? ' ' : res->body[i];
	out[n] = '\0';
}

/* POST one group.  0 pushed; -1 with err (transport: err->code EXIT_IO). */
static int push_group(struct http_client *client, const char *url, const struct metrics_group *g,
		      struct drctl_error *err)
{
	static const char *const headers[] = { "Content-Type: text/plain; version=0.0.4; charset=utf-8" };
	struct http_retrying_request rr = {
		.req = { .method = "POST", .url = url, .headers = headers, .n_headers = 1, .body = g->text,
			 .body_len = strlen(g->text) },
		.policy = &metrics_retry_policy,
	};
	struct http_response res = { 0 };
	char shown[METRICS_URL_MAX], answer[200];
	int rc = -1;

	http_url_for_message(url, shown, sizeof(shown));
	if (http_perform_retrying(client, &rr, &res, err) != 0)
		goto done;
	if (res.status != 200 && res.status != 202) {
		answer_excerpt(&res, answer, sizeof(answer));
		err_set(err, EXIT_FAILED, shown, NULL, "the Pushgateway at %s answered %ld %s%s%s", shown, res.status,
			http_status_text(res.status), answer[0] ? ": " : "", answer);
		goto done;
	}
	log_debug("metrics pushed to %s", shown);
	rc = 0;
done:
	http_response_free(&res);
	return rc;
}

static void instance_name(const struct config *cfg, char *out, size_t cap)
{
	const char *v = config_get(cfg, "metrics", "instance");

	if (v && *v) {
		snprintf(out, cap, "%s", v);
		return;
	}
	out[0] = '\0';
	if (gethostname(out, cap - 1) != 0)
		out[0] = '\0';
	out[cap - 1] = '\0';
}

static int pushgateway_publish(const struct config *cfg, const char *base, const struct metrics_rendering *r)
{
	const char *job = config_get(cfg, "metrics", "job");
	struct http_tls tls = { .ca_file = config_get_path(cfg, "metrics", "ca_file") };
	struct http_client *client = NULL;
	struct drctl_error err;
	char instance[256], url[METRICS_URL_MAX], shown[METRICS_URL_MAX];
	long timeout;
	int failed = 0;

	if (!job || !*job)
		job = "drctl";
	instance_name(cfg, instance, sizeof(instance));
	if (config_get_int(cfg, "metrics", "timeout_seconds", &timeout) != 0)
		timeout = 10;
	err_clear(&err);
	if (!(client = http_client_new(&tls, timeout, &err))) {
		log_warn("metrics of this %s were not pushed: %s; the %s's own result is unchanged", r->kind,
			 err.message, r->kind);
		return -1;
	}
	for (size_t i = 0; i < r->n_groups; i++) {
		err_clear(&err);
		if (metrics_pushgateway_url(base, job, instance, &r->groups[i], url, sizeof(url)) != 0) {
			http_url_for_message(base, shown, sizeof(shown));
			log_warn("metrics of this %s were not pushed: the URL under %s is too long", r->kind, shown);
			failed = 1;
			continue;
		}
		if (push_group(client, url, &r->groups[i], &err) == 0)
			continue;
		failed = 1;
		log_warn("metrics of this %s were not pushed: %s; the %s's own result is unchanged", r->kind, err.message,
			 r->kind);
		/* A Pushgateway that cannot be reached will not be for the next
		 * group either: one warning, and the job goes on. */
		if (err.code == EXIT_IO) {
			if (i + 1 < r->n_groups)
				log_warn("%zu more group%s of metrics not pushed to the same Pushgateway", r->n_groups - i - 1,
					 r->n_groups - i - 1 == 1 ? "" : "s");
			break;
		}
	}
	http_client_free(client);
	return failed ? -1 : 0;
}

/* --- both ----------------------------------------------------------------------- */

int metrics_publish(const struct config *cfg, const char *kind, const json_t *samples)
{
	const char *url = config_get(cfg, "metrics", "pushgateway_url");
	const char *dir = config_get_path(cfg, "metrics", "textfile_dir");
	struct metrics_rendering r;
	struct drctl_error err;
	int failed = 0;

	if (url && !*url)
		url = NULL;
	if (dir && !*dir)
		dir = NULL;
	if (!url && !dir)
		return 0;
	err_clear(&err);
	if (metrics_render(kind, samples, &r, &err) != 0) {
		log_warn("metrics of this %s were not published: %s (a defect of drctl: please report it); "
			 "the %s's own result is unchanged", kind, err.message, kind);
		return -1;
	}
	if (url)
		failed |= pushgateway_publish(cfg, url, &r) != 0;
	if (dir)
		failed |= textfile_publish(dir, &r) != 0;
	metrics_rendering_free(&r);
	return failed ? -1 : 0;
}
