/*
 * spool: the disk-backed FIFO between one writing and one reading thread.
 * Bytes come out complete and in order across any mix of write and read
 * sizes, and the end only after spool_finish; the reader waits for data
 * rather than reporting an early end; abandoning either side fails the
 * other with EPIPE; the peak backlog is exact; consumed space is given back
 * to the file system; a spool cannot be made in a missing directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/stream/spool.h"

#define MiB (1024u * 1024u)

/* ------------------------------------------------------------ helpers */

/* A fresh, private directory for one test's spool. */
static void make_dir(char *dir, size_t cap)
{
	snprintf(dir, cap, "/tmp/drctl-spool-test.XXXXXX");
	assert_non_null(mkdtemp(dir));
}

static struct spool *new_spool(const char *dir)
{
	struct drctl_error err;
	struct spool *s;
	err_clear(&err);
	s = spool_new(dir, &err);
	assert_non_null(s);
	assert_false(err_is_set(&err));
	return s;
}

/* The byte at stream offset i: position-dependent with no short period, so
 * a lost, repeated or reordered stretch shows up as a mismatch. */
static unsigned char pattern_at(uint64_t i)
{
	uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull;
	x ^= x >> 29;
	x *= 0xBF58476D1CE4E5B9ull;
	x ^= x >> 32;
	return (unsigned char)x;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Read exactly n bytes (the spool may hand out less than asked). */
static void read_exact(struct spool *s, unsigned char *buf, size_t n)
{
	while (n > 0) {
		ssize_t r = spool_read(s, buf, n);
		assert_true(r > 0);
		buf += r;
		n -= (size_t)r;
	}
}

/* ------------------------------------------------------------ order and completeness */

#define ORDER_TOTAL ((uint64_t)40 * MiB)

struct order_writer {
	struct spool *s;
	atomic_int finish_called; /* set just before spool_finish */
	int failed;               /* a spool_write returned non-zero */
	size_t writes, one_byte_writes, big_writes;
};

static void *order_writer_main(void *arg)
{
	static const size_t sizes[] = { 1,     1,    2,         3,         17,    512,       4095,
					4096,  4097, 65536,     100003,    MiB,   MiB - 1,   MiB + 1,
					1,     7,    MiB / 2,   3 * 4096 };
	struct order_writer *w = arg;
	unsigned char *buf = malloc(MiB + 1);
	uint64_t off = 0, rng = 12345;
	struct drctl_error err;

	if (!buf) {
		w->failed = 1;
		return NULL;
	}
	err_clear(&err);
	while (off < ORDER_TOTAL) {
		size_t n;
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		n = sizes[(rng >> 33) % (sizeof(sizes) / sizeof(sizes[0]))];
		if (n > ORDER_TOTAL - off)
			n = (size_t)(ORDER_TOTAL - off);
		for (size_t k = 0; k < n; k++)
			buf[k] = pattern_at(off + k);
		if (spool_write(w->s, buf, n, &err) != 0) {
			w->failed = 1;
			break;
		}
		w->writes++;
		w->one_byte_writes += n == 1;
		w->big_writes += n >= MiB - 1;
		off += n;
	}
	free(buf);
	/* Let the reader catch up and wait: an early end would show now. */
	sleep_ms(50);
	atomic_store(&w->finish_called, 1);
	spool_finish(w->s);
	return NULL;
}

static void test_bytes_come_out_in_order_and_complete_and_end_only_after_finish(void **state)
{
	static const size_t caps[] = { 1, 2, 7, 4096, 65536, 333333, MiB, 3 * MiB, 5, 4095 };
	char dir[64];
	struct order_writer w;
	pthread_t th;
	unsigned char *buf = malloc(3 * MiB);
	uint64_t total = 0, first_bad = UINT64_MAX, rng = 99;
	int end_seen = 0, finish_called_at_end = 0, read_error = 0, over_cap = 0;
	size_t reads = 0;
	(void)state;

	assert_non_null(buf);
	make_dir(dir, sizeof(dir));
	memset(&w, 0, sizeof(w));
	w.s = new_spool(dir);
	assert_int_equal(pthread_create(&th, NULL, order_writer_main, &w), 0);
	for (;;) {
		size_t cap;
		ssize_t r;
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		cap = caps[(rng >> 33) % (sizeof(caps) / sizeof(caps[0]))];
		r = spool_read(w.s, buf, cap);
		if (r < 0) {
			read_error = errno ? errno : -1;
			break;
		}
		if (r == 0) {
			end_seen = 1;
			finish_called_at_end = atomic_load(&w.finish_called);
			break;
		}
		if ((size_t)r > cap)
			over_cap = 1;
		for (ssize_t k = 0; k < r && first_bad == UINT64_MAX; k++)
			if (buf[k] != pattern_at(total + (uint64_t)k))
				first_bad = total + (uint64_t)k;
		total += (uint64_t)r;
		reads++;
	}
	pthread_join(th, NULL);

	assert_false(w.failed);
	assert_true(w.one_byte_writes > 0); /* the mix really had tiny and ~1 MiB writes */
	assert_true(w.big_writes > 0);
	assert_int_equal(read_error, 0);
	assert_false(over_cap);
	assert_true(first_bad == UINT64_MAX); /* every byte is the one written at that offset */
	assert_true(end_seen);
	assert_true(finish_called_at_end);      /* 0 came only after spool_finish */
	assert_true(total == ORDER_TOTAL);      /* ... and only after every byte */
	assert_true(reads > 40);
	assert_int_equal(spool_read(w.s, buf, 10), 0); /* the end stays the end */
	spool_free(w.s);
	free(buf);
	assert_int_equal(rmdir(dir), 0);
}

/* ------------------------------------------------------------ blocking */

/*
 * The writer acts only once the reader is about to call spool_read, and
 * then after a pause that lets the read reach its wait.  What the read
 * returns then proves it waited: a read that did not wait has nothing to
 * return but the end (0) or an error other than EPIPE.  No time is measured.
 */
struct delayed_writer {
	struct spool *s;
	long delay_ms;
	int abandon; /* abandon instead of writing */
	int rc;
	atomic_int reader_calling; /* set by the reader just before spool_read */
};

static void *delayed_writer_main(void *arg)
{
	struct delayed_writer *d = arg;
	struct drctl_error err;
	err_clear(&err);
	while (!atomic_load(&d->reader_calling))
		sleep_ms(1);
	sleep_ms(d->delay_ms);
	if (d->abandon)
		spool_abandon(d->s);
	else
		d->rc = spool_write(d->s, "hello", 5, &err);
	return NULL;
}

/* spool_read of a new spool in dir while d's writer acts; *e: errno after
 * the read.  The writer is done when it returns. */
static ssize_t read_while_writer_acts(struct delayed_writer *d, char *dir, size_t dir_cap, unsigned char *buf,
				      size_t cap, int *e)
{
	pthread_t th;
	ssize_t r;

	make_dir(dir, dir_cap);
	d->s = new_spool(dir);
	assert_int_equal(pthread_create(&th, NULL, delayed_writer_main, d), 0);
	atomic_store(&d->reader_calling, 1);
	errno = 0;
	r = spool_read(d->s, buf, cap);
	*e = errno;
	pthread_join(th, NULL);
	return r;
}

static void test_reader_waits_for_data_instead_of_ending(void **state)
{
	char dir[64];
	unsigned char buf[64];
	struct delayed_writer d = { .delay_ms = 100 };
	ssize_t r;
	int e;
	(void)state;

	r = read_while_writer_acts(&d, dir, sizeof(dir), buf, sizeof(buf), &e);
	assert_int_equal(d.rc, 0);
	assert_int_equal(r, 5); /* the data written later, not 0 (end): it waited */
	assert_memory_equal(buf, "hello", 5);
	spool_finish(d.s);
	assert_int_equal(spool_read(d.s, buf, sizeof(buf)), 0);
	spool_free(d.s);
	assert_int_equal(rmdir(dir), 0);
}

/* ------------------------------------------------------------ abandoning */

static void test_reader_abandoning_fails_the_writers_next_write_with_epipe(void **state)
{
	char dir[64];
	unsigned char buf[8];
	struct drctl_error err;
	struct spool *s;
	(void)state;

	make_dir(dir, sizeof(dir));
	s = new_spool(dir);
	err_clear(&err);
	assert_int_equal(spool_write(s, "abc", 3, &err), 0);
	assert_false(err_is_set(&err));
	assert_int_equal(spool_read(s, buf, sizeof(buf)), 3);
	spool_abandon(s); /* the reader gives up */
	assert_int_not_equal(spool_write(s, "more", 4, &err), 0);
	assert_true(err_is_set(&err));
	assert_non_null(strstr(err.message, strerror(EPIPE)));
	spool_free(s);
	assert_int_equal(rmdir(dir), 0);
}

static void test_writer_abandoning_fails_a_blocked_read_with_epipe(void **state)
{
	char dir[64];
	unsigned char buf[8];
	struct delayed_writer d = { .delay_ms = 100, .abandon = 1 };
	ssize_t r;
	int e;
	(void)state;

	r = read_while_writer_acts(&d, dir, sizeof(dir), buf, sizeof(buf), &e);
	assert_int_equal(r, -1);
	assert_int_equal(e, EPIPE); /* the abandon that came later: it was blocked until then */
	spool_free(d.s);
	assert_int_equal(rmdir(dir), 0);
}

/* ------------------------------------------------------------ peak backlog */

static void test_peak_backlog_is_the_most_bytes_written_and_not_yet_read(void **state)
{
	char dir[64];
	struct drctl_error err;
	struct spool *s;
	unsigned char *buf = calloc(1, 3 * MiB);
	(void)state;

	assert_non_null(buf);
	make_dir(dir, sizeof(dir));
	s = new_spool(dir);
	err_clear(&err);
	assert_true(spool_peak_backlog(s) == 0);
	assert_int_equal(spool_write(s, buf, 3 * MiB, &err), 0); /* backlog 3 */
	assert_true(spool_peak_backlog(s) == 3 * MiB);
	read_exact(s, buf, 1 * MiB);                               /* backlog 2 */
	assert_int_equal(spool_write(s, buf, 1 * MiB, &err), 0); /* backlog 3 */
	assert_true(spool_peak_backlog(s) == 3 * MiB);
	read_exact(s, buf, 2 * MiB);                               /* backlog 1 */
	assert_int_equal(spool_write(s, buf, 1 * MiB, &err), 0); /* backlog 2: neither the backlog now nor the total (5) */
	assert_true(spool_peak_backlog(s) == 3 * MiB);
	assert_int_equal(spool_write(s, buf, 2 * MiB, &err), 0); /* backlog 4: a new peak */
	assert_true(spool_peak_backlog(s) == 4 * MiB);
	read_exact(s, buf, 3 * MiB);
	read_exact(s, buf, 1 * MiB);
	assert_true(spool_peak_backlog(s) == 4 * MiB);
	assert_false(err_is_set(&err));
	spool_free(s);
	free(buf);
	assert_int_equal(rmdir(dir), 0);
}

/* ------------------------------------------------------------ space given back */

/*
 * The spool's struct is opaque, so its file is found from outside: the one
 * descriptor of this process whose /proc/self/fd link points into the
 * test's private directory ("<dir>/#123 (deleted)" for O_TMPFILE,
 * "<dir>/drctl-spool.XXXXXX (deleted)" for the fallback).  fstat on it gives
 * the file's size and the blocks it really holds; both are checked before
 * reading (the measure sees the data) and after (the data is punched out).
 * Measuring free space with statvfs instead would be at the mercy of every
 * other process writing to the same file system.
 */
static int spool_fd_in(const char *dir)
{
	char link[PATH_MAX + 1], path[64];
	size_t dl = strlen(dir);
	int found = -1, count = 0;

	for (int fd = 0; fd < 4096; fd++) {
		ssize_t n;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if ((n = readlink(path, link, sizeof(link) - 1)) < 0)
			continue;
		link[n] = '\0';
		if (!strncmp(link, dir, dl) && link[dl] == '/') {
			found = fd;
			count++;
		}
	}
	return count == 1 ? found : -1;
}

/* The spool's file is found through /proc/self/fd (above): without /proc
 * mounted the test cannot look at it, which is a failure, not a pass. */
static void require_proc_fd(const char *dir)
{
	if (access("/proc/self/fd", R_OK) != 0) {
		rmdir(dir);
		fail_msg("/proc/self/fd cannot be read (%s): this test finds the spool's file there; it needs /proc "
			 "mounted",
			 strerror(errno));
	}
}

/* 1 when this file system can punch holes, probed on a scratch file in dir. */
static int can_punch_holes(const char *dir)
{
	char path[128];
	char block[8192];
	int fd, ok;

	snprintf(path, sizeof(path), "%s/probe.XXXXXX", dir);
	if ((fd = mkstemp(path)) < 0)
		return 0;
	unlink(path);
	memset(block, 'x', sizeof(block));
	ok = write(fd, block, sizeof(block)) == (ssize_t)sizeof(block) &&
	     fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096) == 0;
	close(fd);
	return ok;
}

