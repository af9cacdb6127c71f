/*
 * unit_tmpdir: a unit test's own temporary folder, made under $TMPDIR (or
 * /tmp) and removed with everything in it.  Header only: each test is one
 * program.
 */
#ifndef DRCTL_TESTS_UNIT_TMPDIR_H
#define DRCTL_TESTS_UNIT_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

/* A new folder "drctl-<name>.XXXXXX" into out; 0, or -1 when mkdtemp fails. */
static inline int unit_tmpdir_make(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/drctl-%s.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", name);
	return mkdtemp(out) ? 0 : -1;
}

static inline int unit_tmpdir_remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* rm -rf dir */
static inline int unit_tmpdir_remove(const char *dir)
{
	return nftw(dir, unit_tmpdir_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
