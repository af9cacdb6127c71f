/*
 * storage conformance: the same cases against every storage driver, so a
 * driver is interchangeable with the others for everything above it.  Each
 * case checks a promise written in lib/storage/repo.h.
 *
 * The list below (fixtures[]) has one fixture per row of the driver table
 * (a case refuses a row without one): the driver's type, a function that
 * makes a fresh, empty repository for one test and opens it, one that
 * removes it, and one that counts the temporaries the store holds but never
 * shows.  A driver for a remote store points its fixture at a test server
 * (the S3 one at s3rver, which CTest starts).
 * Every case runs against every fixture; messages start with its type.
 */
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

/* --- the local driver's fixture -------------------------------------------------- */

static int local_fresh(struct conformance *t, struct drctl_error *err)
{
	char base[] = "/tmp/drctl-conformance.XXXXXX", path[4200];

	if (!mkdtemp(base))
		return err_set_errno(err, EXIT_IO, errno, base, NULL, "cannot make a temporary folder");
	snprintf(t->priv, sizeof(t->priv), "%s", base);
	/* A folder that does not exist yet: repo_create makes it, as init does. */
	snprintf(path, sizeof(path), "%s/repository", base);
	if (config_set(t->cfg, "repository", "type", "local", err) != 0 ||
	    config_set(t->cfg, "repository", "path", path, err) != 0)
		return -1;
	return repo_create(&t->repo, t->cfg, err);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void local_clean(struct conformance *t)
{
	if (t->priv[0])
		nftw(t->priv, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static long local_temporaries_found;

static int count_temporary(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_F && strstr(path + ftw->base, REPO_RESERVED_MARK))
		local_temporaries_found++;
	return 0;
}

static long local_temporaries(struct conformance *t)
{
	local_temporaries_found = 0;
	if (nftw(t->priv, count_temporary, 16, FTW_PHYS) != 0)
		return -1;
	return local_temporaries_found;
}

/* --- the S3 driver's fixture ------------------------------------------------------------
 *
 * A test S3 server, named by the environment (CTest starts s3rver for it
 * through tests/harness/with_s3rver.sh, and drctl's S3 double over HTTPS,
 * verifying every signature, through tests/harness/with_s3_double.sh):
 * DRCTL_TEST_S3_ENDPOINT, its bucket DRCTL_TEST_S3_BUCKET, the credentials
 * in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, DRCTL_TEST_S3_CA_FILE, the
 * CA of an https endpoint ([repository] ca_file), and, for a server that
 * does not list unfinished multipart uploads (s3rver),
 * DRCTL_TEST_S3RVER_DIR, its data folder, where
 * they are counted instead.  Without the endpoint every case fails, saying
 * so.  The repository has no prefix (the longest name is S3's longest key),
 * so each test starts by emptying the bucket. */

static const char *s3_env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static struct s3_conn *s3_fixture_conn(const struct config *cfg, struct s3_client **client, struct drctl_error *err)
{
	struct s3_conn *conn;

	if (s3_client_open(client, cfg, err) != 0)
		return NULL;
	if (!(conn = s3_conn_new(*client, err))) {
		s3_client_free(*client);
		*client = NULL;
	}
	return conn;
}

/* Every object of the bucket, and every upload it lists, gone. */
static int s3_empty_bucket(const struct config *cfg, struct drctl_error *err)
{
	struct s3_client *client;
	struct s3_conn *conn = s3_fixture_conn(cfg, &client, err);
	struct s3_uploads_page up;
	int rc = 0;

	if (!conn)
		return -1;
	for (int more = 1; more && rc == 0;) {
		struct s3_list_page page;
		if ((rc = s3_list_objects(conn, "", NULL, NULL, 0, &page, err)) != 0)
			break;
		for (size_t i = 0; rc == 0 && i < page.n_keys; i++)
			rc = s3_delete_object(conn, page.keys[i], err);
		more = page.n_keys > 0;
		s3_list_page_free(&page);
	}
	if (rc == 0 && s3_list_uploads(conn, "", NULL, NULL, &up, err) == 1) {
		for (size_t i = 0; rc == 0 && i < up.n; i++)
			rc = s3_upload_abort(conn, up.uploads[i].key, up.uploads[i].upload_id, err);
		s3_uploads_page_free(&up);
	}
	s3_conn_free(conn);
	s3_client_free(client);
	return rc;
}

static int s3_fresh(struct conformance *t, struct drctl_error *err)
{
	const char *endpoint = s3_env("DRCTL_TEST_S3_ENDPOINT"), *bucket = s3_env("DRCTL_TEST_S3_BUCKET");

	if (!endpoint || !bucket)
		return err_set(err, EXIT_USAGE, NULL, NULL,
			       "DRCTL_TEST_S3_ENDPOINT and DRCTL_TEST_S3_BUCKET name no test S3 server: run this test through CTest, "
			       "or by hand with `bash tests/harness/with_s3rver.sh build/tests/test_storage_conformance`");
	if (config_set(t->cfg, "repository", "type", "s3", err) != 0 ||
	    config_set(t->cfg, "repository", "bucket", bucket, err) != 0 ||
	    config_set(t->cfg, "repository", "endpoint", endpoint, err) != 0 ||
	    config_set(t->cfg, "repository", "region", "us-east-1", err) != 0 ||
	    config_set(t->cfg, "repository", "force_path_style", "true", err) != 0 ||
	    /* The smallest part S3 takes, so the large case has four parts. */
	    config_set(t->cfg, "repository", "part_size", "5242880", err) != 0)
		return -1;
	if (s3_env("DRCTL_TEST_S3_CA_FILE") &&
	    config_set(t->cfg, "repository", "ca_file", s3_env("DRCTL_TEST_S3_CA_FILE"), err) != 0)
		return -1;
	if (s3_empty_bucket(t->cfg, err) != 0)
		return -1;
	return repo_create(&t->repo, t->cfg, err);
}

static void s3_clean(struct conformance *t)
{
	struct drctl_error err;

	err_clear(&err);
	if (s3_env("DRCTL_TEST_S3_ENDPOINT"))
		s3_empty_bucket(t->cfg, &err);
}

/* s3rver keeps an unfinished upload as <dir>/<bucket>/._S3rver_uploads/<id>/. */
static long s3rver_uploads_on_disk(const char *bucket)
{
	const char *dir = s3_env("DRCTL_TEST_S3RVER_DIR");
	char path[4200];
	struct dirent *de;
	long n = 0;
	DIR *d;

	if (!dir)
		return -1;
	snprintf(path, sizeof(path), "%s/%s/._S3rver_uploads", dir, bucket);
	if (!(d = opendir(path)))
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static long s3_temporaries(struct conformance *t)
{
	struct drctl_error err;
	struct s3_client *client;
	struct s3_conn *conn;
	struct s3_uploads_page up;
	long n = -1;
	int rc;

	err_clear(&err);
	if (!(conn = s3_fixture_conn(t->cfg, &client, &err)))
		return -1;
	rc = s3_list_uploads(conn, "", NULL, NULL, &up, &err);
	if (rc == 1) {
		n = up.truncated ? -1 : (long)up.n;
		s3_uploads_page_free(&up);
	} else if (rc == 0) {
		n = s3rver_uploads_on_disk(s3_client_bucket(client));
	}
	s3_conn_free(conn);
	s3_client_free(client);
	return n;
}

static const struct storage_fixture fixtures[] = {
	{ "local", local_fresh, local_clean, local_temporaries },
	{ "s3", s3_fresh, s3_clean, s3_temporaries },
};

#define N_FIXTURES (sizeof(fixtures) / sizeof(fixtures[0]))

/* --- setup, and assertions that say what differs ---------------------------------- */

static int setup(void **state)
{
	struct conformance *t = calloc(1, sizeof(*t));
	struct drctl_error err;

	err_clear(&err);
	assert_non_null(t);
	t->fixture = *state;
	t->cfg = config_new_empty();
	assert_non_null(t->cfg);
	*state = t;
	if (t->fixture->fresh(t, &err) != 0)
		fail_msg("[%s] cannot make a fresh repository: %s", t->fixture->type, err.message);
	if (t->repo->driver != repo_driver_find(t->fixture->type, NULL))
		fail_msg("[%s] the repository was not opened through the table's row %s", t->fixture->type,
			 t->fixture->type);
	return 0;
}

static int teardown(void **state)
{
	struct conformance *t = *state;

	repo_close(t->repo);
	t->fixture->clean(t);
	config_free(t->cfg);
	free(t);
	return 0;
}

#define DRV(t) ((t)->fixture->type)

static void ok(struct conformance *t, int rc, const struct drctl_error *err, const char *what, const char *name)
{
	if (rc != 0)
		fail_msg("[%s] %s \"%s\" failed (exit code %d): %s", DRV(t), what, name, err->code, err->message);
}

static struct sink *open_writer(struct conformance *t, struct repo *r, const char *name)
{
	struct drctl_error err;
	struct sink *s;

	err_clear(&err);
	s = repo_open_write(r, name, &err);
	if (!s)
		fail_msg("[%s] open_write \"%s\" failed (exit code %d): %s", DRV(t), name, err.code, err.message);
	return s;
}

static void put(struct conformance *t, const char *name, const void *data, size_t len)
{
	struct drctl_error err;

	err_clear(&err);
	ok(t, repo_write_all(t->repo, name, data, len, &err), &err, "writing", name);
}

static void put_text(struct conformance *t, const char *name, const char *text)
{
	put(t, name, text, strlen(text));
}

/* Read the whole object in reads of uneven sizes (when uneven). */
static char *get(struct conformance *t, const char *name, size_t *len, int uneven)
{
	struct drctl_error err;
	struct source *src;
	size_t cap = 1 << 16, got, step = 1;
	char *buf = malloc(cap);

	err_clear(&err);
	assert_non_null(buf);
	src = repo_open_read(t->repo, name, &err);
	if (!src)
		fail_msg("[%s] open_read \"%s\" failed (exit code %d): %s", DRV(t), name, err.code, err.message);
	*len = 0;
	for (;;) {
		size_t want = uneven ? 1 + (step = step * 7919 % 100003) * 3 : 1 << 16;
		if (*len + want > cap) {
			while (*len + want > cap)
				cap *= 2;
			assert_non_null(buf = realloc(buf, cap));
		}
		if (source_read(src, buf + *len, want, &got, &err) != 0)
			fail_msg("[%s] reading \"%s\" after %zu bytes failed: %s", DRV(t), name, *len, err.message);
		if (got == 0)
			break;
		*len += got;
	}
	source_close(src);
	return buf;
}

static void expect_content(struct conformance *t, const char *name, const void *want, size_t want_len, int uneven)
{
	size_t len, i;
	char *got = get(t, name, &len, uneven);

	for (i = 0; i < len && i < want_len && got[i] == ((const char *)want)[i]; i++)
		;
	if (len != want_len || i != len) {
		unsigned char g = i < len ? (unsigned char)got[i] : 0, w = i < want_len ? ((const unsigned char *)want)[i] : 0;
		free(got);
		fail_msg("[%s] \"%s\" reads back as %zu bytes, %zu were written; they differ first at byte %zu (read 0x%02x, written 0x%02x)",
			 DRV(t), name, len, want_len, i, g, w);
	}
	free(got);
}

static void expect_size(struct conformance *t, const char *name, uint64_t want)
{
	struct drctl_error err;
	uint64_t size = UINT64_MAX;
	int st;

	err_clear(&err);
	st = repo_stat(t->repo, name, &size, &err);
	if (st != 1)
		fail_msg("[%s] stat \"%s\" gives %d (%s), expected 1: the object exists with %llu bytes", DRV(t), name, st,
			 st < 0 ? err.message : "missing", (unsigned long long)want);
	if (size != want)
		fail_msg("[%s] stat \"%s\" gives size %llu, expected %llu", DRV(t), name, (unsigned long long)size,
			 (unsigned long long)want);
}

/* Invisible: stat says missing and reading it is EXIT_NOT_FOUND naming it. */
static void expect_missing(struct conformance *t, const char *name, const char *when)
{
	struct drctl_error err;
	struct source *src;
	uint64_t size = 0;
	int st;

	err_clear(&err);
	st = repo_stat(t->repo, name, &size, &err);
	if (st != 0)
		fail_msg("[%s] %s, stat \"%s\" gives %d (%s), expected 0 (missing)", DRV(t), when, name, st,
			 st < 0 ? err.message : "it exists");
	src = repo_open_read(t->repo, name, &err);
	if (src) {
		source_close(src);
		fail_msg("[%s] %s, open_read \"%s\" succeeds; expected EXIT_NOT_FOUND", DRV(t), when, name);
	}
	if (err.code != EXIT_NOT_FOUND)
		fail_msg("[%s] %s, open_read \"%s\" fails with exit code %d (%s), expected %d (not found)", DRV(t), when,
			 name, err.code, err.message, EXIT_NOT_FOUND);
	if (!strstr(err.message, name) && strcmp(err.subject, name) != 0)
		fail_msg("[%s] the not-found error for \"%s\" does not name it: message \"%s\", subject \"%s\"", DRV(t), name,
			 err.message, err.subject);
}

static void expect_no_temporaries(struct conformance *t, const char *when)
{
	long n = t->fixture->temporaries(t);
	if (n < 0)
		fail_msg("[%s] %s, the fixture cannot count the store's temporaries", DRV(t), when);
	if (n != 0)
		fail_msg("[%s] %s, the store holds %ld temporar%s (expected none)", DRV(t), when, n, n == 1 ? "y" : "ies");
}

static void join(char *out, size_t cap, const char *const *names, size_t n)
{
	size_t len = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n && len < cap; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s\"%s\"", i ? ", " : "", names[i]);
}

/* list of dir is exactly want, in this order. */
static void expect_list(struct conformance *t, const char *dir, const char *const *want, size_t n_want,
			const char *when)
{
	struct drctl_error err;
	char **names;
	size_t n, i;
	char got_text[4096], want_text[4096];

	err_clear(&err);
	if (repo_list(t->repo, dir, &names, &n, &err) != 0)
		fail_msg("[%s] %s, list \"%s\" failed: %s", DRV(t), when, dir, err.message);
	for (i = 0; i < n && i < n_want && !strcmp(names[i], want[i]); i++)
		;
	if (i != n || n != n_want) {
		join(got_text, sizeof(got_text), (const char *const *)names, n);
		join(want_text, sizeof(want_text), want, n_want);
		repo_names_free(names, n);
		fail_msg("[%s] %s, list \"%s\" gives [%s], expected [%s] (first difference at entry %zu)", DRV(t), when,
			 dir, got_text, want_text, i);
	}
	repo_names_free(names, n);
}

/* Deterministic bytes that are not all alike. */
static void fill(unsigned char *buf, size_t len, uint32_t seed)
{
	uint32_t x = seed ? seed : 1;
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (unsigned char)x;
	}
}

/* A writer that dies halfway: a child process opens its own handle, writes
 * `len` bytes into `name` and is killed before it closes the sink, so its
 * sink is never closed nor aborted (the one other end a writer can have). */
static void leave_dead_writer(struct conformance *t, const char *name, size_t len)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct drctl_error err;
		struct repo *r;
		struct sink *s;
		unsigned char *buf = malloc(len);
		err_clear(&err);
		if (!buf || repo_open(&r, t->cfg, &err) != 0)
			_exit(2);
		if (!(s = repo_open_write(r, name, &err)))
			_exit(3);
		fill(buf, len, 7);
		if (sink_write(s, buf, len, &err) != 0)
			_exit(4);
		raise(SIGKILL);
		_exit(5);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFSIGNALED(status))
		fail_msg("[%s] the writer of \"%s\" exited with %d before it was killed (2: open, 3: open_write, 4: write)",
			 DRV(t), name, WEXITSTATUS(status));
}

