/*
 * Unit tests of the engine's STEP_TOGETHER steps (drctl/engine): two steps
 * marked together really run at the same time (each one's act waits until
 * the other's has begun, which only concurrent steps can both get past);
 * each is journaled on its own with its notes and facts; when one fails the
 * other still finishes, the run fails with the failing step named, and a
 * resume acts only the step that is not done; the plan says which steps run
 * together.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "drctl/engine/engine.h"
#include "lib/core/config.h"
#include "tests/unit/unit_tmpdir.h"

static char root[256], state[300];
static struct config *cfg;

/* --- a rendezvous only steps running at the same time can both pass -------------- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int arrived, acts_left, acts_right, fail_right;

/* Mark this side as begun, then wait (at most 10 s) for the other side. */
static int meet(int *mine, const int *other)
{
	struct timespec until;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&mu);
	(*mine)++;
	arrived++;
	pthread_cond_broadcast(&cv);
	while (*other == 0 && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&cv, &mu, &until);
	pthread_mutex_unlock(&mu);
	return rc == ETIMEDOUT ? -1 : 0;
}

static int left_check(struct run *r, struct drctl_error *err)
{
	(void)err;
	return run_fact(r, "left") != NULL;
}

static int left_act(struct run *r, struct drctl_error *err)
{
	if (meet(&acts_left, &acts_right) != 0)
		return err_set(err, EXIT_FAILED, "left", NULL, "the right step never began while the left one ran");
	run_note(r, "left acted");
	return run_set_fact(r, "left", json_true(), err);
}

static int right_check(struct run *r, struct drctl_error *err)
{
	(void)err;
	return run_fact(r, "right") != NULL;
}

static int right_act(struct run *r, struct drctl_error *err)
{
	if (meet(&acts_right, &acts_left) != 0)
		return err_set(err, EXIT_FAILED, "right", NULL, "the left step never began while the right one ran");
	if (fail_right)
		return err_set(err, EXIT_FAILED, "right", "fix the right side", "the right side broke");
	run_note(r, "right acted");
	return run_set_fact(r, "right", json_true(), err);
}

static int last_act(struct run *r, struct drctl_error *err)
{
	if (!run_fact(r, "left") || !run_fact(r, "right"))
		return err_set(err, EXIT_FAILED, "last", NULL, "the last step ran before both together steps were done");
	return run_set_fact(r, "last", json_true(), err);
}

static const struct step steps[] = {
	{ "left", "the left half", STEP_TOGETHER, NULL, left_check, left_act, NULL, NULL },
	{ "right", "the right half", STEP_TOGETHER, NULL, right_check, right_act, NULL, NULL },
	{ "last", "after both", STEP_ACTION, NULL, NULL, last_act, NULL, NULL },
};
static const struct scenario together_scenario = { .name = "together", .summary = "two halves at once",
						   .steps = steps, .n_steps = 3 };
static const struct scenario *const test_list[] = { &together_scenario };

/* --- fixtures ------------------------------------------------------------------------ */

static int setup(void **st)
{
	struct drctl_error err = { 0 };
	(void)st;
	if (unit_tmpdir_make(root, sizeof(root), "together") != 0)
		return -1;
	snprintf(state, sizeof(state), "%s/state", root);
	cfg = config_new_empty();
	if (!cfg || config_set(cfg, "state", "dir", state, &err) != 0)
		return -1;
	engine_use_scenarios(test_list, 1);
	arrived = acts_left = acts_right = fail_right = 0;
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	config_free(cfg);
	return unit_tmpdir_remove(root);
}

static json_t *step_of(json_t *status, const char *name)
{
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(status, "steps"), i, s)
		if (!strcmp(json_string_value(json_object_get(s, "name")), name))
			return s;
	return NULL;
}

static const char *state_of(json_t *status, const char *name)
{
	return json_string_value(json_object_get(step_of(status, name), "state"));
}

/* --- tests ---------------------------------------------------------------------------- */

static void test_together_steps_run_at_the_same_time_each_journaled(void **st)
{
	struct drctl_error err = { 0 };
	json_t *out = NULL, *status = NULL;
	(void)st;

	assert_int_equal(engine_run(cfg, &together_scenario, NULL, &out, &err), 0);
	assert_string_equal(json_string_value(json_object_get(out, "state")), "done");
	assert_int_equal(acts_left, 1);
	assert_int_equal(acts_right, 1);
	assert_string_equal(state_of(out, "left"), "done");
	assert_string_equal(state_of(out, "right"), "done");
	assert_string_equal(state_of(out, "last"), "done");
	/* Read back from the journal alone: facts of both threads are there. */
	assert_int_equal(engine_status(cfg, json_string_value(json_object_get(out, "run")), &status, &err), 0);
	assert_true(json_is_true(json_object_get(json_object_get(status, "facts"), "left")));
	assert_true(json_is_true(json_object_get(json_object_get(status, "facts"), "right")));
	assert_true(json_is_true(json_object_get(json_object_get(status, "facts"), "last")));
	json_decref(status);
	json_decref(out);
}

static void test_a_failing_half_lets_the_other_finish_and_resume_acts_only_it(void **st)
{
	struct drctl_error err = { 0 };
	json_t *out = NULL;
	char run[RUN_ID_MAX];
	(void)st;

	fail_right = 1;
	assert_int_equal(engine_run(cfg, &together_scenario, NULL, &out, &err), -1);
	assert_non_null(strstr(err.message, "step right"));
	assert_non_null(strstr(err.message, "the right side broke"));
	assert_string_equal(state_of(out, "left"), "done");
	assert_string_equal(state_of(out, "right"), "failed");
	assert_string_equal(state_of(out, "last"), "pending");
	snprintf(run, sizeof(run), "%s", json_string_value(json_object_get(out, "run")));
	json_decref(out);

	/* On resume only the right half acts, alone (the left one's earlier
	 * act lets its rendezvous pass); the left one is not acted again. */
	fail_right = 0;
	memset(&err, 0, sizeof(err));
	assert_int_equal(engine_resume(cfg, run, NULL, &out, &err), 0);
	assert_string_equal(json_string_value(json_object_get(out, "state")), "done");
	assert_int_equal(acts_left, 1);
	assert_int_equal(acts_right, 2);
	json_decref(out);
}

static void test_the_plan_says_which_steps_run_together(void **st)
{
	struct drctl_error err = { 0 };
	json_t *plan = NULL, *left, *last;
	(void)st;

	assert_int_equal(engine_plan(cfg, &together_scenario, NULL, &plan, &err), 0);
	left = json_array_get(json_object_get(plan, "steps"), 0);
	last = json_array_get(json_object_get(plan, "steps"), 2);
	assert_string_equal(json_string_value(json_object_get(left, "kind")), "together");
	assert_string_equal(json_string_value(json_array_get(json_object_get(left, "together_with"), 0)), "right");
	assert_string_equal(json_string_value(json_object_get(last, "kind")), "action");
	assert_null(json_object_get(last, "together_with"));
	json_decref(plan);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_together_steps_run_at_the_same_time_each_journaled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_failing_half_lets_the_other_finish_and_resume_acts_only_it, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_the_plan_says_which_steps_run_together, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
