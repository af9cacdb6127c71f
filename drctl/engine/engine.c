/*
 * engine: the one step runner every scenario uses (see engine.h).
 *
 * Everything a run knows is in its journal: engine_resume rebuilds the run
 * (its options, its facts, the state of each step) by replaying the records,
 * then drives the steps from the first one that is not done.  Status and
 * reports are computed from the same records (run_state.c), so what the
 * operator reads is what the journal says, never a copy kept elsewhere.
 */
#include "drctl/engine/engine_private.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "drctl/engine/engine_lock.h"
#include "drctl/engine/journal.h"
#include "drctl/engine/run_state.h"
#include "lib/core/fsutil.h"
#include "lib/core/log.h"
#include "lib/core/process.h"

/* Records, facts and the journal, shared by the threads of steps that run
 * together. */
static pthread_mutex_t run_mu = PTHREAD_MUTEX_INITIALIZER;

static const struct scenario *const *known_scenarios;
static size_t n_known_scenarios;

void engine_use_scenarios(const struct scenario *const *list, size_t n)
{
	known_scenarios = list;
	n_known_scenarios = n;
}

static const struct scenario *lookup_scenario(const char *name)
{
	if (!known_scenarios)
		return scenario_find(name);
	for (size_t i = 0; i < n_known_scenarios; i++)
		if (!strcmp(known_scenarios[i]->name, name))
			return known_scenarios[i];
	return NULL;
}

/* --- what steps use ------------------------------------------------------ */

const struct config *run_config(const struct run *r)
{
	return r->cfg;
}

const char *run_id(const struct run *r)
{
	return r->id;
}

const char *run_folder(const struct run *r)
{
	return r->dir;
}

json_t *run_fact(const struct run *r, const char *key)
{
	json_t *v;

	pthread_mutex_lock(&run_mu);
	v = json_object_get(r->facts, key);
	pthread_mutex_unlock(&run_mu);
	return v;
}

const char *run_fact_string(const struct run *r, const char *key)
{
	return json_string_value(run_fact(r, key));
}

void *run_context(const struct run *r)
{
	return r->ctx;
}

void run_set_context(struct run *r, void *ctx)
{
	r->ctx = ctx;
}

const char *run_option(const struct run *r, const char *key)
{
	return json_string_value(json_object_get(r->options, key));
}

int engine_record(struct run *r, json_t *rec, struct drctl_error *err)
{
	pthread_mutex_lock(&run_mu);
	if (journal_append(r->journal, rec, err) != 0) {
		pthread_mutex_unlock(&run_mu);
		json_decref(rec);
		return -1;
	}
	json_array_append_new(r->records, rec);
	pthread_mutex_unlock(&run_mu);
	return 0;
}

int engine_record_step(struct run *r, const char *step, const char *event, json_t *extra, struct drctl_error *err)
{
	json_t *rec = json_pack("{s:s, s:s, s:s}", "type", "step", "step", step, "event", event);
	if (extra) {
		json_object_update(rec, extra);
		json_decref(extra);
	}
	return engine_record(r, rec, err);
}

int run_set_fact(struct run *r, const char *key, json_t *value, struct drctl_error *err)
{
	json_t *rec = json_pack("{s:s, s:s, s:O}", "type", "fact", "key", key, "value", value);
	if (engine_record(r, rec, err) != 0) {
		json_decref(value);
		return -1;
	}
	pthread_mutex_lock(&run_mu);
	json_object_set_new(r->facts, key, value);
	pthread_mutex_unlock(&run_mu);
	return 0;
}

json_t *run_status_now(const struct run *r)
{
	json_t *status;

	pthread_mutex_lock(&run_mu);
	status = run_state_summary(r->s, r->id, r->records);
	pthread_mutex_unlock(&run_mu);
	return status;
}

void run_note(struct run *r, const char *fmt, ...)
{
	char text[1024];
	struct drctl_error e;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_info("%s", text);
	err_clear(&e);
	if (engine_record(r, json_pack("{s:s, s:s?, s:s}", "type", "note", "step", engine_driving_step, "text", text), &e) != 0)
		log_warn("could not journal a note: %s", e.message);
}

/* --- runs on disk -------------------------------------------------------- */

static const char *state_dir(const struct config *cfg)
{
	return config_get_path(cfg, "state", "dir");
}