/* --- the cases ------------------------------------------------------------------ */

static void write_then_read_small(void **state)
{
	struct conformance *t = *state;

	put_text(t, "t/small", "hello, repository\n");
	expect_content(t, "t/small", "hello, repository\n", 18, 0);
	expect_size(t, "t/small", 18);
}

static void write_then_read_empty(void **state)
{
	struct conformance *t = *state;
	static const char *const listed[] = { "empty" };

	put(t, "t/empty", "", 0);
	expect_content(t, "t/empty", "", 0, 0);
	expect_size(t, "t/empty", 0);
	expect_list(t, "t", listed, 1, "after writing an empty object");
}

/* More than one multipart part and one writeback step (8 MiB each), in
 * chunks of uneven sizes from 1 byte to ~1 MiB, read back unevenly too. */
static void write_then_read_large_uneven(void **state)
{
	struct conformance *t = *state;
	const size_t len = (17u << 20) + 4093;
	unsigned char *data = malloc(len);
	struct drctl_error err;
	struct sink *s;
	size_t off = 0, step = 1;

	err_clear(&err);
	assert_non_null(data);
	fill(data, len, 42);
	s = open_writer(t, t->repo, "t/large");
	while (off < len) {
		size_t chunk = (step = step * 48271 % 2147483647) % (1u << 20) + 1;
		if (step % 5 == 0)
			chunk = 1 + step % 3;
		if (chunk > len - off)
			chunk = len - off;
		if (sink_write(s, data + off, chunk, &err) != 0)
			fail_msg("[%s] writing \"t/large\" at byte %zu (a chunk of %zu) failed: %s", DRV(t), off, chunk,
				 err.message);
		off += chunk;
	}
	ok(t, sink_close(s, &err), &err, "closing", "t/large");
	expect_size(t, "t/large", len);
	expect_content(t, "t/large", data, len, 1);
	free(data);
}

