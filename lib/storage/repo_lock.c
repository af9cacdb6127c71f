/*
 * repo_lock: lock objects under locks/ (the design and the protocol are in
 * repo_lock.h).  Everything here goes through repo.h, so every driver gets
 * the same locks.
 *
 * A held lock has its own repository handle: its refresh thread and the
 * signal watcher use that handle while the command uses its own, and
 * neither driver has to be safe for two threads on one handle.
 */
#include "lib/storage/repo_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "lib/core/log.h"
#include "lib/stream/stream.h"

#define LOCK_OBJECT_MAX 4096
#define SCAN_ATTEMPTS 8
#define TAKE_ATTEMPTS 4

struct repo_lock {
	struct repo *repo; /* the lock's own handle */
	struct repo_lock_info info;
	long stale_seconds;
	pthread_mutex_t mu; /* guards info.name, stopping */
	pthread_cond_t wake;
	pthread_t refresher;
	int refreshing, stopping;
	struct repo_lock *next; /* in held_locks */
};

const char *repo_lock_kind_name(enum repo_lock_kind kind)
{
	return kind == REPO_LOCK_EXCLUSIVE ? "exclusive" : "shared";
}

long repo_lock_stale_seconds(const struct config *cfg)
{
	long minutes = 0;

	if (!cfg || config_get_int(cfg, "repository", "lock_stale_minutes", &minutes) != 0 || minutes < 1)
		minutes = REPO_LOCK_STALE_MINUTES_DEFAULT;
	return minutes * 60;
}

const char *repo_lock_name(const struct repo_lock *l)
{
	return l->info.name;
}

/* --- the objects -------------------------------------------------------------------- */

static void time_text(time_t t, char out[32])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 32, "?");
}

static time_t time_parse(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	if (!s || !(end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) || *end)
		return 0;
	return timegm(&tm);
}

/* This machine's name as a name component: letters, digits, '-', '.', '_'. */
static void host_name(char out[128])
{
	char host[256] = "";

	if (gethostname(host, sizeof(host) - 1) != 0 || !host[0])
		snprintf(host, sizeof(host), "unknown-host");
	snprintf(out, 128, "%.100s", host);
	for (char *p = out; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '.' || *p == '_'))
			*p = '_';
}

/* "locks/20261201T100000Z-host-123-a1b2c3d4e5f60718.json" */
static int new_lock_name(const struct repo_lock_info *info, char *out, size_t cap, struct drctl_error *err)
{
	unsigned char rnd[8];
	char hex[17], stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return err_set(err, EXIT_FAILED, NULL, NULL, "cannot draw a random lock id");
	hex_encode(rnd, sizeof(rnd), hex);
	if (!gmtime_r(&now, &tm) || !strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm))
		return err_set(err, EXIT_FAILED, NULL, NULL, "cannot format the time of a lock id");
	snprintf(out, cap, REPO_LOCKS_FOLDER "/%s-%s-%ld-%s.json", stamp, info->host, info->pid, hex);
	return 0;
}

/* Write info as a new object (a new name each time: objects are written
 * once); info->name becomes it. */
static int lock_write(struct repo *r, struct repo_lock_info *info, struct drctl_error *err)
{
	char created[32], refreshed[32], name[sizeof(info->name)];
	json_t *doc;
	char *text;
	int rc;

	if (new_lock_name(info, name, sizeof(name), err) != 0)
		return -1;
	time_text(info->created, created);
	time_text(info->refreshed, refreshed);
	doc = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s}", "host", info->host, "pid", (json_int_t)info->pid, "purpose",
			info->purpose, "kind", repo_lock_kind_name(info->kind), "created", created, "refreshed", refreshed);
	text = doc ? json_dumps(doc, JSON_SORT_KEYS) : NULL;
	json_decref(doc);
	if (!text)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	rc = repo_write_all(r, name, text, strlen(text), err);
	free(text);
	if (rc != 0) {
		err_prefix(err, "writing the lock %s", name);
		return -1;
	}
	snprintf(info->name, sizeof(info->name), "%s", name);
	return 0;
}