static void test_consumed_space_is_given_back_to_the_file_system(void **state)
{
	const uint64_t total = (uint64_t)64 * MiB;
	char dir[64];
	struct drctl_error err;
	struct spool *s;
	struct stat st;
	unsigned char *buf = malloc(MiB);
	int fd;
	(void)state;

	assert_non_null(buf);
	make_dir(dir, sizeof(dir));
	require_proc_fd(dir);
	if (!can_punch_holes(dir)) {
		rmdir(dir);
		free(buf);
		fail_msg("%s is on a file system that cannot punch holes (fallocate FALLOC_FL_PUNCH_HOLE): this test "
			 "needs one that can (ext4, xfs, btrfs, tmpfs) to see the spool give back the space of what "
			 "was read",
			 dir);
	}
	s = new_spool(dir);
	assert_true((fd = spool_fd_in(dir)) >= 0);
	err_clear(&err);
	for (uint64_t off = 0; off < total; off += MiB) {
		memset(buf, (int)(off / MiB) + 1, MiB);
		assert_int_equal(spool_write(s, buf, MiB, &err), 0);
	}
	assert_int_equal(fstat(fd, &st), 0);
	assert_true((uint64_t)st.st_size == total);               /* it is the spool's file */
	assert_true((uint64_t)st.st_blocks * 512 >= total - MiB); /* and the measure sees the unread data */
	for (uint64_t off = 0; off < total; off += MiB) {
		read_exact(s, buf, MiB);
		assert_int_equal(buf[0], (int)(off / MiB) + 1);
		assert_int_equal(buf[MiB - 1], (int)(off / MiB) + 1);
	}
	assert_int_equal(fstat(fd, &st), 0);
	/* All 64 MiB were read: at most one punch step (16 MiB) may remain. */
	assert_true((uint64_t)st.st_blocks * 512 <= 17 * (uint64_t)MiB);
	spool_free(s);
	free(buf);
	assert_int_equal(rmdir(dir), 0);
}

