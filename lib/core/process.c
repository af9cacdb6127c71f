#include "lib/core/process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


#define TRACKED_MAX 64

/* Read by the signal handler: plain slots, written before a child can be
 * signalled (0 is a free slot). */
static volatile pid_t tracked[TRACKED_MAX];
static volatile sig_atomic_t stop_signal;

/* Threads start children side by side (components backed up at the same
 * time): a slot is claimed with a compare-and-swap, never by two. */
void process_track(pid_t pid)
{
	for (size_t i = 0; i < TRACKED_MAX; i++) {
		pid_t free_slot = 0;
		if (__atomic_compare_exchange_n(&tracked[i], &free_slot, pid, 0, __ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST))
			return;
	}
}

void process_untrack(pid_t pid)
{
	for (size_t i = 0; i < TRACKED_MAX; i++) {
		pid_t mine = pid;
		__atomic_compare_exchange_n(&tracked[i], &mine, 0, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	}
}

static void on_stop_signal(int sig)
{
	stop_signal = sig;
	for (size_t i = 0; i < TRACKED_MAX; i++)
		if (tracked[i] != 0) /* negative: a process group (process_run_shown) */
			kill(tracked[i], SIGTERM);
}

void process_catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int process_stop_requested(void)
{
	return (int)stop_signal;
}

static double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1 when fd has something to read (or is closed), 0 when the deadline
 * passes or a stop is asked for first. */
static int wait_readable(int fd, double deadline)
{
	for (;;) {
		double left = deadline - mono_now();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r;

		if (left <= 0)
			return 0;
		r = poll(&p, 1, (int)(left * 1000) + 1);
		if (r < 0 && errno == EINTR) {
			if (stop_signal)
				return 0;
			continue;
		}
		return r > 0;
	}
}

/* Read the child's stdout until it closes or the deadline passes. */
static int collect_output(int fd, double deadline, char *out, size_t cap)
{
	size_t used = 0;
	char sink[4096];

	for (;;) {
		ssize_t n;

		if (!wait_readable(fd, deadline))
			return -1;
		if (out && used + 1 < cap)
			n = read(fd, out + used, cap - 1 - used);
		else
			n = read(fd, sink, sizeof(sink));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		if (out && used + 1 < cap)
			used += (size_t)n;
		if (out)
			out[used] = '\0';
	}
}

/* fork + exec with the child bound to this process: should drctl die
 * (SIGKILL, a crash) while a command runs, the kernel kills the command
 * too (PR_SET_PDEATHSIG), so an orphaned "stop the agents" can never act
 * after a resumed run has started them again.  Returns 0 or an errno. */
static int spawn_bound_to_parent(char *const argv[], const int pipefd[2], int shown, pid_t *pid)
{
	pid_t parent = getpid();
	int errpipe[2], child_errno = 0;
	ssize_t n;

	if (pipe2(errpipe, O_CLOEXEC) != 0)
		return errno;
	*pid = fork();
	if (*pid < 0) {
		int e = errno;
		close(errpipe[0]);
		close(errpipe[1]);
		return e;
	}
	if (*pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127); /* the parent died before the line above */
		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		dup2(pipefd[1], STDOUT_FILENO);
		if (shown) {
			/* Its own group, so a timeout reaches what it starts. */
			setpgid(0, 0);
			dup2(pipefd[1], STDERR_FILENO);
		}
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		execvp(argv[0], argv);
		child_errno = errno;
		if (write(errpipe[1], &child_errno, sizeof(child_errno)) < 0)
			_exit(127);
		_exit(127);
	}
	if (shown)
		setpgid(*pid, *pid); /* also here: whichever runs first */
	close(errpipe[1]);
	/* exec closes errpipe (O_CLOEXEC): nothing read means it started */
	while ((n = read(errpipe[0], &child_errno, sizeof(child_errno))) < 0 && errno == EINTR)
		;
	close(errpipe[0]);
	if (n == (ssize_t)sizeof(child_errno)) {
		waitpid(*pid, NULL, 0);
		return child_errno;
	}
	return 0;
}

/* The child started with its stdout (and, shown, its stderr) into a pipe
 * whose read end is *fd. */
static int start_child(char *const argv[], const char *what, int shown, int *fd, pid_t *pid,
		       struct drctl_error *err)
{
	int pipefd[2], e;

	if (pipe2(pipefd, O_CLOEXEC) != 0)
		return err_set_errno(err, EXIT_FAILED, errno, what, NULL, "cannot run %s", what);
	e = spawn_bound_to_parent(argv, pipefd, shown, pid);
	close(pipefd[1]);
	if (e != 0) {
		close(pipefd[0]);
		return err_set_errno(err, e == ENOENT ? EXIT_USAGE : EXIT_FAILED, e, what,
				     "check the command's first word: a program on PATH or a full path",
				     "cannot run %s (%s)", what, argv[0]);
	}
	*fd = pipefd[0];
	return 0;
}

