/*
 * repo_local: the repository as a local folder (the default), the row
 * `[repository] type = local` of the driver table.  Object names map onto
 * paths under [repository] path here and nowhere else.
 *
 * Atomic publication: an object is written as "<name>.tmp-<pid>-<n>" in its
 * final folder, fsync'd, renamed onto its name, and the folder fsync'd, so a
 * crash leaves either the old state or the new one plus a temporary file that
 * `list` hides and `remove_dir` (prune) removes.  Locks are objects like
 * any other (lib/storage/repo_lock.c), the same as in a bucket.
 */
#include "lib/storage/repo.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/core/fsutil.h"
#include "lib/storage/repo_private.h"

struct repo_local {
	struct repo base;
	char root[PATH_MAX];
};

static const char TMP_MARK[] = REPO_RESERVED_MARK;
static const char REPO_WRITABLE_HINT[] = "check that the repository folder exists and is writable by this user";

static int local_path(struct repo_local *l, const char *name, char *out, size_t cap, struct drctl_error *err)
{
	/* Checked by repo.c already; again here, as this is where a name
	 * becomes a path. */
	if (repo_name_check(name, err) != 0)
		return -1;
	if ((size_t)snprintf(out, cap, "%s/%s", l->root, name) >= cap)
		return err_set(err, EXIT_FAILED, name, NULL, "repository path too long for %s", name);
	return 0;
}

/* --- writing ---------------------------------------------------------------- */

/* Writeback is started every WRITEBACK_STEP bytes while an object is
 * written, so the fsync that publication needs (durability before the
 * rename) finds little left to do instead of stalling on the whole object. */
#define WRITEBACK_STEP (8u << 20)

struct local_writer {
	struct sink base;
	int fd;
	uint64_t written, flushed;
	char final[PATH_MAX];
	char tmp[PATH_MAX];
	const char *repo_desc;
};

static int io_error(struct drctl_error *err, int errnum, const char *path, const char *what)
{
	if (errnum == ENOSPC || errnum == EDQUOT)
		return err_set_errno(err, EXIT_IO, errnum, path,
				     "free space in the repository (e.g. `drctl prune`), then run the backup again; complete backups already there were not touched",
				     "the repository is full while %s %s", what, path);
	return err_set_errno(err, EXIT_IO, errnum, path, NULL, "cannot %s %s", what, path);
}

static int local_writer_write(struct sink *s, const void *buf, size_t len, struct drctl_error *err)
{
	struct local_writer *w = (struct local_writer *)s;
	if (fs_write_all(w->fd, buf, len) != 0)
		return io_error(err, errno, w->final, "writing");
	w->written += len;
	if (w->written - w->flushed >= WRITEBACK_STEP) {
		/* Asynchronous: queue the range for writeback and go on. */
		sync_file_range(w->fd, (off_t)w->flushed, (off_t)(w->written - w->flushed), SYNC_FILE_RANGE_WRITE);
		w->flushed = w->written;
	}
	return 0;
}

static void local_writer_abort(struct sink *s)
{
	struct local_writer *w = (struct local_writer *)s;
	if (w->fd >= 0)
		close(w->fd);
	unlink(w->tmp);
	free(w);
}

static int local_writer_close(struct sink *s, struct drctl_error *err)
{
	struct local_writer *w = (struct local_writer *)s;

	if (fsync(w->fd) != 0) {
		io_error(err, errno, w->final, "flushing");
		goto fail;
	}
	if (close(w->fd) != 0) {
		w->fd = -1;
		io_error(err, errno, w->final, "closing");
		goto fail;
	}
	w->fd = -1;
	if (rename(w->tmp, w->final) != 0) {
		io_error(err, errno, w->final, "publishing");
		goto fail;
	}
	if (fs_fsync_dir_of(w->final) != 0) {
		/* The object is in place; only its durability is uncertain. */
		io_error(err, errno, w->final, "syncing the folder of");
		free(w);
		return -1;
	}
	free(w);
	return 0;
fail:
	local_writer_abort(s);
	return -1;
}

static const struct sink_ops local_writer_ops = {
	local_writer_write, local_writer_close, local_writer_abort,
};

