/*
 * schedule_host: the schedules for a host without Kubernetes, as crontab
 * lines or as systemd service and timer units.
 *
 * Both run the drctl program and the configuration given in
 * schedule_options by absolute path (cron's working folder and PATH are not
 * the operator's).  Neither needs flock: drctl takes its own locks on the
 * repository, and a run that finds it held exits 5 naming the holder.
 *
 * cron runs a line through /bin/sh, so every word that comes from data is
 * quoted for the shell, and "%" (a line break to cron) is refused.  systemd
 * splits ExecStart= itself, with its own quoting and "%" specifiers.
 */
#include "schedules/schedule_private.h"

#include <stdlib.h>
#include <string.h>

static int refuse_path(const char *what, const char *path, const char *why, struct drctl_error *err)
{
	return err_set(err, EXIT_USAGE, path,
		       "move it to a path without such characters, or give another with --config / --drctl",
		       "the %s %s %s", what, path, why);
}

static int check_line_safe(const struct schedule_options *o, int crontab, struct drctl_error *err)
{
	const char *paths[] = { o->config_path, o->drctl };
	const char *what[] = { "configuration", "drctl program" };

	for (size_t i = 0; i < 2; i++) {
		for (const unsigned char *p = (const unsigned char *)paths[i]; *p; p++)
			if (*p < 0x20 || *p == 0x7f)
				return refuse_path(what[i], paths[i], "holds a control character", err);
		if (crontab && strchr(paths[i], '%'))
			return refuse_path(what[i], paths[i], "holds \"%\", which cron turns into a line break", err);
	}
	return 0;
}

static size_t step_count(const struct schedule_task *t)
{
	size_t n = 0;

	while (n < SCHEDULE_STEPS_MAX && t->steps[n][0])
		n++;
	return n;
}

/* drctl --config FILE ARGS... [--when WHEN], for /bin/sh. */
static void crontab_command(FILE *f, const struct schedule_options *o, const char *const *args, const char *when)
{
	schedule_shell_word(f, o->drctl);
	fputs(" --config ", f);
	schedule_shell_word(f, o->config_path);
	for (; *args; args++) {
		fputc(' ', f);
		schedule_shell_word(f, *args);
	}
	if (when)
		fprintf(f, " --when %s", when);
}

static void crontab_header(FILE *f, const struct schedule_options *o)
{
	fputs("# drctl's schedules for the configuration ", f);
	schedule_shell_word(f, o->config_path);
	fprintf(f, ",\n"
		   "# rendered by `drctl schedule render --kind crontab` (docs/schedules.md).\n"
		   "# Install it as the user that owns drctl's key files (it replaces that user's crontab:\n"
		   "# merge by hand if there is one):\n"
		   "#   crontab -u %s FILE\n"
		   "# cron reads the times in the host's time zone; they are meant as UTC.  DRCTL_*\n"
		   "# variables of the shell that rendered this are not set for cron: put such settings\n"
		   "# into the configuration.  Each task's output goes to syslog under its tag\n"
		   "# (journalctl -t drctl-backup); its failures show in the metrics drctl pushes.\n"
		   "# drctl takes its own locks: no flock is needed.\n",
		o->user ? o->user : "drctl");
}

int schedule_render_crontab(const struct config *cfg, const struct schedule_options *o,
			    struct schedule_output *out, struct drctl_error *err)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)cfg;
	if (check_line_safe(o, 1, err) != 0)
		return -1;
	if (!(f = open_memstream(&text, &len)))
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	crontab_header(f, o);
	fputs("#\n# m h dom mon dow  command\n", f);
	for (size_t i = 0; i < schedule_task_count; i++) {
		const struct schedule_task *t = &schedule_tasks[i];
		size_t n = step_count(t);
		fprintf(f, "\n# %s%s\n", t->summary,
			t->when ? ":\n# cron cannot say that day, so the line runs on every such weekday and --when\n"
				  "# makes drctl exit 0 at once on the others"
				: "");
		fprintf(f, "%s %s * * %s  %s", t->cron_minute, t->cron_hour, t->cron_weekday, n > 1 ? "{ " : "");
		for (size_t s = 0; s < n; s++) {
			if (s)
				fputs(" && ", f);
			crontab_command(f, o, t->steps[s], s + 1 == n ? t->when : NULL);
		}
		fprintf(f, "%s 2>&1 | logger -t drctl-%s\n", n > 1 ? "; }" : "", t->name);
	}
	if (fclose(f) != 0) {
		free(text);
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	}
	return schedule_output_add(out, "drctl.crontab", text, err);
}

