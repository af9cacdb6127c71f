/*
 * metrics: the table of every metric drctl publishes, the samples a job
 * hands over, and their rendering in the Prometheus text exposition format
 * (version 0.0.4: "# HELP", "# TYPE", then `name{label="value"} number`
 * lines, no timestamps).  Publishing them (Pushgateway, textfile collector)
 * is metrics_publish.c; the rules are in metrics.h.
 */
#include "lib/report/metrics.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/utf8.h"
#include "lib/crypto/base64.h"
#include "lib/report/metrics_private.h"

#define F(nm, kd, lb, grp, succ, hp) \
	{ .name = nm, .kind = kd, .label = lb, .label_is_group = grp, .success_only = succ, .help = hp }

/* Every metric drctl publishes.  All are gauges.  A family whose label is a
 * group label is pushed to the group of that label's value. */
const struct metrics_family metrics_families[] = {
	F("drctl_backup_last_status", "backup", NULL, 0, 0, "1 when the last drctl backup succeeded, 0 when it failed."),
	F("drctl_backup_duration_seconds", "backup", NULL, 0, 0, "How long the last drctl backup ran, successful or not."),
	F("drctl_backup_last_success_timestamp_seconds", "backup", "component", 1, 1,
	  "Unix time at which the last successful backup of the component finished."),
	F("drctl_backup_size_bytes", "backup", "component", 1, 1,
	  "Bytes the last successful backup stored for the component (its archive object)."),

	F("drctl_verify_last_status", "verify", NULL, 0, 0, "1 when the last drctl verify passed, 0 when it failed or found a problem."),
	F("drctl_verify_duration_seconds", "verify", NULL, 0, 0, "How long the last drctl verify ran."),
	F("drctl_verify_last_success_timestamp_seconds", "verify", NULL, 0, 1,
	  "Unix time at which the last drctl verify that passed finished."),

	F("drctl_prune_last_status", "prune", NULL, 0, 0, "1 when the last drctl prune succeeded, 0 when it failed."),
	F("drctl_prune_duration_seconds", "prune", NULL, 0, 0, "How long the last drctl prune ran."),
	F("drctl_prune_last_success_timestamp_seconds", "prune", NULL, 0, 1,
	  "Unix time at which the last successful drctl prune finished."),
	F("drctl_prune_removed_sets", "prune", NULL, 0, 0, "Backup sets the last drctl prune removed."),
	F("drctl_repository_sets", "prune", "state", 0, 1,
	  "Backup sets in the repository after the last successful drctl prune, by state (complete, incomplete, invalid)."),

	F("drctl_drill_last_status", "drill", NULL, 0, 0, "1 when the last drctl drill succeeded, 0 when it failed."),
	F("drctl_drill_duration_seconds", "drill", NULL, 0, 0, "How long the last drctl drill ran."),
	F("drctl_drill_last_success_timestamp_seconds", "drill", NULL, 0, 1,
	  "Unix time at which the last successful drctl drill finished."),
	F("drctl_drill_rto_seconds", "drill", NULL, 0, 1, "Recovery time the last successful drill measured."),
	F("drctl_drill_rpo_seconds", "drill", NULL, 0, 1,
	  "Recovery point of the last successful drill: the age of the backup set it restored."),

	F("drctl_scenario_last_status", "scenario", "scenario", 1, 0,
	  "1 when the last run of the scenario ended successfully, 0 when it failed."),
	F("drctl_scenario_duration_seconds", "scenario", "scenario", 1, 0, "How long the last run of the scenario took."),
	F("drctl_scenario_last_success_timestamp_seconds", "scenario", "scenario", 1, 1,
	  "Unix time at which the last successful run of the scenario finished."),
	F("drctl_scenario_rto_seconds", "scenario", "scenario", 1, 1,
	  "Recovery time the last successful run of the scenario measured (its total)."),
	F("drctl_rotation_last_status", "scenario", "scenario", 1, 0,
	  "1 when the last secret rotation run by the scenario (secrets-rotation, secrets-compromise) ended successfully, 0 when it failed."),
	F("drctl_rotation_last_success_timestamp_seconds", "scenario", "scenario", 1, 1,
	  "Unix time at which the last successful secret rotation run by the scenario finished."),
};

const size_t metrics_family_count = sizeof(metrics_families) / sizeof(metrics_families[0]);

static const char *const metrics_kinds[] = { "backup", "verify", "prune", "drill", "scenario" };

const struct metrics_family *metrics_family_find(const char *name)
{
	for (size_t i = 0; i < metrics_family_count; i++)
		if (!strcmp(metrics_families[i].name, name))
			return &metrics_families[i];
	return NULL;
}

