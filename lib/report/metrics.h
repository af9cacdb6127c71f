/*
 * metrics: what a batch job (backup, verify, prune, drill, scenario) tells
 * Prometheus when it ends, in the text exposition format, pushed to a
 * Pushgateway ([metrics] pushgateway_url), written to a node_exporter
 * textfile collector folder ([metrics] textfile_dir), or both.  Neither set:
 * nothing is published.
 *
 * Every metric drctl publishes is a row of the table in metrics.c (its name,
 * the job kind that publishes it, its one label if any, its HELP text);
 * docs/monitoring.md lists them, and alert rules depend on those names.  All
 * are gauges; none carries a timestamp (the Pushgateway refuses them, and
 * Prometheus stamps a sample when it scrapes it).
 *
 * The rules a push follows, and why:
 *
 * - Groups.  A push is cut into groups, as the Pushgateway calls them: the
 *   job's own group {job, instance}, shared by every job kind, and one group
 *   per component (backup) or scenario (scenario) for the metrics labelled
 *   by it, {job, instance, component="postgres"}.  A backup of postgres alone
 *   then leaves the last success of redis as it was.
 * - POST, never PUT.  POST replaces, within a group, only the metrics whose
 *   names the push carries (PUT replaces the whole group): backup, verify,
 *   prune and drill push into the same group under different names and
 *   never wipe each other's metrics, and a failed run leaves the metrics it
 *   does not push as they were.
 * - Success only.  A push must hold its job's status (drctl_<kind>_last_status,
 *   1 or 0).  When it is 0 the families marked success-only in the table
 *   (last success timestamps, sizes, RTO...) are left out, whatever the
 *   caller put in: a failed backup publishes its status and duration, and
 *   its last success timestamp stays the one of the last success.
 * - The textfile collector gets the same semantics from files: one file per
 *   job kind and group (drctl_backup.prom, drctl_backup-postgres.prom), each
 *   replaced atomically (temporary, fsync, rename), the families it does not
 *   push carried over from the file it replaces.  No job's file is written
 *   by another kind of job.  The job and instance labels are not written
 *   there: node_exporter's scrape gives them.
 * - Failing to publish never fails the job: each failure is logged as a
 *   warning naming the Pushgateway (its URL without user info or query) or
 *   the file, and why; the job's exit status is its own.
 * - Nothing secret is ever a metric or a label: values are counts, sizes,
 *   times and durations; labels are component, scenario and state names.
 */
#ifndef DRCTL_REPORT_METRICS_H
#define DRCTL_REPORT_METRICS_H

#include <stddef.h>

#include <jansson.h>

#include "lib/core/config.h"
#include "lib/core/error.h"

/*
 * Samples, as a JSON object keyed by metric name.  An unlabelled metric is a
 * number; a labelled one is an array of {"labels": {"component": "postgres"},
 * "value": 123}.  Example, a successful backup:
 *
 *   {"drctl_backup_last_status": 1,
 *    "drctl_backup_duration_seconds": 12.5,
 *    "drctl_backup_size_bytes": [{"labels": {"component": "postgres"}, "value": 1048576}],
 *    "drctl_backup_last_success_timestamp_seconds":
 *        [{"labels": {"component": "postgres"}, "value": 1796090412}]}
 *
 * The helpers below build it; they return 0, or -1 when out of memory.
 */
json_t *metrics_samples_new(void);
int metrics_sample(json_t *samples, const char *name, double value);
int metrics_sample_labelled(json_t *samples, const char *name, const char *label, const char *label_value,
			    double value);

/* Publish the samples of one run of job kind `kind` ("backup", "verify",
 * "prune", "drill", "scenario") to every configured destination.  Never
 * fails the job: a destination that cannot take them (down, an error answer,
 * an unwritable folder) and samples that break the rules above (an unknown
 * name, a metric of another kind, a missing status) are logged as warnings.
 * Returns 0 when every configured destination took them (or none is
 * configured), -1 when something was logged. */
int metrics_publish(const struct config *cfg, const char *kind, const json_t *samples);

/* --- the pieces, for tests ---------------------------------------------------- */

/* One group of a push: its key label beyond job and instance (NULL for the
 * job's own group) and the exposition text of its families. */
struct metrics_group {
	const char *label;       /* "component", "scenario", or NULL */
	char *value;             /* the label's value (malloc'd), NULL for the job's group */
	char *text;              /* HELP, TYPE and sample lines, '\n'-terminated (malloc'd) */
};

struct metrics_rendering {
	char kind[16];
	int succeeded;           /* the push's status was 1 */
	struct metrics_group *groups;
	size_t n_groups;
};

/* Check the samples against the table and the rules, and render each group.
 * Families come in the table's order, samples in label order.  -1 with err
 * (EXIT_USAGE: it is the caller's mistake) when a sample breaks a rule. */
int metrics_render(const char *kind, const json_t *samples, struct metrics_rendering *out, struct drctl_error *err);
void metrics_rendering_free(struct metrics_rendering *r);

/* The Pushgateway URL of a group: base (trailing '/' dropped) +
 * /metrics/job/<job>/instance/<instance>[/<label>/<value>], each value as
 * is when it is made of letters, digits and "-._~", else as <name>@base64/
 * and its RFC 4648 URL-safe base64 (the Pushgateway's own escape, which is
 * the only one that carries '/' and an empty value).  -1 when it does not fit. */
int metrics_pushgateway_url(const char *base, const char *job, const char *instance, const struct metrics_group *g,
			    char *out, size_t cap);

/* The textfile collector's file name of a group: drctl_<kind>.prom, or
 * drctl_<kind>-<value>.prom; a value that is not letters, digits, '-', '_'
 * and '.', or starts with '.' or "b64-", is written as "b64-" and its
 * URL-safe base64. */
int metrics_textfile_name(const char *kind, const struct metrics_group *g, char *out, size_t cap);

/* The new content of a group's file: the group's text, and the samples of
 * every family of `previous` (the file it replaces, may be NULL) that the
 * group does not carry, under HELP and TYPE lines from the table; families
 * in the table's order.  Lines of anything else (families of another job
 * kind or group, comments, stray text) are dropped.  Malloc'd; NULL when out
 * of memory. */
char *metrics_textfile_merge(const char *kind, const char *previous, const struct metrics_group *g);

#endif