static void lock_parse(const char *text, size_t len, struct repo_lock_info *info)
{
	json_t *doc = json_loadb(text, len, 0, NULL);
	const char *kind = json_string_value(json_object_get(doc, "kind"));

	info->readable = json_is_object(doc) && kind && (!strcmp(kind, "shared") || !strcmp(kind, "exclusive")) &&
			 (info->refreshed = time_parse(json_string_value(json_object_get(doc, "refreshed")))) != 0;
	if (info->readable) {
		info->kind = !strcmp(kind, "exclusive") ? REPO_LOCK_EXCLUSIVE : REPO_LOCK_SHARED;
		info->created = time_parse(json_string_value(json_object_get(doc, "created")));
		info->pid = (long)json_integer_value(json_object_get(doc, "pid"));
		snprintf(info->host, sizeof(info->host), "%s", json_string_value(json_object_get(doc, "host")) ?: "?");
		snprintf(info->purpose, sizeof(info->purpose), "%s",
			 json_string_value(json_object_get(doc, "purpose")) ?: "?");
	}
	json_decref(doc);
}

/* 1 read, 0 gone meanwhile, -1 error. */
static int lock_read(struct repo *r, const char *name, struct repo_lock_info *info, struct drctl_error *err)
{
	char *text = NULL;
	size_t len = 0;

	memset(info, 0, sizeof(*info));
	snprintf(info->name, sizeof(info->name), "%s", name);
	if (repo_read_all(r, name, LOCK_OBJECT_MAX, &text, &len, err) != 0) {
		free(text);
		if (err->code != EXIT_NOT_FOUND)
			return -1;
		err_clear(err);
		return 0;
	}
	lock_parse(text, len, info);
	free(text);
	return 1;
}

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);
	return n >= m && !strcmp(s + n - m, tail);
}

/* One listing, every lock read; 0 with *vanished when one went between
 * listing and reading (the scan is then not a whole picture). */
static int lock_scan(struct repo *r, struct repo_lock_info **locks, size_t *n, int *vanished, struct drctl_error *err)
{
	char **names = NULL, name[sizeof((*locks)->name)];
	size_t count = 0;
	int rc = 0;

	*locks = NULL;
	*n = 0;
	*vanished = 0;
	if (repo_list(r, REPO_LOCKS_FOLDER, &names, &count, err) != 0)
		return -1;
	*locks = calloc(count ? count : 1, sizeof(**locks));
	if (!*locks)
		rc = err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	for (size_t i = 0; rc == 0 && i < count; i++) {
		int got;
		if (!ends_with(names[i], ".json") || strlen(names[i]) > sizeof(name) - sizeof(REPO_LOCKS_FOLDER) - 1)
			continue;
		snprintf(name, sizeof(name), REPO_LOCKS_FOLDER "/%s", names[i]);
		if ((got = lock_read(r, name, &(*locks)[*n], err)) < 0)
			rc = -1;
		else if (got == 0)
			*vanished = 1;
		else
			(*n)++;
	}
	repo_names_free(names, count);
	if (rc != 0) {
		free(*locks);
		*locks = NULL;
		*n = 0;
	}
	return rc;
}

int repo_lock_list(struct repo *r, struct repo_lock_info **locks, size_t *n, struct drctl_error *err)
{
	int vanished = 0;

	for (int attempt = 0; attempt < SCAN_ATTEMPTS; attempt++) {
		if (lock_scan(r, locks, n, &vanished, err) != 0)
			return -1;
		if (!vanished)
			return 0;
		free(*locks);
	}
	*locks = NULL;
	*n = 0;
	return err_set(err, EXIT_LOCKED, REPO_LOCKS_FOLDER, "run this command again",
		       "%s: the locks kept changing while they were read (%d times)", r->description, SCAN_ATTEMPTS);
}

/* --- conflicts ------------------------------------------------------------------------ */

static int conflicts(const struct repo_lock_info *other, enum repo_lock_kind mine)
{
	return !other->readable || mine == REPO_LOCK_EXCLUSIVE || other->kind == REPO_LOCK_EXCLUSIVE;
}

/* Its holder ran on this host and that process is gone (a SIGKILLed
 * drctl): stale at once, without waiting for lock_stale_minutes.  A pid
 * reused since only delays this to the stale time. */
static int holder_gone(const struct repo_lock_info *other)
{
	char host[128];

	host_name(host);
	return other->pid > 0 && other->pid != (long)getpid() && !strcmp(other->host, host) &&
	       kill((pid_t)other->pid, 0) != 0 && errno == ESRCH;
}

static int is_stale(const struct repo_lock_info *other, long stale_seconds, time_t now)
{
	return other->readable && (now - other->refreshed > stale_seconds || holder_gone(other));
}