/* How the child ended, as the caller's result: cut_short when it was
 * stopped at the deadline; failed_hint says where its own words about a
 * failure went. */
static int child_outcome(char *const argv[], const char *what, int status, int cut_short, double timeout,
			 const char *failed_hint, struct drctl_error *err)
{
	if (stop_signal)
		return err_set(err, EXIT_FAILED, what, NULL, "%s (%s) was stopped", what, argv[0]);
	if (cut_short)
		return err_set(err, EXIT_FAILED, what, "make the command finish sooner, or raise its timeout",
			       "%s (%s) did not finish within %.0f s and was stopped", what, argv[0], timeout);
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		return err_set(err, EXIT_FAILED, what, failed_hint, "%s (%s) failed with exit status %d", what, argv[0],
			       WEXITSTATUS(status));
	if (!WIFEXITED(status))
		return err_set(err, EXIT_FAILED, what, NULL, "%s (%s) was killed by signal %d", what, argv[0],
			       WTERMSIG(status));
	return 0;
}

int process_run(char *const argv[], const char *what, double timeout, char *out, size_t cap,
		struct drctl_error *err)
{
	int fd, status = 0, timed_out;
	pid_t pid = -1;

	if (out && cap)
		out[0] = '\0';
	if (start_child(argv, what, 0, &fd, &pid, err) != 0)
		return -1;
	process_track(pid);
	timed_out = collect_output(fd, mono_now() + timeout, out, cap) != 0;
	close(fd);
	if (timed_out)
		kill(pid, SIGTERM);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	process_untrack(pid);
	return child_outcome(argv, what, status, timed_out, timeout, "its own messages are above", err);
}

/* The child's output onto stderr, each line after prefix, until it closes
 * (0) or the deadline passes or a stop is asked for (-1). */
static int relay_output(int fd, double deadline, const char *prefix)
{
	char buf[4096];
	int line_start = 1;

	for (;;) {
		ssize_t n;

		if (!wait_readable(fd, deadline))
			break;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!line_start)
				fputc('\n', stderr);
			return 0;
		}
		for (ssize_t i = 0; i < n;) {
			char *nl = memchr(buf + i, '\n', (size_t)(n - i));
			size_t len = nl ? (size_t)(nl - (buf + i)) + 1 : (size_t)(n - i);
			if (line_start)
				fputs(prefix, stderr);
			fwrite(buf + i, 1, len, stderr);
			line_start = nl != NULL;
			i += (ssize_t)len;
		}
		fflush(stderr);
	}
	if (!line_start)
		fputc('\n', stderr);
	return -1;
}

/* SIGTERM to the group, then SIGKILL if it has not ended after 10 s. */
static void stop_group(pid_t pid, int *status)
{
	kill(-pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		pid_t w = waitpid(pid, status, WNOHANG);
		if (w == pid || (w < 0 && errno != EINTR))
			return;
		nanosleep(&ts, NULL);
	}
	kill(-pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
}

int process_run_shown(char *const argv[], const char *what, double timeout, const char *prefix,
		      struct drctl_error *err)
{
	int fd, status = 0, cut_short;
	pid_t pid = -1;

	if (start_child(argv, what, 1, &fd, &pid, err) != 0)
		return -1;
	process_track(-pid);
	cut_short = relay_output(fd, mono_now() + timeout, prefix) != 0;
	close(fd);
	if (cut_short)
		stop_group(pid, &status);
	else
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	process_untrack(-pid);
	return child_outcome(argv, what, status, cut_short, timeout, "its own output is above", err);
}

int process_split_words(const char *command, const char *what, char *buf, size_t cap, char **argv, size_t max,
			struct drctl_error *err)
{
	size_t n = 0, len = command ? strlen(command) : 0;
	char *save = NULL, *word;

	if (len + 1 > cap)
		return err_set(err, EXIT_USAGE, what, NULL, "%s is too long (%zu bytes, at most %zu)", what, len, cap - 1);
	memcpy(buf, command ? command : "", len + 1);
	for (word = strtok_r(buf, " \t", &save); word; word = strtok_r(NULL, " \t", &save)) {
		if (n + 1 >= max)
			return err_set(err, EXIT_USAGE, what, NULL, "%s has more than %zu words", what, max - 1);
		argv[n++] = word;
	}
	argv[n] = NULL;
	if (n == 0)
		return err_set(err, EXIT_USAGE, what, "set it to the command to run, e.g. ./deploy.sh production full",
			       "%s is empty", what);
	return 0;
}
