/*
 * error: the one way failures travel in drctl.
 *
 * A function that can fail returns a status (0 ok, -1 failed) and fills a
 * caller-owned `struct drctl_error`.  The error carries what happened, the
 * thing it is about (an object, a file, a database) and a hint: the next
 * command for the operator.  Nothing below the command's top function prints
 * an error; the top function prints it once.  The first error set wins, so a
 * cleanup failure never hides the cause.
 */
#ifndef DRCTL_ERROR_H
#define DRCTL_ERROR_H

#include <stddef.h>

/* Exit codes, documented in the README. */
enum drctl_exit {
	EXIT_OK = 0,
	EXIT_FAILED = 1,       /* the operation failed (backup, restore, verify found damage) */
	EXIT_USAGE = 2,        /* bad command line or configuration */
	EXIT_NOT_FOUND = 3,    /* the backup set / object / key asked for does not exist */
	EXIT_INTEGRITY = 4,    /* a signature, hash or format check failed: data is not trusted */
	EXIT_LOCKED = 5,       /* another drctl holds the repository lock */
	EXIT_IO = 6,           /* storage or network I/O failed (disk full, unwritable, connection) */
	EXIT_WAITING = 7,      /* a scenario run waits at a gate: a person acts, then resume --confirm */
};

struct drctl_error {
	int code;              /* one of enum drctl_exit; 0 when no error is set */
	char message[768];     /* what happened */
	char subject[512];     /* the thing it is about, may be empty */
	char hint[512];        /* the next step, may be empty */
};

void err_clear(struct drctl_error *err);
int err_is_set(const struct drctl_error *err);

/* Set the error (only if none is set yet) and return -1, so callers can
 * write `return err_set(...)`.  subject and hint may be NULL. */
int err_set(struct drctl_error *err, int code, const char *subject,
	    const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Like err_set, appending ": strerror(errnum)". */
int err_set_errno(struct drctl_error *err, int code, int errnum,
		  const char *subject, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* Set only the hint (overwrites), e.g. when the caller knows the better next step. */
void err_hint(struct drctl_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prefix context to the message of an already-set error ("backup of files: ..."). */
void err_prefix(struct drctl_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Append the last OpenSSL error queue entry to a message buffer; used by crypto code. */
const char *err_openssl_reason(void);

#endif
