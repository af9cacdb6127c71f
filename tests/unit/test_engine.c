/*
 * Unit tests of the scenario engine (drctl/engine) with a scenario of its
 * own whose "platform" is a counter file: steps run in order and once; a
 * gate pauses and goes on only with --confirm of that gate; a failure is
 * journaled with its hint and resume re-checks the step; facts recorded
 * before a kill are there after it; a run SIGKILLed at random instants and
 * resumed ends as an uninterrupted one; SIGTERM stops a step and leaves the
 * run resumable; a torn last journal record is ignored, a damaged middle
 * one is an error; the lock names its holder, and a stale one is taken only
 * with --steal; abort ends a run for good; a gate whose check finds nothing
 * to do does not wait, one whose verify fails keeps waiting; a scenario's
 * abort hook runs before the run ends, and when it fails the run stays open.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "drctl/engine/engine.h"
#include "drctl/engine/journal.h"
#include "lib/core/config.h"
#include "tests/unit/unit_tmpdir.h"

static char root[256], state[300], platform[300];
static struct config *cfg;

/* --- the test scenario ------------------------------------------------------ */
/* The platform is a file holding a number; each action step adds its own
 * amount exactly once, checked by a marker file.  Acting twice would show in
 * the total. */

static long read_counter(void)
{
	FILE *f = fopen(platform, "r");
	long v = 0;
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static void write_counter(long v)
{
	char tmp[400];
	FILE *f;
	snprintf(tmp, sizeof(tmp), "%s.tmp", platform);
	f = fopen(tmp, "w");
	fprintf(f, "%ld\n", v);
	fflush(f);
	fsync(fileno(f));
	fclose(f);
	rename(tmp, platform);
}

static int fail_next_add; /* the next act of step "add-two" fails */
static int slow_ms;       /* each act sleeps this long (kill tests) */
static int act_calls;

static int marker(const char *step, char *out, size_t cap)
{
	return snprintf(out, cap, "%s.%s", platform, step);
}

/* Done when its marker holds the counter value it produced. */
static int add_check(struct run *r, const char *step)
{
	char m[400];
	(void)r;
	marker(step, m, sizeof(m));
	return access(m, F_OK) == 0;
}

static int add_act(struct run *r, const char *step, long amount, struct drctl_error *err)
{
	char m[400];
	long before = read_counter();

	act_calls++;
	if (slow_ms)
		usleep((useconds_t)slow_ms * 1000);
	/* The value seen before acting is journaled first: the verify of a
	 * resumed run compares against it, not against what it finds. */
	if (!run_fact(r, step) && run_set_fact(r, step, json_integer(before), err) != 0)
		return -1;
	if (!strcmp(step, "add-two") && fail_next_add) {
		fail_next_add = 0;
		return err_set(err, EXIT_FAILED, "counter", "make it writable, then resume", "cannot add to the counter");
	}
	/* act + marker: a kill between the two is caught by the check using
	 * the fact (the counter already moved past the recorded value). */
	if (read_counter() == json_integer_value(run_fact(r, step)))
		write_counter(json_integer_value(run_fact(r, step)) + amount);
	marker(step, m, sizeof(m));
	close(open(m, O_CREAT | O_WRONLY, 0600));
	return 0;
}

static int one_check(struct run *r, struct drctl_error *err)
{
	(void)err;
	return add_check(r, "add-one");
}
static int one_act(struct run *r, struct drctl_error *err)
{
	return add_act(r, "add-one", 1, err);
}
static int two_check(struct run *r, struct drctl_error *err)
{
	(void)err;
	return add_check(r, "add-two");
}
static int two_act(struct run *r, struct drctl_error *err)
{
	return add_act(r, "add-two", 2, err);
}
static int four_check(struct run *r, struct drctl_error *err)
{
	(void)err;
	return add_check(r, "add-four");
}
static int four_act(struct run *r, struct drctl_error *err)
{
	return add_act(r, "add-four", 4, err);
}
static int verify_total(struct run *r, struct drctl_error *err)
{
	(void)r;
	if (read_counter() != 7)
		return err_set(err, EXIT_FAILED, "counter", NULL, "counter is %ld, not 7", read_counter());
	return 0;
}
static void gate_text(struct run *r, char *buf, size_t cap)
{
	(void)r;
	snprintf(buf, cap, "press the big red button");
}

static const struct step test_steps[] = {
	{ "add-one", "add 1", STEP_ACTION, NULL, one_check, one_act, NULL, NULL },
	{ "add-two", "add 2", STEP_ACTION, NULL, two_check, two_act, NULL, NULL },
	{ "button", "a person presses the button", STEP_GATE, NULL, NULL, NULL, NULL, gate_text },
	{ "add-four", "add 4", STEP_ACTION, NULL, four_check, four_act, verify_total, NULL },
};
static const struct step no_gate_steps[] = {
	{ "add-one", "add 1", STEP_ACTION, NULL, one_check, one_act, NULL, NULL },
	{ "add-two", "add 2", STEP_ACTION, NULL, two_check, two_act, NULL, NULL },
	{ "add-four", "add 4", STEP_ACTION, NULL, four_check, four_act, verify_total, NULL },
};
static const struct scenario test_scenario = { .name = "test-counter", .summary = "add 1, 2, (gate), 4",
					       .steps = test_steps, .n_steps = 4 };
static const struct scenario nogate_scenario = { .name = "test-nogate", .summary = "add 1, 2, 4",
						 .steps = no_gate_steps, .n_steps = 3 };

/* A gate with a check (nothing for a person to do) and a verify (refuses
 * a confirmation), and an abort hook that can fail. */
static int gate_nothing_to_do, gate_confirm_ok, abort_fails, abort_calls;
static int hooked_gate_check(struct run *r, struct drctl_error *err)
{
	(void)r;
	(void)err;
	return gate_nothing_to_do;
}
static int hooked_gate_verify(struct run *r, struct drctl_error *err)
{
	(void)r;
	return gate_confirm_ok ? 0 : err_set(err, EXIT_USAGE, "button", "press it for real", "the button is not pressed yet");
}
static int hooked_abort(struct run *r, struct drctl_error *err)
{
	abort_calls++;
	if (abort_fails)
		return err_set(err, EXIT_FAILED, "counter", NULL, "cannot settle the counter");
	write_counter(read_counter() + 100);
	run_note(r, "abort hook settled the counter");
	return 0;
}
static const struct step hooked_steps[] = {
	{ "add-one", "add 1", STEP_ACTION, NULL, one_check, one_act, NULL, NULL },
	{ "button", "a person presses the button", STEP_GATE, NULL, hooked_gate_check, NULL, hooked_gate_verify, gate_text },
	{ "add-two", "add 2", STEP_ACTION, NULL, two_check, two_act, NULL, NULL },
};
static const struct scenario hooked_scenario = { .name = "test-hooks", .summary = "add 1, (gate), 2",
						 .steps = hooked_steps, .n_steps = 3, .abort = hooked_abort };
static const struct scenario *const test_list[] = { &test_scenario, &nogate_scenario, &hooked_scenario };

/* --- fixtures ----------------------------------------------------------------- */

static int setup(void **st)
{
	struct drctl_error err = { 0 };
	(void)st;
	if (unit_tmpdir_make(root, sizeof(root), "engine") != 0)
		return -1;
	snprintf(state, sizeof(state), "%s/state", root);
	snprintf(platform, sizeof(platform), "%s/counter", root);
	write_counter(0);
	cfg = config_new_empty();
	if (!cfg || config_set(cfg, "state", "dir", state, &err) != 0)
		return -1;
	engine_use_scenarios(test_list, 3);
	fail_next_add = slow_ms = act_calls = 0;
	gate_nothing_to_do = gate_confirm_ok = abort_fails = abort_calls = 0;
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	config_free(cfg);
	return unit_tmpdir_remove(root);
}

static const char *step_state(json_t *status, const char *name)
{
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(status, "steps"), i, s)
		if (!strcmp(json_string_value(json_object_get(s, "name")), name))
			return json_string_value(json_object_get(s, "state"));
	return "(no such step)";
}