/* ------------------------------------------------------------ encrypted at rest */

/* What the spool carries is decrypted backup data: its file must not hold
 * it as written.  A recognisable text, 4 MiB of it, is written; the file's
 * bytes (read through the same descriptor, found as above) contain no copy
 * of it, differ from it at almost every byte, and still read back exactly. */
static void test_the_spool_file_holds_the_bytes_encrypted(void **state)
{
	static const char secret[] = "password=hunter2;token=s.ABCDEFGHIJKLMNOP;";
	const size_t n = 4 * MiB, slen = sizeof(secret) - 1;
	unsigned char *plain = malloc(n), *disk = malloc(n), *back = malloc(n);
	char dir[64];
	struct drctl_error err;
	struct spool *s;
	size_t same = 0;
	int fd;
	(void)state;

	assert_non_null(plain);
	assert_non_null(disk);
	assert_non_null(back);
	for (size_t i = 0; i < n; i++)
		plain[i] = (unsigned char)secret[i % slen];
	make_dir(dir, sizeof(dir));
	require_proc_fd(dir);
	s = new_spool(dir);
	assert_true((fd = spool_fd_in(dir)) >= 0);
	err_clear(&err);
	assert_int_equal(spool_write(s, plain, n, &err), 0);
	assert_int_equal(pread(fd, disk, n, 0), (ssize_t)n);
	assert_null(memmem(disk, n, secret, slen));
	assert_null(memmem(disk, n, "hunter2", 7));
	for (size_t i = 0; i < n; i++)
		same += disk[i] == plain[i];
	if (same > n / 64) /* random bytes match about 1 in 256 */
		fail_msg("%zu of %zu bytes of the spool file equal what was written", same, n);
	read_exact(s, back, n);
	assert_memory_equal(back, plain, n);
	spool_free(s);
	free(plain);
	free(disk);
	free(back);
	assert_int_equal(rmdir(dir), 0);
}

/* ------------------------------------------------------------ errors */

static void test_spool_new_in_a_missing_directory_fails_with_an_error(void **state)
{
	char dir[64], missing[96];
	struct drctl_error err;
	(void)state;

	make_dir(dir, sizeof(dir));
	snprintf(missing, sizeof(missing), "%s/does-not-exist", dir);
	err_clear(&err);
	assert_null(spool_new(missing, &err));
	assert_true(err_is_set(&err));
	assert_true(err.message[0] != '\0');
	assert_int_equal(rmdir(dir), 0); /* nothing was left behind */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes_come_out_in_order_and_complete_and_end_only_after_finish),
		cmocka_unit_test(test_reader_waits_for_data_instead_of_ending),
		cmocka_unit_test(test_reader_abandoning_fails_the_writers_next_write_with_epipe),
		cmocka_unit_test(test_writer_abandoning_fails_a_blocked_read_with_epipe),
		cmocka_unit_test(test_peak_backlog_is_the_most_bytes_written_and_not_yet_read),
		cmocka_unit_test(test_consumed_space_is_given_back_to_the_file_system),
		cmocka_unit_test(test_the_spool_file_holds_the_bytes_encrypted),
		cmocka_unit_test(test_spool_new_in_a_missing_directory_fails_with_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
