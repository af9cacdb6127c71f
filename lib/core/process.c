#include "lib/core/process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stddef.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


#define TRACKED_MAX 64

/* Read by the signal handler: plain slots, written before a child can be
 * signalled (0 is a free slot). */
static volatile pid_t tracked[TRACKED_MAX];
static volatile sig_atomic_t stop_signal;

void process_track(pid_t pid)
{
	for (size_t i = 0; i < TRACKED_MAX; i++)
		if (tracked[i] == 0) {
			tracked[i] = pid;
			return;
		}
}

void process_untrack(pid_t pid)
{
	for (size_t i = 0; i < TRACKED_MAX; i++)
		if (tracked[i] == pid)
			tracked[i] = 0;
}

static void on_stop_signal(int sig)
{
	stop_signal = sig;
	for (size_t i = 0; i < TRACKED_MAX; i++)
		if (tracked[i] > 0)
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

/* Read the child's stdout until it closes or the deadline passes. */
static int collect_output(int fd, double deadline, char *out, size_t cap)
{
	size_t used = 0;
	char sink[4096];

	for (;;) {
		double left = deadline - mono_now();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;
		int r;

		if (left <= 0)
			return -1;
		r = poll(&p, 1, (int)(left * 1000) + 1);
		if (r < 0 && errno == EINTR) {
			if (stop_signal)
				return -1;
			continue;
		}
		if (r <= 0)
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
static int spawn_bound_to_parent(char *const argv[], const int pipefd[2], pid_t *pid)
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
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		execvp(argv[0], argv);
		child_errno = errno;
		if (write(errpipe[1], &child_errno, sizeof(child_errno)) < 0)
			_exit(127);
		_exit(127);
	}
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

int process_run(char *const argv[], const char *what, double timeout, char *out, size_t cap,
		struct drctl_error *err)
{
	int pipefd[2], status = 0, e, timed_out;
	pid_t pid = -1;

	if (out && cap)
		out[0] = '\0';
	if (pipe2(pipefd, O_CLOEXEC) != 0)
		return err_set_errno(err, EXIT_FAILED, errno, what, NULL, "cannot run %s", what);
	e = spawn_bound_to_parent(argv, pipefd, &pid);
	close(pipefd[1]);
	if (e != 0) {
		close(pipefd[0]);
		return err_set_errno(err, e == ENOENT ? EXIT_USAGE : EXIT_FAILED, e, what,
				     "check the command's first word: a program on PATH or a full path",
				     "cannot run %s (%s)", what, argv[0]);
	}
	process_track(pid);
	timed_out = collect_output(pipefd[0], mono_now() + timeout, out, cap) != 0;
	close(pipefd[0]);
	if (timed_out)
		kill(pid, SIGTERM);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	process_untrack(pid);
	if (stop_signal)
		return err_set(err, EXIT_FAILED, what, NULL, "%s (%s) was stopped", what, argv[0]);
	if (timed_out)
		return err_set(err, EXIT_FAILED, what, "make the command finish sooner, or raise the timeout",
			       "%s (%s) did not finish within %.0f s and was stopped", what, argv[0], timeout);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (WIFEXITED(status))
			return err_set(err, EXIT_FAILED, what, "its own messages are above", "%s (%s) failed with exit status %d",
				       what, argv[0], WEXITSTATUS(status));
		return err_set(err, EXIT_FAILED, what, NULL, "%s (%s) was killed by signal %d", what, argv[0],
			       WTERMSIG(status));
	}
	return 0;
}
