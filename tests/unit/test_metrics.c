/*
 * metrics: the exposition text drctl pushes and writes (HELP and TYPE before
 * each family, families in the table's order, label values escaped, no
 * timestamps), the groups a push is cut into, the success-only rule (a
 * failed run leaves its success timestamps out, whatever the caller passed),
 * the samples refused, the Pushgateway URLs and textfile names of a group,
 * and the textfile merge that gives a file the Pushgateway's POST semantics.
 * The expected texts are written out in full.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/report/metrics.h"

static const char backup_job_text[] =
	"# HELP drctl_backup_last_status 1 when the last drctl backup succeeded, 0 when it failed.\n"
	"# TYPE drctl_backup_last_status gauge\n"
	"drctl_backup_last_status 1\n"
	"# HELP drctl_backup_duration_seconds How long the last drctl backup ran, successful or not.\n"
	"# TYPE drctl_backup_duration_seconds gauge\n"
	"drctl_backup_duration_seconds 12.25\n";

static const char backup_postgres_text[] =
	"# HELP drctl_backup_last_success_timestamp_seconds Unix time at which the last successful backup of the component finished.\n"
	"# TYPE drctl_backup_last_success_timestamp_seconds gauge\n"
	"drctl_backup_last_success_timestamp_seconds{component=\"postgres\"} 1796090412\n"
	"# HELP drctl_backup_size_bytes Bytes the last successful backup stored for the component (its archive object).\n"
	"# TYPE drctl_backup_size_bytes gauge\n"
	"drctl_backup_size_bytes{component=\"postgres\"} 123456789012\n";

static json_t *backup_samples(int ok)
{
	json_t *s = metrics_samples_new();

	/* Given in an order of their own: the text follows the table. */
	assert_int_equal(metrics_sample_labelled(s, "drctl_backup_size_bytes", "component", "redis", 4096), 0);
	assert_int_equal(metrics_sample_labelled(s, "drctl_backup_size_bytes", "component", "postgres", 123456789012.0), 0);
	assert_int_equal(metrics_sample(s, "drctl_backup_duration_seconds", 12.25), 0);
	assert_int_equal(metrics_sample_labelled(s, "drctl_backup_last_success_timestamp_seconds", "component", "redis",
						 1796090413), 0);
	assert_int_equal(metrics_sample_labelled(s, "drctl_backup_last_success_timestamp_seconds", "component",
						 "postgres", 1796090412), 0);
	assert_int_equal(metrics_sample(s, "drctl_backup_last_status", ok), 0);
	return s;
}

static void render_ok(const char *kind, json_t *samples, struct metrics_rendering *r)
{
	struct drctl_error err;

	err_clear(&err);
	if (metrics_render(kind, samples, r, &err) != 0)
		fail_msg("render failed: %s", err.message);
}

static void expect_refused(const char *kind, json_t *samples, const char *message_part)
{
	struct metrics_rendering r;
	struct drctl_error err;

	err_clear(&err);
	assert_int_equal(metrics_render(kind, samples, &r, &err), -1);
	assert_int_equal(err.code, EXIT_USAGE);
	if (!strstr(err.message, message_part))
		fail_msg("message \"%s\" does not say \"%s\"", err.message, message_part);
	assert_int_equal(r.n_groups, 0);
	json_decref(samples);
}

/* Every sample line is `name[{labels}] value`: two fields outside quotes,
 * so no timestamp. */
static void assert_no_timestamps(const char *text)
{
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		int fields = 1, quoted = 0;
		assert_non_null(nl);
		if (*p != '#') {
			for (const char *c = p; c < nl; c++) {
				if (*c == '\\' && quoted)
					c++;
				else if (*c == '"')
					quoted = !quoted;
				else if (*c == ' ' && !quoted)
					fields++;
			}
			if (fields != 2)
				fail_msg("sample line with %d fields: %.*s", fields, (int)(nl - p), p);
		}
		p = nl + 1;
	}
}

static void test_backup_success_groups_and_text(void **state)
{
	struct metrics_rendering r;
	json_t *s = backup_samples(1);

	(void)state;
	render_ok("backup", s, &r);
	assert_true(r.succeeded);
	assert_int_equal(r.n_groups, 3);
	assert_null(r.groups[0].label);
	assert_null(r.groups[0].value);
	assert_string_equal(r.groups[0].text, backup_job_text);
	assert_string_equal(r.groups[1].label, "component");
	assert_string_equal(r.groups[1].value, "postgres");
	assert_string_equal(r.groups[1].text, backup_postgres_text);
	assert_string_equal(r.groups[2].value, "redis");
	assert_non_null(strstr(r.groups[2].text, "drctl_backup_size_bytes{component=\"redis\"} 4096\n"));
	for (size_t i = 0; i < r.n_groups; i++)
		assert_no_timestamps(r.groups[i].text);
	metrics_rendering_free(&r);
	json_decref(s);
}