#define CONCURRENT_WRITERS 3

struct concurrent_turns {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned turn, done;
};

struct concurrent_writer {
	struct repo *repo;
	struct concurrent_turns *turns;
	char name[32];
	unsigned char *data;
	size_t len;
	unsigned index;
	int rc;
	struct drctl_error err;
};

static void concurrent_take_turn(struct concurrent_writer *w)
{
	pthread_mutex_lock(&w->turns->mu);
	while (w->turns->turn % CONCURRENT_WRITERS != w->index)
		pthread_cond_wait(&w->turns->cv, &w->turns->mu);
	pthread_mutex_unlock(&w->turns->mu);
}

static void concurrent_pass_turn(struct concurrent_writer *w)
{
	pthread_mutex_lock(&w->turns->mu);
	w->turns->turn++;
	pthread_cond_broadcast(&w->turns->cv);
	pthread_mutex_unlock(&w->turns->mu);
}

static void *concurrent_writer_main(void *arg)
{
	struct concurrent_writer *w = arg;
	struct concurrent_turns *c = w->turns;
	struct sink *s;
	size_t off = 0, chunk = (1u << 20) + 4093 * (w->index + 1);

	concurrent_take_turn(w);
	s = repo_open_write(w->repo, w->name, &w->err);
	w->rc = s ? 0 : -1;
	concurrent_pass_turn(w);
	while (off < w->len) {
		size_t n = chunk < w->len - off ? chunk : w->len - off;
		concurrent_take_turn(w);
		if (w->rc == 0 && sink_write(s, w->data + off, n, &w->err) != 0)
			w->rc = -1;
		concurrent_pass_turn(w);
		off += n;
	}
	concurrent_take_turn(w);
	if (w->rc == 0)
		w->rc = sink_close(s, &w->err);
	else
		sink_abort(s);
	concurrent_pass_turn(w);
	/* Done: pass every turn that comes until all writers are done. */
	pthread_mutex_lock(&c->mu);
	c->done++;
	pthread_cond_broadcast(&c->cv);
	while (c->done < CONCURRENT_WRITERS) {
		if (c->turn % CONCURRENT_WRITERS == w->index) {
			c->turn++;
			pthread_cond_broadcast(&c->cv);
		} else {
			pthread_cond_wait(&c->cv, &c->mu);
		}
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* Objects written at the same time through one handle (a backup's
 * components, each on its own thread): every one lands whole, none mixed
 * with another, no temporary left.  The writers take turns chunk by chunk,
 * so their opens, writes and closes interleave on every run. */
static void concurrent_writes_through_one_handle(void **state)
{
	struct conformance *t = *state;
	struct concurrent_writer w[CONCURRENT_WRITERS];
	struct concurrent_turns turns = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };
	pthread_t th[CONCURRENT_WRITERS];

	for (unsigned i = 0; i < CONCURRENT_WRITERS; i++) {
		w[i] = (struct concurrent_writer){ .repo = t->repo, .turns = &turns, .index = i };
		snprintf(w[i].name, sizeof(w[i].name), "set/object-%u", i);
		/* Past two S3 parts (5 MiB at the least) so multipart uploads overlap. */
		w[i].len = (11u << 20) + 977 * i;
		w[i].data = malloc(w[i].len);
		assert_non_null(w[i].data);
		fill(w[i].data, w[i].len, 1000 + i);
		err_clear(&w[i].err);
	}
	for (unsigned i = 0; i < CONCURRENT_WRITERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, concurrent_writer_main, &w[i]), 0);
	for (unsigned i = 0; i < CONCURRENT_WRITERS; i++)
		pthread_join(th[i], NULL);
	for (unsigned i = 0; i < CONCURRENT_WRITERS; i++)
		ok(t, w[i].rc, &w[i].err, "writing (beside two other writers)", w[i].name);
	for (unsigned i = 0; i < CONCURRENT_WRITERS; i++) {
		expect_content(t, w[i].name, w[i].data, w[i].len, 1);
		free(w[i].data);
	}
	expect_no_temporaries(t, "after three objects written at the same time");
}

