/*
 * The storage conformance cases of repository locks (lib/storage/repo_lock.h,
 * the same objects on every driver); run by test_storage_conformance.c.
 */
#include "tests/unit/test_storage_conformance/conformance.h"

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

const struct CMUnitTest conformance_lock_cases[] = {
	CASE(shared_locks_live_side_by_side),
	CASE(exclusive_and_shared_exclude_each_other),
	CASE(a_refresh_writes_a_new_object_and_removes_the_old),
	CASE(a_stale_lock_is_reported_and_only_a_stale_one_is_stolen),
	CASE(an_unreadable_lock_object_is_a_conflict),
};

const size_t conformance_lock_case_count = sizeof(conformance_lock_cases) / sizeof(conformance_lock_cases[0]);