static void test_failed_backup_leaves_success_metrics_out(void **state)
{
	struct metrics_rendering r;
	json_t *s = backup_samples(0);

	(void)state;
	render_ok("backup", s, &r);
	assert_false(r.succeeded);
	/* No component group at all: its last success stays as it was. */
	assert_int_equal(r.n_groups, 1);
	assert_null(r.groups[0].label);
	assert_string_equal(r.groups[0].text,
			    "# HELP drctl_backup_last_status 1 when the last drctl backup succeeded, 0 when it failed.\n"
			    "# TYPE drctl_backup_last_status gauge\n"
			    "drctl_backup_last_status 0\n"
			    "# HELP drctl_backup_duration_seconds How long the last drctl backup ran, successful or not.\n"
			    "# TYPE drctl_backup_duration_seconds gauge\n"
			    "drctl_backup_duration_seconds 12.25\n");
	metrics_rendering_free(&r);
	json_decref(s);
}

static void test_failed_verify_leaves_its_timestamp_out(void **state)
{
	struct metrics_rendering r;
	json_t *s = metrics_samples_new();

	(void)state;
	metrics_sample(s, "drctl_verify_last_success_timestamp_seconds", 1796090412);
	metrics_sample(s, "drctl_verify_last_status", 0);
	metrics_sample(s, "drctl_verify_duration_seconds", 0.5);
	render_ok("verify", s, &r);
	assert_int_equal(r.n_groups, 1);
	assert_null(strstr(r.groups[0].text, "timestamp"));
	assert_non_null(strstr(r.groups[0].text, "\ndrctl_verify_last_status 0\n"));
	metrics_rendering_free(&r);

	metrics_sample(s, "drctl_verify_last_status", 1);
	render_ok("verify", s, &r);
	assert_non_null(strstr(r.groups[0].text, "\ndrctl_verify_last_success_timestamp_seconds 1796090412\n"));
	metrics_rendering_free(&r);
	json_decref(s);
}

/* The repository's sets are not a group label: one group, three states. */
static void test_prune_state_label_stays_in_the_job_group(void **state)
{
	struct metrics_rendering r;
	json_t *s = metrics_samples_new();

	(void)state;
	metrics_sample(s, "drctl_prune_last_status", 1);
	metrics_sample(s, "drctl_prune_removed_sets", 3);
	metrics_sample_labelled(s, "drctl_repository_sets", "state", "invalid", 0);
	metrics_sample_labelled(s, "drctl_repository_sets", "state", "complete", 14);
	metrics_sample_labelled(s, "drctl_repository_sets", "state", "incomplete", 1);
	render_ok("prune", s, &r);
	assert_int_equal(r.n_groups, 1);
	assert_non_null(strstr(r.groups[0].text, "# TYPE drctl_repository_sets gauge\n"
						 "drctl_repository_sets{state=\"complete\"} 14\n"
						 "drctl_repository_sets{state=\"incomplete\"} 1\n"
						 "drctl_repository_sets{state=\"invalid\"} 0\n"));
	metrics_rendering_free(&r);
	json_decref(s);
}

static void test_label_values_are_escaped(void **state)
{
	struct metrics_rendering r;
	json_t *s = metrics_samples_new();

	(void)state;
	metrics_sample_labelled(s, "drctl_scenario_last_status", "scenario", "a\"b\\c\nd", 1);
	metrics_sample_labelled(s, "drctl_scenario_rto_seconds", "scenario", "a\"b\\c\nd", 1830.5);
	render_ok("scenario", s, &r);
	assert_int_equal(r.n_groups, 1);
	assert_string_equal(r.groups[0].label, "scenario");
	assert_string_equal(r.groups[0].value, "a\"b\\c\nd");
	assert_non_null(strstr(r.groups[0].text, "\ndrctl_scenario_last_status{scenario=\"a\\\"b\\\\c\\nd\"} 1\n"));
	assert_non_null(strstr(r.groups[0].text, "\ndrctl_scenario_rto_seconds{scenario=\"a\\\"b\\\\c\\nd\"} 1830.5\n"));
	assert_no_timestamps(r.groups[0].text);
	metrics_rendering_free(&r);
	json_decref(s);
}