static int run_dir(const struct config *cfg, const char *id, char *out, size_t cap, struct drctl_error *err)
{
	const char *sd = state_dir(cfg);
	if (!sd)
		return err_set(err, EXIT_USAGE, "[state] dir", "set [state] dir to a folder that outlives the process",
			       "no state folder is configured");
	if (strchr(id, '/') || strstr(id, ".."))
		return err_set(err, EXIT_USAGE, id, "`drctl scenario status` lists the runs", "\"%s\" is not a run id", id);
	if ((size_t)snprintf(out, cap, "%s/runs/%s", sd, id) >= cap)
		return err_set(err, EXIT_USAGE, id, NULL, "state folder path too long");
	return 0;
}

static void new_run_id(const char *scenario, char out[RUN_ID_MAX])
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	unsigned char rnd[2] = { 0 };
	FILE *f = fopen("/dev/urandom", "rb");

	if (f) {
		if (fread(rnd, 1, sizeof(rnd), f) != sizeof(rnd))
			rnd[0] = (unsigned char)getpid();
		fclose(f);
	}
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(out, RUN_ID_MAX, "%s-%s-%02x%02x", stamp, scenario, rnd[0], rnd[1]);
}

static void run_free(struct run *r)
{
	if (r->s && r->s->close && r->ctx)
		r->s->close(r);
	journal_close(r->journal);
	json_decref(r->records);
	json_decref(r->facts);
	json_decref(r->options);
}

/* Rebuild a run from its records. */
static int run_replay(struct run *r, struct drctl_error *err)
{
	json_t *first = json_array_get(r->records, 0), *rec;
	size_t i;

	if (!first || strcmp(json_string_value(json_object_get(first, "type")) ?: "", "run") != 0)
		return err_set(err, EXIT_INTEGRITY, r->dir, "keep the folder for investigation and start a new run",
			       "the journal of run %s does not start with its run record", r->id);
	r->s = lookup_scenario(json_string_value(json_object_get(first, "scenario")) ?: "");
	if (!r->s)
		return err_set(err, EXIT_USAGE, r->id, "run it with the drctl that started it",
			       "run %s is of scenario \"%s\", which this drctl does not know", r->id,
			       json_string_value(json_object_get(first, "scenario")));
	r->options = json_incref(json_object_get(first, "options"));
	if (!r->options)
		r->options = json_object();
	json_array_foreach(r->records, i, rec)
		if (!strcmp(json_string_value(json_object_get(rec, "type")) ?: "", "fact"))
			json_object_set(r->facts, json_string_value(json_object_get(rec, "key")),
					json_object_get(rec, "value"));
	return 0;
}

