/*
 * backup: the backup command.
 *
 * backup_run reads like the process it runs: plan (keys, components, id),
 * lock the repository, capture the components through their stream chains
 * (up to [backup] parallel at the same time, each into its own object),
 * publish the signed set, unlock.  When one component fails the others stop
 * at their next write and nothing is published.  A failure removes this run's objects so
 * the repository is as it was; a crash leaves only an unpublished folder,
 * which `list` shows as incomplete and `prune` removes.
 */
#include "backup/backup.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/core/keyfile.h"
#include "lib/core/log.h"
#include "lib/crypto/age.h"
#include "lib/crypto/minisign.h"
#include "lib/platform/agents.h"
#include "lib/set/keys.h"
#include "lib/storage/repo.h"
#include "lib/storage/repo_lock.h"
#include "lib/stream/stream_thread.h"

struct backup_plan {
	const struct config *cfg;
	char id[BACKUP_SET_ID_MAX];
	const struct component *components[16];
	size_t n_components;
	struct minisign_secret_key sk;
	struct minisign_signer signer;
	struct age_recipient *recipients;
	size_t n_recipients;
	long zstd_level, zstd_threads;
	struct repo *repo;
	struct repo_lock *lock; /* shared: prune cannot remove sets meanwhile */
	json_t *manifest;
};

static int plan_components(struct backup_plan *p, const struct backup_request *req, struct drctl_error *err)
{
	if (req->n_components > 0) {
		for (size_t i = 0; i < req->n_components; i++) {
			const struct component *c = component_find(req->components[i]);
			if (!c) {
				err_set(err, EXIT_USAGE, req->components[i], NULL, "unknown component \"%s\"",
					req->components[i]);
				err_hint(err, "components are: %s", component_names());
				return -1;
			}
			if (!c->capture)
				return err_set(err, EXIT_USAGE, c->name, NULL,
					       "component %s cannot be backed up by this build", c->name);
			p->components[p->n_components++] = c;
		}
		return 0;
	}
	{
		size_t n;
		const struct component *const *all = component_all(&n);
		for (size_t i = 0; i < n && p->n_components < 16; i++)
			if (all[i]->capture && all[i]->configured && all[i]->configured(p->cfg))
				p->components[p->n_components++] = all[i];
	}
	if (p->n_components == 0)
		return err_set(err, EXIT_USAGE, "configuration",
			       "configure at least one of [files] paths, [postgres], [redis], [vault], or name one with --component",
			       "nothing to back up: no component is configured");
	return 0;
}

static int plan_backup(struct backup_plan *p, const struct backup_request *req, struct drctl_error *err)
{
	char host[256] = "";
	char started[32];

	if (plan_components(p, req, err) != 0)
		return -1;
	if (keys_load_signer(p->cfg, &p->sk, &p->signer, err) != 0)
		return -1;
	if (keys_load_recipients(p->cfg, &p->recipients, &p->n_recipients, err) != 0)
		return -1;
	if (config_get_int(p->cfg, "compression", "level", &p->zstd_level) != 0)
		p->zstd_level = 3;
	if (config_get_int(p->cfg, "compression", "threads", &p->zstd_threads) != 0)
		p->zstd_threads = 0;
	backup_set_new_id(p->id);
	gethostname(host, sizeof(host) - 1);
	format_utc(now_seconds(), started);
	{
		char keyid[17];
		json_t *recips = json_array();
		for (size_t i = 0; i < p->n_recipients; i++) {
			char text[128];
			age_recipient_format(&p->recipients[i], text);
			json_array_append_new(recips, json_string(text));
		}
		minisign_keyid_hex(p->signer.keyid, keyid);
		p->manifest = json_pack("{s:s, s:s, s:s*, s:s, s:s, s:{s:s, s:s}, s:s, s:o, s:{s:s, s:I}, s:o}",
					"format", MANIFEST_FORMAT, "id", p->id, "tag", req->tag,
					"started", started, "host", host,
					"tool", "name", "drctl", "version", DRCTL_VERSION,
					"signing_key_id", keyid,
					"encryption", p->n_recipients
						? json_pack("{s:s, s:o}", "format", "age-v1", "recipients", recips)
						: (json_decref(recips), json_pack("{s:s}", "format", "none")),
					"compression", "format", "zstd", "level", (json_int_t)p->zstd_level,
					"components", json_object());
	}
	if (!p->manifest)
		return err_set(err, EXIT_FAILED, NULL, NULL, "cannot build the manifest");
	return 0;
}

/* --- components side by side --------------------------------------------- */

/* One job per component, taken in component order by [backup] parallel
 * workers.  Each job's chain (capture, tar.zst, age, digest, its own
 * repository object) is its own; what the jobs share is read-only (the plan,
 * the configuration) or behind a lock (the repository handle, the log). */