/* One scenario failing leaves another's RTO alone: separate groups. */
static void test_scenarios_are_groups_of_their_own(void **state)
{
	struct metrics_rendering r;
	json_t *s = metrics_samples_new();

	(void)state;
	metrics_sample_labelled(s, "drctl_scenario_last_status", "scenario", "db-corruption", 0);
	metrics_sample_labelled(s, "drctl_scenario_rto_seconds", "scenario", "db-corruption", 99);
	metrics_sample_labelled(s, "drctl_scenario_duration_seconds", "scenario", "db-corruption", 99);
	render_ok("scenario", s, &r);
	assert_int_equal(r.n_groups, 1);
	assert_string_equal(r.groups[0].value, "db-corruption");
	assert_null(strstr(r.groups[0].text, "rto"));
	assert_non_null(strstr(r.groups[0].text, "drctl_scenario_duration_seconds{scenario=\"db-corruption\"} 99\n"));
	metrics_rendering_free(&r);
	json_decref(s);
}

static void test_rule_breaking_samples_are_refused(void **state)
{
	json_t *s;

	(void)state;
	s = metrics_samples_new();
	metrics_sample(s, "drctl_backup_duration_seconds", 1);
	expect_refused("backup", s, "must say whether it succeeded (drctl_backup_last_status)");

	s = metrics_samples_new();
	metrics_sample(s, "drctl_backup_last_status", 2);
	expect_refused("backup", s, "is 1 (succeeded) or 0 (failed)");

	s = metrics_samples_new();
	metrics_sample(s, "drctl_backup_last_status", 1);
	metrics_sample(s, "drctl_backup_lastt_status", 1);
	expect_refused("backup", s, "drctl_backup_lastt_status is not a metric drctl publishes for a backup job");

	s = metrics_samples_new();
	metrics_sample(s, "drctl_verify_last_status", 1);
	metrics_sample(s, "drctl_backup_last_status", 1);
	expect_refused("verify", s, "drctl_backup_last_status is not a metric drctl publishes for a verify job");

	s = metrics_samples_new();
	metrics_sample(s, "drctl_backup_last_status", 1);
	metrics_sample(s, "drctl_backup_size_bytes", 1);
	expect_refused("backup", s, "has the label component");

	s = metrics_samples_new();
	metrics_sample(s, "drctl_backup_last_status", 1);
	metrics_sample_labelled(s, "drctl_backup_size_bytes", "database", "x", 1);
	expect_refused("backup", s, "exactly the label component");

	s = metrics_samples_new();
	metrics_sample(s, "drctl_backup_last_status", 1);
	metrics_sample_labelled(s, "drctl_backup_size_bytes", "component", "redis", 1);
	metrics_sample_labelled(s, "drctl_backup_size_bytes", "component", "redis", 2);
	expect_refused("backup", s, "two samples for component \"redis\"");

	/* jansson refuses such strings unless told not to check them. */
	s = metrics_samples_new();
	metrics_sample(s, "drctl_backup_last_status", 1);
	assert_int_equal(metrics_sample_labelled(s, "drctl_backup_size_bytes", "component", "\xc3\x28", 1), -1);
	json_object_set_new(s, "drctl_backup_size_bytes",
			    json_pack("[{s:{s:o}, s:i}]", "labels", "component", json_string_nocheck("\xc3\x28"), "value", 1));
	expect_refused("backup", s, "not UTF-8");

	s = metrics_samples_new();
	metrics_sample(s, "drctl_backup_last_status", 1);
	json_object_set_new(s, "drctl_backup_duration_seconds", json_string("12"));
	expect_refused("backup", s, "not a number");

	expect_refused("restore", metrics_samples_new(), "not a kind of job that publishes metrics");
}

