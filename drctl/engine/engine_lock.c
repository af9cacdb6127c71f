#include "drctl/engine/engine_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/core/fsutil.h"
#include "lib/core/log.h"

/* The holder the lock file names, if any (caller frees). */
static json_t *read_holder(int fd)
{
	char buf[2048];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return json_loads(buf, 0, NULL);
}

/* Did the holder's run get as far as existing (its journal is there)? */
static int holder_started(const char *state_dir, json_t *h)
{
	char path[4200];
	const char *run = json_string_value(json_object_get(h, "run"));
	if (!run || strchr(run, '/'))
		return 1;
	snprintf(path, sizeof(path), "%s/runs/%s/journal", state_dir, run);
	return access(path, F_OK) == 0;
}

static void describe(json_t *h, char *out, size_t cap)
{
	snprintf(out, cap, "run %s (host %s, pid %lld, since %s)", json_string_value(json_object_get(h, "run")),
		 json_string_value(json_object_get(h, "host")),
		 (long long)json_integer_value(json_object_get(h, "pid")),
		 json_string_value(json_object_get(h, "since")));
}

static int write_holder(int fd, const char *run, struct drctl_error *err, const char *path)
{
	char host[256] = "?", since[32], *text;
	json_t *h;
	int rc = 0;

	gethostname(host, sizeof(host) - 1);
	format_utc(now_seconds(), since);
	h = json_pack("{s:s, s:s, s:I, s:s}", "run", run, "host", host, "pid", (json_int_t)getpid(), "since", since);
	text = json_dumps(h, JSON_COMPACT);
	json_decref(h);
	if (!text || ftruncate(fd, 0) != 0 || pwrite(fd, text, strlen(text), 0) != (ssize_t)strlen(text) ||
	    fsync(fd) != 0)
		rc = err_set_errno(err, EXIT_IO, errno, path, NULL, "cannot write the scenario lock %s", path);
	free(text);
	return rc;
}

int engine_lock_take(struct engine_lock *l, const char *state_dir, const char *name, const char *run, int steal,
		     struct drctl_error *err)
{
	json_t *holder = NULL;
	char who[600];

	l->fd = -1;
	if (fs_mkdir_p(state_dir, 0700, "check [state] dir", err) != 0)
		return -1;
	snprintf(l->path, sizeof(l->path), "%s/%s.lock", state_dir, name ? name : "scenario");
	l->fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (l->fd < 0)
		return err_set_errno(err, EXIT_IO, errno, l->path, "check [state] dir", "cannot open the scenario lock %s",
				     l->path);
	if (flock(l->fd, LOCK_EX | LOCK_NB) != 0) {
		holder = read_holder(l->fd);
		if (holder)
			describe(holder, who, sizeof(who));
		else
			snprintf(who, sizeof(who), "another drctl");
		if (name)
			err_set(err, EXIT_LOCKED, l->path, NULL, "%s is running: only one %s run at a time", who, name);
		else
			err_set(err, EXIT_LOCKED, l->path, NULL,
				"%s is acting on this platform: only one scenario run at a time", who);
		err_hint(err, "wait for it, or see it with `drctl scenario status %s`",
			 holder ? json_string_value(json_object_get(holder, "run")) : "");
		goto fail;
	}
	holder = read_holder(l->fd);
	if (holder && !holder_started(state_dir, holder)) {
		/* Killed before its run existed: it did nothing, so nothing is
		 * stale. */
		json_decref(holder);
		holder = NULL;
	}
	if (holder && json_string_value(json_object_get(holder, "run")) &&
	    strcmp(json_string_value(json_object_get(holder, "run")), run) != 0 && !steal) {
		describe(holder, who, sizeof(who));
		err_set(err, EXIT_LOCKED, l->path, NULL,
			"the scenario lock is stale: %s died without releasing it, perhaps in the middle of a step", who);
		err_hint(err,
			 "see where it stopped with `drctl scenario status %s`, resume it with `drctl scenario resume %s`, or take the lock over with --steal",
			 json_string_value(json_object_get(holder, "run")), json_string_value(json_object_get(holder, "run")));
		goto fail;
	}
	if (holder && steal && strcmp(json_string_value(json_object_get(holder, "run")), run) != 0) {
		describe(holder, who, sizeof(who));
		log_warn("taking over the stale scenario lock of %s (--steal)", who);
	}
	if (write_holder(l->fd, run, err, l->path) != 0)
		goto fail;
	json_decref(holder);
	return 0;
fail:
	json_decref(holder);
	close(l->fd);
	l->fd = -1;
	return -1;
}

void engine_lock_release(struct engine_lock *l)
{
	if (l->fd < 0)
		return;
	/* An empty file: nobody holds it, and nothing is stale. */
	if (ftruncate(l->fd, 0) == 0)
		fsync(l->fd);
	flock(l->fd, LOCK_UN);
	close(l->fd);
	l->fd = -1;
}