static void journal_path(const char *run, char *out, size_t cap)
{
	snprintf(out, cap, "%s/runs/%s/journal", state, run);
}

/* --- tests ---------------------------------------------------------------------- */

static void test_steps_run_in_order_once_and_a_report_is_written(void **st)
{
	struct drctl_error err = { 0 };
	json_t *out = NULL;
	char path[PATH_MAX];
	(void)st;

	assert_int_equal(engine_run(cfg, &nogate_scenario, NULL, &out, &err), 0);
	assert_string_equal(json_string_value(json_object_get(out, "state")), "done");
	assert_int_equal(read_counter(), 7);
	assert_int_equal(act_calls, 3);
	assert_null(json_object_get(out, "next"));
	snprintf(path, sizeof(path), "%s", json_string_value(json_object_get(json_object_get(out, "report"), "html")));
	assert_int_equal(access(path, R_OK), 0);
	json_decref(out);
}

static void test_gate_waits_and_only_its_confirm_goes_on(void **st)
{
	struct drctl_error err = { 0 };
	struct engine_options wrong = { .confirm = "add-four" }, right = { .confirm = "button" };
	json_t *out = NULL;
	char run[RUN_ID_MAX];
	(void)st;

	assert_int_equal(engine_run(cfg, &test_scenario, NULL, &out, &err), 0);
	assert_string_equal(json_string_value(json_object_get(out, "state")), "waiting");
	assert_string_equal(json_string_value(json_object_get(out, "at_step")), "button");
	snprintf(run, sizeof(run), "%s", json_string_value(json_object_get(out, "run")));
	assert_non_null(strstr(json_string_value(json_object_get(out, "next")), "--confirm button"));
	assert_int_equal(read_counter(), 3);
	json_decref(out);

	/* resume without --confirm: still waiting, nothing acted again */
	assert_int_equal(engine_resume(cfg, run, NULL, &out, &err), 0);
	assert_string_equal(json_string_value(json_object_get(out, "state")), "waiting");
	assert_int_equal(act_calls, 2);
	json_decref(out);

	/* --confirm of another step: refused, naming the gate it waits at */
	assert_int_equal(engine_resume(cfg, run, &wrong, &out, &err), -1);
	assert_int_equal(err.code, EXIT_USAGE);
	assert_non_null(strstr(err.message, "it waits at button"));
	json_decref(out);

	err_clear(&err);
	assert_int_equal(engine_resume(cfg, run, &right, &out, &err), 0);
	assert_string_equal(json_string_value(json_object_get(out, "state")), "done");
	assert_int_equal(read_counter(), 7);
	json_decref(out);
}