static void test_pushgateway_urls(void **state)
{
	struct metrics_group job = { 0 }, postgres = { .label = "component", .value = "postgres" },
			     odd = { .label = "scenario", .value = "a/b c" };
	char url[512];

	(void)state;
	assert_int_equal(metrics_pushgateway_url("http://pgw:9091", "drctl", "db-1.example", &job, url, sizeof(url)), 0);
	assert_string_equal(url, "http://pgw:9091/metrics/job/drctl/instance/db-1.example");
	assert_int_equal(metrics_pushgateway_url("http://pgw:9091/prefix//", "drctl", "db-1", &postgres, url, sizeof(url)), 0);
	assert_string_equal(url, "http://pgw:9091/prefix/metrics/job/drctl/instance/db-1/component/postgres");
	/* '/' and ' ' only through the Pushgateway's base64, URL-safe alphabet
	 * without padding: "a/b c" is YS9iIGM; "\xfb\xff" is +/8= in the
	 * standard alphabet, -_8 here; an empty value is "=". */
	assert_int_equal(metrics_pushgateway_url("http://pgw", "drctl", "", &odd, url, sizeof(url)), 0);
	assert_string_equal(url, "http://pgw/metrics/job/drctl/instance@base64/=/scenario@base64/YS9iIGM");
	odd.value = "\xfb\xff";
	assert_int_equal(metrics_pushgateway_url("http://pgw", "drctl", "h", &odd, url, sizeof(url)), 0);
	assert_string_equal(url, "http://pgw/metrics/job/drctl/instance/h/scenario@base64/-_8");
	assert_int_equal(metrics_pushgateway_url("http://pgw:9091", "drctl", "h", &job, url, 20), -1);
}

static void test_textfile_names(void **state)
{
	struct metrics_group job = { 0 }, postgres = { .label = "component", .value = "postgres" },
			     odd = { .label = "scenario", .value = "../x" };
	char name[300];

	(void)state;
	assert_int_equal(metrics_textfile_name("verify", &job, name, sizeof(name)), 0);
	assert_string_equal(name, "drctl_verify.prom");
	assert_int_equal(metrics_textfile_name("backup", &postgres, name, sizeof(name)), 0);
	assert_string_equal(name, "drctl_backup-postgres.prom");
	assert_int_equal(metrics_textfile_name("scenario", &odd, name, sizeof(name)), 0);
	assert_string_equal(name, "drctl_scenario-b64-Li4veA.prom");
	odd.value = "b64-Li4veA"; /* cannot pose as the encoding of another name */
	assert_int_equal(metrics_textfile_name("scenario", &odd, name, sizeof(name)), 0);
	assert_string_equal(name, "drctl_scenario-b64-YjY0LUxpNHZlQQ.prom");
}

/* A failed verify's file: its status replaced, its last success kept, and
 * what is not drctl's own (another job's family, comments, a mangled line)
 * dropped. */
static void test_textfile_merge_keeps_what_the_push_does_not_carry(void **state)
{
	static const char previous[] =
		"# HELP drctl_verify_last_status old help\n"
		"# TYPE drctl_verify_last_status gauge\n"
		"drctl_verify_last_status 1\n"
		"# some comment\n"
		"drctl_backup_last_status 1\n"
		"drctl_verify_last_success_timestamp_seconds 1796000000\n"
		"drctl_verify_duration_seconds not-a-number\n"
		"drctl_verify_duration_seconds_total 3\n";
	struct metrics_rendering r;
	json_t *s = metrics_samples_new();
	char *merged;

	(void)state;
	metrics_sample(s, "drctl_verify_last_status", 0);
	render_ok("verify", s, &r);
	merged = metrics_textfile_merge("verify", previous, &r.groups[0]);
	assert_non_null(merged);
	assert_string_equal(merged,
			    "# HELP drctl_verify_last_status 1 when the last drctl verify passed, 0 when it failed or found a problem.\n"
			    "# TYPE drctl_verify_last_status gauge\n"
			    "drctl_verify_last_status 0\n"
			    "# HELP drctl_verify_last_success_timestamp_seconds Unix time at which the last drctl verify that passed finished.\n"
			    "# TYPE drctl_verify_last_success_timestamp_seconds gauge\n"
			    "drctl_verify_last_success_timestamp_seconds 1796000000\n");
	free(merged);
	/* No previous file: the group's text alone. */
	merged = metrics_textfile_merge("verify", NULL, &r.groups[0]);
	assert_string_equal(merged, r.groups[0].text);
	free(merged);
	metrics_rendering_free(&r);
	json_decref(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backup_success_groups_and_text),
		cmocka_unit_test(test_failed_backup_leaves_success_metrics_out),
		cmocka_unit_test(test_failed_verify_leaves_its_timestamp_out),
		cmocka_unit_test(test_prune_state_label_stays_in_the_job_group),
		cmocka_unit_test(test_label_values_are_escaped),
		cmocka_unit_test(test_scenarios_are_groups_of_their_own),
		cmocka_unit_test(test_rule_breaking_samples_are_refused),
		cmocka_unit_test(test_pushgateway_urls),
		cmocka_unit_test(test_textfile_names),
		cmocka_unit_test(test_textfile_merge_keeps_what_the_push_does_not_carry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
