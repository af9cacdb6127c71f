/*
 * The storage conformance suite's shared part: a test's repository, the
 * driver fixtures (fixtures.c), the assertions the cases share, and the
 * case lists (objects.c, locks.c) that test_storage_conformance.c runs
 * against every fixture.
 */
#ifndef DRCTL_TEST_STORAGE_CONFORMANCE_H
#define DRCTL_TEST_STORAGE_CONFORMANCE_H

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/clients/s3.h"
#include "lib/storage/repo.h"
#include "lib/storage/repo_lock.h"

struct storage_fixture;

/* One test's repository. */
struct conformance {
	const struct storage_fixture *fixture;
	struct config *cfg;  /* names the repository: a second handle opens it again */
	struct repo *repo;
	char priv[4096];     /* the fixture's own notes (the local one: its folder) */
};

struct storage_fixture {
	const char *type; /* the row of the driver table it tests */
	/* Make a fresh, empty repository: fill t->cfg and open t->repo. */
	int (*fresh)(struct conformance *t, struct drctl_error *err);
	/* Remove what fresh made (t->repo is closed already). */
	void (*clean)(struct conformance *t);
	/* How many temporaries the store holds, which the interface never
	 * shows (the local one: files named with REPO_RESERVED_MARK; S3:
	 * unfinished multipart uploads); -1 when counting fails. */
	long (*temporaries)(struct conformance *t);
};


/* One fixture per row of the driver table (fixtures.c). */
extern const struct storage_fixture conformance_fixtures[];
extern const size_t conformance_fixture_count;

/* Every case: setup makes a fresh repository of the fixture in *state. */
int setup(void **state);
int teardown(void **state);
#define CASE(f) { #f, f, setup, teardown, NULL }

/* The cases (objects.c, locks.c); initial_state is set to the fixture. */
extern const struct CMUnitTest conformance_object_cases[];
extern const size_t conformance_object_case_count;
extern const struct CMUnitTest conformance_lock_cases[];
extern const size_t conformance_lock_case_count;

/* --- assertions that say what differs; messages start with the driver -------- */
#define DRV(t) ((t)->fixture->type)

void ok(struct conformance *t, int rc, const struct drctl_error *err, const char *what, const char *name);
struct sink *open_writer(struct conformance *t, struct repo *r, const char *name);
void put(struct conformance *t, const char *name, const void *data, size_t len);
void put_text(struct conformance *t, const char *name, const char *text);
/* Read the whole object in reads of uneven sizes (when uneven). */
char *get(struct conformance *t, const char *name, size_t *len, int uneven);
void expect_content(struct conformance *t, const char *name, const void *want, size_t want_len, int uneven);
void expect_size(struct conformance *t, const char *name, uint64_t want);
/* Invisible: stat says missing and reading it is EXIT_NOT_FOUND naming it. */
void expect_missing(struct conformance *t, const char *name, const char *when);
void expect_no_temporaries(struct conformance *t, const char *when);
void join(char *out, size_t cap, const char *const *names, size_t n);
/* list of dir is exactly want, in this order. */
void expect_list(struct conformance *t, const char *dir, const char *const *want, size_t n_want, const char *when);
/* Deterministic bytes that are not all alike. */
void fill(unsigned char *buf, size_t len, uint32_t seed);
/* A writer that dies halfway, in a child process killed before it closes. */
void leave_dead_writer(struct conformance *t, const char *name, size_t len);

#endif
