#include "lib/core/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "lib/core/fsutil.h"

void secure_wipe(void *p, size_t len)
{
	if (p && len)
		OPENSSL_cleanse(p, len);
}

int secure_grow(char **p, size_t *cap, size_t used, size_t need)
{
	size_t grown = *cap ? *cap : 256;
	char *block;

	while (grown < need)
		grown *= 2;
	block = malloc(grown);
	if (!block)
		return -1;
	if (*p) {
		memcpy(block, *p, used);
		secure_wipe(*p, *cap);
		free(*p);
	}
	*p = block;
	*cap = grown;
	return 0;
}

void keyfile_free(char *data, size_t len)
{
	if (data) {
		secure_wipe(data, len);
		free(data);
	}
}

/* Why a key file did not open is what the error is about: a missing file
 * (3) is not an unusable one (2), and neither is a disk failure (6). */
static int keyfile_open_failed(const char *path, const char *what, int errnum, struct drctl_error *err)
{
	switch (errnum) {
	case ENOENT:
	case ENOTDIR:
		return err_set_errno(err, EXIT_NOT_FOUND, errnum, path, "check the path in the configuration",
				     "cannot open %s %s", what, path);
	case EACCES:
	case EPERM:
		return err_set_errno(err, EXIT_USAGE, errnum, path,
				     "let the user drctl runs as read the file (owner, and mode 0600 for a secret)",
				     "cannot open %s %s", what, path);
	case ELOOP:
	case ENAMETOOLONG:
		return err_set_errno(err, EXIT_USAGE, errnum, path, "check the path in the configuration",
				     "cannot open %s %s", what, path);
	default:
		return err_set_errno(err, EXIT_IO, errnum, path, NULL, "cannot open %s %s", what, path);
	}
}

int keyfile_read(const char *path, const char *what, int secret, size_t max,
		 char **data, size_t *len, struct drctl_error *err)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd;

	*data = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return keyfile_open_failed(path, what, errno, err);
	if (fstat(fd, &st) != 0) {
		err_set_errno(err, EXIT_IO, errno, path, NULL, "cannot stat %s %s", what, path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(err, EXIT_USAGE, path, "point the configuration at the file itself",
			"%s %s is not a regular file", what, path);
		goto fail;
	}
	if (secret && (st.st_mode & 077)) {
		err_set(err, EXIT_USAGE, path, NULL,
			"%s %s is readable by others (mode %04o); refusing to use it",
			what, path, (unsigned)(st.st_mode & 07777));
		err_hint(err, "chmod 600 '%s' (and check who may have read it)", path);
		goto fail;
	}
	if ((uint64_t)st.st_size > max) {
		err_set(err, EXIT_USAGE, path, NULL, "%s %s is too large (%lld bytes, at most %zu)",
			what, path, (long long)st.st_size, max);
		goto fail;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		err_set(err, EXIT_FAILED, path, NULL, "out of memory reading %s", what);
		goto fail;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_set_errno(err, EXIT_IO, errno, path, NULL, "cannot read %s %s", what, path);
			goto fail;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	close(fd);
	*data = buf;
	*len = got;
	return 0;
fail:
	keyfile_free(buf, (size_t)st.st_size + 1);
	close(fd);
	return -1;
}

int keyfile_write_new(const char *path, const char *what, int mode, const void *data,
		      size_t len, struct drctl_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);

	if (fd < 0) {
		if (errno == EEXIST)
			return err_set(err, EXIT_USAGE, path,
				       "move the existing file away first if you really mean to replace it",
				       "%s %s already exists; refusing to overwrite it", what, path);
		return err_set_errno(err, EXIT_IO, errno, path, NULL, "cannot create %s %s", what, path);
	}
	/* O_CREAT's mode is filtered by the umask; make it exact. */
	if (fchmod(fd, mode) != 0)
		goto fail;
	if (fs_write_all(fd, data, len) != 0 || fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	err_set_errno(err, EXIT_IO, errno, path, NULL, "cannot write %s %s", what, path);
	if (fd >= 0)
		close(fd);
	unlink(path);
	return -1;
}