static void invisible_until_closed(void **state)
{
	struct conformance *t = *state;
	static const char *const none[] = { NULL };
	static const char *const listed[] = { "obj" };
	struct drctl_error err;
	struct sink *s = open_writer(t, t->repo, "vis/obj");

	err_clear(&err);
	expect_missing(t, "vis/obj", "after open_write");
	expect_list(t, "vis", none, 0, "after open_write");
	ok(t, sink_write(s, "abcdef", 6, &err), &err, "writing", "vis/obj");
	expect_missing(t, "vis/obj", "after 6 bytes were written, before close");
	expect_list(t, "vis", none, 0, "after 6 bytes were written, before close");
	ok(t, sink_close(s, &err), &err, "closing", "vis/obj");
	expect_size(t, "vis/obj", 6);
	expect_list(t, "vis", listed, 1, "after close");
	expect_no_temporaries(t, "after close");
}

static void abort_leaves_nothing(void **state)
{
	struct conformance *t = *state;
	static const char *const none[] = { NULL };
	static const char *const kept[] = { "kept" };
	struct drctl_error err;
	unsigned char buf[100000];
	struct sink *s;

	err_clear(&err);
	fill(buf, sizeof(buf), 3);
	put_text(t, "ab/kept", "kept");
	s = open_writer(t, t->repo, "ab/gone");
	for (int i = 0; i < 30; i++)
		ok(t, sink_write(s, buf, sizeof(buf), &err), &err, "writing", "ab/gone");
	sink_abort(s);
	expect_missing(t, "ab/gone", "after sink_abort");
	expect_list(t, "ab", kept, 1, "after sink_abort");
	/* Aborted before a byte was written, in a folder of its own. */
	sink_abort(open_writer(t, t->repo, "ab2/never"));
	expect_missing(t, "ab2/never", "after sink_abort of an empty writer");
	expect_list(t, "ab2", none, 0, "after sink_abort of an empty writer");
	expect_no_temporaries(t, "after sink_abort");
}

static void dead_writer_leaves_nothing_visible(void **state)
{
	struct conformance *t = *state;
	static const char *const kept[] = { "kept" };
	static const char *const none[] = { NULL };
	struct drctl_error err;

	put_text(t, "dead/kept", "kept");
	leave_dead_writer(t, "dead/half", 3u << 20);
	expect_missing(t, "dead/half", "after its writer was killed halfway");
	expect_list(t, "dead", kept, 1, "after a writer was killed halfway");
	/* The name is usable again. */
	put_text(t, "dead/half", "second try");
	expect_content(t, "dead/half", "second try", 10, 0);
	/* And remove_dir takes the debris with it. */
	leave_dead_writer(t, "dead2/half", 1u << 20);
	err_clear(&err);
	ok(t, repo_remove_dir(t->repo, "dead2", &err), &err, "remove_dir", "dead2");
	expect_list(t, "dead2", none, 0, "after remove_dir of a folder holding only a killed writer's debris");
	ok(t, repo_remove_dir(t->repo, "dead", &err), &err, "remove_dir", "dead");
	expect_no_temporaries(t, "after remove_dir of every folder a killed writer wrote into");
}

static void list_is_sorted_and_hides_temporaries(void **state)
{
	struct conformance *t = *state;
	/* Written in this order... */
	static const char *const written[] = { "b", "a", "B", "a b", "a+b", "\xc3\xa4", "10", "9", "sub/x", "a=b", "a%b" };
	/* ...listed bytewise: digits < upper case < lower case < UTF-8 lead bytes,
	 * and "a" before "a b"; a folder appears as its own name, once. */
	static const char *const sorted[] = { "10", "9", "B", "a", "a b", "a%b", "a+b", "a=b", "b", "sub", "\xc3\xa4" };
	static const char *const none[] = { NULL };
	char name[64];
	struct drctl_error err;
	struct sink *pending;

	err_clear(&err);
	for (size_t i = 0; i < sizeof(written) / sizeof(written[0]); i++) {
		snprintf(name, sizeof(name), "l/%s", written[i]);
		put_text(t, name, written[i]);
	}
	put_text(t, "l/sub/y", "y");
	pending = open_writer(t, t->repo, "l/pending");
	ok(t, sink_write(pending, "partial", 7, &err), &err, "writing", "l/pending");
	leave_dead_writer(t, "l/crashed", 4096);
	expect_list(t, "l", sorted, sizeof(sorted) / sizeof(sorted[0]),
		    "with one writer open and one killed halfway in the folder");
	sink_abort(pending);
	expect_list(t, "l-missing", none, 0, "for a folder that was never written");
	expect_list(t, "l/a", none, 0, "for the name of an object (not a folder)");
}

/* More children than one page of an S3 listing (1000 keys), objects and
 * folders mixed: every one listed once, in order; remove_dir takes them all. */
