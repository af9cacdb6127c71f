/*
 * engine_drive: the step driver (see engine.h): each step through check,
 * act, verify and its journal records, gates waiting for a person, steps
 * marked together on threads of their own.
 */
#include "drctl/engine/engine_private.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "drctl/engine/run_state.h"
#include "lib/core/log.h"
#include "lib/core/process.h"

#define TOGETHER_MAX 8

_Thread_local const char *engine_driving_step;


static json_t *error_json(const struct drctl_error *e)
{
	return json_pack("{s:i, s:s, s:s, s:s}", "code", e->code ? e->code : EXIT_FAILED, "message", e->message,
			 "subject", e->subject, "hint", e->hint);
}

/* A step failed: journal it with what the platform looks like now. */
static void step_failed(struct run *r, const struct step *st, struct drctl_error *err)
{
	struct drctl_error e;
	json_t *lines = json_array();

	if (r->s->describe_failure)
		r->s->describe_failure(r, st->name, lines);
	err_clear(&e);
	if (engine_record_step(r, st->name, "failed", json_pack("{s:o, s:o}", "error", error_json(err), "platform", lines),
			&e) != 0)
		log_warn("could not journal the failure of step %s: %s", st->name, e.message);
}

static int step_stopped(struct run *r, const struct step *st, struct drctl_error *err)
{
	int sig = process_stop_requested();
	struct drctl_error e;

	err_clear(&e);
	engine_record_step(r, st->name, "stopped", json_pack("{s:i}", "signal", sig), &e);
	err_clear(err);
	err_set(err, sig == SIGINT ? 130 : 143, r->id, NULL, "run %s stopped by %s during step %s; nothing more was done",
		r->id, sig == SIGINT ? "SIGINT" : "SIGTERM", st->name);
	err_hint(err, "the run is resumable: `drctl scenario resume %s` re-checks step %s and goes on", r->id, st->name);
	return DRIVE_STOPPED;
}

static int drive_gate(struct run *r, const struct step *st, const char *state, const char *confirm,
		      struct drctl_error *err)
{
	char what[4096] = "";
	int nothing_to_do;

	engine_driving_step = st->name;
	if (st->check) {
		if ((nothing_to_do = st->check(r, err)) < 0) {
			err_prefix(err, "step %s", st->name);
			return DRIVE_FAILED;
		}
		if (nothing_to_do) {
			if (engine_record_step(r, st->name, "present", NULL, err) != 0 || engine_record_step(r, st->name, "done", NULL, err) != 0)
				return DRIVE_FAILED;
			log_info("step %s: nothing for a person to do here", st->name);
			return DRIVE_DONE;
		}
	}
	if (confirm && !strcmp(confirm, st->name)) {
		if (st->verify && st->verify(r, err) != 0) {
			/* Not confirmed: the gate keeps waiting. */
			err_prefix(err, "step %s", st->name);
			if (err->hint[0] == '\0')
				err_hint(err, "do what `drctl scenario status %s` shows, then --confirm %s again", r->id, st->name);
			return DRIVE_FAILED;
		}
		if (engine_record_step(r, st->name, "confirmed", NULL, err) != 0 || engine_record_step(r, st->name, "done", NULL, err) != 0)
			return DRIVE_FAILED;
		log_info("step %s confirmed", st->name);
		return DRIVE_DONE;
	}
	if (st->instructions)
		st->instructions(r, what, sizeof(what));
	if (strcmp(state, "waiting") != 0 && engine_record_step(r, st->name, "waiting", json_pack("{s:s}", "do", what), err) != 0)
		return DRIVE_FAILED;
	fprintf(stderr, "\nrun %s is waiting at step %s: %s\n\n%s\n\nwhen that is done: drctl scenario resume %s --confirm %s\n",
		r->id, st->name, st->summary, what, r->id, st->name);
	return DRIVE_WAITING;
}

static int drive_step(struct run *r, const struct step *st, struct drctl_error *err)
{
	double started = now_seconds();
	int present = 0;

	engine_driving_step = st->name;
	log_info("step %s: %s", st->name, st->summary);
	if (engine_record_step(r, st->name, "start", NULL, err) != 0)
		return DRIVE_FAILED;
	if (st->check) {
		present = st->check(r, err);
		if (process_stop_requested())
			return step_stopped(r, st, err);
		if (present < 0)
			goto failed;
		if (present && engine_record_step(r, st->name, "present", NULL, err) != 0)
			return DRIVE_FAILED;
		if (present)
			log_info("step %s: already done, not acting again", st->name);
	}
	if (!present && st->act(r, err) != 0) {
		if (process_stop_requested())
			return step_stopped(r, st, err);
		goto failed;
	}
	if (process_stop_requested())
		return step_stopped(r, st, err);
	if (st->verify && st->verify(r, err) != 0)
		goto failed;
	if (engine_record_step(r, st->name, "done", json_pack("{s:f}", "seconds", now_seconds() - started), err) != 0)
		return DRIVE_FAILED;
	return DRIVE_DONE;
failed:
	err_prefix(err, "step %s", st->name);
	step_failed(r, st, err);
	return DRIVE_FAILED;
}