static struct sink *local_open_write(struct repo *r, const char *name, struct drctl_error *err)
{
	struct repo_local *l = (struct repo_local *)r;
	static unsigned counter;
	struct local_writer *w = calloc(1, sizeof(*w));

	if (!w) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		return NULL;
	}
	w->fd = -1;
	if (local_path(l, name, w->final, sizeof(w->final), err) != 0)
		goto fail;
	if (snprintf(w->tmp, sizeof(w->tmp), "%s%s%ld-%u", w->final, TMP_MARK, (long)getpid(),
		     __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED)) >= (int)sizeof(w->tmp)) {
		err_set(err, EXIT_FAILED, name, NULL, "repository path too long for %s", name);
		goto fail;
	}
	if (fs_mkdir_parents(w->final, 0750, REPO_WRITABLE_HINT, err) != 0)
		goto fail;
	w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (w->fd < 0) {
		io_error(err, errno, w->final, "creating");
		if (errno == EACCES || errno == EROFS)
			err_hint(err, "make %s writable by this user, or point [repository] path elsewhere", l->root);
		goto fail;
	}
	w->base.ops = &local_writer_ops;
	return &w->base;
fail:
	free(w);
	return NULL;
}

/* --- reading ---------------------------------------------------------------- */

struct local_reader {
	struct source base;
	int fd;
	char path[PATH_MAX];
};

static int local_reader_read(struct source *s, void *buf, size_t cap, size_t *got, struct drctl_error *err)
{
	struct local_reader *rd = (struct local_reader *)s;
	for (;;) {
		ssize_t n = read(rd->fd, buf, cap);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return io_error(err, errno, rd->path, "reading");
		*got = (size_t)n;
		return 0;
	}
}

static void local_reader_close(struct source *s)
{
	struct local_reader *rd = (struct local_reader *)s;
	close(rd->fd);
	free(rd);
}

static const struct source_ops local_reader_ops = { local_reader_read, local_reader_close };

static int local_is_file(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

static struct source *local_open_read(struct repo *r, const char *name, struct drctl_error *err)
{
	struct repo_local *l = (struct repo_local *)r;
	struct local_reader *rd = calloc(1, sizeof(*rd));

	if (!rd) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		return NULL;
	}
	if (local_path(l, name, rd->path, sizeof(rd->path), err) != 0)
		goto fail;
	rd->fd = open(rd->path, O_RDONLY | O_CLOEXEC);
	if (rd->fd >= 0 && !local_is_file(rd->fd)) {
		/* A folder is not an object. */
		close(rd->fd);
		rd->fd = -1;
		errno = ENOENT;
	}
	if (rd->fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			err_set(err, EXIT_NOT_FOUND, name, NULL, "%s is missing from %s", name, r->description);
		else
			io_error(err, errno, rd->path, "opening");
		goto fail;
	}
	posix_fadvise(rd->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	rd->base.ops = &local_reader_ops;
	return &rd->base;
fail:
	free(rd);
	return NULL;
}

/* --- listing, stat, removal --------------------------------------------------- */

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int local_list(struct repo *r, const char *dir, char ***names, size_t *n, struct drctl_error *err)
{
	struct repo_local *l = (struct repo_local *)r;
	char path[PATH_MAX];
	char **out = NULL;
	size_t count = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	*names = NULL;
	*n = 0;
	if (local_path(l, dir, path, sizeof(path), err) != 0)
		return -1;
	d = opendir(path);
	if (!d) {
		/* A missing folder, or an object's name, holds nothing. */
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return io_error(err, errno, path, "listing");
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strstr(de->d_name, TMP_MARK))
			continue;
		if (count == cap) {
			char **nn = realloc(out, (cap = cap ? cap * 2 : 32) * sizeof(*out));
			if (!nn)
				goto oom;
			out = nn;
		}
		if (!(out[count] = strdup(de->d_name)))
			goto oom;
		count++;
	}
	closedir(d);
	if (count)
		qsort(out, count, sizeof(*out), cmp_names);
	*names = out;
	*n = count;
	return 0;
oom:
	closedir(d);
	repo_names_free(out, count);
	return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory listing %s", path);
}

