#include "lib/core/process.h"

#include <signal.h>
#include <stddef.h>
#include <string.h>

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