/* One word of ExecStart= (systemd.service(5), "Command lines"): "%" is a
 * specifier and "$" a variable unless doubled; quotes and backslashes are
 * escaped inside double quotes. */
static void systemd_word(FILE *f, const char *s)
{
	int quote = !*s || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./=:@%$+-") != strlen(s);

	if (quote)
		fputc('"', f);
	for (; *s; s++) {
		if (*s == '%' || *s == '$')
			fputc(*s, f);
		else if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	if (quote)
		fputc('"', f);
}

static void systemd_exec(FILE *f, const struct schedule_options *o, const char *const *args)
{
	fputs("ExecStart=", f);
	systemd_word(f, o->drctl);
	fputs(" --config ", f);
	systemd_word(f, o->config_path);
	for (; *args; args++) {
		fputc(' ', f);
		systemd_word(f, *args);
	}
	fputc('\n', f);
}

static char *systemd_service(const struct schedule_options *o, const struct schedule_task *t)
{
	char *text = NULL;
	size_t len = 0, n = step_count(t);
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	fprintf(f, "# drctl: %s; started by drctl-%s.timer.\n"
		   "# Rendered by `drctl schedule render --kind systemd` (docs/schedules.md).\n"
		   "[Unit]\nDescription=drctl: %s\nWants=network-online.target\nAfter=network-online.target\n\n"
		   "[Service]\nType=oneshot\n",
		t->summary, t->name, t->summary);
	/* A oneshot's ExecStart= lines run in order, each only when the one
	 * before succeeded. */
	for (size_t s = 0; s < n; s++)
		systemd_exec(f, o, t->steps[s]);
	if (o->user)
		fprintf(f, "User=%s\n", o->user);
	fprintf(f, "SyslogIdentifier=drctl-%s\nTimeoutStartSec=%ldh\nNoNewPrivileges=yes\nPrivateTmp=yes\n"
		   "ProtectSystem=full\n",
		t->name, t->deadline_hours);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

static char *systemd_timer(const struct schedule_task *t)
{
	char *text = NULL;

	/* No --when in the service: the calendar says the day exactly, and a
	 * run that Persistent=true starts late, after the host was off, must
	 * still run rather than find it is no longer the right day. */
	if (asprintf(&text,
		     "# When drctl-%s.service runs: %s.\n"
		     "# Install: copy both units to /etc/systemd/system, then\n"
		     "#   systemctl daemon-reload && systemctl enable --now drctl-%s.timer\n"
		     "[Unit]\nDescription=drctl: %s\n\n"
		     "[Timer]\nOnCalendar=%s\nPersistent=true\n\n"
		     "[Install]\nWantedBy=timers.target\n",
		     t->name, t->summary, t->name, t->summary, t->calendar) < 0)
		return NULL;
	return text;
}

int schedule_render_systemd(const struct config *cfg, const struct schedule_options *o,
			    struct schedule_output *out, struct drctl_error *err)
{
	char name[96];

	(void)cfg;
	if (check_line_safe(o, 0, err) != 0)
		return -1;
	for (size_t i = 0; i < schedule_task_count; i++) {
		const struct schedule_task *t = &schedule_tasks[i];
		snprintf(name, sizeof(name), "drctl-%s.service", t->name);
		if (schedule_output_add(out, name, systemd_service(o, t), err) != 0)
			return -1;
		snprintf(name, sizeof(name), "drctl-%s.timer", t->name);
		if (schedule_output_add(out, name, systemd_timer(t), err) != 0)
			return -1;
	}
	return 0;
}