static void list_and_remove_dir_go_past_one_page(void **state)
{
	struct conformance *t = *state;
	static const char *const none[] = { NULL };
	enum { OBJECTS = 1150, FOLDERS = 30 };
	const char **want = calloc(OBJECTS + FOLDERS, sizeof(*want));
	char (*names)[32] = calloc(OBJECTS + FOLDERS, sizeof(*names));
	char name[64];
	size_t n = 0;

	assert_non_null(want);
	assert_non_null(names);
	for (int i = 0; i < OBJECTS; i++) {
		snprintf(names[n], sizeof(names[n]), "o%05d", i);
		snprintf(name, sizeof(name), "many/%s", names[n]);
		put_text(t, name, names[n]);
		want[n] = names[n];
		n++;
	}
	for (int i = 0; i < FOLDERS; i++) {
		snprintf(names[n], sizeof(names[n]), "p%03d", i);
		snprintf(name, sizeof(name), "many/%s/inside", names[n]);
		put_text(t, name, "x");
		want[n] = names[n];
		n++;
	}
	expect_list(t, "many", want, n, "with 1150 objects and 30 folders in the folder");
	{
		struct drctl_error err;
		err_clear(&err);
		ok(t, repo_remove_dir(t->repo, "many", &err), &err, "remove_dir", "many");
	}
	expect_list(t, "many", none, 0, "after remove_dir of the folder of 1180 children");
	expect_missing(t, "many/o01149", "after remove_dir of its folder");
	free(want);
	free(names);
}

static void stat_gives_the_size(void **state)
{
	struct conformance *t = *state;
	static const size_t sizes[] = { 0, 1, 4095, 4096, 65537, 1000003 };
	unsigned char *buf = malloc(1000003);
	char name[64];

	assert_non_null(buf);
	fill(buf, 1000003, 9);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(name, sizeof(name), "st/%zu", sizes[i]);
		put(t, name, buf, sizes[i]);
	}
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(name, sizeof(name), "st/%zu", sizes[i]);
		expect_size(t, name, sizes[i]);
	}
	free(buf);
	expect_missing(t, "st/none", "for a name never written");
}

static void remove_dir_removes_a_set_and_nothing_else(void **state)
{
	struct conformance *t = *state;
	static const char *const left[] = { "set2", "set_" };
	static const char *const none[] = { NULL };
	static const char *const set2[] = { "a", "sub" };
	struct drctl_error err;

	err_clear(&err);
	put_text(t, "backups/set/a", "a");
	put_text(t, "backups/set/b", "b");
	put_text(t, "backups/set/sub/c", "c");
	put_text(t, "backups/set/sub/deeper/d", "d");
	leave_dead_writer(t, "backups/set/e", 8192);
	/* Names that share the prefix "backups/set" must survive. */
	put_text(t, "backups/set2/a", "a2");
	put_text(t, "backups/set2/sub/c", "c2");
	put_text(t, "backups/set_/x", "x");
	ok(t, repo_remove_dir(t->repo, "backups/set", &err), &err, "remove_dir", "backups/set");
	expect_list(t, "backups", left, 2, "after remove_dir \"backups/set\"");
	expect_list(t, "backups/set", none, 0, "after remove_dir \"backups/set\"");
	expect_list(t, "backups/set/sub", none, 0, "after remove_dir \"backups/set\"");
	expect_missing(t, "backups/set/a", "after remove_dir \"backups/set\"");
	expect_missing(t, "backups/set/sub/deeper/d", "after remove_dir \"backups/set\"");
	expect_list(t, "backups/set2", set2, 2, "after remove_dir of its neighbour \"backups/set\"");
	expect_content(t, "backups/set2/sub/c", "c2", 2, 0);
	expect_content(t, "backups/set_/x", "x", 1, 0);
	ok(t, repo_remove_dir(t->repo, "backups/never", &err), &err, "remove_dir of a missing folder", "backups/never");
	/* An object's name is no folder: nothing is removed. */
	ok(t, repo_remove_dir(t->repo, "backups/set_/x", &err), &err, "remove_dir of an object's name", "backups/set_/x");
	expect_content(t, "backups/set_/x", "x", 1, 0);
}

static void odd_names_round_trip(void **state)
{
	struct conformance *t = *state;
	/* What a file system and S3 keys both carry; listed bytewise. */
	static const char *const names[] = {
		"a..b",
		"amp&dollar$",
		"at@hash#",
		"caf\xc3\xa9 \xe5\x90\x8d\xe5\x89\x8d \xf0\x9f\x93\xa6",
		"equals=sign",
		"paren(1)[2]{3}",
		"per%cent%2F",
		"plus+sign",
		"quote'single\"double",
		"tilde~comma,semi;colon:",
		"trailing.dot.",
		"with space",
		"\xc3\xbcnic\xc3\xb6\x64\x65",
	};
	const size_t n = sizeof(names) / sizeof(names[0]);
	char name[128];

	for (size_t i = n; i-- > 0;) {
		snprintf(name, sizeof(name), "odd/%s", names[i]);
		put_text(t, name, names[i]);
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "odd/%s", names[i]);
		expect_content(t, name, names[i], strlen(names[i]), 0);
		expect_size(t, name, strlen(names[i]));
	}
	expect_list(t, "odd", names, n, "after writing odd names");
}

/* The longest name, of the longest components, round-trips everywhere. */
static void longest_name_round_trips(void **state)
{
	struct conformance *t = *state;
	char name[REPO_NAME_MAX + 1];
	size_t len = 0;

	len += (size_t)snprintf(name, sizeof(name), "lg");
	while (len + 1 + REPO_COMPONENT_MAX <= REPO_NAME_MAX) {
		name[len++] = '/';
		memset(name + len, 'c', REPO_COMPONENT_MAX);
		len += REPO_COMPONENT_MAX;
	}
	name[len++] = '/';
	memset(name + len, 'e', REPO_NAME_MAX - len);
	len = REPO_NAME_MAX;
	name[len] = '\0';
	put_text(t, name, "longest");
	expect_content(t, name, "longest", 7, 0);
	expect_size(t, name, 7);
}

/* Every operation refuses the name, before it reaches the store. */
static void expect_refused(struct conformance *t, const char *name)
{
	const char *accepted = NULL;
	struct drctl_error err;
	struct source *src;
	struct sink *s;
	uint64_t size;
	char **names;
	size_t n;

	err_clear(&err);
	if ((s = repo_open_write(t->repo, name, &err)) != NULL) {
		sink_abort(s);
		accepted = "open_write";
	} else if (err.code != EXIT_FAILED || !strstr(err.message, "invalid repository object name")) {
		fail_msg("[%s] open_write of \"%.80s\" fails with code %d (%s), expected %d and \"invalid repository object name\"",
			 DRV(t), name, err.code, err.message, EXIT_FAILED);
	} else if ((src = repo_open_read(t->repo, name, &err)) != NULL) {
		source_close(src);
		accepted = "open_read";
	} else if (repo_stat(t->repo, name, &size, &err) != -1) {
		accepted = "stat";
	} else if (repo_list(t->repo, name, &names, &n, &err) != -1) {
		repo_names_free(names, n);
		accepted = "list";
	} else if (repo_remove_dir(t->repo, name, &err) != -1) {
		accepted = "remove_dir";
	}
	if (accepted)
		fail_msg("[%s] %s accepts the name \"%.80s\"", DRV(t), accepted, name);
}

