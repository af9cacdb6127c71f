/*
 * schedule: the table of what runs unattended and when (see schedule.h),
 * and the output that the renderers fill.
 *
 * The times follow the operations runbook's routine: the nightly backup,
 * Friday's "backup verification", the "last Friday" disaster-recovery drill
 * (an hour after the verification, so both never hold the repository at
 * once for long) and the "third Monday" secret rotation.  All in UTC.
 */
#include "schedules/schedule_private.h"

#include <stdlib.h>
#include <string.h>

#include "lib/core/fsutil.h"

const struct schedule_task schedule_tasks[] = {
	{ .job = SCHEDULE_JOB_BACKUP,
	  .name = "backup",
	  .summary = "nightly backup of every configured component, then prune",
	  .steps = { { "backup", NULL }, { "prune", NULL } },
	  .cron_minute = "0", .cron_hour = "2", .cron_weekday = "*",
	  .calendar = "*-*-* 02:00:00 UTC",
	  .deadline_hours = 6,
	  .kubernetes = 1 },
	{ .job = SCHEDULE_JOB_VERIFY,
	  .name = "verify",
	  .summary = "Friday's deep verification of the newest backup set",
	  .steps = { { "verify", "latest", "--deep", NULL } },
	  .cron_minute = "0", .cron_hour = "3", .cron_weekday = "5",
	  .calendar = "Fri *-*-* 03:00:00 UTC",
	  .deadline_hours = 6,
	  .kubernetes = 1 },
	{ .job = SCHEDULE_JOB_DRILL,
	  .name = "drill",
	  .summary = "the disaster-recovery drill on the last Friday of the month",
	  .steps = { { "drill", NULL } },
	  .cron_minute = "0", .cron_hour = "4", .cron_weekday = "5",
	  /* systemd.time(7): "Mon *-05~07/1" is the last Monday in May; ~07/1
	   * is each of a month's last seven days. */
	  .calendar = "Fri *-*~07/1 04:00:00 UTC",
	  .when = "last-friday",
	  .deadline_hours = 8,
	  .kubernetes = 1 },
	{ .job = SCHEDULE_JOB_ROTATE,
	  .name = "rotate-secrets",
	  .summary = "the secret rotation on the third Monday of the month",
	  .steps = { { "rotate-secrets", NULL } },
	  .cron_minute = "0", .cron_hour = "5", .cron_weekday = "1",
	  /* systemd ANDs the weekday with the days (cron ORs them): the one
	   * Monday among the 15th to the 21st is the third. */
	  .calendar = "Mon *-*-15..21 05:00:00 UTC",
	  .when = "third-monday",
	  .deadline_hours = 2,
	  .kubernetes = 1 },
};

const size_t schedule_task_count = sizeof(schedule_tasks) / sizeof(schedule_tasks[0]);

int schedule_kind_parse(const char *name, enum schedule_kind *out, struct drctl_error *err)
{
	static const struct { const char *name; enum schedule_kind kind; } kinds[] = {
		{ "cronjob", SCHEDULE_CRONJOB },
		{ "crontab", SCHEDULE_CRONTAB },
		{ "systemd", SCHEDULE_SYSTEMD },
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (name && !strcmp(name, kinds[i].name)) {
			*out = kinds[i].kind;
			return 0;
		}
	return err_set(err, EXIT_USAGE, name ? name : "--kind",
		       "drctl schedule render --kind cronjob (Kubernetes), crontab or systemd",
		       name ? "unknown schedule kind \"%s\"" : "drctl schedule render needs --kind", name);
}

int schedule_render(const struct config *cfg, enum schedule_kind kind, const struct schedule_options *o,
		    struct schedule_output *out, struct drctl_error *err)
{
	memset(out, 0, sizeof(*out));
	switch (kind) {
	case SCHEDULE_CRONJOB: return schedule_render_kube(cfg, o, out, err);
	case SCHEDULE_CRONTAB: return schedule_render_crontab(cfg, o, out, err);
	case SCHEDULE_SYSTEMD: return schedule_render_systemd(cfg, o, out, err);
	}
	return err_set(err, EXIT_USAGE, NULL, NULL, "unknown schedule kind");
}

int schedule_output_add(struct schedule_output *out, const char *name, char *text, struct drctl_error *err)
{
	struct schedule_file *files = NULL;
	char *copy = NULL;

	if (text)
		files = realloc(out->files, (out->n + 1) * sizeof(*files));
	if (files)
		out->files = files;
	if (files)
		copy = strdup(name);
	if (!copy) {
		free(text);
		return err_set(err, EXIT_FAILED, name, NULL, "out of memory rendering %s", name);
	}
	out->files[out->n++] = (struct schedule_file){ .name = copy, .text = text };
	return 0;
}

void schedule_output_print(const struct schedule_output *out, enum schedule_kind kind, FILE *f)
{
	for (size_t i = 0; i < out->n; i++) {
		if (i)
			fputs(kind == SCHEDULE_CRONJOB ? "---\n" : "\n", f);
		fprintf(f, "# file: %s\n%s", out->files[i].name, out->files[i].text);
	}
}

int schedule_output_write(const struct schedule_output *out, const char *dir, struct drctl_error *err)
{
	char path[4096];

	if (fs_mkdir_p(dir, 0755, "give --out-dir a folder drctl may create", err) != 0)
		return -1;
	for (size_t i = 0; i < out->n; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, out->files[i].name) >= sizeof(path))
			return err_set(err, EXIT_USAGE, dir, "give a shorter --out-dir", "the path %s/%s is too long",
				       dir, out->files[i].name);
		if (fs_mkdir_parents(path, 0755, "give --out-dir a folder drctl may create", err) != 0 ||
		    fs_write_atomic(path, out->files[i].text, strlen(out->files[i].text), 0644, err) != 0)
			return -1;
	}
	return 0;
}

void schedule_shell_word(FILE *f, const char *s)
{
	if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./=:@%+-") == strlen(s)) {
		fputs(s, f);
		return;
	}
	fputc('\'', f);
	for (; *s; s++)
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	fputc('\'', f);
}

void schedule_output_free(struct schedule_output *out)
{
	for (size_t i = 0; i < out->n; i++) {
		free(out->files[i].name);
		free(out->files[i].text);
	}
	free(out->files);
	memset(out, 0, sizeof(*out));
}
