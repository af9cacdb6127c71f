/*
 * Unit tests of lib/core/process.c's hook runner: process_split_words (a
 * configured command into argv, no shell) and process_run_shown (the
 * command's stdout and stderr shown on drctl's stderr line by line after a
 * prefix; its exit status; a timeout that stops what the command started
 * too, not only the command).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/core/process.h"

static void test_split_words_on_blanks_without_a_shell(void **state)
{
	char buf[256], *argv[8];
	struct drctl_error err;

	(void)state;
	err_clear(&err);
	assert_int_equal(process_split_words("./deploy.sh  production\tfull $HOME;rm", "[scenario] deploy_command", buf,
					     sizeof(buf), argv, 8, &err), 0);
	assert_string_equal(argv[0], "./deploy.sh");
	assert_string_equal(argv[1], "production");
	assert_string_equal(argv[2], "full");
	assert_string_equal(argv[3], "$HOME;rm"); /* a word, never expanded */
	assert_null(argv[4]);
}

static void test_split_words_refuses_empty_and_too_long(void **state)
{
	char buf[16], *argv[3];
	struct drctl_error err;

	(void)state;
	err_clear(&err);
	assert_int_equal(process_split_words("  \t ", "[scenario] deploy_command", buf, sizeof(buf), argv, 3, &err), -1);
	assert_int_equal(err.code, EXIT_USAGE);
	assert_non_null(strstr(err.message, "[scenario] deploy_command is empty"));
	err_clear(&err);
	assert_int_equal(process_split_words("a b c", "[x] y", buf, sizeof(buf), argv, 3, &err), -1);
	assert_non_null(strstr(err.message, "more than 2 words"));
	err_clear(&err);
	assert_int_equal(process_split_words("a-command-longer-than-sixteen", "[x] y", buf, sizeof(buf), argv, 3, &err), -1);
	assert_non_null(strstr(err.message, "too long"));
}

/* Run process_run_shown with stderr into a file; returns its rc, the
 * stderr text in out. */
static int shown(char *const argv[], double timeout, struct drctl_error *err, char *out, size_t cap)
{
	char path[] = "/tmp/drctl-process.XXXXXX";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO), rc;
	ssize_t n;

	assert_true(fd >= 0 && saved >= 0);
	unlink(path);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	rc = process_run_shown(argv, "[scenario] deploy_command", timeout, "deploy| ", err);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, out, cap - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	return rc;
}

static void test_run_shown_prefixes_every_line_of_stdout_and_stderr(void **state)
{
	char *argv[] = { "sh", "-c", "echo one; echo two >&2; printf three", NULL }, out[512];
	struct drctl_error err;

	(void)state;
	err_clear(&err);
	assert_int_equal(shown(argv, 10, &err, out, sizeof(out)), 0);
	assert_string_equal(out, "deploy| one\ndeploy| two\ndeploy| three\n");
}

static void test_run_shown_reports_the_exit_status(void **state)
{
	char *argv[] = { "sh", "-c", "echo broken; exit 3", NULL }, *missing[] = { "/nonexistent/deploy.sh", NULL }, out[512];
	struct drctl_error err;

	(void)state;
	err_clear(&err);
	assert_int_equal(shown(argv, 10, &err, out, sizeof(out)), -1);
	assert_non_null(strstr(err.message, "[scenario] deploy_command (sh) failed with exit status 3"));
	assert_string_equal(out, "deploy| broken\n");
	err_clear(&err);
	assert_int_equal(shown(missing, 10, &err, out, sizeof(out)), -1);
	assert_int_equal(err.code, EXIT_USAGE);
	assert_non_null(strstr(err.message, "cannot run [scenario] deploy_command (/nonexistent/deploy.sh)"));
}

/* Gone, or a zombie waiting for a parent that may never reap it. */
static int is_gone(pid_t pid)
{
	char path[64], stat[256];
	FILE *f;
	char *p;

	if (kill(pid, 0) != 0 && errno == ESRCH)
		return 1;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if (!(f = fopen(path, "r")))
		return 1;
	p = fgets(stat, sizeof(stat), f);
	fclose(f);
	p = p ? strrchr(stat, ')') : NULL;
	return p && p[1] == ' ' && p[2] == 'Z';
}

static void test_run_shown_timeout_stops_what_the_command_started(void **state)
{
	char file[] = "/tmp/drctl-process-pid.XXXXXX", cmd[256], out[512];
	char *argv[] = { "sh", "-c", cmd, NULL };
	struct drctl_error err;
	struct timespec pause = { 0, 200 * 1000 * 1000 };
	long child = 0;
	FILE *f;
	int fd = mkstemp(file), gone = 0;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	/* The command starts a sleeper and waits for it: only stopping the
	 * whole group ends both (the sleeper holds the output pipe open). */
	snprintf(cmd, sizeof(cmd), "sleep 60 & echo $! > %s; echo started; wait", file);
	err_clear(&err);
	assert_int_equal(shown(argv, 1, &err, out, sizeof(out)), -1);
	assert_non_null(strstr(err.message, "did not finish within 1 s and was stopped"));
	assert_string_equal(out, "deploy| started\n");
	f = fopen(file, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%ld", &child), 1);
	fclose(f);
	unlink(file);
	for (int i = 0; i < 25 && !gone; i++) {
		gone = is_gone((pid_t)child);
		if (!gone)
			nanosleep(&pause, NULL);
	}
	assert_true(gone);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_words_on_blanks_without_a_shell),
		cmocka_unit_test(test_split_words_refuses_empty_and_too_long),
		cmocka_unit_test(test_run_shown_prefixes_every_line_of_stdout_and_stderr),
		cmocka_unit_test(test_run_shown_reports_the_exit_status),
		cmocka_unit_test(test_run_shown_timeout_stops_what_the_command_started),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