static void bad_names_are_refused(void **state)
{
	struct conformance *t = *state;
	static const char *const bad[] = {
		"", "/abs", "/etc/passwd", "../escape", "ref/../../escape", "ref/..", "./x", "ref/./x", "ref//x", "ref/",
		"ref/.hidden", "ref/x" REPO_RESERVED_MARK "1", "ref/new\nline", "ref/del\x7f", "ref/\xff", "ref/\xc0\xaf",
		"ref/\xed\xa0\x80",
	};
	static const char *const only_good[] = { "good" };
	char too_long[REPO_NAME_MAX + 2], long_component[REPO_COMPONENT_MAX + 6];

	put_text(t, "ref/good", "good");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_refused(t, bad[i]);
	memset(too_long, 'x', sizeof(too_long) - 1);
	memcpy(too_long, "ref/", 4);
	too_long[sizeof(too_long) - 1] = '\0';
	expect_refused(t, too_long);
	memset(long_component, 'x', sizeof(long_component) - 1);
	memcpy(long_component, "ref/", 4);
	long_component[sizeof(long_component) - 1] = '\0';
	expect_refused(t, long_component);
	expect_list(t, "ref", only_good, 1, "after the refused names");
	expect_content(t, "ref/good", "good", 4, 0);
}

static void reading_a_missing_object_is_not_found(void **state)
{
	struct conformance *t = *state;
	struct drctl_error err;
	char *buf;
	size_t len;

	expect_missing(t, "nowhere/nothing", "in an empty repository");
	put_text(t, "somewhere/something", "x");
	expect_missing(t, "somewhere/something-else", "beside an object");
	expect_missing(t, "somewhere", "for a folder's name");
	err_clear(&err);
	if (repo_read_all(t->repo, "nowhere/nothing", 1024, &buf, &len, &err) == 0 || err.code != EXIT_NOT_FOUND)
		fail_msg("[%s] repo_read_all of a missing object: exit code %d (%s), expected %d", DRV(t), err.code,
			 err.message, EXIT_NOT_FOUND);
}

/* What repo.h promises for a name that exists: the new object replaces it
 * whole when its sink closes; until then readers see the old one. */
static void writing_an_existing_name_replaces_it_whole(void **state)
{
	struct conformance *t = *state;
	struct drctl_error err;
	struct sink *s, *a, *b;
	size_t len;
	char *got;

	err_clear(&err);
	put_text(t, "ow/obj", "old");
	s = open_writer(t, t->repo, "ow/obj");
	ok(t, sink_write(s, "new, longer", 11, &err), &err, "writing", "ow/obj");
	expect_content(t, "ow/obj", "old", 3, 0);
	expect_size(t, "ow/obj", 3);
	ok(t, sink_close(s, &err), &err, "closing", "ow/obj");
	expect_content(t, "ow/obj", "new, longer", 11, 0);
	expect_size(t, "ow/obj", 11);
	/* An aborted rewrite leaves the object as it was. */
	s = open_writer(t, t->repo, "ow/obj");
	ok(t, sink_write(s, "discarded", 9, &err), &err, "writing", "ow/obj");
	sink_abort(s);
	expect_content(t, "ow/obj", "new, longer", 11, 0);
	/* Two writers of one name: the object is one of them, whole. */
	a = open_writer(t, t->repo, "ow/two");
	b = open_writer(t, t->repo, "ow/two");
	ok(t, sink_write(a, "from writer A", 13, &err), &err, "writing", "ow/two (A)");
	ok(t, sink_write(b, "from B", 6, &err), &err, "writing", "ow/two (B)");
	ok(t, sink_close(b, &err), &err, "closing", "ow/two (B)");
	ok(t, sink_close(a, &err), &err, "closing", "ow/two (A)");
	expect_no_temporaries(t, "after rewrites closed and aborted");
	got = get(t, "ow/two", &len, 0);
	if (!((len == 13 && !memcmp(got, "from writer A", 13)) || (len == 6 && !memcmp(got, "from B", 6)))) {
		char shown[64];
		snprintf(shown, sizeof(shown), "%.*s", (int)(len < 40 ? len : 40), got);
		free(got);
		fail_msg("[%s] after two writers of \"ow/two\", it reads \"%s\" (%zu bytes): neither writer's object whole",
			 DRV(t), shown, len);
	}
	free(got);
}

/* --- locks (lib/storage/repo_lock.h, the same objects on every driver) ------------- */

static struct repo_lock *take(struct conformance *t, enum repo_lock_kind kind, const char *purpose, int steal)
{
	struct repo_lock_request req = { .kind = kind, .purpose = purpose, .command = "drctl conformance",
					 .can_steal = 1, .steal = steal };
	struct repo_lock *l = NULL;
	struct drctl_error err;

	err_clear(&err);
	ok(t, repo_lock_take(t->cfg, &req, &l, &err), &err, "taking a lock for", purpose);
	return l;
}

/* The take fails with EXIT_LOCKED, naming each of the words. */
static void expect_lock_refused(struct conformance *t, enum repo_lock_kind kind, const char *when, const char *hint_word,
			   const char *const *words)
{
	struct repo_lock_request req = { .kind = kind, .purpose = "conformance: refused", .command = "drctl conformance",
					 .can_steal = 1 };
	struct repo_lock *l = NULL;
	struct drctl_error err;

	err_clear(&err);
	if (repo_lock_take(t->cfg, &req, &l, &err) == 0) {
		repo_lock_release(l);
		fail_msg("[%s] %s, a %s lock is taken; expected EXIT_LOCKED", DRV(t), when, repo_lock_kind_name(kind));
	}
	if (err.code != EXIT_LOCKED)
		fail_msg("[%s] %s, the %s lock fails with exit code %d (%s), expected %d (locked)", DRV(t), when,
			 repo_lock_kind_name(kind), err.code, err.message, EXIT_LOCKED);
	for (; *words; words++)
		if (!strstr(err.message, *words))
			fail_msg("[%s] %s, the lock error does not name \"%s\": \"%s\"", DRV(t), when, *words, err.message);
	if (hint_word && !strstr(err.hint, hint_word))
		fail_msg("[%s] %s, the lock error's hint does not say \"%s\": \"%s\"", DRV(t), when, hint_word, err.hint);
}

static size_t lock_count(struct conformance *t)
{
	struct repo_lock_info *locks;
	struct drctl_error err;
	size_t n;

	err_clear(&err);
	ok(t, repo_lock_list(t->repo, &locks, &n, &err), &err, "listing", REPO_LOCKS_FOLDER);
	free(locks);
	return n;
}

