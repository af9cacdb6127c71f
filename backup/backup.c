/*
 * backup: the backup command.
 *
 * backup_run reads like the process it runs: plan (keys, components, id),
 * lock the repository, capture each component through its stream chain,
 * publish the signed set, unlock.  A failure removes this run's objects so
 * the repository is as it was; a crash leaves only an unpublished folder,
 * which `list` shows as incomplete and `prune` removes.
 */
#include "backup/backup.h"

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

/* One component: repository object <- digest <- age <- tar.zst <- capture. */
static int capture_component(struct backup_plan *p, const struct component *c, struct drctl_error *err)
{
	char file[128], name[512], ts[32];
	struct digest digest;
	struct sink *sink;
	struct archive_out *ao;
	json_t *section = json_object(), *members = json_array();
	double t0 = now_seconds();
	struct capture_ctx ctx;
	long level;

	json_object_set_new(json_object_get(p->manifest, "components"), c->name, section);
	json_object_set_new(section, "members", members);
	backup_set_object_file(c->name, p->n_recipients > 0, file, sizeof(file));
	backup_set_path(p->id, file, name, sizeof(name));
	log_info("backing up %s into %s", c->name, name);

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
	log_info("%s: %zu members, %llu bytes stored", c->name, json_array_size(members),
		 (unsigned long long)digest.bytes);
	return 0;
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
	for (size_t i = 0; i < plan.n_components; i++)
		if (capture_component(&plan, plan.components[i], err) != 0)
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