int metrics_kind_valid(const char *kind)
{
	for (size_t i = 0; i < sizeof(metrics_kinds) / sizeof(metrics_kinds[0]); i++)
		if (!strcmp(metrics_kinds[i], kind))
			return 1;
	return 0;
}

/* --- samples ----------------------------------------------------------------- */

json_t *metrics_samples_new(void)
{
	return json_object();
}

int metrics_sample(json_t *samples, const char *name, double value)
{
	return json_object_set_new(samples, name, json_real(value));
}

int metrics_sample_labelled(json_t *samples, const char *name, const char *label, const char *label_value,
			    double value)
{
	json_t *list = json_object_get(samples, name);

	if (!json_is_array(list)) {
		list = json_array();
		if (json_object_set_new(samples, name, list) != 0)
			return -1;
	}
	return json_array_append_new(list, json_pack("{s:{s:s}, s:f}", "labels", label, label_value, "value", value));
}

/* --- text -------------------------------------------------------------------- */

void metrics_buf_printf(struct metrics_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		size_t room = b->cap - b->len;
		va_start(ap, fmt);
		n = vsnprintf(b->data ? b->data + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = 1;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = (b->cap ? b->cap * 2 : 1024) + (size_t)n;
		char *p = realloc(b->data, cap);
		if (!p) {
			b->failed = 1;
			return;
		}
		b->data = p;
		b->cap = cap;
	}
}

void metrics_buf_append(struct metrics_buf *b, const char *s, size_t len)
{
	metrics_buf_printf(b, "%.*s", (int)len, s);
}

/* Label values escape '\\', '"' and line feeds; HELP text '\\' and line
 * feeds (the exposition format's rules). */
static void buf_escaped(struct metrics_buf *b, const char *s, int quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			metrics_buf_printf(b, "\\\\");
		else if (*s == '\n')
			metrics_buf_printf(b, "\\n");
		else if (*s == '"' && quote)
			metrics_buf_printf(b, "\\\"");
		else
			metrics_buf_printf(b, "%c", *s);
	}
}

void metrics_buf_family_header(struct metrics_buf *b, const struct metrics_family *f)
{
	metrics_buf_printf(b, "# HELP %s ", f->name);
	buf_escaped(b, f->help, 0);
	metrics_buf_printf(b, "\n# TYPE %s gauge\n", f->name);
}

/* Whole numbers (times, sizes, counts) as integers, others with every
 * digit a double has. */
static void format_value(double v, char out[40])
{
	if (v == floor(v) && fabs(v) < 9007199254740992.0)
		snprintf(out, 40, "%.0f", v);
	else
		snprintf(out, 40, "%.17g", v);
}

/* --- rendering --------------------------------------------------------------- */

struct sample {
	const struct metrics_family *family;
	size_t family_index;
	const char *label_value;  /* NULL for an unlabelled family */
	double value;
};

static const char *group_value(const struct sample *s)
{
	return s->family->label_is_group ? s->label_value : NULL;
}

static int cmp_opt_str(const char *a, const char *b)
{
	if (!a || !b)
		return a ? 1 : b ? -1 : 0;
	return strcmp(a, b);
}

/* Group (the job's own first), then family in table order, then label. */
static int sample_cmp(const void *pa, const void *pb)
{
	const struct sample *a = pa, *b = pb;
	int c = cmp_opt_str(group_value(a), group_value(b));

	if (c)
		return c;
	if (a->family_index != b->family_index)
		return a->family_index < b->family_index ? -1 : 1;
	return cmp_opt_str(a->label_value, b->label_value);
}

static int take_value(const struct metrics_family *f, json_t *v, double *out, struct drctl_error *err)
{
	if (!json_is_number(v))
		return err_set(err, EXIT_USAGE, f->name, NULL, "metric %s: a value is not a number", f->name);
	*out = json_number_value(v);
	if (!isfinite(*out))
		return err_set(err, EXIT_USAGE, f->name, NULL, "metric %s: a value is not a finite number", f->name);
	return 0;
}