enum capture_state { CAPTURE_WAITING, CAPTURE_RUNNING, CAPTURE_DONE, CAPTURE_FAILED, CAPTURE_STOPPED };

struct capture_job {
	const struct component *c;
	json_t *section; /* built apart, put into the manifest in component order */
	enum capture_state state;
	struct drctl_error err;
};

struct capture_pool {
	struct backup_plan *plan;
	struct capture_job jobs[16];
	size_t n_jobs, next;
	pthread_mutex_t mu;
	int stop;                 /* set (atomically) by the first failure */
	const struct capture_job *failed;
};

/* A pass-through stage at the top of each chain: once another component
 * failed, the next write fails, so the others stop instead of finishing a
 * set that will not be published. */
struct stop_sink {
	struct sink base;
	struct sink *next;
	struct capture_pool *pool;
};

static int stop_sink_write(struct sink *s, const void *buf, size_t len, struct drctl_error *err)
{
	struct stop_sink *st = (struct stop_sink *)s;

	if (__atomic_load_n(&st->pool->stop, __ATOMIC_ACQUIRE))
		return err_set(err, EXIT_FAILED, NULL, NULL, "stopped because another component failed");
	return sink_write(st->next, buf, len, err);
}

static int stop_sink_close(struct sink *s, struct drctl_error *err)
{
	struct stop_sink *st = (struct stop_sink *)s;
	struct sink *next = st->next;
	int stop = __atomic_load_n(&st->pool->stop, __ATOMIC_ACQUIRE);

	free(st);
	if (stop) { /* not even a whole object of a set that will not be published */
		sink_abort(next);
		return err_set(err, EXIT_FAILED, NULL, NULL, "stopped because another component failed");
	}
	return sink_close(next, err);
}

static void stop_sink_abort(struct sink *s)
{
	struct stop_sink *st = (struct stop_sink *)s;

	sink_abort(st->next);
	free(st);
}

static const struct sink_ops stop_sink_ops = { stop_sink_write, stop_sink_close, stop_sink_abort };

static struct sink *stop_sink_new(struct sink *next, struct capture_pool *pool, struct drctl_error *err)
{
	struct stop_sink *st = calloc(1, sizeof(*st));

	if (!st) {
		sink_abort(next);
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		return NULL;
	}
	*st = (struct stop_sink){ .base.ops = &stop_sink_ops, .next = next, .pool = pool };
	return &st->base;
}

/* One component: repository object <- digest <- age <- stop <- tar.zst <- capture. */
static int capture_component(struct capture_pool *pool, struct capture_job *job, struct drctl_error *err)
{
	struct backup_plan *p = pool->plan;
	const struct component *c = job->c;
	char file[128], name[512], ts[32];
	struct digest digest;
	struct sink *sink;
	struct archive_out *ao;
	json_t *section = job->section, *members = json_array();
	double t0 = now_seconds();
	struct capture_ctx ctx;
	long level;

	json_object_set_new(section, "members", members);
	backup_set_object_file(c->name, p->n_recipients > 0, file, sizeof(file));
	backup_set_path(p->id, file, name, sizeof(name));
	log_info("started, into %s", name);

	sink = repo_open_write(p->repo, name, err);
	/* Beside tar (here), three lines of work: compression on its workers;
	 * encryption and hashing on the worker whose job is next in order
	 * (zstd_stream.h); storage on the hand-off's thread. */
	if (sink)
		sink = thread_sink_new(sink, err);
	if (sink)
		sink = digest_sink_new(sink, &digest, err);
	if (sink && p->n_recipients)
		sink = age_writer_new(sink, p->recipients, p->n_recipients, err);
	if (sink)
		sink = stop_sink_new(sink, pool, err);
	if (!sink)
		return -1;
	/* A component may have its own level ([postgres] compression_level):
	 * what suits certificates does not suit a database dump. */
	if (config_get_int(p->cfg, c->name, "compression_level", &level) != 0)
		level = p->zstd_level;
	json_object_set_new(section, "compression_level", json_integer(level));
	ao = archive_out_new(sink, (int)level, (int)p->zstd_threads, members, err);
	if (!ao)
		return -1;
	ctx = (struct capture_ctx){ .cfg = p->cfg, .backup_id = p->id, .archive = ao, .section = section };
	if (c->capture(&ctx, err) != 0) {
		archive_out_abort(ao);
		err_prefix(err, "backup of %s", c->name);
		return -1;
	}
	json_object_set_new(section, "archive_bytes", json_integer((json_int_t)archive_out_bytes(ao)));
	if (archive_out_close(ao, err) != 0) {
		err_prefix(err, "backup of %s", c->name);
		return -1;
	}
	format_utc(now_seconds(), ts);
	json_object_set_new(section, "object", json_string(file));
	json_object_set_new(section, "object_size", json_integer((json_int_t)digest.bytes));
	json_object_set_new(section, "object_sha256", json_string(digest.sha256_hex));
	json_object_set_new(section, "finished", json_string(ts));
	json_object_set_new(section, "duration_seconds", json_real(now_seconds() - t0));
	log_info("finished, %zu members, %llu bytes stored", json_array_size(members),
		 (unsigned long long)digest.bytes);
	return 0;
}