static int local_stat(struct repo *r, const char *name, uint64_t *size, struct drctl_error *err)
{
	struct repo_local *l = (struct repo_local *)r;
	char path[PATH_MAX];
	struct stat st;

	if (local_path(l, name, path, sizeof(path), err) != 0)
		return -1;
	if (stat(path, &st) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return io_error(err, errno, path, "inspecting");
	}
	if (!S_ISREG(st.st_mode))
		return 0; /* a folder is not an object */
	if (size)
		*size = (uint64_t)st.st_size;
	return 1;
}

static int remove_tree(int parent, const char *name, const char *shown, struct drctl_error *err)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *de;

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ENOTDIR || errno == ELOOP)
			return unlinkat(parent, name, 0) == 0 ? 0 : io_error(err, errno, shown, "removing");
		return io_error(err, errno, shown, "opening");
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return io_error(err, errno, shown, "listing");
	}
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN) {
			/* remove_tree unlinks what turns out not to be a folder. */
			if (remove_tree(dirfd(d), de->d_name, shown, err) != 0)
				goto fail;
		} else if (unlinkat(dirfd(d), de->d_name, 0) != 0) {
			io_error(err, errno, shown, "removing");
			goto fail;
		}
	}
	closedir(d);
	if (unlinkat(parent, name, AT_REMOVEDIR) != 0)
		return io_error(err, errno, shown, "removing");
	return 0;
fail:
	closedir(d);
	return -1;
}

static int local_remove_dir(struct repo *r, const char *dir, struct drctl_error *err)
{
	struct repo_local *l = (struct repo_local *)r;
	char path[PATH_MAX];
	struct stat st;

	if (local_path(l, dir, path, sizeof(path), err) != 0)
		return -1;
	if (lstat(path, &st) != 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : io_error(err, errno, path, "inspecting");
	/* Only a folder: an object of that name is left alone. */
	if (!S_ISDIR(st.st_mode))
		return 0;
	if (remove_tree(AT_FDCWD, path, path, err) != 0)
		return -1;
	fs_fsync_dir_of(path);
	return 0;
}

static int local_remove(struct repo *r, const char *name, struct drctl_error *err)
{
	struct repo_local *l = (struct repo_local *)r;
	char path[PATH_MAX];

	if (local_path(l, name, path, sizeof(path), err) != 0)
		return -1;
	if (unlink(path) != 0) {
		if (errno == ENOENT)
			return 0;
		return io_error(err, errno, path, "remove");
	}
	if (fs_fsync_dir_of(path) != 0)
		return io_error(err, errno, path, "make durable the removal of");
	return 0;
}

static void local_close(struct repo *r)
{
	free(r);
}

static const struct repo_ops local_ops = {
	local_open_write, local_open_read, local_list, local_stat,
	local_remove_dir, local_close, local_remove,
	NULL, /* no uploads: remove_dir takes a dead writer's temporaries */
	NULL, /* no retention: a folder keeps nothing from removal */
};

static int local_open(struct repo **out, const struct config *cfg, enum repo_open_mode mode,
		      struct drctl_error *err)
{
	const char *path = config_get_path(cfg, "repository", "path");
	struct repo_local *l;
	struct stat st;

	*out = NULL;
	if (!path || !*path)
		return err_set(err, EXIT_USAGE, "[repository] path", "set [repository] path in the configuration (or DRCTL_REPOSITORY_PATH)",
			       "no repository path is configured");
	if (mode == REPO_CREATE && fs_mkdir_p(path, 0750, REPO_WRITABLE_HINT, err) != 0)
		return -1;
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return err_set(err, EXIT_NOT_FOUND, path,
			       "check [repository] path, or create the repository with `drctl init --repository PATH`",
			       "repository folder %s does not exist", path);
	l = calloc(1, sizeof(*l));
	if (!l)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	if (!realpath(path, l->root))
		snprintf(l->root, sizeof(l->root), "%s", path);
	l->base.ops = &local_ops;
	if (snprintf(l->base.description, sizeof(l->base.description), "local repository %s", l->root) < 0)
		l->base.description[0] = '\0';
	*out = &l->base;
	return 0;
}

const struct repo_driver repo_driver_local = {
	.type = "local",
	.summary = "a folder on this machine ([repository] path)",
	.caps = REPO_CAP_FOLDERS | REPO_CAP_ATOMIC_RENAME,
	.open = local_open,
};