static void test_failure_is_journaled_and_resume_rechecks(void **st)
{
	struct drctl_error err = { 0 };
	json_t *out = NULL, *steps, *two;
	char run[RUN_ID_MAX];
	(void)st;

	fail_next_add = 1;
	assert_int_equal(engine_run(cfg, &nogate_scenario, NULL, &out, &err), -1);
	assert_string_equal(err.message, "step add-two: cannot add to the counter");
	assert_string_equal(err.hint, "make it writable, then resume");
	assert_string_equal(json_string_value(json_object_get(out, "state")), "failed");
	assert_string_equal(step_state(out, "add-one"), "done");
	assert_string_equal(step_state(out, "add-two"), "failed");
	steps = json_object_get(out, "steps");
	two = json_array_get(steps, 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(two, "error"), "hint")),
			    "make it writable, then resume");
	snprintf(run, sizeof(run), "%s", json_string_value(json_object_get(out, "run")));
	assert_non_null(strstr(json_string_value(json_object_get(out, "next")), "drctl scenario resume"));
	assert_int_equal(read_counter(), 1);
	json_decref(out);

	err_clear(&err);
	assert_int_equal(engine_resume(cfg, run, NULL, &out, &err), 0);
	assert_string_equal(json_string_value(json_object_get(out, "state")), "done");
	assert_int_equal(read_counter(), 7);
	/* add-one was not acted again: its check found it done */
	assert_int_equal(act_calls, 4);
	json_decref(out);

	/* a finished run cannot be resumed */
	assert_int_equal(engine_resume(cfg, run, NULL, &out, &err), -1);
	assert_non_null(strstr(err.message, "is done; there is nothing to resume"));
	json_decref(out);
}

