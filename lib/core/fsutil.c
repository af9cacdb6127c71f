#include "lib/core/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fs_mkdir_p(const char *path, mode_t mode, const char *hint, struct drctl_error *err)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len + 2 > sizeof(buf))
		return err_set(err, EXIT_USAGE, path, hint, "folder name too long or empty: \"%s\"", path);
	memcpy(buf, path, len);
	buf[len] = '/';
	buf[len + 1] = '\0';
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) != 0 && errno != EEXIST)
			return err_set_errno(err, EXIT_IO, errno, buf, hint, "cannot create folder %s", buf);
		*p = '/';
	}
	return 0;
}

int fs_mkdir_parents(const char *path, mode_t mode, const char *hint, struct drctl_error *err)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (!slash || slash == path)
		return 0;
	if ((size_t)(slash - path) >= sizeof(dir))
		return err_set(err, EXIT_USAGE, path, hint, "path too long: %s", path);
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	return fs_mkdir_p(dir, mode, hint, err);
}

int fs_fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, rc;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) >= sizeof(dir))
		return errno = ENAMETOOLONG, -1;
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int fs_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct drctl_error *err)
{
	char tmp[PATH_MAX];
	int fd = -1;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) >= sizeof(tmp))
		return err_set(err, EXIT_USAGE, path, NULL, "path too long: %s", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return err_set_errno(err, EXIT_IO, errno, path, NULL, "cannot create a temporary file next to %s", path);
	if (fchmod(fd, mode) != 0 || fs_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		err_set_errno(err, EXIT_IO, errno, path, NULL, "cannot write %s", path);
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		err_set_errno(err, EXIT_IO, errno, path, NULL, "cannot write %s", path);
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		err_set_errno(err, EXIT_IO, errno, path, NULL, "cannot put %s in place", path);
		goto fail;
	}
	if (fs_fsync_dir_of(path) != 0)
		return err_set_errno(err, EXIT_IO, errno, path, NULL, "cannot sync the folder of %s", path);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}
