/*
 * process: the child processes drctl runs (pg_dump, pg_restore, hooks), and
 * the stop that SIGINT or SIGTERM asks for.
 *
 * A scenario run that is told to stop (Ctrl-C, or SIGTERM from Kubernetes
 * when a Job is deleted) must stop the child it is waiting for, journal that
 * it stopped, and leave the run resumable.  Children are tracked here when
 * they are started, so the signal handler can pass the signal on to them
 * (kill() is async-signal-safe), and long waits (a rollout, a restore)
 * check process_stop_requested() between polls.
 */
#ifndef DRCTL_CORE_PROCESS_H
#define DRCTL_CORE_PROCESS_H

#include <stddef.h>
#include <sys/types.h>

#include "lib/core/error.h"

/* Remember / forget a running child. */
void process_track(pid_t pid);
void process_untrack(pid_t pid);

/* Install SIGINT and SIGTERM handlers that record the signal and pass it on
 * to every tracked child. */
void process_catch_stop_signals(void);
/* 0, or the signal that asked drctl to stop (SIGINT, SIGTERM). */
int process_stop_requested(void);

/* Run argv (no shell; argv[0] found on PATH) to its end, at most timeout
 * seconds, with stdout into out (NUL-terminated, at most cap - 1 bytes; the
 * rest is read and dropped) when out is not NULL; stderr is passed through.
 * what: "[agents] stop_command", for messages.  0 when it exited 0. */
int process_run(char *const argv[], const char *what, double timeout, char *out, size_t cap,
		struct drctl_error *err);

/* Run argv (no shell) to its end, at most timeout seconds, with its stdout
 * and stderr shown on drctl's stderr as they come, each line after prefix
 * ("deploy| "): for hooks whose output the operator must see (a deploy).
 * The command runs in a process group of its own, so the timeout and a stop
 * signal reach what it started too.  Its output is shown, never kept. */
int process_run_shown(char *const argv[], const char *what, double timeout, const char *prefix,
		      struct drctl_error *err);

/* Split a command line from the configuration into argv on blanks (no
 * quoting, no shell): words are copied into buf, argv gets at most max - 1
 * of them and a NULL.  -1 with err naming `what` when it is empty or does
 * not fit. */
int process_split_words(const char *command, const char *what, char *buf, size_t cap, char **argv, size_t max,
			struct drctl_error *err);

#endif