/* One labelled sample: {"labels": {label: "value"}, "value": number}. */
static int take_labelled(const struct metrics_family *f, json_t *item, struct sample *s, struct drctl_error *err)
{
	json_t *labels = json_object_get(item, "labels");
	json_t *lv = json_object_get(labels, f->label);

	if (!json_is_object(labels) || json_object_size(labels) != 1 || !json_is_string(lv))
		return err_set(err, EXIT_USAGE, f->name, NULL, "metric %s: every sample has exactly the label %s", f->name,
			       f->label);
	s->label_value = json_string_value(lv);
	if (strlen(s->label_value) > METRICS_LABEL_VALUE_MAX || !utf8_valid(s->label_value))
		return err_set(err, EXIT_USAGE, f->name, NULL,
			       "metric %s: the value of label %s is not UTF-8 of at most %d bytes", f->name, f->label,
			       METRICS_LABEL_VALUE_MAX);
	return take_value(f, json_object_get(item, "value"), &s->value, err);
}

static int collect_family(const char *kind, const char *name, json_t *v, struct sample **list, size_t *n,
			  size_t *cap, struct drctl_error *err)
{
	const struct metrics_family *f = metrics_family_find(name);
	size_t count = f && f->label ? json_array_size(v) : 1;

	if (!f || strcmp(f->kind, kind) != 0)
		return err_set(err, EXIT_USAGE, name, "docs/monitoring.md lists the metrics of each job",
			       "%s is not a metric drctl publishes for a %s job", name, kind);
	if (f->label && !json_is_array(v))
		return err_set(err, EXIT_USAGE, name, NULL, "metric %s has the label %s: its samples are an array",
			       name, f->label);
	if (*n + count > *cap) {
		size_t ncap = (*cap ? *cap * 2 : 32) + count;
		struct sample *p = realloc(*list, ncap * sizeof(*p));
		if (!p)
			return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		*list = p;
		*cap = ncap;
	}
	for (size_t i = 0; i < count; i++) {
		struct sample *s = &(*list)[*n];
		*s = (struct sample){ .family = f, .family_index = (size_t)(f - metrics_families) };
		if (f->label ? take_labelled(f, json_array_get(v, i), s, err) : take_value(f, v, &s->value, err))
			return -1;
		(*n)++;
	}
	return 0;
}

/* The status decides: 1 everywhere is a success; 0 anywhere a failure. */
static int take_status(const char *kind, const struct sample *list, size_t n, int *succeeded,
		       struct drctl_error *err)
{
	char status_name[64];
	int seen = 0;

	snprintf(status_name, sizeof(status_name), "drctl_%s_last_status", kind);
	*succeeded = 1;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i].family->name, status_name) != 0)
			continue;
		if (list[i].value != 0 && list[i].value != 1)
			return err_set(err, EXIT_USAGE, status_name, NULL, "%s is 1 (succeeded) or 0 (failed), not %g",
				       status_name, list[i].value);
		seen = 1;
		*succeeded &= list[i].value == 1;
	}
	if (!seen)
		return err_set(err, EXIT_USAGE, status_name, NULL,
			       "the metrics of a %s job must say whether it succeeded (%s)", kind, status_name);
	return 0;
}

static int add_group(struct metrics_rendering *r, const struct sample *first, struct metrics_buf *text,
		     struct drctl_error *err)
{
	struct metrics_group *g = realloc(r->groups, (r->n_groups + 1) * sizeof(*g));
	const char *value = group_value(first);

	if (!g)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	r->groups = g;
	g = &r->groups[r->n_groups++];
	*g = (struct metrics_group){ .label = value ? first->family->label : NULL, .text = text->data };
	*text = (struct metrics_buf){ 0 }; /* the group owns the text now */
	if (value && !(g->value = strdup(value)))
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	return 0;
}

/* Render sorted samples, one group after another. */
static int render_groups(struct metrics_rendering *r, const struct sample *list, size_t n, struct drctl_error *err)
{
	struct metrics_buf text = { 0 };
	size_t start = 0;

	for (size_t i = 0; i < n; i++) {
		const struct sample *s = &list[i];
		char value[40];
		if (i > start && cmp_opt_str(group_value(s), group_value(&list[start])) != 0) {
			if (text.failed || add_group(r, &list[start], &text, err) != 0)
				goto fail;
			start = i;
		}
		if (i > start && s->family == list[i - 1].family && !cmp_opt_str(s->label_value, list[i - 1].label_value)) {
			err_set(err, EXIT_USAGE, s->family->name, NULL, "metric %s has two samples for %s \"%s\"",
				s->family->name, s->family->label, s->label_value);
			goto fail;
		}
		if (i == start || s->family != list[i - 1].family)
			metrics_buf_family_header(&text, s->family);
		metrics_buf_printf(&text, "%s", s->family->name);
		if (s->label_value) {
			metrics_buf_printf(&text, "{%s=\"", s->family->label);
			buf_escaped(&text, s->label_value, 1);
			metrics_buf_printf(&text, "\"}");
		}
		format_value(s->value, value);
		metrics_buf_printf(&text, " %s\n", value);
	}
	if (n > 0 && (text.failed || add_group(r, &list[start], &text, err) != 0))
		goto fail;
	free(text.data);
	return 0;
fail:
	if (text.failed)
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	free(text.data);
	return -1;
}

