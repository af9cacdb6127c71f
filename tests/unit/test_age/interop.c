/*
 * age interoperability: the stock `age` decrypts what drctl wrote, drctl
 * decrypts what the stock `age` wrote (scripts/install-deps.sh installs the
 * tools; the test fails without them).
 */
#include "tests/unit/test_age/age_test.h"

/* --- interoperability with the stock tools ---------------------------------------- */

static int tool_on_path(const char *name)
{
	const char *path = getenv("PATH");
	char buf[1024];

	while (path && *path) {
		const char *end = strchr(path, ':');
		size_t len = end ? (size_t)(end - path) : strlen(path);
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, path, name);
		if (access(buf, X_OK) == 0)
			return 1;
		path = end ? end + 1 : NULL;
	}
	return 0;
}

/* Run argv (no shell) with stdout into out_path if given, stderr into
 * /dev/null if quiet; returns the exit status. */
static int run_tool(char *const argv[], const char *out_path, int quiet)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status = 0;

	assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
	if (out_path)
		assert_int_equal(posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600), 0);
	if (quiet)
		assert_int_equal(posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0), 0);
	assert_int_equal(posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

struct interop {
	char dir[64], key[128], plain[128], ct[128], out[128];
	struct age_identity *ids;
	size_t n;
	char recipient[128];
};

static int interop_setup(void **state)
{
	static struct interop t;
	struct drctl_error err;
	uint8_t *text;
	size_t len;
	char *pk;

	if (!tool_on_path("age") || !tool_on_path("age-keygen"))
		fail_msg("the stock `age` and `age-keygen` are not on PATH: this test checks that they and drctl read "
			 "each other's files; scripts/install-deps.sh installs them (Debian package age)");
	err_clear(&err);
	snprintf(t.dir, sizeof(t.dir), "/tmp/drctl-age-test.XXXXXX");
	assert_non_null(mkdtemp(t.dir));
	snprintf(t.key, sizeof(t.key), "%s/key.txt", t.dir);
	snprintf(t.plain, sizeof(t.plain), "%s/plain", t.dir);
	snprintf(t.ct, sizeof(t.ct), "%s/ct.age", t.dir);
	snprintf(t.out, sizeof(t.out), "%s/out", t.dir);
	{
		char *argv[] = { "age-keygen", "-o", t.key, NULL };
		assert_int_equal(run_tool(argv, NULL, 1), 0);
	}
	text = read_all(t.key, &len);
	assert_int_equal(age_identities_parse((char *)text, len, &t.ids, &t.n, &err), 0);
	assert_int_equal(t.n, 1);
	/* age-keygen's "# public key:" comment is the recipient we derive. */
	pk = strstr((char *)text, "# public key: ");
	assert_non_null(pk);
	snprintf(t.recipient, sizeof(t.recipient), "%.62s", pk + 14);
	{
		struct age_recipient r;
		char mine[128];
		age_identity_to_recipient(&t.ids[0], &r);
		age_recipient_format(&r, mine);
		assert_string_equal(mine, t.recipient);
	}
	free(text);
	*state = &t;
	return 0;
}

static int interop_teardown(void **state)
{
	struct interop *t = *state;

	if (t) {
		unlink(t->key), unlink(t->plain), unlink(t->ct), unlink(t->out);
		rmdir(t->dir);
		age_identities_free(t->ids, t->n);
	}
	return 0;
}

static void test_stock_age_decrypts_what_drctl_wrote(void **state)
{
	static const size_t sizes[] = { 0, CHUNK, 3 * CHUNK + 7 };
	struct interop *t = *state;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct age_recipient rs[2];
		struct age_identity other;
		uint8_t *plain = random_bytes(sizes[i]), *back;
		char *ct = NULL;
		size_t ct_len = 0, back_len = 0;
		/* stdout, not -o: age creates no -o file for an empty plaintext */
		char *argv[] = { "age", "-d", "-i", t->key, t->ct, NULL };

		new_identity(&other, &rs[0]); /* the stock tool must find its stanza second */
		age_identity_to_recipient(&t->ids[0], &rs[1]);
		encrypt_buf(plain, sizes[i], rs, 2, &ct, &ct_len);
		write_file(t->ct, ct, ct_len);
		assert_int_equal(run_tool(argv, t->out, 0), 0);
		back = read_all(t->out, &back_len);
		assert_int_equal(back_len, sizes[i]);
		assert_memory_equal(back, plain, sizes[i]);
		free(back);
		free(ct);
		free(plain);
	}
}

static void test_drctl_decrypts_what_stock_age_wrote(void **state)
{
	static const size_t sizes[] = { 0, 1, CHUNK, 2 * CHUNK + 1 };
	struct interop *t = *state;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *plain = random_bytes(sizes[i]), *ct;
		size_t ct_len;
		struct decrypted d;
		char *argv[] = { "age", "-r", t->recipient, "-o", t->ct, t->plain, NULL };

		write_file(t->plain, plain, sizes[i]);
		assert_int_equal(run_tool(argv, NULL, 0), 0);
		ct = read_all(t->ct, &ct_len);
		decrypt_buf(ct, ct_len, t->ids, t->n, NULL, 5000, &d);
		if (d.failure != AGE_OK)
			fail_msg("size %zu: %s: %s", sizes[i], age_failure_name(d.failure), d.err.message);
		assert_int_equal(d.len, sizes[i]);
		assert_memory_equal(d.plain, plain, sizes[i]);
		free(d.plain);
		free(ct);
		free(plain);
	}
}

const struct CMUnitTest age_interop_tests[] = {
	cmocka_unit_test_setup_teardown(test_stock_age_decrypts_what_drctl_wrote, interop_setup, interop_teardown),
	cmocka_unit_test_setup_teardown(test_drctl_decrypts_what_stock_age_wrote, interop_setup, interop_teardown),
};

const size_t age_interop_test_count = sizeof(age_interop_tests) / sizeof(age_interop_tests[0]);
