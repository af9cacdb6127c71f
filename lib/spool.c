/*
 * spool: see spool.h.  The file is written at its end with pwrite and read
 * from the front with pread; the two offsets live under a mutex, and the
 * reader sleeps on a condition variable while it has caught up.  Consumed
 * space is punched out every SPOOL_PUNCH_STEP bytes; where the file system
 * cannot punch holes the file simply keeps its size until it is freed.
 */
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define SPOOL_PUNCH_STEP (16u << 20)

struct spool {
	int fd;
	pthread_mutex_t lock;
	pthread_cond_t more;
	uint64_t written, read, punched, peak;
	int finished, abandoned;
};

static int open_unlinked(const char *dir, struct drctl_error *err)
{
	char path[PATH_MAX];
	int fd;

#ifdef O_TMPFILE
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
#endif
	/* O_TMPFILE is not supported everywhere (older kernels, some file systems). */
	if (snprintf(path, sizeof(path), "%s/drctl-spool.XXXXXX", dir) >= (int)sizeof(path))
		return err_set(err, EXIT_IO, dir, NULL, "the spool directory's path is too long");
	if ((fd = mkostemp(path, O_CLOEXEC)) < 0)
		return err_set_errno(err, EXIT_IO, errno, dir, "check [state] dir: it must exist and be writable",
				     "cannot create a spool file in %s", dir);
	unlink(path);
	return fd;
}

struct spool *spool_new(const char *dir, struct drctl_error *err)
{
	struct spool *s = calloc(1, sizeof(*s));

	if (!s) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		return NULL;
	}
	if ((s->fd = open_unlinked(dir, err)) < 0) {
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->more, NULL);
	return s;
}

int spool_write(struct spool *s, const void *buf, size_t len, struct drctl_error *err)
{
	const char *p = buf;
	uint64_t at, backlog;
	int abandoned;

	pthread_mutex_lock(&s->lock);
	at = s->written;
	abandoned = s->abandoned;
	pthread_mutex_unlock(&s->lock);
	if (abandoned)
		return err_set_errno(err, EXIT_FAILED, EPIPE, NULL, NULL, "the spool's reader stopped");
	/* Only this thread moves `written`, so the bytes past it are ours. */
	while (len > 0) {
		ssize_t w = pwrite(s->fd, p, len, (off_t)at);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return err_set_errno(err, EXIT_IO, errno, NULL, "free space where [state] dir lives",
					     "cannot write the spool file");
		p += w;
		len -= (size_t)w;
		at += (uint64_t)w;
	}
	pthread_mutex_lock(&s->lock);
	s->written = at;
	backlog = s->written - s->read;
	if (backlog > s->peak)
		s->peak = backlog;
	pthread_cond_signal(&s->more);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

void spool_finish(struct spool *s)
{
	pthread_mutex_lock(&s->lock);
	s->finished = 1;
	pthread_cond_signal(&s->more);
	pthread_mutex_unlock(&s->lock);
}

void spool_abandon(struct spool *s)
{
	pthread_mutex_lock(&s->lock);
	s->abandoned = 1;
	pthread_cond_broadcast(&s->more);
	pthread_mutex_unlock(&s->lock);
}

ssize_t spool_read(struct spool *s, void *buf, size_t cap)
{
	uint64_t at, avail, punch_from = 0, punch_to = 0;
	ssize_t got;

	pthread_mutex_lock(&s->lock);
	while (s->read == s->written && !s->finished && !s->abandoned)
		pthread_cond_wait(&s->more, &s->lock);
	if (s->abandoned) {
		pthread_mutex_unlock(&s->lock);
		errno = EPIPE;
		return -1;
	}
	at = s->read;
	avail = s->written - s->read;
	pthread_mutex_unlock(&s->lock);
	if (avail == 0)
		return 0; /* finished and all read */
	do
		got = pread(s->fd, buf, avail < cap ? (size_t)avail : cap, (off_t)at);
	while (got < 0 && errno == EINTR);
	if (got <= 0) {
		if (got == 0)
			errno = EIO; /* shorter than what was written: the file was truncated */
		return -1;
	}
	pthread_mutex_lock(&s->lock);
	s->read += (uint64_t)got;
	if (s->read - s->punched >= SPOOL_PUNCH_STEP) {
		punch_from = s->punched;
		punch_to = s->read & ~(uint64_t)4095;
		s->punched = punch_to;
	}
	pthread_mutex_unlock(&s->lock);
	if (punch_to > punch_from)
		(void)fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)punch_from,
				(off_t)(punch_to - punch_from));
	return got;
}

uint64_t spool_backlog(struct spool *s)
{
	uint64_t n;
	pthread_mutex_lock(&s->lock);
	n = s->written - s->read;
	pthread_mutex_unlock(&s->lock);
	return n;
}

int spool_abandoned(struct spool *s)
{
	int a;
	pthread_mutex_lock(&s->lock);
	a = s->abandoned;
	pthread_mutex_unlock(&s->lock);
	return a;
}

uint64_t spool_peak_backlog(const struct spool *s)
{
	return s->peak;
}

void spool_free(struct spool *s)
{
	if (!s)
		return;
	close(s->fd);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->more);
	free(s);
}
