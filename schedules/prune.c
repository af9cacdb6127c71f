/*
 * prune: the retention run (see prune.h).  The decision itself is
 * lib/set/retention.c; this file gathers its input and carries it out.
 */
#include "schedules/prune.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/core/log.h"
#include "lib/set/keys.h"

int prune_policy_from_config(const struct config *cfg, struct retention_policy *p, struct drctl_error *err)
{
	static const struct { const char *key; size_t offset; } counts[] = {
		{ "keep_last", offsetof(struct retention_policy, keep_last) },
		{ "keep_hourly", offsetof(struct retention_policy, keep_hourly) },
		{ "keep_daily", offsetof(struct retention_policy, keep_daily) },
		{ "keep_weekly", offsetof(struct retention_policy, keep_weekly) },
		{ "keep_monthly", offsetof(struct retention_policy, keep_monthly) },
		{ "keep_yearly", offsetof(struct retention_policy, keep_yearly) },
	};

	memset(p, 0, sizeof(*p));
	/* The configuration validated every value when it was loaded; a key
	 * that reads back as unset is a rule that is off. */
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		long *field = (long *)((char *)p + counts[i].offset);
		if (config_get_int(cfg, "retention", counts[i].key, field) != 0)
			*field = 0;
	}
	if (config_get_duration(cfg, "retention", "keep_within", &p->keep_within) != 0)
		memset(&p->keep_within, 0, sizeof(p->keep_within));
	if (config_get_duration(cfg, "retention", "incomplete_grace", &p->incomplete_grace) != 0)
		return err_set(err, EXIT_USAGE, "[retention] incomplete_grace", "set it to a duration such as 24h",
			       "[retention] incomplete_grace is not a duration");
	return 0;
}

int prune_open(struct prune_plan *plan, const struct config *cfg, const struct prune_request *req,
	       struct drctl_error *err)
{
	struct repo_lock_request lock = {
		.kind = req->dry_run ? REPO_LOCK_SHARED : REPO_LOCK_EXCLUSIVE,
		.purpose = req->dry_run ? "drctl prune --dry-run" : "drctl prune",
		.command = req->dry_run ? "drctl prune --dry-run" : "drctl prune",
		.can_steal = 1, .steal = req->steal,
	};
	struct minisign_public_key pk;

	memset(plan, 0, sizeof(*plan));
	plan->now = time(NULL);
	if (prune_policy_from_config(cfg, &plan->policy, err) != 0 || keys_load_public(cfg, &pk, err) != 0 ||
	    repo_open(&plan->repo, cfg, err) != 0)
		return -1;
	/* Exclusive: no backup is publishing and no restore, verify or drill
	 * is reading while sets go. */
	if (repo_lock_take(cfg, &lock, &plan->lock, err) != 0 ||
	    backup_set_list(plan->repo, &pk, &plan->sets, &plan->n, err) != 0)
		return -1;
	plan->input = calloc(plan->n ? plan->n : 1, sizeof(*plan->input));
	plan->decisions = calloc(plan->n ? plan->n : 1, sizeof(*plan->decisions));
	plan->holds = calloc(plan->n ? plan->n : 1, sizeof(*plan->holds));
	if (!plan->input || !plan->decisions || !plan->holds)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	for (size_t i = 0; i < plan->n; i++) {
		struct retention_set *s = &plan->input[i];
		s->id = plan->sets[i].id;
		s->state = plan->sets[i].state;
		s->time_known = retention_id_time(s->id, &s->time) == 0;
	}
	return 0;
}

/* Protect every set the decision removes but the store still retains.
 * Only those are asked (one HEAD per object on S3): a kept set needs no
 * look. */
static int prune_hold_retained(struct prune_plan *plan, struct drctl_error *err)
{
	plan->n_held = 0;
	for (size_t i = 0; i < plan->n; i++) {
		struct prune_hold *h = &plan->holds[i];
		struct tm tm;
		int rc;
		if (!plan->decisions[i].remove)
			continue;
		if ((rc = backup_set_retained_until(plan->repo, plan->sets[i].id, &h->until, err)) < 0) {
			err_prefix(err, "prune removed nothing");
			return -1;
		}
		if (rc == 0)
			continue;
		gmtime_r(&h->until, &tm);
		strftime(h->until_text, sizeof(h->until_text), "%Y-%m-%dT%H:%M:%SZ", &tm);
		snprintf(h->reason, sizeof(h->reason), "under Object Lock until %s", h->until_text);
		plan->input[i].protected_reason = h->reason;
		plan->n_held++;
	}
	return 0;
}

int prune_decide(struct prune_plan *plan, struct drctl_error *err)
{
	if (retention_decide(plan->input, plan->n, &plan->policy, plan->now, plan->decisions) != 0)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	if (prune_hold_retained(plan, err) != 0)
		return -1;
	/* Protection changes no other set's decision: the keep rules look at
	 * complete sets whatever they are protected by. */
	if (plan->n_held && retention_decide(plan->input, plan->n, &plan->policy, plan->now, plan->decisions) != 0)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	plan->n_remove = 0;
	for (size_t i = 0; i < plan->n; i++) {
		plan->n_remove += plan->decisions[i].remove != 0;
		if (plan->sets[i].state == SET_INVALID)
			log_warn("keeping %s: %s (remove it by hand once investigated)", plan->sets[i].id,
				 plan->sets[i].reason);
	}
	return 0;
}

int prune_apply(struct prune_plan *plan, void (*removed)(const struct prune_plan *plan, size_t i, void *arg),
		void *arg, struct drctl_error *err)
{
	/* Oldest first: an interrupted prune leaves the newer history. */
	for (size_t i = plan->n; i-- > 0;) {
		if (!plan->decisions[i].remove)
			continue;
		if (backup_set_remove(plan->repo, plan->sets[i].id, err) != 0) {
			err_prefix(err, "prune removed %zu of %zu sets, then stopped; the other sets were not touched",
				   plan->n_removed, plan->n_remove);
			return -1;
		}
		plan->n_removed++;
		if (removed)
			removed(plan, i, arg);
	}
	/* Under the exclusive lock no upload of this repository is in progress;
	 * the grace covers a writer that does not take it (another host's
	 * backup of another repository sharing the prefix is not one). */
	if (repo_cleanup_stale_uploads(plan->repo, duration_before(plan->now, &plan->policy.incomplete_grace),
				       &plan->n_uploads_aborted, err) != 0) {
		err_prefix(err, "prune removed the %zu sets it was to remove, then stopped aborting unfinished uploads",
			   plan->n_removed);
		return -1;
	}
	return 0;
}

void prune_close(struct prune_plan *plan)
{
	free(plan->input);
	free(plan->decisions);
	free(plan->holds);
	backup_set_list_free(plan->sets, plan->n);
	repo_lock_release(plan->lock);
	repo_close(plan->repo);
	memset(plan, 0, sizeof(*plan));
}