static char *newest_run(char *out, size_t cap)
{
	json_t *runs = NULL;
	struct drctl_error err = { 0 };
	assert_int_equal(engine_list_runs(cfg, &runs, &err), 0);
	assert_true(json_array_size(runs) >= 1);
	snprintf(out, cap, "%s", json_string_value(json_object_get(json_array_get(runs, 0), "run")));
	json_decref(runs);
	return out;
}

static int any_run(void)
{
	json_t *runs = NULL;
	struct drctl_error err = { 0 };
	size_t n;
	if (engine_list_runs(cfg, &runs, &err) != 0)
		return 0;
	n = json_array_size(runs);
	json_decref(runs);
	return n > 0;
}

/* A child runs the scenario with slow steps; the parent SIGKILLs it after
 * `ms`, then resumes until done: the counter ends at 7 whatever the instant. */
static void kill_and_resume(int ms)
{
	struct drctl_error err = { 0 };
	json_t *out = NULL;
	char run[RUN_ID_MAX];
	pid_t pid;
	int status;

	write_counter(0);
	{
		/* fresh markers for this round */
		const char *names[] = { "add-one", "add-two", "add-four" };
		for (size_t i = 0; i < 3; i++) {
			char m[400];
			marker(names[i], m, sizeof(m));
			unlink(m);
		}
	}
	{
		/* a state folder of its own: the newest run is this round's */
		char runs[400];
		snprintf(runs, sizeof(runs), "%s/runs", state);
		unit_tmpdir_remove(runs);
	}
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		json_t *o = NULL;
		struct drctl_error e = { 0 };
		slow_ms = 20;
		engine_run(cfg, &nogate_scenario, NULL, &o, &e);
		_exit(0);
	}
	usleep((useconds_t)ms * 1000);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	if (!any_run()) {
		/* killed before the run existed: nothing was done, and a new run
		 * is what the operator would start */
		assert_int_equal(read_counter(), 0);
		assert_int_equal(engine_run(cfg, &nogate_scenario, NULL, &out, &err), 0);
		json_decref(out);
		assert_int_equal(read_counter(), 7);
		return;
	}
	newest_run(run, sizeof(run));
	for (int attempt = 0; attempt < 3; attempt++) {
		err_clear(&err);
		if (engine_resume(cfg, run, NULL, &out, &err) == 0 || strstr(err.message, "nothing to resume"))
			break;
		print_message("kill after %d ms: resume of %s failed: %s\n", ms, run, err.message);
		json_decref(out);
		out = NULL;
	}
	json_decref(out);
	assert_int_equal(read_counter(), 7);
}

static void test_sigkill_at_random_instants_then_resume_ends_as_uninterrupted(void **st)
{
	(void)st;
	srand((unsigned)time(NULL));
	/* at once, inside each step, and after the end */
	for (int ms = 1; ms <= 90; ms += 7)
		kill_and_resume(ms);
	for (int i = 0; i < 6; i++)
		kill_and_resume(1 + rand() % 80);
}