/* The next job in component order, or NULL when there is none or a
 * component failed. */
static struct capture_job *capture_take(struct capture_pool *pool)
{
	struct capture_job *job = NULL;

	pthread_mutex_lock(&pool->mu);
	if (!__atomic_load_n(&pool->stop, __ATOMIC_ACQUIRE) && pool->next < pool->n_jobs) {
		job = &pool->jobs[pool->next++];
		job->state = CAPTURE_RUNNING;
	}
	pthread_mutex_unlock(&pool->mu);
	return job;
}

static void capture_record(struct capture_pool *pool, struct capture_job *job, int rc)
{
	pthread_mutex_lock(&pool->mu);
	if (rc == 0) {
		job->state = CAPTURE_DONE;
	} else if (pool->failed) {
		/* Failed after another one did: stopped by it (or its own error,
		 * which is logged but is not the cause of the failed set). */
		job->state = CAPTURE_STOPPED;
		log_warn("stopped: %s", job->err.message);
	} else {
		job->state = CAPTURE_FAILED;
		pool->failed = job;
		__atomic_store_n(&pool->stop, 1, __ATOMIC_RELEASE);
		if (pool->n_jobs > 1)
			log_warn("failed, stopping the other components: %s", job->err.message);
	}
	pthread_mutex_unlock(&pool->mu);
}

static void *capture_worker(void *arg)
{
	struct capture_pool *pool = arg;
	struct capture_job *job;

	while ((job = capture_take(pool)) != NULL) {
		log_set_component(job->c->name);
		capture_record(pool, job, capture_component(pool, job, &job->err));
		log_set_component(NULL);
	}
	return NULL;
}

/* "files, postgres" for the jobs in `state`, or "none". */
static void capture_names(const struct capture_pool *pool, enum capture_state state, char *out, size_t cap)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < pool->n_jobs && used < cap; i++)
		if (pool->jobs[i].state == state)
			used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? ", " : "", pool->jobs[i].c->name);
	if (!out[0])
		snprintf(out, cap, "none");
}

/* The failing component's error, with what became of the others. */
static void capture_failure(const struct capture_pool *pool, struct drctl_error *err)
{
	char done[96], stopped[96], waiting[96], tail[400];
	size_t used, len;

	*err = pool->failed->err;
	capture_names(pool, CAPTURE_DONE, done, sizeof(done));
	capture_names(pool, CAPTURE_STOPPED, stopped, sizeof(stopped));
	capture_names(pool, CAPTURE_WAITING, waiting, sizeof(waiting));
	snprintf(tail, sizeof(tail), " (%.32s failed; captured: %s; stopped: %s; not started: %s)", pool->failed->c->name,
		 done, stopped, waiting);
	/* Appended as far as it fits: the cause comes first. */
	used = strlen(err->message);
	len = strlen(tail);
	if (used + len >= sizeof(err->message))
		len = sizeof(err->message) - 1 - used;
	memcpy(err->message + used, tail, len);
	err->message[used + len] = '\0';
}

/* Every component into its own object, up to `parallel` at a time; the
 * sections go into the manifest in component order, whatever order the
 * components finished in. */
static int capture_all(struct backup_plan *p, long parallel, struct drctl_error *err)
{
	struct capture_pool pool = { .plan = p, .n_jobs = p->n_components };
	pthread_t threads[16];
	size_t n_threads = 0, want = parallel < 1 ? 1 : (size_t)parallel;
	int rc = -1;

	pthread_mutex_init(&pool.mu, NULL);
	for (size_t i = 0; i < pool.n_jobs; i++) {
		pool.jobs[i].c = p->components[i];
		pool.jobs[i].section = json_object();
		err_clear(&pool.jobs[i].err);
	}
	if (want > pool.n_jobs)
		want = pool.n_jobs;
	log_info("backing up %zu component%s, %zu at a time", pool.n_jobs, pool.n_jobs == 1 ? "" : "s", want);
	while (n_threads < want && pthread_create(&threads[n_threads], NULL, capture_worker, &pool) == 0)
		n_threads++;
	if (n_threads == 0)
		capture_worker(&pool); /* no thread to be had: one after another here */
	for (size_t i = 0; i < n_threads; i++)
		pthread_join(threads[i], NULL);
	if (pool.failed) {
		capture_failure(&pool, err);
		goto cleanup;
	}
	for (size_t i = 0; i < pool.n_jobs; i++)
		json_object_set(json_object_get(p->manifest, "components"), pool.jobs[i].c->name, pool.jobs[i].section);
	rc = 0;
cleanup:
	for (size_t i = 0; i < pool.n_jobs; i++)
		json_decref(pool.jobs[i].section);
	pthread_mutex_destroy(&pool.mu);
	return rc;
}

