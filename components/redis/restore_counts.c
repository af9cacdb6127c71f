/*
 * restore_counts (restore): the keys a restore put into a server, per
 * database, and the check afterwards that INFO keyspace holds just those,
 * allowing for keys whose expiry has passed in the meantime.  Shared by the
 * two ways into a server (restore.c, RESTORE commands; restore_replica.c,
 * a full synchronisation).
 */
#include "components/redis/restore_private.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "lib/clients/redis_conn.h"

#define COUNTS_HIST_SECONDS 3600 /* expiry histogram, see struct redis_db_count */

/* Per database: keys sent, keys skipped as expired, and when the sent keys
 * with an expiry expire (1 s buckets from the restore's start), so the check
 * afterwards knows how many may have expired in the meantime. */
struct redis_db_count {
	uint32_t db;
	uint64_t sent, skipped;
	uint32_t *hist;
	uint64_t late; /* expiring after the histogram's end */
};

int64_t redis_now_ms(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

void redis_counts_start(struct redis_counts *c)
{
	c->started_ms = redis_now_ms();
}

static struct redis_db_count *db_count(struct redis_counts *c, uint32_t db)
{
	struct redis_db_count *d;

	for (size_t i = 0; i < c->ndbs; i++)
		if (c->dbs[i].db == db)
			return &c->dbs[i];
	d = realloc(c->dbs, (c->ndbs + 1) * sizeof(*d));
	if (!d)
		return NULL;
	c->dbs = d;
	d = &c->dbs[c->ndbs++];
	memset(d, 0, sizeof(*d));
	d->db = db;
	return d;
}

int redis_counts_add(struct redis_counts *c, uint32_t db, int64_t expire_ms, struct drctl_error *err)
{
	struct redis_db_count *d = db_count(c, db);

	if (!d)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	if (expire_ms != -1 && expire_ms <= redis_now_ms()) {
		d->skipped++;
		c->skipped++;
		return 1;
	}
	d->sent++;
	c->sent++;
	if (expire_ms > 0) {
		int64_t s = (expire_ms - c->started_ms) / 1000;
		if (s >= COUNTS_HIST_SECONDS) {
			d->late++;
		} else {
			if (!d->hist && !(d->hist = calloc(COUNTS_HIST_SECONDS, sizeof(*d->hist))))
				return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
			d->hist[s < 0 ? 0 : s]++;
		}
	}
	return 0;
}

void redis_counts_free(struct redis_counts *c)
{
	for (size_t i = 0; i < c->ndbs; i++)
		free(c->dbs[i].hist);
	free(c->dbs);
	c->dbs = NULL;
	c->ndbs = 0;
}

/* INFO keyspace against what was sent, allowing for keys that expired since
 * (and, when expired_may_remain, for keys already expired when they were
 * loaded: a replica loads them and leaves their removal to the primary). */
int redis_counts_compare(struct redis_conn *conn, const struct redis_counts *c, int expired_may_remain, json_t *report,
			 struct drctl_error *err)
{
	json_t *found = json_object(), *per_db = json_array();
	int64_t elapsed = (redis_now_ms() - c->started_ms) / 1000 + 1;
	uint64_t total;
	int rc = -1;

	if (redis_conn_keyspace(conn, found, &total, NULL, 0, err) != 0)
		goto done;
	for (size_t i = 0; i < c->ndbs; i++) {
		const struct redis_db_count *d = &c->dbs[i];
		char name[16];
		uint64_t may_expire = 0, have;
		snprintf(name, sizeof(name), "%u", d->db);
		have = (uint64_t)json_integer_value(json_object_get(found, name));
		json_object_del(found, name);
		for (int64_t s = 0; d->hist && s < elapsed && s < COUNTS_HIST_SECONDS; s++)
			may_expire += d->hist[s];
		if (elapsed >= COUNTS_HIST_SECONDS)
			may_expire += d->late;
		json_array_append_new(per_db, json_pack("{s:i, s:I, s:I, s:I, s:I}", "db", (int)d->db, "sent",
							(json_int_t)d->sent, "found", (json_int_t)have, "expired_before_restore",
							(json_int_t)d->skipped, "may_have_expired_since", (json_int_t)may_expire));
		if (have > d->sent + (expired_may_remain ? d->skipped : 0) || have + may_expire < d->sent) {
			err_set(err, EXIT_INTEGRITY, redis_conn_display(conn),
				"another client may be writing to the target; check it, then restore again with --flush",
				"after the restore db %u of %s holds %" PRIu64 " keys; %" PRIu64 " were restored (%" PRIu64 " of them may have expired since)",
				d->db, redis_conn_display(conn), have, d->sent, may_expire);
			goto done;
		}
		if (d->skipped && !expired_may_remain)
			log_info("db %u: %" PRIu64 " keys had expired before they could be restored (not created, as Redis would not)",
				 d->db, d->skipped);
	}
	if (json_object_size(found) > 0) {
		const char *extra = json_object_iter_key(json_object_iter(found));
		err_set(err, EXIT_INTEGRITY, redis_conn_display(conn), "another client may be writing to the target; check it",
			"after the restore db %s of %s holds keys, though the backup has none there", extra,
			redis_conn_display(conn));
		goto done;
	}
	rc = 0;
done:
	json_object_set_new(report, "databases", per_db);
	json_decref(found);
	return rc;
}

