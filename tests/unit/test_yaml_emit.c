/* yaml_emit: what the manifests and their ConfigMap are written with.  A
 * string is plain only when YAML 1.1 (Kubernetes) and 1.2 (Prometheus)
 * both read it back as that string; other values are quoted or a literal
 * block; nesting, flow sequences and empty containers come out as expected
 * (the texts below were checked with PyYAML to load as the same tree). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "schedules/yaml_emit.h"

/* doc (consumed) comes out as exactly want. */
static void expect_yaml(json_t *doc, const char *want)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	yaml_emit(f, doc);
	assert_int_equal(fclose(f), 0);
	json_decref(doc);
	assert_string_equal(text, want);
	free(text);
}

static void test_plain_only_where_no_reader_takes_it_for_another_type(void **state)
{
	static const char *const plain[] = { "drctl", "batch/v1", "app.kubernetes.io/name", "/etc/drctl/drctl.conf",
					     "Etc/UTC", "drctl-backup", "RuntimeDefault", "_x", "a-b.c" };
	static const char *const quoted[] = { "", "0400", "500m", "2Gi", "yes", "No", "on", "OFF", "y", "n", "true",
					      "null", "~", "-m", "--deep", ".inf", "0 2 * * *", "a: b", "a #b",
					      "ghcr.io/x:1", "$(DRCTL_RUN)", "a\nb", "*", "&x", "!x", "é" };

	(void)state;
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		assert_true(yaml_plain_ok(plain[i]));
	for (size_t i = 0; i < sizeof(quoted) / sizeof(quoted[0]); i++)
		assert_false(yaml_plain_ok(quoted[i]));
}

static void test_mappings_sequences_and_scalars(void **state)
{
	json_t *doc = json_pack("{s:s, s:{s:s, s:i}, s:[{s:s, s:[s, s]}, {s:s}], s:{}, s:[], s:b, s:n, s:s}", "apiVersion",
				"batch/v1", "metadata", "name", "drctl-backup", "port", 9091, "containers", "name", "a",
				"command", "drctl", "--deep", "name", "b", "emptyDir", "items", "readOnly", 1, "none",
				"mode", "0400");

	(void)state;
	expect_yaml(doc, "apiVersion: batch/v1\n"
			 "metadata:\n"
			 "  name: drctl-backup\n"
			 "  port: 9091\n"
			 "containers:\n"
			 "  - name: a\n"
			 "    command: [\"drctl\", \"--deep\"]\n"
			 "  - name: b\n"
			 "emptyDir: {}\n"
			 "items: []\n"
			 "readOnly: true\n"
			 "none: null\n"
			 "mode: \"0400\"\n");
}

static void test_text_with_lines_is_a_literal_block_with_its_chomping(void **state)
{
	json_t *doc = json_pack("{s:{s:s, s:s, s:s}}", "data", "one", "[a]\nk = v\n\n# c\n", "two", "x\ny", "three",
				"x\n\n");

	(void)state;
	expect_yaml(doc, "data:\n"
			 "  one: |\n"
			 "    [a]\n"
			 "    k = v\n"
			 "\n"
			 "    # c\n"
			 "  two: |-\n"
			 "    x\n"
			 "    y\n"
			 "  three: |+\n"
			 "    x\n"
			 "\n");
}

static void test_what_a_block_cannot_hold_is_double_quoted_with_escapes(void **state)
{
	json_t *doc = json_pack("{s:s, s:s, s:s, s:s}", "lead", " x\ny", "cr", "a\r\nb", "quote", "say \"hi\" \\o/",
				"ctl", "a\x01");

	(void)state;
	expect_yaml(doc, "lead: \" x\\ny\"\n"
			 "cr: \"a\\r\\nb\"\n"
			 "quote: \"say \\\"hi\\\" \\\\o/\"\n"
			 "ctl: \"a\\x01\"\n");
}

static void test_long_or_nested_sequences_go_in_block_style(void **state)
{
	json_t *long_list = json_array(), *doc;

	(void)state;
	for (int i = 0; i < 6; i++)
		json_array_append_new(long_list, json_string("/run/drctl/secret-volumes/x"));
	doc = json_pack("{s:o, s:[[s]]}", "command", long_list, "nested", "a");
	expect_yaml(doc, "command:\n"
			 "  - /run/drctl/secret-volumes/x\n"
			 "  - /run/drctl/secret-volumes/x\n"
			 "  - /run/drctl/secret-volumes/x\n"
			 "  - /run/drctl/secret-volumes/x\n"
			 "  - /run/drctl/secret-volumes/x\n"
			 "  - /run/drctl/secret-volumes/x\n"
			 "nested:\n"
			 "  - [\"a\"]\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_only_where_no_reader_takes_it_for_another_type),
		cmocka_unit_test(test_mappings_sequences_and_scalars),
		cmocka_unit_test(test_text_with_lines_is_a_literal_block_with_its_chomping),
		cmocka_unit_test(test_what_a_block_cannot_hold_is_double_quoted_with_escapes),
		cmocka_unit_test(test_long_or_nested_sequences_go_in_block_style),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