static void plant_lock(struct conformance *t, const char *name, const char *kind, const char *refreshed)
{
	char text[512];

	snprintf(text, sizeof(text),
		 "{\"host\": \"elsewhere.example\", \"pid\": 4242, \"purpose\": \"drctl planted\", \"kind\": \"%s\", "
		 "\"created\": \"%s\", \"refreshed\": \"%s\"}", kind, refreshed, refreshed);
	put_text(t, name, text);
}

static void time_ago(long seconds, char out[32])
{
	time_t when = time(NULL) - seconds;
	struct tm tm;

	gmtime_r(&when, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void shared_locks_live_side_by_side(void **state)
{
	struct conformance *t = *state;
	struct repo_lock *a = take(t, REPO_LOCK_SHARED, "conformance reader one", 0);
	struct repo_lock *b = take(t, REPO_LOCK_SHARED, "conformance reader two", 0);
	struct repo_lock_info *locks;
	struct drctl_error err;
	size_t n;

	err_clear(&err);
	ok(t, repo_lock_list(t->repo, &locks, &n, &err), &err, "listing", REPO_LOCKS_FOLDER);
	if (n != 2)
		fail_msg("[%s] two shared locks held, %zu lock objects listed", DRV(t), n);
	for (size_t i = 0; i < n; i++)
		if (!locks[i].readable || locks[i].kind != REPO_LOCK_SHARED || locks[i].pid != (long)getpid() ||
		    !strstr(locks[i].purpose, "conformance reader") || locks[i].refreshed == 0 || locks[i].created == 0 ||
		    strncmp(locks[i].name, REPO_LOCKS_FOLDER "/", sizeof(REPO_LOCKS_FOLDER)))
			fail_msg("[%s] the lock object %s does not say who holds it, its kind and times", DRV(t),
				 locks[i].name);
	free(locks);
	repo_lock_release(a);
	repo_lock_release(b);
	if (lock_count(t) != 0)
		fail_msg("[%s] two shared locks released, lock objects remain", DRV(t));
}

static void exclusive_and_shared_exclude_each_other(void **state)
{
	struct conformance *t = *state;
	char pid[32];
	const char *reader[] = { "conformance reader", pid, "shared", NULL };
	const char *pruner[] = { "conformance pruner", pid, "exclusive", NULL };
	struct repo_lock *l;

	snprintf(pid, sizeof(pid), "pid %ld", (long)getpid());
	l = take(t, REPO_LOCK_SHARED, "conformance reader", 0);
	expect_lock_refused(t, REPO_LOCK_EXCLUSIVE, "while a shared lock is held", "wait for conformance reader", reader);
	if (lock_count(t) != 1)
		fail_msg("[%s] a refused exclusive lock left its object behind", DRV(t));
	repo_lock_release(l);
	l = take(t, REPO_LOCK_EXCLUSIVE, "conformance pruner", 0);
	expect_lock_refused(t, REPO_LOCK_SHARED, "while an exclusive lock is held", "wait for conformance pruner", pruner);
	expect_lock_refused(t, REPO_LOCK_EXCLUSIVE, "while an exclusive lock is held", NULL, pruner);
	repo_lock_release(l);
	repo_lock_release(take(t, REPO_LOCK_EXCLUSIVE, "conformance pruner", 0));
}

static void a_refresh_writes_a_new_object_and_removes_the_old(void **state)
{
	struct conformance *t = *state;
	struct repo_lock *l = take(t, REPO_LOCK_SHARED, "conformance refresher", 0);
	struct repo_lock_info *locks;
	struct drctl_error err;
	char before[256];
	size_t n;

	snprintf(before, sizeof(before), "%s", repo_lock_name(l));
	err_clear(&err);
	ok(t, repo_lock_refresh(l, &err), &err, "refreshing", before);
	if (!strcmp(before, repo_lock_name(l)))
		fail_msg("[%s] a refresh rewrote %s instead of writing a new object", DRV(t), before);
	ok(t, repo_lock_list(t->repo, &locks, &n, &err), &err, "listing", REPO_LOCKS_FOLDER);
	if (n != 1 || strcmp(locks[0].name, repo_lock_name(l)) || locks[0].kind != REPO_LOCK_SHARED)
		fail_msg("[%s] after a refresh, %zu lock objects (the first %s), expected only %s", DRV(t), n,
			 n ? locks[0].name : "-", repo_lock_name(l));
	free(locks);
	repo_lock_release(l);
	if (lock_count(t) != 0)
		fail_msg("[%s] a refreshed lock released, lock objects remain", DRV(t));
}

static void a_stale_lock_is_reported_and_only_a_stale_one_is_stolen(void **state)
{
	struct conformance *t = *state;
	const char *holder[] = { "drctl planted", "pid 4242", "elsewhere.example", "120 min", NULL };
	const char *live[] = { "drctl planted", "pid 4242", NULL };
	struct drctl_error err;
	char old[32], now[32];
	uint64_t size;

	ok(t, config_set(t->cfg, "repository", "lock_stale_minutes", "30", &err), &err, "setting",
	   "lock_stale_minutes");
	time_ago(2 * 3600 + 5, old);
	plant_lock(t, REPO_LOCKS_FOLDER "/20260101T000000Z-elsewhere-4242-planted.json", "exclusive", old);
	expect_lock_refused(t, REPO_LOCK_SHARED, "with a stale exclusive lock", "--steal", holder);
	expect_lock_refused(t, REPO_LOCK_EXCLUSIVE, "with a stale exclusive lock", "--steal", holder);
	if (lock_count(t) != 1)
		fail_msg("[%s] a take without --steal removed the stale lock", DRV(t));
	repo_lock_release(take(t, REPO_LOCK_EXCLUSIVE, "conformance stealer", 1));
	if (lock_count(t) != 0)
		fail_msg("[%s] --steal did not remove the stale lock", DRV(t));

	/* Not stale (refreshed a minute ago): never stolen. */
	time_ago(60, now);
	plant_lock(t, REPO_LOCKS_FOLDER "/20260101T000000Z-elsewhere-4242-live.json", "shared", now);
	{
		struct repo_lock_request req = { .kind = REPO_LOCK_EXCLUSIVE, .purpose = "conformance stealer",
						 .command = "drctl conformance", .can_steal = 1, .steal = 1 };
		struct repo_lock *l = NULL;
		err_clear(&err);
		if (repo_lock_take(t->cfg, &req, &l, &err) == 0)
			fail_msg("[%s] --steal took over a lock refreshed a minute ago", DRV(t));
		if (err.code != EXIT_LOCKED || !strstr(err.message, live[0]) || !strstr(err.message, live[1]))
			fail_msg("[%s] --steal of a live lock: exit %d, \"%s\"; expected %d naming the holder", DRV(t),
				 err.code, err.message, EXIT_LOCKED);
	}
	if (repo_stat(t->repo, REPO_LOCKS_FOLDER "/20260101T000000Z-elsewhere-4242-live.json", &size, &err) != 1)
		fail_msg("[%s] --steal removed a live lock", DRV(t));
	/* A shorter stale time makes the same lock stale. */
	ok(t, config_set(t->cfg, "repository", "lock_stale_minutes", "1", &err), &err, "setting", "lock_stale_minutes");
	ok(t, repo_remove(t->repo, REPO_LOCKS_FOLDER "/20260101T000000Z-elsewhere-4242-live.json", &err), &err,
	   "removing", "the planted lock");
	time_ago(3 * 60, now);
	plant_lock(t, REPO_LOCKS_FOLDER "/20260101T000000Z-elsewhere-4242-short.json", "shared", now);
	repo_lock_release(take(t, REPO_LOCK_EXCLUSIVE, "conformance stealer", 1));
	if (lock_count(t) != 0)
		fail_msg("[%s] with lock_stale_minutes = 1, --steal left a lock refreshed 3 minutes ago", DRV(t));
}

static void an_unreadable_lock_object_is_a_conflict(void **state)
{
	struct conformance *t = *state;
	const char *named[] = { REPO_LOCKS_FOLDER "/garbage.json", NULL };

	put_text(t, REPO_LOCKS_FOLDER "/garbage.json", "not a lock");
	put_text(t, REPO_LOCKS_FOLDER "/README", "not a lock object (no .json): ignored");
	expect_lock_refused(t, REPO_LOCK_SHARED, "with an unreadable lock object", "by hand", named);
	expect_lock_refused(t, REPO_LOCK_EXCLUSIVE, "with an unreadable lock object", "by hand", named);
}

/* --- the table and the list agree ---------------------------------------------- */

static void every_driver_has_a_fixture(void **state)
{
	size_t n;
	const struct repo_driver *const *drivers = repo_drivers(&n);
	(void)state;

	assert_true(n > 0);
	for (size_t i = 0; i < n; i++) {
		size_t j;
		struct drctl_error err;
		struct config *cfg = config_new_empty();

		for (j = 0; j < N_FIXTURES && strcmp(fixtures[j].type, drivers[i]->type); j++)
			;
		if (j == N_FIXTURES)
			fail_msg("driver \"%s\" of the table has no fixture in the conformance list: add one to fixtures[]",
				 drivers[i]->type);
		if (!drivers[i]->open || !drivers[i]->summary)
			fail_msg("driver \"%s\" has no open function or no summary", drivers[i]->type);
		err_clear(&err);
		assert_non_null(cfg);
		if (config_set(cfg, "repository", "type", drivers[i]->type, &err) != 0)
			fail_msg("driver \"%s\" is not a value [repository] type accepts (%s): add it to lib/core/config_keys.c",
				 drivers[i]->type, err.message);
		config_free(cfg);
	}
	for (size_t j = 0; j < N_FIXTURES; j++)
		if (!repo_driver_find(fixtures[j].type, NULL))
			fail_msg("fixture \"%s\" tests a driver the table does not have", fixtures[j].type);
}

static void an_unknown_type_is_a_config_error_listing_the_types(void **state)
{
	struct drctl_error err;
	size_t n;
	const struct repo_driver *const *drivers = repo_drivers(&n);
	(void)state;

	err_clear(&err);
	if (repo_driver_find("ftp", &err) != NULL)
		fail_msg("repo_driver_find(\"ftp\") finds a driver");
	if (err.code != EXIT_USAGE || strcmp(err.subject, "[repository] type") != 0)
		fail_msg("an unknown type gives exit code %d about \"%s\", expected %d about \"[repository] type\"", err.code,
			 err.subject, EXIT_USAGE);
	if (!strstr(err.message, "\"ftp\""))
		fail_msg("the unknown-type error does not name the value: \"%s\"", err.message);
	for (size_t i = 0; i < n; i++)
		if (!strstr(err.message, drivers[i]->type) || !strstr(err.hint, drivers[i]->type))
			fail_msg("the unknown-type error does not list the type \"%s\": \"%s\" (hint \"%s\")", drivers[i]->type,
				 err.message, err.hint);
	assert_ptr_equal(repo_driver_find(NULL, NULL), repo_driver_find("local", NULL));
}

#define CASE(f) { #f, f, setup, teardown, NULL }

int main(void)
{
	static struct CMUnitTest cases[] = {
		CASE(write_then_read_small),
		CASE(write_then_read_empty),
		CASE(write_then_read_large_uneven),
		CASE(concurrent_writes_through_one_handle),
		CASE(invisible_until_closed),
		CASE(abort_leaves_nothing),
		CASE(dead_writer_leaves_nothing_visible),
		CASE(list_is_sorted_and_hides_temporaries),
		CASE(list_and_remove_dir_go_past_one_page),
		CASE(stat_gives_the_size),
		CASE(remove_dir_removes_a_set_and_nothing_else),
		CASE(odd_names_round_trip),
		CASE(longest_name_round_trips),
		CASE(bad_names_are_refused),
		CASE(reading_a_missing_object_is_not_found),
		CASE(writing_an_existing_name_replaces_it_whole),
		CASE(shared_locks_live_side_by_side),
		CASE(exclusive_and_shared_exclude_each_other),
		CASE(a_refresh_writes_a_new_object_and_removes_the_old),
		CASE(a_stale_lock_is_reported_and_only_a_stale_one_is_stolen),
		CASE(an_unreadable_lock_object_is_a_conflict),
	};
	const struct CMUnitTest table[] = {
		cmocka_unit_test(every_driver_has_a_fixture),
		cmocka_unit_test(an_unknown_type_is_a_config_error_listing_the_types),
	};
	int failed = cmocka_run_group_tests_name("driver table", table, NULL, NULL);
	/* DRCTL_TEST_STORAGE_FIXTURE=s3: the run against a second test server
	 * (tests/harness/with_s3_double.sh) leaves the other fixtures to the first. */
	const char *only = getenv("DRCTL_TEST_STORAGE_FIXTURE");
	int ran = 0;

	for (size_t i = 0; i < N_FIXTURES; i++) {
		if (only && *only && strcmp(only, fixtures[i].type) != 0)
			continue;
		ran++;
		for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
			cases[k].initial_state = (void *)&fixtures[i];
		failed += cmocka_run_group_tests_name(fixtures[i].type, cases, NULL, NULL);
	}
	if (!ran) {
		fprintf(stderr, "DRCTL_TEST_STORAGE_FIXTURE=%s names no fixture of this suite\n", only);
		failed++;
	}
	return failed;
}