static void describe_holder(const struct repo_lock_info *h, time_t now, char *out, size_t cap)
{
	long age = (long)(now - h->refreshed);

	if (!h->readable) {
		snprintf(out, cap, "%s, which is not a lock drctl wrote", h->name);
		return;
	}
	snprintf(out, cap, "%s (%s lock, pid %ld on %s, last refreshed %ld min %ld s ago, %s)", h->purpose,
		 repo_lock_kind_name(h->kind), h->pid, h->host, age / 60, age % 60, h->name);
}

static int locked_error(const struct repo *r, const struct repo_lock_request *req, const struct repo_lock_info *h,
			long stale_seconds, time_t now, struct drctl_error *err)
{
	char holder[900], why_stale[160];

	if (now - h->refreshed > stale_seconds)
		snprintf(why_stale, sizeof(why_stale), "not refreshed for over %ld min: its holder died or lost the repository",
			 stale_seconds / 60);
	else
		snprintf(why_stale, sizeof(why_stale), "its holder ran on this host and its process is gone");
	describe_holder(h, now, holder, sizeof(holder));
	err_set(err, EXIT_LOCKED, h->name, NULL, "%s is locked by %s; %s needs a %s lock and did nothing", r->description,
		holder, req->command, repo_lock_kind_name(req->kind));
	if (!h->readable)
		err_hint(err, "check what wrote %s in %s, remove it by hand, then run `%s` again", h->name, r->description,
			 req->command);
	else if (!is_stale(h, stale_seconds, now))
		err_hint(err, "wait for %s (pid %ld on %s) to finish, then run `%s` again; a lock is never stolen while its "
			 "holder refreshes it (if the holder died, its lock goes stale %ld min after its last refresh)",
			 h->purpose, h->pid, h->host, req->command, stale_seconds / 60);
	else if (req->can_steal)
		err_hint(err, "the lock is stale (%s); check that pid %ld on %s is gone, then run `%s --steal`", why_stale,
			 h->pid, h->host, req->command);
	else
		/* A dry run takes a shared lock: its --steal removes the stale
		 * exclusive locks in a reader's way, and nothing else. */
		err_hint(err, "the lock is stale (%s); check that pid %ld on %s is gone, then run `drctl prune %s--steal` "
			 "(it removes stale locks%s), then `%s`", why_stale, h->pid, h->host,
			 req->kind == REPO_LOCK_SHARED ? "--dry-run " : "",
			 req->kind == REPO_LOCK_SHARED ? " and removes no set" : "", req->command);
	return -1;
}

/* Step 1 of the protocol: refuse a conflict, remove stale ones when told. */
static int clear_the_way(struct repo *r, const struct repo_lock_request *req, long stale_seconds,
			 struct drctl_error *err)
{
	struct repo_lock_info *locks;
	time_t now = time(NULL);
	size_t n;
	int rc = 0;

	if (repo_lock_list(r, &locks, &n, err) != 0)
		return -1;
	/* Every holder that is not stale first: a steal removes nothing
	 * while a live conflict remains. */
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (conflicts(&locks[i], req->kind) && !is_stale(&locks[i], stale_seconds, now))
			rc = locked_error(r, req, &locks[i], stale_seconds, now, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char holder[900];
		if (!conflicts(&locks[i], req->kind))
			continue;
		if (!req->steal)
			rc = locked_error(r, req, &locks[i], stale_seconds, now, err);
		else {
			describe_holder(&locks[i], now, holder, sizeof(holder));
			log_warn("removing the stale lock of %s in %s (--steal)", holder, r->description);
			if ((rc = repo_remove(r, locks[i].name, err)) != 0)
				err_prefix(err, "removing the stale lock %s", locks[i].name);
		}
	}
	free(locks);
	return rc;
}

/* Step 3: 1 when a conflicting live lock other than ours is there (*h). */
static int raced(struct repo *r, const struct repo_lock_info *mine, long stale_seconds, struct repo_lock_info *h,
		 struct drctl_error *err)
{
	struct repo_lock_info *locks;
	time_t now = time(NULL);
	size_t n;
	int found = 0;

	if (repo_lock_list(r, &locks, &n, err) != 0)
		return -1;
	for (size_t i = 0; !found && i < n; i++)
		if (strcmp(locks[i].name, mine->name) && conflicts(&locks[i], mine->kind) &&
		    !is_stale(&locks[i], stale_seconds, now)) {
			*h = locks[i];
			found = 1;
		}
	free(locks);
	return found;
}