/* Steps marked together, each on a thread of its own (the last on this
 * one), each journaled on its own; a failure does not stop the others,
 * which finish their step, so every step ends done or failed and a resume
 * drives only those not done. */
struct together_job {
	struct run *r;
	const struct step *st;
	struct drctl_error err;
	int outcome;
	pthread_t thread;
	int threaded;
};

static void *together_main(void *arg)
{
	struct together_job *j = arg;
	const char *component = log_get_component();

	/* Lines of steps side by side start with the step's name. */
	log_set_component(j->st->name);
	j->outcome = drive_step(j->r, j->st, &j->err);
	log_set_component(component);
	return NULL;
}

static int drive_together(struct run *r, const struct step *const *steps, size_t n, struct drctl_error *err)
{
	struct together_job jobs[TOGETHER_MAX];
	size_t first_bad = n;

	for (size_t i = 0; i < n; i++) {
		jobs[i] = (struct together_job){ .r = r, .st = steps[i] };
		err_clear(&jobs[i].err);
	}
	log_info("steps %s and %s run at the same time%s", steps[0]->name, steps[1]->name, n > 2 ? " (and more)" : "");
	for (size_t i = 0; i + 1 < n; i++)
		jobs[i].threaded = pthread_create(&jobs[i].thread, NULL, together_main, &jobs[i]) == 0;
	for (size_t i = 0; i < n; i++)
		if (!jobs[i].threaded)
			together_main(&jobs[i]);
	for (size_t i = 0; i < n; i++) {
		if (jobs[i].threaded)
			pthread_join(jobs[i].thread, NULL);
		if (jobs[i].outcome == DRIVE_DONE)
			continue;
		if (first_bad == n || (jobs[i].outcome == DRIVE_STOPPED && jobs[first_bad].outcome != DRIVE_STOPPED))
			first_bad = i;
	}
	for (size_t i = 0; i < n; i++)
		if (i != first_bad && jobs[i].outcome == DRIVE_FAILED)
			log_error_report(&jobs[i].err);
	if (first_bad == n)
		return DRIVE_DONE;
	*err = jobs[first_bad].err;
	return jobs[first_bad].outcome;
}

/* Step i and the steps after it marked together with it that are not done
 * (states: each step's state); *next is the first step after them. */
static size_t steps_together(const struct run *r, size_t i, json_t *states, const struct step **out, size_t *next)
{
	size_t n = 0, j = i;

	for (; j < r->s->n_steps && n < TOGETHER_MAX; j++) {
		const struct step *st = &r->s->steps[j];
		if (j > i && st->kind != STEP_TOGETHER)
			break;
		if (strcmp(json_string_value(json_object_get(json_object_get(states, st->name), "state")) ?: "", "done") != 0)
			out[n++] = st;
	}
	*next = j;
	return n;
}

/* From the first step that is not done to the end, a gate or a failure. */
int engine_drive(struct run *r, const char *confirm, struct drctl_error *err)
{
	json_t *states = run_state_steps(r->s, r->records);
	int outcome = DRIVE_DONE;

	if (confirm) {
		const char *waiting = run_state_waiting_step(states);
		if (!waiting || strcmp(waiting, confirm) != 0) {
			err_set(err, EXIT_USAGE, confirm, NULL, "run %s is not waiting at step %s%s%s", r->id, confirm,
				waiting ? "; it waits at " : "", waiting ? waiting : "");
			err_hint(err, "`drctl scenario status %s` shows where it stands", r->id);
			json_decref(states);
			return DRIVE_FAILED;
		}
	}
	process_catch_stop_signals();
	for (size_t i = 0, next; i < r->s->n_steps && outcome == DRIVE_DONE; i = next) {
		const struct step *st = &r->s->steps[i], *group[TOGETHER_MAX];
		const char *state = json_string_value(json_object_get(json_object_get(states, st->name), "state"));
		size_t n;
		next = i + 1;
		if (!strcmp(state, "done"))
			continue;
		if (st->kind == STEP_GATE) {
			outcome = drive_gate(r, st, state, confirm, err);
			continue;
		}
		n = st->kind == STEP_TOGETHER ? steps_together(r, i, states, group, &next) : 1;
		outcome = n > 1 ? drive_together(r, group, n, err) : drive_step(r, st, err);
	}
	json_decref(states);
	if (outcome == DRIVE_DONE) {
		struct drctl_error e;
		err_clear(&e);
		if (engine_record(r, json_pack("{s:s, s:s}", "type", "end", "outcome", "done"), &e) != 0)
			log_warn("could not journal the end of run %s: %s", r->id, e.message);
	}
	return outcome;
}

