/*
 * The storage conformance suite's driver fixtures (a fresh repository per
 * case, its removal, its temporaries) and the assertions the cases share;
 * see conformance.h.
 */
#include "tests/unit/test_storage_conformance/conformance.h"

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

const struct storage_fixture conformance_fixtures[] = {
	{ "local", local_fresh, local_clean, local_temporaries },
	{ "s3", s3_fresh, s3_clean, s3_temporaries },
};

const size_t conformance_fixture_count = sizeof(conformance_fixtures) / sizeof(conformance_fixtures[0]);

/* --- setup, and assertions that say what differs ---------------------------------- */

int setup(void **state)
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

int teardown(void **state)
{
	struct conformance *t = *state;

	repo_close(t->repo);
	t->fixture->clean(t);
	config_free(t->cfg);
	free(t);
	return 0;
}

void ok(struct conformance *t, int rc, const struct drctl_error *err, const char *what, const char *name)
{
	if (rc != 0)
		fail_msg("[%s] %s \"%s\" failed (exit code %d): %s", DRV(t), what, name, err->code, err->message);
}

struct sink *open_writer(struct conformance *t, struct repo *r, const char *name)
{
	struct drctl_error err;
	struct sink *s;

	err_clear(&err);
	s = repo_open_write(r, name, &err);
	if (!s)
		fail_msg("[%s] open_write \"%s\" failed (exit code %d): %s", DRV(t), name, err.code, err.message);
	return s;
}

void put(struct conformance *t, const char *name, const void *data, size_t len)
{
	struct drctl_error err;

	err_clear(&err);
	ok(t, repo_write_all(t->repo, name, data, len, &err), &err, "writing", name);
}

void put_text(struct conformance *t, const char *name, const char *text)
{
	put(t, name, text, strlen(text));
}

/* Read the whole object in reads of uneven sizes (when uneven). */
char *get(struct conformance *t, const char *name, size_t *len, int uneven)
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

void expect_content(struct conformance *t, const char *name, const void *want, size_t want_len, int uneven)
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

void expect_size(struct conformance *t, const char *name, uint64_t want)
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
void expect_missing(struct conformance *t, const char *name, const char *when)
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

void expect_no_temporaries(struct conformance *t, const char *when)
{
	long n = t->fixture->temporaries(t);
	if (n < 0)
		fail_msg("[%s] %s, the fixture cannot count the store's temporaries", DRV(t), when);
	if (n != 0)
		fail_msg("[%s] %s, the store holds %ld temporar%s (expected none)", DRV(t), when, n, n == 1 ? "y" : "ies");
}

void join(char *out, size_t cap, const char *const *names, size_t n)
{
	size_t len = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n && len < cap; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s\"%s\"", i ? ", " : "", names[i]);
}

/* list of dir is exactly want, in this order. */
void expect_list(struct conformance *t, const char *dir, const char *const *want, size_t n_want,
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
void fill(unsigned char *buf, size_t len, uint32_t seed)
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
void leave_dead_writer(struct conformance *t, const char *name, size_t len)
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