/* A random 50 to 550 ms, so two takers that backed off do not meet again. */
static void back_off(void)
{
	unsigned char rnd[2] = { 0, 0 };
	struct timespec ts;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		rnd[0] = (unsigned char)getpid();
	ts.tv_sec = 0;
	ts.tv_nsec = (50 + ((rnd[0] << 8 | rnd[1]) % 500)) * 1000000L;
	nanosleep(&ts, NULL);
}

/* --- held locks: refresh, release, signals ------------------------------------------- */

static pthread_mutex_t held_mu = PTHREAD_MUTEX_INITIALIZER;
static struct repo_lock *held_locks;
static int stop_pipe[2] = { -1, -1 };
static int watching;

static void held_add(struct repo_lock *l)
{
	pthread_mutex_lock(&held_mu);
	l->next = held_locks;
	held_locks = l;
	pthread_mutex_unlock(&held_mu);
}

static void held_remove(struct repo_lock *l)
{
	pthread_mutex_lock(&held_mu);
	for (struct repo_lock **p = &held_locks; *p; p = &(*p)->next)
		if (*p == l) {
			*p = l->next;
			break;
		}
	pthread_mutex_unlock(&held_mu);
}

/* Write the successor, then remove the old object (never the other way
 * round: a taker that lists between the two must still see a lock). */
int repo_lock_refresh(struct repo_lock *l, struct drctl_error *err)
{
	struct repo_lock_info next = l->info;
	char old[sizeof(l->info.name)];

	next.refreshed = time(NULL);
	if (lock_write(l->repo, &next, err) != 0)
		return -1;
	pthread_mutex_lock(&l->mu);
	snprintf(old, sizeof(old), "%s", l->info.name);
	l->info = next;
	pthread_mutex_unlock(&l->mu);
	if (repo_remove(l->repo, old, err) != 0) {
		err_prefix(err, "removing the lock %s after refreshing it as %s", old, next.name);
		return -1;
	}
	return 0;
}

static void refresh_once(struct repo_lock *l)
{
	struct drctl_error err;

	err_clear(&err);
	if (repo_lock_refresh(l, &err) != 0)
		log_warn("cannot refresh the lock of %s (trying again in %ld s): %s", l->repo->description,
			 l->stale_seconds / REPO_LOCK_REFRESH_DIVISOR, err.message);
}