static int run_open(struct run *r, const struct config *cfg, const char *id, struct drctl_error *err)
{
	char path[PATH_MAX + 16];
	int torn = 0;

	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	r->facts = json_object();
	snprintf(r->id, sizeof(r->id), "%s", id);
	if (run_dir(cfg, id, r->dir, sizeof(r->dir), err) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/journal", r->dir);
	if (journal_open(&r->journal, path, &r->records, &torn, err) != 0) {
		if (err->code == EXIT_NOT_FOUND)
			err_hint(err, "`drctl scenario status` lists the runs; %s is not one of them", id);
		return -1;
	}
	return run_replay(r, err);
}

/* --- driving the steps --------------------------------------------------- */

/* The run's status and report, after it stopped for whatever reason. */
static json_t *finish(struct run *r)
{
	json_t *status = run_state_summary(r->s, r->id, r->records);
	char dir[PATH_MAX];
	struct drctl_error e;

	snprintf(dir, sizeof(dir), "%s", r->dir);
	err_clear(&e);
	if ((r->s->report ? r->s->report(r, status, dir, &e) : run_report_write(status, dir, &e)) != 0)
		log_warn("could not write the report of run %s: %s", r->id, e.message);
	return status;
}

/* Who works on the run now (the command, this host and process). */
static int record_attach(struct run *r, const char *command, struct drctl_error *err)
{
	char host[256] = "?";

	gethostname(host, sizeof(host) - 1);
	return engine_record(r, json_pack("{s:s, s:s, s:s, s:I}", "type", "attach", "command", command, "host", host, "pid",
				   (json_int_t)getpid()),
		      err);
}

static int attach_and_drive(struct run *r, const char *command, const struct engine_options *o, json_t **out,
			    struct drctl_error *err)
{
	int outcome;

	if (record_attach(r, command, err) != 0)
		return -1;
	if (r->s->open && r->s->open(r, err) != 0) {
		err_prefix(err, "run %s", r->id);
		*out = finish(r);
		return -1;
	}
	outcome = engine_drive(r, o ? o->confirm : NULL, err);
	*out = finish(r);
	if (outcome == DRIVE_FAILED && !err_is_set(err))
		err_set(err, EXIT_FAILED, r->id, NULL, "run %s failed", r->id);
	if (outcome == DRIVE_FAILED && err->hint[0] == '\0')
		err_hint(err, "fix the cause, then `drctl scenario resume %s`", r->id);
	if (outcome == DRIVE_FAILED)
		log_warn("run %s stopped at a failure; it is resumable: drctl scenario resume %s", r->id, r->id);
	return outcome == DRIVE_DONE || outcome == DRIVE_WAITING ? 0 : -1;
}

int engine_run(const struct config *cfg, const struct scenario *s, const struct engine_options *o, json_t **out,
	       struct drctl_error *err)
{
	struct run r;
	struct engine_lock lock = { .fd = -1 };
	char path[PATH_MAX + 16];
	json_t *first;
	int rc = -1;

	*out = NULL;
	memset(&r, 0, sizeof(r));
	r.cfg = cfg;
	r.s = s;
	r.facts = json_object();
	r.records = json_array();
	r.options = json_pack("{s:s}", "backup", o && o->backup ? o->backup : "latest");
	if (o && json_is_object(o->extra))
		json_object_update_missing(r.options, o->extra);
	new_run_id(s->name, r.id);
	if (run_dir(cfg, r.id, r.dir, sizeof(r.dir), err) != 0)
		goto done;
	if (engine_lock_take(&lock, state_dir(cfg), s->lock, r.id, o ? o->steal : 0, err) != 0)
		goto done;
	if (fs_mkdir_p(r.dir, 0700, "check [state] dir", err) != 0)
		goto done;
	snprintf(path, sizeof(path), "%s/journal", r.dir);
	first = json_pack("{s:s, s:s, s:s, s:O}", "type", "run", "run", r.id, "scenario", s->name, "options", r.options);
	if (journal_create(&r.journal, path, first, err) != 0) {
		json_decref(first);
		goto done;
	}
	json_array_append_new(r.records, first);
	log_info("run %s of scenario %s (journal %s)", r.id, s->name, path);
	rc = attach_and_drive(&r, "run", o, out, err);
done:
	engine_lock_release(&lock);
	run_free(&r);
	return rc;
}

/* The lock a run's scenario takes, from its journal's first record, read
 * before the lock is held (run_open then reads it under the lock). */
static int lock_of_run(const struct config *cfg, const char *id, const char **lock, struct drctl_error *err)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	json_t *records = NULL;
	const struct scenario *s;
	int torn = 0;

	*lock = NULL;
	if (run_dir(cfg, id, dir, sizeof(dir), err) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/journal", dir);
	if (journal_read(path, &records, &torn, err) != 0) {
		if (err->code == EXIT_NOT_FOUND)
			err_hint(err, "`drctl scenario status` lists the runs; %s is not one of them", id);
		return -1;
	}
	s = lookup_scenario(json_string_value(json_object_get(json_array_get(records, 0), "scenario")) ?: "");
	if (s)
		*lock = s->lock;
	json_decref(records);
	return 0;
}

/* Take the lock of run `id`'s scenario and open the run; *status is its
 * state now (the caller frees it). */
static int open_locked(const struct config *cfg, const char *id, const struct engine_options *o,
		       struct engine_lock *lock, struct run *r, json_t **status, struct drctl_error *err)
{
	const char *lock_name;

	*status = NULL;
	memset(r, 0, sizeof(*r));
	if (lock_of_run(cfg, id, &lock_name, err) != 0 ||
	    engine_lock_take(lock, state_dir(cfg), lock_name, id, o ? o->steal : 0, err) != 0)
		return -1;
	if (run_open(r, cfg, id, err) != 0)
		return -1;
	*status = run_state_summary(r->s, r->id, r->records);
	return 0;
}

static const char *state_of(json_t *status)
{
	return json_string_value(json_object_get(status, "state"));
}

int engine_resume(const struct config *cfg, const char *id, const struct engine_options *o, json_t **out,
		  struct drctl_error *err)
{
	struct run r;
	struct engine_lock lock = { .fd = -1 };
	json_t *status;
	int rc = -1;

	*out = NULL;
	if (open_locked(cfg, id, o, &lock, &r, &status, err) != 0)
		goto done;
	if (!strcmp(state_of(status), "done") || !strcmp(state_of(status), "aborted")) {
		err_set(err, EXIT_USAGE, id, NULL, "run %s is %s; there is nothing to resume", id, state_of(status));
		err_hint(err, "its report: %s/report.md; start a new run with `drctl scenario run %s`", r.dir, r.s->name);
		json_decref(status);
		/* The report is the journal rendered: written again, in case the
		 * run was killed between its last record and its report. */
		*out = finish(&r);
		goto done;
	}
	json_decref(status);
	log_info("resuming run %s of scenario %s", id, r.s->name);
	rc = attach_and_drive(&r, "resume", o, out, err);
done:
	engine_lock_release(&lock);
	run_free(&r);
	return rc;
}

int engine_abort(const struct config *cfg, const char *id, const struct engine_options *o, json_t **out,
		 struct drctl_error *err)
{
	struct run r;
	struct engine_lock lock = { .fd = -1 };
	json_t *status;
	int rc = -1;

	*out = NULL;
	if (open_locked(cfg, id, o, &lock, &r, &status, err) != 0)
		goto done;
	if (!strcmp(state_of(status), "done")) {
		err_set(err, EXIT_USAGE, id, NULL, "run %s is done; there is nothing to abort", id);
		*out = status;
		goto done;
	}
	json_decref(status);
	if (r.s->abort) {
		if (record_attach(&r, "abort", err) != 0)
			goto done;
		if ((r.s->open && r.s->open(&r, err) != 0) || r.s->abort(&r, err) != 0) {
			err_prefix(err, "abort of run %s", id);
			if (err->hint[0] == '\0')
				err_hint(err, "the run is not aborted: fix the cause and run `drctl scenario abort %s` again, or resume it",
					 id);
			*out = finish(&r);
			goto done;
		}
	}
	if (engine_record(&r, json_pack("{s:s, s:s}", "type", "end", "outcome", "aborted"), err) != 0)
		goto done;
	log_warn("run %s aborted: the platform is left as it stands (see the report)", id);
	*out = finish(&r);
	rc = 0;
done:
	engine_lock_release(&lock);
	run_free(&r);
	return rc;
}

/* The names of the STEP_TOGETHER steps next to step i that run with it;
 * NULL when it runs alone. */
static json_t *steps_beside(const struct scenario *s, size_t i)
{
	json_t *names;
	size_t a = i, b = i;

	if (s->steps[i].kind != STEP_TOGETHER)
		return NULL;
	while (a > 0 && s->steps[a - 1].kind == STEP_TOGETHER)
		a--;
	while (b + 1 < s->n_steps && s->steps[b + 1].kind == STEP_TOGETHER)
		b++;
	names = json_array();
	for (size_t j = a; j <= b; j++)
		if (j != i)
			json_array_append_new(names, json_string(s->steps[j].name));
	return names;
}

int engine_plan(const struct config *cfg, const struct scenario *s, const struct engine_options *o, json_t **out,
		struct drctl_error *err)
{
	struct run r;
	json_t *steps = json_array();
	int rc = 0;

	memset(&r, 0, sizeof(r));
	r.cfg = cfg;
	r.s = s;
	r.facts = json_object();
	r.records = json_array();
	r.options = json_pack("{s:s}", "backup", o && o->backup ? o->backup : "latest");
	snprintf(r.id, sizeof(r.id), "(plan)");
	if (s->open && s->open(&r, err) != 0) {
		run_free(&r);
		return -1;
	}
	for (size_t i = 0; i < s->n_steps; i++) {
		const struct step *st = &s->steps[i];
		json_t *touches = json_array();
		struct drctl_error e;
		err_clear(&e);
		if (st->plan && st->plan(&r, touches, &e) != 0)
			json_array_append_new(touches, json_sprintf("(cannot tell: %s)", e.message));
		json_array_append_new(steps, json_pack("{s:s, s:s, s:s, s:o, s:o*}", "name", st->name, "summary", st->summary,
						       "kind", st->kind == STEP_GATE ? "gate" : st->kind == STEP_TOGETHER ? "together" : "action",
						       "touches", touches, "together_with", steps_beside(s, i)));
	}
	*out = json_pack("{s:s, s:s, s:o}", "scenario", s->name, "summary", s->summary, "steps", steps);
	run_free(&r);
	return rc;
}

int engine_status(const struct config *cfg, const char *id, json_t **out, struct drctl_error *err)
{
	char newest[RUN_ID_MAX] = "";
	struct run r;
	int rc;

	*out = NULL;
	if (!id) {
		json_t *runs;
		if (engine_list_runs(cfg, &runs, err) != 0)
			return -1;
		if (json_array_size(runs) == 0) {
			json_decref(runs);
			return err_set(err, EXIT_NOT_FOUND, "scenario runs", "start one with `drctl scenario run NAME`",
				       "no scenario run has been started with this state folder");
		}
		snprintf(newest, sizeof(newest), "%s", json_string_value(json_object_get(json_array_get(runs, 0), "run")));
		json_decref(runs);
		id = newest;
	}
	memset(&r, 0, sizeof(r));
	r.cfg = cfg;
	r.facts = json_object();
	snprintf(r.id, sizeof(r.id), "%s", id);
	rc = run_dir(cfg, id, r.dir, sizeof(r.dir), err);
	if (rc == 0) {
		char path[PATH_MAX + 16];
		int torn = 0;
		snprintf(path, sizeof(path), "%s/journal", r.dir);
		rc = journal_read(path, &r.records, &torn, err);
		if (rc != 0 && err->code == EXIT_NOT_FOUND)
			err_hint(err, "`drctl scenario status` without a run shows the newest; runs are in %s/runs",
				 state_dir(cfg));
		if (rc == 0 && torn)
			log_warn("the last record of run %s's journal is torn (a crash while it was written); it is ignored",
				 id);
	}
	if (rc == 0)
		rc = run_replay(&r, err);
	if (rc == 0) {
		char report[PATH_MAX + 16];
		*out = run_state_summary(r.s, r.id, r.records);
		json_object_set_new(*out, "facts", json_deep_copy(r.facts));
		snprintf(report, sizeof(report), "%s/report.md", r.dir);
		if (access(report, R_OK) == 0) {
			json_t *paths = json_object();
			json_object_set_new(paths, "markdown", json_string(report));
			snprintf(report, sizeof(report), "%s/report.json", r.dir);
			json_object_set_new(paths, "json", json_string(report));
			snprintf(report, sizeof(report), "%s/report.html", r.dir);
			json_object_set_new(paths, "html", json_string(report));
			json_object_set_new(*out, "report", paths);
		}
	}
	run_free(&r);
	return rc;
}

int engine_list_runs(const struct config *cfg, json_t **out, struct drctl_error *err)
{
	char dir[PATH_MAX];
	const char *sd = state_dir(cfg);
	json_t *runs = json_array();
	DIR *d;
	struct dirent *e;

	*out = runs;
	if (!sd)
		return 0;
	snprintf(dir, sizeof(dir), "%s/runs", sd);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : err_set_errno(err, EXIT_IO, errno, dir, NULL, "cannot read %s", dir);
	while ((e = readdir(d))) {
		json_t *status = NULL;
		struct drctl_error ignore;
		char journal[PATH_MAX + 300];
		if (e->d_name[0] == '.')
			continue;
		/* A folder without a journal is a run killed before it existed
		 * (the journal appears whole, with its first record): it did
		 * nothing, and is not listed. */
		snprintf(journal, sizeof(journal), "%s/%s/journal", dir, e->d_name);
		if (access(journal, F_OK) != 0)
			continue;
		err_clear(&ignore);
		if (engine_status(cfg, e->d_name, &status, &ignore) != 0) {
			json_array_append_new(runs, json_pack("{s:s, s:s, s:s}", "run", e->d_name, "state", "unreadable",
							      "error", ignore.message));
			continue;
		}
		json_array_append_new(runs, json_pack("{s:s, s:O, s:O, s:O}", "run", e->d_name, "scenario",
						      json_object_get(status, "scenario"), "state",
						      json_object_get(status, "state"), "started",
						      json_object_get(status, "started")));
		json_decref(status);
	}
	closedir(d);
	/* Ids start with their UTC time: newest first is reverse name order. */
	{
		size_t n = json_array_size(runs);
		for (size_t i = 0; i < n; i++)
			for (size_t j = i + 1; j < n; j++) {
				const char *a = json_string_value(json_object_get(json_array_get(runs, i), "run"));
				const char *b = json_string_value(json_object_get(json_array_get(runs, j), "run"));
				if (strcmp(a, b) < 0) {
					json_t *x = json_incref(json_array_get(runs, i));
					json_array_set(runs, i, json_array_get(runs, j));
					json_array_set_new(runs, j, x);
				}
			}
	}
	return 0;
}