static void test_facts_survive_a_kill(void **st)
{
	struct drctl_error err = { 0 };
	json_t *out = NULL;
	char run[RUN_ID_MAX];
	(void)st;

	fail_next_add = 1; /* stop after add-two recorded its fact */
	assert_int_equal(engine_run(cfg, &nogate_scenario, NULL, &out, &err), -1);
	json_decref(out);
	assert_int_equal(engine_status(cfg, newest_run(run, sizeof(run)), &out, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(out, "facts"), "add-one")), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(out, "facts"), "add-two")), 1);
	json_decref(out);
}

static void test_sigterm_stops_the_step_and_leaves_the_run_resumable(void **st)
{
	struct drctl_error err = { 0 };
	json_t *out = NULL;
	char run[RUN_ID_MAX];
	pid_t pid;
	int status;
	(void)st;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		json_t *o = NULL;
		struct drctl_error e = { 0 };
		slow_ms = 300;
		engine_run(cfg, &nogate_scenario, NULL, &o, &e);
		_exit(e.code);
	}
	usleep(150 * 1000);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 143);
	assert_int_equal(engine_status(cfg, newest_run(run, sizeof(run)), &out, &err), 0);
	assert_string_equal(json_string_value(json_object_get(out, "state")), "stopped");
	json_decref(out);
	assert_int_equal(engine_resume(cfg, run, NULL, &out, &err), 0);
	assert_string_equal(json_string_value(json_object_get(out, "state")), "done");
	assert_int_equal(read_counter(), 7);
	json_decref(out);
}

static void test_torn_last_record_is_ignored_and_damage_in_the_middle_is_an_error(void **st)
{
	struct drctl_error err = { 0 };
	json_t *out = NULL, *records = NULL;
	char run[RUN_ID_MAX], path[PATH_MAX];
	int torn = 0, fd;
	(void)st;

	assert_int_equal(engine_run(cfg, &test_scenario, NULL, &out, &err), 0); /* waits at the gate */
	json_decref(out);
	journal_path(newest_run(run, sizeof(run)), path, sizeof(path));
	/* power loss in the middle of a record: half a line, no newline */
	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(write(fd, "1a2b3c4d {\"type\":\"step\",\"st", 28) == 28);
	close(fd);
	assert_int_equal(journal_read(path, &records, &torn, &err), 0);
	assert_int_equal(torn, 1);
	json_decref(records);
	assert_int_equal(engine_resume(cfg, run, &(struct engine_options){ .confirm = "button" }, &out, &err), 0);
	assert_string_equal(json_string_value(json_object_get(out, "state")), "done");
	json_decref(out);
	/* the torn tail was cut off: the journal reads whole again */
	assert_int_equal(journal_read(path, &records, &torn, &err), 0);
	assert_int_equal(torn, 0);
	json_decref(records);

	/* a record damaged with good ones after it is not a torn write */
	{
		FILE *f = fopen(path, "r+");
		assert_non_null(f);
		fseek(f, 20, SEEK_SET);
		fputc('#', f);
		fclose(f);
	}
	assert_int_equal(journal_read(path, &records, &torn, &err), -1);
	assert_int_equal(err.code, EXIT_INTEGRITY);
	assert_non_null(strstr(err.message, "is damaged and more records follow it"));
}