static void *refresher_main(void *arg)
{
	struct repo_lock *l = arg;
	long interval = l->stale_seconds / REPO_LOCK_REFRESH_DIVISOR;

	pthread_mutex_lock(&l->mu);
	while (!l->stopping) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += interval > 0 ? interval : 1;
		while (!l->stopping && pthread_cond_timedwait(&l->wake, &l->mu, &until) != ETIMEDOUT)
			;
		if (l->stopping)
			break;
		pthread_mutex_unlock(&l->mu);
		refresh_once(l);
		pthread_mutex_lock(&l->mu);
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

/* Stop the thread, remove the object, free. */
static void lock_drop(struct repo_lock *l)
{
	struct drctl_error err;

	if (l->refreshing) {
		pthread_mutex_lock(&l->mu);
		l->stopping = 1;
		pthread_cond_signal(&l->wake);
		pthread_mutex_unlock(&l->mu);
		pthread_join(l->refresher, NULL);
	}
	err_clear(&err);
	if (l->info.name[0] && repo_remove(l->repo, l->info.name, &err) != 0)
		log_warn("cannot remove the lock %s from %s (it goes stale in %ld min): %s", l->info.name,
			 l->repo->description, l->stale_seconds / 60, err.message);
	repo_close(l->repo);
	pthread_cond_destroy(&l->wake);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

static void on_stop_signal(int sig)
{
	unsigned char b = (unsigned char)sig;
	ssize_t w = write(stop_pipe[1], &b, 1);
	(void)w;
}

/* Waits for SIGINT or SIGTERM, removes every held lock and ends the process
 * by that signal.  It keeps held_mu: a release on another thread waits. */
static void *watcher_main(void *arg)
{
	unsigned char sig = 0;
	(void)arg;

	while (read(stop_pipe[0], &sig, 1) != 1)
		;
	pthread_mutex_lock(&held_mu);
	for (struct repo_lock *l = held_locks; l; l = l->next) {
		struct drctl_error err;
		log_warn("stopped by %s: removing the lock %s", sig == SIGINT ? "SIGINT" : "SIGTERM", l->info.name);
		pthread_mutex_lock(&l->mu);
		l->stopping = 1;
		pthread_cond_signal(&l->wake);
		pthread_mutex_unlock(&l->mu);
		if (l->refreshing)
			pthread_join(l->refresher, NULL);
		l->refreshing = 0;
		err_clear(&err);
		repo_remove(l->repo, l->info.name, &err);
	}
	signal(sig, SIG_DFL);
	raise(sig);
	_exit(128 + sig);
}

/* Each of SIGINT and SIGTERM that nobody else handles (the scenario engine
 * does, and unwinds its runs, releasing their locks; one that is ignored,
 * as a shell's background job ignores SIGINT, stays ignored). */
static void watch_stop_signals(void)
{
	static const int signals[] = { SIGINT, SIGTERM };
	struct sigaction old, sa;
	int ours[2] = { 0, 0 };
	pthread_t t;

	pthread_mutex_lock(&held_mu);
	for (size_t i = 0; !watching && i < 2; i++)
		ours[i] = sigaction(signals[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL;
	if (watching || (!ours[0] && !ours[1]) || pipe2(stop_pipe, O_CLOEXEC) != 0) {
		pthread_mutex_unlock(&held_mu);
		return;
	}
	if (pthread_create(&t, NULL, watcher_main, NULL) != 0) {
		close(stop_pipe[0]);
		close(stop_pipe[1]);
		pthread_mutex_unlock(&held_mu);
		return;
	}
	pthread_detach(t);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < 2; i++)
		if (ours[i])
			sigaction(signals[i], &sa, NULL);
	watching = 1;
	pthread_mutex_unlock(&held_mu);
}

/* --- take, release ----------------------------------------------------------------- */

/* Steps 1 to 3 once: 0 held, 1 raced (ours removed; *h the other), -1 error. */
static int take_once(struct repo_lock *l, const struct repo_lock_request *req, struct repo_lock_info *h,
		     struct drctl_error *err)
{
	struct drctl_error ignored;
	int rc;

	if (clear_the_way(l->repo, req, l->stale_seconds, err) != 0)
		return -1;
	l->info.created = l->info.refreshed = time(NULL);
	if (lock_write(l->repo, &l->info, err) != 0)
		return -1;
	rc = raced(l->repo, &l->info, l->stale_seconds, h, err);
	if (rc == 0)
		return 0;
	err_clear(&ignored);
	repo_remove(l->repo, l->info.name, &ignored);
	l->info.name[0] = '\0';
	return rc;
}

int repo_lock_take(const struct config *cfg, const struct repo_lock_request *req, struct repo_lock **out,
		   struct drctl_error *err)
{
	struct repo_lock *l = calloc(1, sizeof(*l));
	struct repo_lock_info h;
	int rc = 1;

	*out = NULL;
	if (!l)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->wake, NULL);
	l->stale_seconds = repo_lock_stale_seconds(cfg);
	l->info.kind = req->kind;
	l->info.pid = (long)getpid();
	l->info.readable = 1;
	host_name(l->info.host);
	snprintf(l->info.purpose, sizeof(l->info.purpose), "%s", req->purpose);
	if (repo_open(&l->repo, cfg, err) != 0)
		goto fail;
	for (int attempt = 0; rc == 1 && attempt < TAKE_ATTEMPTS; attempt++) {
		if (attempt)
			back_off();
		rc = take_once(l, req, &h, err);
	}
	if (rc == 1)
		locked_error(l->repo, req, &h, l->stale_seconds, time(NULL), err);
	if (rc != 0)
		goto fail;
	if (pthread_create(&l->refresher, NULL, refresher_main, l) != 0) {
		err_set(err, EXIT_FAILED, l->info.name, NULL, "cannot start the thread that refreshes the lock %s",
			l->info.name);
		goto fail;
	}
	l->refreshing = 1;
	log_debug("holding the %s lock %s of %s", repo_lock_kind_name(req->kind), l->info.name, l->repo->description);
	watch_stop_signals();
	held_add(l);
	*out = l;
	return 0;
fail:
	if (l->repo)
		lock_drop(l);
	else {
		pthread_cond_destroy(&l->wake);
		pthread_mutex_destroy(&l->mu);
		free(l);
	}
	return -1;
}

void repo_lock_release(struct repo_lock *l)
{
	if (!l)
		return;
	held_remove(l);
	lock_drop(l);
}