/* --parallel, else [backup] parallel, else every component at once up to
 * BACKUP_PARALLEL_DEFAULT. */
static long plan_parallel(const struct backup_plan *p, const struct backup_request *req)
{
	long n;

	if (req->parallel > 0)
		return req->parallel;
	if (config_get_int(p->cfg, "backup", "parallel", &n) == 0 && n > 0)
		return n;
	return p->n_components < BACKUP_PARALLEL_DEFAULT ? (long)p->n_components : BACKUP_PARALLEL_DEFAULT;
}

/* The agents' replicas now, into the manifest's "platform": a cluster-loss
 * run on a new cluster starts each agent at the count it had here.  Only
 * where agents are controlled ([agents] control set, or drctl runs in a
 * Kubernetes pod); a failure to list them is a warning in the manifest and
 * the log, never a failed backup. */
static void record_platform_agents(struct backup_plan *p)
{
	struct agents *a = NULL;
	json_t *list = NULL;
	struct drctl_error e;
	char at[32];

	if (!config_is_set(p->cfg, "agents", "control") && !getenv("KUBERNETES_SERVICE_HOST"))
		return;
	err_clear(&e);
	format_utc(now_seconds(), at);
	if (agents_open(&a, p->cfg, &e) == 0 && agents_list(a, &list, &e) == 0) {
		json_object_set_new(p->manifest, "platform", json_pack("{s:o, s:s}", "agents", list, "agents_recorded", at));
		log_info("recorded %zu agent workloads and their replicas in the manifest", json_array_size(list));
	} else {
		log_warn("the agents' replicas are not recorded in this set (%s); a cluster-loss run from it starts the "
			 "agents at the counts the deploy gives them", e.message);
		json_object_set_new(p->manifest, "platform", json_pack("{s:n, s:s}", "agents", "agents_error", e.message));
	}
	agents_close(a);
}

static void plan_free(struct backup_plan *p)
{
	minisign_secret_key_wipe(&p->sk);
	free(p->recipients);
	json_decref(p->manifest);
	repo_lock_release(p->lock);
	repo_close(p->repo);
}

int backup_run(const struct config *cfg, const struct backup_request *req,
	       struct backup_result *res, struct drctl_error *err)
{
	struct backup_plan plan = { .cfg = cfg };
	double t0 = now_seconds();
	char finished[32];
	struct repo_lock_request lock = {
		.kind = REPO_LOCK_SHARED, .purpose = "drctl backup", .command = "drctl backup",
		.can_steal = 1, .steal = req->steal,
	};
	int created = 0;

	memset(res, 0, sizeof(*res));
	if (plan_backup(&plan, req, err) != 0)
		goto fail;
	if (repo_open(&plan.repo, cfg, err) != 0)
		goto fail;
	if (repo_lock_take(cfg, &lock, &plan.lock, err) != 0)
		goto fail;
	created = 1;
	record_platform_agents(&plan);
	if (capture_all(&plan, plan_parallel(&plan, req), err) != 0)
		goto fail;
	format_utc(now_seconds(), finished);
	json_object_set_new(plan.manifest, "finished", json_string(finished));
	json_object_set_new(plan.manifest, "duration_seconds", json_real(now_seconds() - t0));
	if (backup_set_publish(plan.repo, &plan.signer, plan.id, plan.manifest, err) != 0)
		goto fail;
	log_info("backup set %s published in %s", plan.id, plan.repo->description);
	snprintf(res->id, sizeof(res->id), "%s", plan.id);
	res->manifest = json_incref(plan.manifest);
	plan_free(&plan);
	return 0;
fail:
	if (created) {
		/* Nothing of this run may look complete, and debris is not useful. */
		struct drctl_error ignored;
		err_clear(&ignored);
		if (backup_set_remove(plan.repo, plan.id, &ignored) == 0)
			err_prefix(err, "backup %s failed, nothing was published and complete sets were not touched", plan.id);
	}
	plan_free(&plan);
	return -1;
}