int metrics_render(const char *kind, const json_t *samples, struct metrics_rendering *out, struct drctl_error *err)
{
	struct sample *list = NULL;
	size_t n = 0, cap = 0, kept = 0;
	const char *name;
	json_t *v;

	memset(out, 0, sizeof(*out));
	if (!metrics_kind_valid(kind))
		return err_set(err, EXIT_USAGE, kind, NULL, "\"%s\" is not a kind of job that publishes metrics", kind);
	snprintf(out->kind, sizeof(out->kind), "%s", kind);
	if (!json_is_object(samples))
		return err_set(err, EXIT_USAGE, kind, NULL, "the metrics of a %s job are not a JSON object", kind);
	json_object_foreach((json_t *)samples, name, v)
		if (collect_family(kind, name, v, &list, &n, &cap, err) != 0)
			goto fail;
	if (take_status(kind, list, n, &out->succeeded, err) != 0)
		goto fail;
	/* A failed run leaves what only a success may say as it was. */
	for (size_t i = 0; i < n; i++)
		if (out->succeeded || !list[i].family->success_only)
			list[kept++] = list[i];
	qsort(list, kept, sizeof(*list), sample_cmp);
	if (render_groups(out, list, kept, err) != 0)
		goto fail;
	free(list);
	return 0;
fail:
	free(list);
	metrics_rendering_free(out);
	return -1;
}

void metrics_rendering_free(struct metrics_rendering *r)
{
	for (size_t i = 0; i < r->n_groups; i++) {
		free(r->groups[i].value);
		free(r->groups[i].text);
	}
	free(r->groups);
	r->groups = NULL;
	r->n_groups = 0;
}

/* --- names ------------------------------------------------------------------- */

static int safe_chars(const char *s, const char *extra)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') && !(*s >= '0' && *s <= '9') &&
		    !strchr(extra, *s))
			return 0;
	return 1;
}

/* RFC 4648 section 5 (URL and file name safe), without padding. */
static int base64url(const char *s, char *out, size_t cap)
{
	size_t n = strlen(s);

	if (base64_encoded_len(n, 0) + 1 > cap)
		return -1;
	base64_encode((const unsigned char *)s, n, out, 0);
	for (char *p = out; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	return 0;
}

static void buf_path_label(struct metrics_buf *b, const char *name, const char *value)
{
	char enc[4 * METRICS_LABEL_VALUE_MAX / 3 + 8];

	if (safe_chars(value, "-._~")) {
		metrics_buf_printf(b, "/%s/%s", name, value);
	} else if (!*value) {
		metrics_buf_printf(b, "/%s@base64/=", name); /* the Pushgateway's empty value */
	} else if (base64url(value, enc, sizeof(enc)) == 0) {
		metrics_buf_printf(b, "/%s@base64/%s", name, enc);
	} else {
		b->failed = 1;
	}
}

int metrics_pushgateway_url(const char *base, const char *job, const char *instance, const struct metrics_group *g,
			    char *out, size_t cap)
{
	struct metrics_buf b = { 0 };
	size_t len = strlen(base);
	int rc = -1;

	while (len > 0 && base[len - 1] == '/')
		len--;
	metrics_buf_printf(&b, "%.*s/metrics", (int)len, base);
	buf_path_label(&b, "job", job);
	buf_path_label(&b, "instance", instance);
	if (g->label)
		buf_path_label(&b, g->label, g->value);
	if (!b.failed && b.len < cap) {
		memcpy(out, b.data, b.len + 1);
		rc = 0;
	}
	free(b.data);
	return rc;
}

int metrics_textfile_name(const char *kind, const struct metrics_group *g, char *out, size_t cap)
{
	char enc[4 * METRICS_LABEL_VALUE_MAX / 3 + 8];
	int n;

	if (!g->label)
		n = snprintf(out, cap, "drctl_%s.prom", kind);
	else if (safe_chars(g->value, "-_.") && g->value[0] != '.' && strncmp(g->value, "b64-", 4) != 0)
		n = snprintf(out, cap, "drctl_%s-%s.prom", kind, g->value);
	else if (base64url(g->value, enc, sizeof(enc)) == 0)
		n = snprintf(out, cap, "drctl_%s-b64-%s.prom", kind, enc);
	else
		return -1;
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}