static void test_lock_names_its_holder_and_a_stale_one_needs_steal(void **st)
{
	struct drctl_error err = { 0 };
	json_t *out = NULL;
	char lock[PATH_MAX];
	int p2c[2], c2p[2];
	pid_t pid;
	char c;
	(void)st;

	/* a live holder: another process has the flock, for a run that exists */
	assert_int_equal(mkdir(state, 0700), 0);
	{
		char dir[1024];
		snprintf(dir, sizeof(dir), "%s/runs", state);
		assert_int_equal(mkdir(dir, 0700), 0);
		snprintf(dir, sizeof(dir), "%s/runs/20261201T000000Z-test-counter-aaaa", state);
		assert_int_equal(mkdir(dir, 0700), 0);
		snprintf(lock, sizeof(lock), "%s/journal", dir);
		close(open(lock, O_CREAT | O_WRONLY, 0600));
	}
	snprintf(lock, sizeof(lock), "%s/scenario.lock", state);
	assert_int_equal(pipe(p2c), 0);
	assert_int_equal(pipe(c2p), 0);
	pid = fork();
	if (pid == 0) {
		int fd = open(lock, O_RDWR | O_CREAT, 0600);
		const char *h = "{\"run\":\"20261201T000000Z-test-counter-aaaa\",\"host\":\"otherhost\",\"pid\":4242,\"since\":\"2026-12-01T00:00:00Z\"}";
		flock(fd, LOCK_EX);
		if (write(fd, h, strlen(h)) < 0 || write(c2p[1], "x", 1) != 1 || read(p2c[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	assert_int_equal(read(c2p[0], &c, 1), 1);
	assert_int_equal(engine_run(cfg, &nogate_scenario, NULL, &out, &err), -1);
	assert_int_equal(err.code, EXIT_LOCKED);
	assert_non_null(strstr(err.message, "run 20261201T000000Z-test-counter-aaaa (host otherhost, pid 4242"));
	assert_int_equal(read_counter(), 0);
	assert_int_equal(write(p2c[1], "x", 1), 1);
	waitpid(pid, NULL, 0);

	/* the holder died without releasing: stale, refused without --steal */
	err_clear(&err);
	assert_int_equal(engine_run(cfg, &nogate_scenario, NULL, &out, &err), -1);
	assert_int_equal(err.code, EXIT_LOCKED);
	assert_non_null(strstr(err.message, "stale"));
	assert_non_null(strstr(err.hint, "--steal"));
	assert_int_equal(read_counter(), 0);

	err_clear(&err);
	assert_int_equal(engine_run(cfg, &nogate_scenario, &(struct engine_options){ .steal = 1 }, &out, &err), 0);
	assert_int_equal(read_counter(), 7);
	json_decref(out);
	/* released at the end: the next run needs no --steal */
	assert_int_equal(engine_run(cfg, &nogate_scenario, NULL, &out, &err), 0);
	json_decref(out);
}

static void test_abort_ends_a_run_for_good(void **st)
{
	struct drctl_error err = { 0 };
	json_t *out = NULL;
	char run[RUN_ID_MAX];
	(void)st;

	assert_int_equal(engine_run(cfg, &test_scenario, NULL, &out, &err), 0); /* at the gate */
	snprintf(run, sizeof(run), "%s", json_string_value(json_object_get(out, "run")));
	json_decref(out);
	assert_int_equal(engine_abort(cfg, run, NULL, &out, &err), 0);
	assert_string_equal(json_string_value(json_object_get(out, "state")), "aborted");
	json_decref(out);
	assert_int_equal(engine_resume(cfg, run, &(struct engine_options){ .confirm = "button" }, &out, &err), -1);
	assert_non_null(strstr(err.message, "is aborted; there is nothing to resume"));
	json_decref(out);
	assert_int_equal(read_counter(), 3);
}

static void test_gate_with_nothing_to_do_is_done_without_waiting(void **st)
{
	struct drctl_error err = { 0 };
	json_t *out = NULL, *gate;
	(void)st;

	gate_nothing_to_do = 1;
	assert_int_equal(engine_run(cfg, &hooked_scenario, NULL, &out, &err), 0);
	assert_string_equal(json_string_value(json_object_get(out, "state")), "done");
	gate = json_array_get(json_object_get(out, "steps"), 1);
	assert_string_equal(json_string_value(json_object_get(gate, "state")), "done");
	assert_true(json_is_true(json_object_get(gate, "effect_was_present")));
	assert_null(json_object_get(gate, "confirmed_at"));
	assert_int_equal(read_counter(), 3);
	json_decref(out);
}

static void test_gate_verify_refuses_a_confirmation_until_it_is_true(void **st)
{
	struct drctl_error err = { 0 };
	struct engine_options confirm = { .confirm = "button" };
	json_t *out = NULL;
	char run[RUN_ID_MAX];
	(void)st;

	assert_int_equal(engine_run(cfg, &hooked_scenario, NULL, &out, &err), 0);
	assert_string_equal(json_string_value(json_object_get(out, "state")), "waiting");
	snprintf(run, sizeof(run), "%s", json_string_value(json_object_get(out, "run")));
	json_decref(out);

	assert_int_equal(engine_resume(cfg, run, &confirm, &out, &err), -1);
	assert_string_equal(err.message, "step button: the button is not pressed yet");
	assert_string_equal(err.hint, "press it for real");
	assert_string_equal(json_string_value(json_object_get(out, "state")), "waiting");
	assert_string_equal(step_state(out, "add-two"), "pending");
	assert_int_equal(read_counter(), 1);
	json_decref(out);

	gate_confirm_ok = 1;
	err_clear(&err);
	assert_int_equal(engine_resume(cfg, run, &confirm, &out, &err), 0);
	assert_string_equal(json_string_value(json_object_get(out, "state")), "done");
	assert_int_equal(read_counter(), 3);
	json_decref(out);
}

static void test_abort_hook_settles_and_a_failing_one_leaves_the_run_open(void **st)
{
	struct drctl_error err = { 0 };
	json_t *out = NULL, *notes;
	char run[RUN_ID_MAX];
	(void)st;

	assert_int_equal(engine_run(cfg, &hooked_scenario, NULL, &out, &err), 0); /* at the gate */
	snprintf(run, sizeof(run), "%s", json_string_value(json_object_get(out, "run")));
	json_decref(out);

	abort_fails = 1;
	assert_int_equal(engine_abort(cfg, run, NULL, &out, &err), -1);
	assert_non_null(strstr(err.message, "cannot settle the counter"));
	assert_non_null(strstr(err.hint, "is not aborted"));
	assert_string_equal(json_string_value(json_object_get(out, "state")), "waiting");
	assert_int_equal(read_counter(), 1);
	json_decref(out);

	abort_fails = 0;
	err_clear(&err);
	assert_int_equal(engine_abort(cfg, run, NULL, &out, &err), 0);
	assert_string_equal(json_string_value(json_object_get(out, "state")), "aborted");
	assert_int_equal(abort_calls, 2);
	assert_int_equal(read_counter(), 101);
	notes = json_object_get(out, "notes");
	assert_string_equal(json_string_value(json_object_get(json_array_get(notes, json_array_size(notes) - 1), "text")),
			    "abort hook settled the counter");
	json_decref(out);
	/* a scenario without the hook: the platform is left as it stands */
	assert_int_equal(engine_run(cfg, &test_scenario, NULL, &out, &err), 0);
	snprintf(run, sizeof(run), "%s", json_string_value(json_object_get(out, "run")));
	json_decref(out);
	assert_int_equal(engine_abort(cfg, run, NULL, &out, &err), 0);
	assert_int_equal(abort_calls, 2);
	json_decref(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_steps_run_in_order_once_and_a_report_is_written, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gate_waits_and_only_its_confirm_goes_on, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_is_journaled_and_resume_rechecks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigkill_at_random_instants_then_resume_ends_as_uninterrupted, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_facts_survive_a_kill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigterm_stops_the_step_and_leaves_the_run_resumable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_last_record_is_ignored_and_damage_in_the_middle_is_an_error, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lock_names_its_holder_and_a_stale_one_needs_steal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_ends_a_run_for_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gate_with_nothing_to_do_is_done_without_waiting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gate_verify_refuses_a_confirmation_until_it_is_true, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_hook_settles_and_a_failing_one_leaves_the_run_open, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
