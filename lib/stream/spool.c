/*
 * spool: see spool.h.  The file is written at its end with pwrite and read
 * from the front with pread; the two offsets live under a mutex, and the
 * reader sleeps on a condition variable while it has caught up.  Consumed
 * space is punched out every SPOOL_PUNCH_STEP bytes; where the file system
 * cannot punch holes the file simply keeps its size until it is freed.
 *
 * What the spool carries is decrypted backup data, so the file holds it
 * encrypted: AES-128-CTR under a key made for this spool, which exists only
 * in this process's memory (in the two cipher contexts) and dies with it.
 * Both sides are strictly sequential, so each keeps its own running CTR
 * stream from the same key and IV: the writer encrypts into a scratch
 * buffer, the reader decrypts in place.  Nothing is authenticated: the file
 * is private to this process (unlinked, 0600) and only confidentiality at
 * rest is wanted.  AES-NI does this at several GB/s.
 */
#include "lib/stream/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define SPOOL_PUNCH_STEP (16u << 20)
#define SPOOL_SCRATCH (256u << 10)

struct spool {
	int fd;
	EVP_CIPHER_CTX *seal, *open; /* the writer's and the reader's CTR streams */
	unsigned char *scratch;     /* SPOOL_SCRATCH: the writer's ciphertext */
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
	s->fd = -1;
	if (!(s->scratch = malloc(SPOOL_SCRATCH)) || !(s->seal = EVP_CIPHER_CTX_new()) || !(s->open = EVP_CIPHER_CTX_new())) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		goto fail;
	}
	{
		unsigned char key[16], iv[16];
		int ok = RAND_bytes(key, sizeof(key)) == 1 && RAND_bytes(iv, sizeof(iv)) == 1 &&
			 EVP_EncryptInit_ex(s->seal, EVP_aes_128_ctr(), NULL, key, iv) == 1 &&
			 EVP_DecryptInit_ex(s->open, EVP_aes_128_ctr(), NULL, key, iv) == 1;
		OPENSSL_cleanse(key, sizeof(key));
		if (!ok) {
			err_set(err, EXIT_FAILED, NULL, NULL, "cannot set up the spool's encryption (OpenSSL)");
			goto fail;
		}
	}
	if ((s->fd = open_unlinked(dir, err)) < 0)
		goto fail;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->more, NULL);
	return s;
fail:
	EVP_CIPHER_CTX_free(s->seal);
	EVP_CIPHER_CTX_free(s->open);
	free(s->scratch);
	free(s);
	return NULL;
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
		size_t n = len < SPOOL_SCRATCH ? len : SPOOL_SCRATCH, done = 0;
		int outl = 0;
		if (EVP_EncryptUpdate(s->seal, s->scratch, &outl, (const unsigned char *)p, (int)n) != 1 || (size_t)outl != n)
			return err_set(err, EXIT_FAILED, NULL, NULL, "cannot encrypt the spool (OpenSSL)");
		while (done < n) {
			ssize_t w = pwrite(s->fd, s->scratch + done, n - done, (off_t)(at + done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return err_set_errno(err, EXIT_IO, errno, NULL, "free space where [state] dir lives",
						     "cannot write the spool file");
			done += (size_t)w;
		}
		p += n;
		len -= n;
		at += n;
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

	if (cap > (1u << 30))
		cap = 1u << 30; /* the cipher takes an int length */

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
	{
		int outl = 0;
		if (EVP_DecryptUpdate(s->open, buf, &outl, buf, (int)got) != 1 || outl != got) {
			errno = EIO;
			return -1;
		}
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
	EVP_CIPHER_CTX_free(s->seal);
	EVP_CIPHER_CTX_free(s->open);
	free(s->scratch);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->more);
	free(s);
}
