/*
 * schedule: what runs unattended, when, and how it is deployed
 * (`drctl schedule render`).
 *
 * One table (schedule.c) says what the platform runs on its own and when,
 * following the operations runbook: the nightly backup and prune, Friday's
 * deep verification, the disaster-recovery drill on the last Friday of the
 * month, and the secret rotation on the third Monday.  Three renderers turn
 * it, with the current configuration, into something a scheduler runs:
 *
 *   cronjob  Kubernetes manifests (schedule_kube.c): CronJobs, the scenario
 *            Job templates, ServiceAccounts and the least RBAC each needs,
 *            the configuration as a ConfigMap (schedule_cluster.c turns the
 *            host's configuration into the one the pods read) and its key
 *            files as Secrets mounted as files;
 *   crontab  crontab lines for a host without Kubernetes (schedule_host.c);
 *   systemd  service and timer units, the same (schedule_host.c).
 *
 * The manifests in schedules/kubernetes/ are this renderer's output for
 * schedules/platform.conf; a test keeps them identical.
 */
#ifndef DRCTL_SCHEDULES_SCHEDULE_H
#define DRCTL_SCHEDULES_SCHEDULE_H

#include <stddef.h>
#include <stdio.h>

#include "lib/core/config.h"
#include "lib/core/error.h"

enum schedule_kind { SCHEDULE_CRONJOB, SCHEDULE_CRONTAB, SCHEDULE_SYSTEMD };

/* The jobs, as bits: which key files each one's pod gets (schedule_cluster.c). */
enum schedule_job {
	SCHEDULE_JOB_BACKUP = 1,   /* backup, then prune */
	SCHEDULE_JOB_VERIFY = 2,   /* verify latest --deep */
	SCHEDULE_JOB_DRILL = 4,    /* drill */
	SCHEDULE_JOB_ROTATE = 8,   /* rotate-secrets */
	SCHEDULE_JOB_SCENARIO = 16 /* scenario run / resume, started by a person */
};

/* One scheduled task: one or more drctl command lines run in order, each
 * only when the one before succeeded. */
#define SCHEDULE_STEPS_MAX 2
#define SCHEDULE_ARGS_MAX 6
struct schedule_task {
	enum schedule_job job;
	const char *name;        /* "backup": names the CronJob, the units, the log tag */
	const char *summary;     /* "nightly backup, then prune" */
	const char *const steps[SCHEDULE_STEPS_MAX][SCHEDULE_ARGS_MAX]; /* drctl's arguments, NULL-ended */
	/* When, in UTC.  cron cannot say "the last Friday": it runs on every
	 * day of the week `cron_weekday` and the command's --when (`when`)
	 * makes the other days exit 0 at once.  systemd's calendar can say it
	 * (`calendar`), so its units run the command without --when, and a
	 * timer that fires late (Persistent=true, the host was off) still runs
	 * it rather than skipping the month. */
	const char *cron_minute, *cron_hour, *cron_weekday;
	const char *calendar;    /* systemd OnCalendar= */
	const char *when;        /* "last-friday", or NULL */
	/* How long a run may take before the scheduler stops it: a hung run
	 * must not block the next one (which a running one keeps out). */
	long deadline_hours;
	int kubernetes;          /* also a CronJob (schedule_kube.c) */
};

extern const struct schedule_task schedule_tasks[];
extern const size_t schedule_task_count;

struct schedule_options {
	const char *image;       /* container image of the manifests */
	const char *drctl;       /* the drctl program crontab and systemd run (absolute) */
	const char *config_path; /* the configuration they give it (absolute) */
	const char *scenario;    /* the scenario of the Job templates: "db-corruption" */
	const char *user;        /* systemd User= (NULL: none) */
};

/* The rendering: files with their names relative to an output folder
 * ("backup-cronjob.yaml", "jobs/scenario-run-job.yaml", "drctl-backup.timer"). */
struct schedule_file {
	char *name;
	char *text;
};
struct schedule_output {
	struct schedule_file *files;
	size_t n;
};

/* "cronjob", "crontab", "systemd". */
int schedule_kind_parse(const char *name, enum schedule_kind *out, struct drctl_error *err);
int schedule_render(const struct config *cfg, enum schedule_kind kind, const struct schedule_options *o,
		    struct schedule_output *out, struct drctl_error *err);
/* Every file, each after a "# file: NAME" line (a comment in YAML, in unit
 * files and in a crontab), separated by "---" for YAML. */
void schedule_output_print(const struct schedule_output *out, enum schedule_kind kind, FILE *f);
/* Write the files under dir (created; existing files of the same names are
 * replaced, nothing else is touched). */
int schedule_output_write(const struct schedule_output *out, const char *dir, struct drctl_error *err);
void schedule_output_free(struct schedule_output *out);

#endif
