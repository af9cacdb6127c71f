/*
 * postgres_spread: the data of one dump loaded by up to N pg_restore at
 * once, from the one dump stream, as pg_restore --jobs N would from a
 * directory dump.
 *
 * Each pg_restore ("loader") is given the header and TOC and then only its
 * own tables' data blocks (-L names its entries).  The tables are spread so
 * that each loader gets about the same bytes (largest first, to the least
 * loaded; the sizes come from the manifest).  A table larger than a
 * loader's even share (one table that is most of the database, as is
 * common) is loaded by every loader at once: each gets the block's head
 * and end and some of its chunks of whole rows, the next chunk always to
 * the loader with the least queued, so N COPYs into that one table run
 * side by side where pg_restore --jobs N runs one (two concurrent COPYs
 * into one table load it in ~0.55x the time of one on two cores).  The rows
 * land in the table in another physical order than the dump's; the
 * fingerprints (exact row counts) are compared as for any restore.
 *
 * One stream cannot be read at N places, so drctl reads it at its own pace
 * and queues each loader's blocks in a spool (lib/stream/spool.h): an
 * unlinked file that gives back what was read, so memory stays flat and the
 * disk holds only the backlog.
 * While the last tables still load, the indexes and constraints whose
 * tables are all in are built on the cores the finished loaders freed.
 *
 * The split is safe because the entries of the data section do not depend
 * on one another: foreign keys and indexes come after, in post-data.
 */
#include "components/postgres/restore_private.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "lib/clients/pg.h"
#include "lib/core/fsutil.h"
#include "lib/core/log.h"
#include "lib/stream/spool.h"

#define LOAD_FINAL_ONLY (1ull << 63) /* a post-data entry for the last pass only */

struct loader {
	struct pg_tool tool;
	struct spool *spool;
	pthread_t feeder;
	int feeding;     /* the feeder thread runs */
	int write_errno; /* why the feeder stopped writing, 0 if it did not */
	int done;        /* its pg_restore finished well */
	int last_block;  /* the ordinal of its last data block in the stream, -1: none */
	uint64_t weight, bytes;
	size_t tables;
	char list[PATH_MAX];
};

struct owner {
	int64_t dump_id;
	int loader;        /* the loader that loads it, -1 when its rows are shared out */
	uint64_t loaders;  /* the loaders that load it, as bits */
	int ordinal; /* its place among the entries with a data block, in stream order; -1: none */
};

/* A post-data entry (index, constraint...) and the loaders whose data it needs. */
struct post_entry {
	int64_t dump_id;
	uint64_t needs; /* loader bits, or LOAD_FINAL_ONLY */
	int scheduled;
};

struct data_load {
	const struct pg_load *l;
	const char *tocfile;
	struct loader *loaders;
	int n;
	struct owner *owners; /* entries with data blocks, sorted by dump id */
	size_t n_owners;
	struct post_entry *post;
	size_t n_post, n_early;
	size_t n_tables, n_shared;
	int share_to;     /* the loader that gets the shared table's next rows */
	int first_failed; /* the loader whose pg_restore stopped reading first, -1 */
	struct drctl_error *err;
	/* progress (supervise) */
	uint64_t finished; /* loader bits */
	int pending;       /* loaders still loading */
	int changed;       /* a loader finished since the last pass of indexes started */
	int running;       /* a pass of indexes runs: early */
	struct pg_tool early;
	char early_list[PATH_MAX];
	double t0, last_look;
};

/* Feeder thread: the spool into pg_restore's stdin, then end of input. */
static void *feed_loader(void *arg)
{
	struct loader *ld = arg;
	char *buf = malloc(LOAD_COPY_SIZE);
	ssize_t n = -1;

	if (!buf)
		ld->write_errno = ENOMEM;
	while (buf && (n = spool_read(ld->spool, buf, LOAD_COPY_SIZE)) > 0) {
		if (fs_write_all(ld->tool.in_fd, buf, (size_t)n) != 0) {
			ld->write_errno = errno;
			break;
		}
		ld->bytes += (uint64_t)n;
	}
	if (n < 0 && !ld->write_errno)
		ld->write_errno = errno;
	if (ld->write_errno)
		spool_abandon(ld->spool); /* the reader of the dump must not queue more for it */
	close(ld->tool.in_fd);   /* end of input: pg_restore finishes */
	ld->tool.in_fd = -1;
	free(buf);
	return NULL;
}

static int by_dump_id(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;
	return x->dump_id < y->dump_id ? -1 : x->dump_id > y->dump_id;
}

static struct owner *owner_of(const struct data_load *d, int64_t dump_id)
{
	struct owner key = { .dump_id = dump_id };
	return bsearch(&key, d->owners, d->n_owners, sizeof(key), by_dump_id);
}

static int supervise(struct data_load *d, struct drctl_error *err);

/* Another loader is running dry while its next block is still ahead in the stream. */
static int another_starves(const struct data_load *d, int k, int ordinal)
{
	for (int j = 0; j < d->n; j++)
		if (j != k && d->loaders[j].spool && d->loaders[j].last_block > ordinal &&
		    spool_backlog(d->loaders[j].spool) < LOAD_AHEAD_LOW)
			return 1;
	return 0;
}

/*
 * Reading ahead costs CPU that the loaders' servers need: decrypting and
 * decompressing as fast as the stream allows would take a core away from
 * them for seconds.  So the dump is read ahead of a loader by at most
 * LOAD_AHEAD_MAX, unless another loader is running dry and its tables lie
 * further on: then reading goes on, spooling, to reach them.
 */
static int route_to(struct data_load *d, int k, const struct owner *o, const unsigned char *buf, size_t len)
{
	struct spool *to = d->loaders[k].spool;

	if (now_seconds() - d->last_look > 0.02 && supervise(d, d->err) != 0)
		return -1;
	while (spool_backlog(to) > LOAD_AHEAD_MAX && !spool_abandoned(to) && !another_starves(d, k, o->ordinal)) {
		usleep(2000);
		if (now_seconds() - d->last_look > 0.02 && supervise(d, d->err) != 0)
			return -1;
	}
	if (d->loaders[k].done)
		return err_set(d->err, EXIT_FAILED, d->l->staging,
			       "check [postgres] pg_restore names PostgreSQL's pg_restore; `--jobs 1` loads with one pg_restore",
			       "pg_restore ended before the dump's data for entry %lld reached it", (long long)o->dump_id);
	if (spool_write(to, buf, len, d->err) != 0) {
		if (d->first_failed < 0)
			d->first_failed = k;
		return -1;
	}
	return 0;
}

/* Of the loaders sharing a table, the one with the least queued. */
static int least_queued(const struct data_load *d, uint64_t loaders)
{
	int best = -1;

	for (int k = 0; k < d->n; k++)
		if ((loaders >> k & 1) &&
		    (best < 0 || spool_backlog(d->loaders[k].spool) < spool_backlog(d->loaders[best].spool)))
			best = k;
	return best;
}

static int route_block(void *arg, int64_t dump_id, enum pg_piece piece, const unsigned char *buf, size_t len)
{
	struct data_load *d = arg;
	struct owner *o = owner_of(d, dump_id);

	if (!o)
		return err_set(d->err, EXIT_INTEGRITY, "dump", "restore from another set (`drctl list`)",
			       "the dump has a data block for entry %lld, which its table of contents does not list as data",
			       (long long)dump_id);
	if (o->loader >= 0)
		return route_to(d, o->loader, o, buf, len);
	/* A shared table: its head and end to every loader of it, each chunk
	 * of whole rows to one; a row cut across chunks (PART, then the chunk
	 * that ends it) stays with one loader. */
	switch (piece) {
	case PG_PIECE_HEAD:
	case PG_PIECE_END:
		for (int k = 0; k < d->n; k++)
			if ((o->loaders >> k & 1) && route_to(d, k, o, buf, len) != 0)
				return -1;
		d->share_to = least_queued(d, o->loaders);
		return 0;
	case PG_PIECE_ROWS:
		if (route_to(d, d->share_to, o, buf, len) != 0)
			return -1;
		d->share_to = least_queued(d, o->loaders);
		return 0;
	case PG_PIECE_PART:
		return route_to(d, d->share_to, o, buf, len);
	case PG_PIECE_RAW:
		break;
	}
	return err_set(d->err, EXIT_FAILED, "dump", "report this; `--jobs 1` restores with one pg_restore, sharing nothing",
		       "entry %lld: a shared table's block came unframed", (long long)dump_id);
}

/* A -L list for pg_restore: the dump ids, one per line, in TOC order. */
static int write_list(const char *dir, const int64_t *ids, size_t n, char *path, size_t cap, struct drctl_error *err)
{
	FILE *f = NULL;
	int fd = -1, len = snprintf(path, cap, "%s/pg-list.XXXXXX", dir);

	if (len < 0 || (size_t)len >= cap || (fd = mkstemp(path)) < 0) {
		path[0] = '\0';
		return err_set_errno(err, EXIT_IO, errno, dir, "check [state] dir, or use --jobs 1",
				     "cannot create pg_restore's list of entries in %s", dir);
	}
	/* From here the caller removes `path` when it is done with it. */
	if (!(f = fdopen(fd, "w"))) {
		close(fd);
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%lld;\n", (long long)ids[i]);
	if (fclose(f) != 0)
		return err_set_errno(err, EXIT_IO, errno, path, "free space where [state] dir lives", "cannot write %s",
				     path);
	return 0;
}

struct weighted {
	int64_t dump_id;
	uint64_t weight;
};

static int by_weight_desc(const void *a, const void *b)
{
	const struct weighted *x = a, *y = b;
	return x->weight > y->weight ? -1 : x->weight < y->weight;
}

/*
 * Spread the data entries over up to d->n loaders: a table heavier than
 * an even share of all to every loader; the other table data, heaviest
 * first, each to the loader with the least so far; every other data entry
 * (sequence values, large objects) to loader 0.  Writes each loader's -L
 * list and fills d->owners.  Returns the loaders used, or -1.
 */
static int plan_loaders(struct data_load *d, json_t *toc, struct drctl_error *err)
{
	json_t *entries = json_object_get(toc, "data_section"), *tables = json_object_get(toc, "tables"), *e, *id;
	size_t n_entries = json_array_size(entries), n_tables = 0, n_ids, i;
	struct weighted *w = calloc(n_entries ? n_entries : 1, sizeof(*w));
	int64_t *ids = calloc(n_entries ? n_entries : 1, sizeof(*ids));
	json_t *weight_of = json_object(); /* dump id (text) -> weight */
	int used = 0, rc = -1;
	uint64_t total = 0, all = d->n >= 64 ? ~0ull : (1ull << d->n) - 1;
	const char *key;

	d->owners = calloc(n_entries ? n_entries : 1, sizeof(*d->owners));
	if (!w || !ids || !weight_of || !d->owners) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		goto done;
	}
	json_object_foreach(tables, key, id) {
		char idtext[32];
		json_t *weight = d->l->weights ? json_object_get(d->l->weights, key) : NULL;
		snprintf(idtext, sizeof(idtext), "%lld", (long long)json_integer_value(id));
		json_object_set_new(weight_of, idtext, json_integer(weight ? json_integer_value(weight) : 0));
	}
	json_array_foreach(entries, i, e) {
		char idtext[32];
		int64_t dump_id = json_integer_value(json_object_get(e, "id"));
		snprintf(idtext, sizeof(idtext), "%lld", (long long)dump_id);
		if (!strcmp(json_string_value(json_object_get(e, "desc")), "TABLE DATA"))
			w[n_tables++] = (struct weighted){ dump_id, (uint64_t)json_integer_value(json_object_get(weight_of, idtext)) };
	}
	qsort(w, n_tables, sizeof(*w), by_weight_desc);
	for (i = 0; i < n_tables; i++)
		total += w[i].weight;
	d->n_tables = n_tables;
	for (i = 0; i < n_tables; i++) {
		int best = 0;
		if (d->n > 1 && w[i].weight > 0 && w[i].weight > total / (uint64_t)d->n) {
			for (int k = 0; k < d->n; k++) {
				d->loaders[k].weight += w[i].weight / (uint64_t)d->n;
				d->loaders[k].tables++;
			}
			d->owners[d->n_owners++] = (struct owner){ w[i].dump_id, -1, all, -1 };
			d->n_shared++;
			log_debug("table data entry %lld (%.0f%% of the data): its rows shared out between %d pg_restore",
				  (long long)w[i].dump_id, 100.0 * (double)w[i].weight / (double)total, d->n);
			continue;
		}
		for (int k = 1; k < d->n; k++)
			if (d->loaders[k].weight < d->loaders[best].weight)
				best = k;
		/* Weightless tables (no sizes known) are dealt round. */
		if (w[i].weight == 0)
			best = (int)(i % (size_t)d->n);
		d->loaders[best].weight += w[i].weight;
		d->loaders[best].tables++;
		d->owners[d->n_owners++] = (struct owner){ w[i].dump_id, best, 1ull << best, -1 };
	}
	qsort(d->owners, d->n_owners, sizeof(*d->owners), by_dump_id);
	for (int k = 0; k < d->n; k++) {
		d->loaders[k].last_block = -1;
		if (k > 0 && d->loaders[k].tables == 0)
			continue;
		n_ids = 0;
		json_array_foreach(entries, i, e) {
			int64_t dump_id = json_integer_value(json_object_get(e, "id"));
			struct owner *o = owner_of(d, dump_id);
			if ((o && (o->loaders >> k & 1)) || (!o && k == 0))
				ids[n_ids++] = dump_id;
		}
		if (write_list(d->l->state_dir, ids, n_ids, d->loaders[k].list, sizeof(d->loaders[k].list), err) != 0)
			goto done;
		used = k + 1;
	}
	/* Every other data entry with a block (large objects) goes to loader 0. */
	n_ids = d->n_owners;
	json_array_foreach(entries, i, e) {
		struct owner want = { .dump_id = json_integer_value(json_object_get(e, "id")) };
		if (!bsearch(&want, d->owners, n_ids, sizeof(want), by_dump_id))
			d->owners[d->n_owners++] = (struct owner){ want.dump_id, 0, 1, -1 };
	}
	qsort(d->owners, d->n_owners, sizeof(*d->owners), by_dump_id);
	/* Where each loader's blocks end in the stream (pg_dump writes them in TOC order). */
	{
		int ordinal = 0;
		json_array_foreach(entries, i, e) {
			const char *desc = json_string_value(json_object_get(e, "desc"));
			struct owner *o = owner_of(d, json_integer_value(json_object_get(e, "id")));
			if (strcmp(desc, "TABLE DATA") && strcmp(desc, "BLOBS"))
				continue;
			o->ordinal = ordinal;
			for (int k = 0; k < d->n; k++)
				if (o->loaders >> k & 1)
					d->loaders[k].last_block = ordinal;
			ordinal++;
		}
	}
	rc = used;
done:
	free(w);
	free(ids);
	json_decref(weight_of);
	return rc;
}

/* Post-data entries that may run before every table is loaded: those that
 * read only their own tables.  Anything else (materialized view data,
 * triggers, ACLs...) waits for the last pass, as pg_restore defers them. */
static int runs_early(const char *desc)
{
	static const char *const kinds[] = { "INDEX", "CONSTRAINT", "FK CONSTRAINT", "INDEX ATTACH" };
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(desc, kinds[i]))
			return 1;
	return 0;
}

static void needs_add(json_t *needs, int64_t dump_id, uint64_t bits)
{
	char idtext[32];
	snprintf(idtext, sizeof(idtext), "%lld", (long long)dump_id);
	json_object_set_new(needs, idtext,
			    json_integer((json_int_t)((uint64_t)json_integer_value(json_object_get(needs, idtext)) | bits)));
}

/*
 * Which loaders each post-data entry waits for: an index or constraint
 * depends on its table (whose data one loader loads), a foreign key also on
 * the other table's key, and so on through earlier post-data entries.  A
 * dependency on a post-data entry later in the TOC, which pg_dump does not
 * write, sends the entry to the last pass rather than guess.
 */
static int plan_post_data(struct data_load *d, json_t *toc, struct drctl_error *err)
{
	json_t *post = json_object_get(toc, "post_data"), *data = json_object_get(toc, "data_section");
	json_t *needs = json_object(), *later = json_object(), *e, *dep;
	size_t i, j;

	d->n_post = json_array_size(post);
	if (!(d->post = calloc(d->n_post ? d->n_post : 1, sizeof(*d->post))) || !needs || !later) {
		json_decref(needs);
		json_decref(later);
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	}
	json_array_foreach(data, i, e) {
		struct owner *o = owner_of(d, json_integer_value(json_object_get(e, "id")));
		uint64_t bit = o ? o->loaders : 1;
		needs_add(needs, json_integer_value(json_object_get(e, "id")), bit);
		json_array_foreach(json_object_get(e, "deps"), j, dep) /* a TABLE DATA's table */
			needs_add(needs, json_integer_value(dep), bit);
	}
	json_array_foreach(post, i, e) {
		char idtext[32];
		snprintf(idtext, sizeof(idtext), "%lld", (long long)json_integer_value(json_object_get(e, "id")));
		json_object_set_new(later, idtext, json_true());
	}
	json_array_foreach(post, i, e) {
		struct post_entry *pe = &d->post[i];
		char idtext[32];
		pe->dump_id = json_integer_value(json_object_get(e, "id"));
		snprintf(idtext, sizeof(idtext), "%lld", (long long)pe->dump_id);
		json_object_del(later, idtext);
		json_array_foreach(json_object_get(e, "deps"), j, dep) {
			char deptext[32];
			snprintf(deptext, sizeof(deptext), "%lld", (long long)json_integer_value(dep));
			if (json_object_get(later, deptext))
				pe->needs |= LOAD_FINAL_ONLY;
			pe->needs |= (uint64_t)json_integer_value(json_object_get(needs, deptext));
		}
		if (!runs_early(json_string_value(json_object_get(e, "desc"))))
			pe->needs |= LOAD_FINAL_ONLY;
		needs_add(needs, pe->dump_id, pe->needs);
	}
	json_decref(needs);
	json_decref(later);
	return 0;
}

/* Start a pg_restore of the post-data entries the finished loaders allow
 * (all that are left when `last`); *started 0 when there was none. */
static int start_post_data(struct data_load *d, uint64_t finished, int last, long jobs, struct pg_tool *t,
			   char *list, size_t cap, int *started, struct drctl_error *err)
{
	int64_t *ids = calloc(d->n_post ? d->n_post : 1, sizeof(*ids));
	size_t n = 0;
	struct pass_args args;
	char *argv[14];
	int rc = -1;

	*started = 0;
	if (!ids)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	for (size_t i = 0; i < d->n_post; i++) {
		struct post_entry *pe = &d->post[i];
		if (!pe->scheduled && (last || (pe->needs & ~finished) == 0)) {
			pe->scheduled = 1;
			ids[n++] = pe->dump_id;
		}
	}
	if (!last)
		d->n_early += n;
	if (n == 0) {
		rc = 0;
		goto done;
	}
	if (write_list(d->l->state_dir, ids, n, list, cap, err) != 0)
		goto done;
	postgres_pass_argv(d->l, "post-data", jobs, list, d->tocfile, &args, argv);
	if (pg_tool_start(t, argv, d->l->env, 0, 0, d->l->state_dir, err) != 0)
		goto done;
	*started = 1;
	rc = 0;
done:
	free(ids);
	return rc;
}

/* Start each loader's pg_restore and feeder, with the header and TOC queued. */
static int start_loaders(struct data_load *d, const unsigned char *head, size_t toc_end, struct drctl_error *err)
{
	for (int k = 0; k < d->n; k++) {
		struct loader *ld = &d->loaders[k];
		struct pass_args args;
		char *argv[14];
		int e;

		if (!ld->list[0])
			continue;
		if (!(ld->spool = spool_new(d->l->state_dir, err)))
			return -1;
		if (spool_write(ld->spool, head, toc_end, err) != 0)
			return -1;
		postgres_pass_argv(d->l, "data", 1, ld->list, NULL, &args, argv);
		if (pg_tool_start(&ld->tool, argv, d->l->env, 1, 0, d->l->state_dir, err) != 0)
			return -1;
		if ((e = pthread_create(&ld->feeder, NULL, feed_loader, ld)) != 0)
			return err_set_errno(err, EXIT_FAILED, e, NULL, NULL, "cannot start a thread");
		ld->feeding = 1;
	}
	return 0;
}

/* After a failure: stop everything; the first pg_restore that stopped
 * reading explains the whole, in its own words. */
static void stop_loaders(struct data_load *d, struct drctl_error *err)
{
	for (int k = 0; k < d->n; k++)
		if (d->loaders[k].spool)
			spool_abandon(d->loaders[k].spool);
	/* A feeder may be blocked writing to a pg_restore that is not reading:
	 * stopping that pg_restore frees it (EPIPE).  The processes are reaped
	 * only after the feeders are joined, which still use their pipes. */
	for (int k = 0; k < d->n; k++)
		if (d->loaders[k].tool.pid > 0 && !pg_tool_exited(&d->loaders[k].tool))
			kill(d->loaders[k].tool.pid, SIGTERM);
	for (int k = 0; k < d->n; k++)
		if (d->loaders[k].feeding) {
			pthread_join(d->loaders[k].feeder, NULL);
			d->loaders[k].feeding = 0;
		}
	if (d->first_failed >= 0 && d->loaders[d->first_failed].tool.pid > 0)
		postgres_explain_early_exit(d->l, &d->loaders[d->first_failed].tool, err);
	for (int k = 0; k < d->n; k++)
		if (d->loaders[k].tool.pid > 0)
			pg_tool_kill(&d->loaders[k].tool); /* its input was cut short: its complaint would be an echo */
	if (d->early.pid > 0)
		pg_tool_kill(&d->early);
	if (d->early_list[0])
		unlink(d->early_list);
	d->early_list[0] = '\0';
}

/* One loader's pg_restore has exited: how did it go? */
static int loader_finished(struct data_load *d, struct loader *ld, struct drctl_error *err)
{
	pthread_join(ld->feeder, NULL);
	ld->feeding = 0;
	if (pg_tool_finish(&ld->tool, "restore", d->l->staging, err) != 0)
		return -1;
	if (ld->write_errno)
		return err_set_errno(err, EXIT_IO, ld->write_errno, "pg_restore",
				     "check free space and health of [state] dir, or restore with `--jobs 1`",
				     "cannot feed pg_restore");
	ld->done = 1;
	return 0;
}

/*
 * One look at the loaders, without waiting: each whose pg_restore has
 * exited is finished (its feeder joined, its status read); and when one
 * has finished while others still load, the indexes and constraints that
 * the finished tables allow are built on the cores they freed (one such
 * pass at a time), as pg_restore --jobs schedules them.  Called while the
 * dump is still being read (pg_restore exits as soon as it has its last
 * table, before the stream ends) and after.
 */
static int supervise(struct data_load *d, struct drctl_error *err)
{
	int started;

	d->last_look = now_seconds();
	for (int k = 0; k < d->n; k++) {
		struct loader *ld = &d->loaders[k];
		if (ld->done || !ld->spool || !pg_tool_exited(&ld->tool))
			continue;
		spool_finish(ld->spool); /* its feeder may wait for more: there is none it would read */
		if (loader_finished(d, ld, err) != 0)
			return -1;
		d->finished |= 1ull << k;
		d->pending--;
		d->changed = 1;
		log_debug("loader %d finished its %zu table(s) at %.2f s", k, ld->tables, now_seconds() - d->t0);
	}
	if (d->running && pg_tool_exited(&d->early)) {
		d->running = 0;
		if (pg_tool_finish(&d->early, "restore", d->l->staging, err) != 0)
			return -1;
		unlink(d->early_list);
		d->early_list[0] = '\0';
	}
	if (d->changed && !d->running && d->pending > 0) {
		d->changed = 0;
		if (start_post_data(d, d->finished, 0, d->n - d->pending, &d->early, d->early_list, sizeof(d->early_list),
				    &started, err) != 0)
			return -1;
		d->running = started;
	}
	return 0;
}

/* The dump has been read: wait for the loaders and any pass of indexes
 * still running, then build everything left, N at a time. */
static int finish_loading(struct data_load *d, struct drctl_error *err)
{
	char last_list[PATH_MAX] = "";
	int started, rc = -1;
	double t0;

	for (int k = 0; k < d->n; k++)
		if (d->loaders[k].spool && !d->loaders[k].done)
			spool_finish(d->loaders[k].spool);
	while (d->pending > 0 || d->running) {
		if (supervise(d, err) != 0)
			goto done;
		if (d->pending > 0 || d->running)
			usleep(10000);
	}
	log_debug("pg_restore data, %d at once (%zu indexes and constraints built meanwhile): %.2f s", d->n, d->n_early,
		  now_seconds() - d->t0);
	t0 = now_seconds();
	if (start_post_data(d, d->finished, 1, d->l->jobs, &d->early, last_list, sizeof(last_list), &started, err) != 0)
		goto done;
	if (started && pg_tool_finish(&d->early, "restore", d->l->staging, err) != 0)
		goto done;
	log_debug("pg_restore post-data, the rest: %.2f s", now_seconds() - t0);
	rc = 0;
done:
	if (last_list[0])
		unlink(last_list);
	return rc;
}

int postgres_spool_room(const char *dir, uint64_t dump_size, uint64_t *free_bytes)
{
	struct statvfs v;

	*free_bytes = 0;
	if (statvfs(dir, &v) != 0)
		return 0;
	*free_bytes = (uint64_t)v.f_bavail * v.f_frsize;
	return dump_size > 0 && *free_bytes > dump_size + (64u << 20);
}

int postgres_load_spread(const struct pg_load *l, const char *tocfile, json_t *toc, const unsigned char *head,
			 size_t head_len, struct source *dump, json_t *report, struct drctl_error *err)
{
	struct data_load d = { .l = l, .tocfile = tocfile, .first_failed = -1, .err = err,
			       .early = { .pid = -1, .in_fd = -1, .out_fd = -1 } };
	size_t toc_end = (size_t)json_integer_value(json_object_get(toc, "toc_end"));
	int used, rc = -1, n_alloc = (int)(l->jobs < LOAD_JOBS_MAX ? l->jobs : LOAD_JOBS_MAX);
	uint64_t peak = 0, free_bytes;
	json_t *loaders;
	double t0 = now_seconds();

	if (!postgres_spool_room(l->state_dir, l->dump_size, &free_bytes)) {
		log_info("not enough free space in %s to queue the tables for %ld loaders (needs up to %.2f GiB, has %.2f GiB): "
			 "loading them one at a time",
			 l->state_dir, l->jobs, (double)l->dump_size / (1 << 30), (double)free_bytes / (1 << 30));
		return 0;
	}
	d.n = n_alloc;
	if (!(d.loaders = calloc((size_t)n_alloc, sizeof(*d.loaders))))
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	for (int k = 0; k < n_alloc; k++)
		d.loaders[k].tool = (struct pg_tool){ .pid = -1, .in_fd = -1, .out_fd = -1 };
	if ((used = plan_loaders(&d, toc, err)) < 0)
		goto done;
	if (used < 2) {
		rc = 0; /* one table, or none: nothing to spread */
		goto done;
	}
	d.n = used;
	if (plan_post_data(&d, toc, err) != 0)
		goto done;
	if (d.n_shared > 0)
		log_info("loading %zu tables with %d pg_restore at once (the rows of the %zu largest shared out between them)",
			 d.n_tables, d.n, d.n_shared);
	else
		log_info("loading %zu tables with %d pg_restore at once", d.n_tables, d.n);
	d.t0 = d.last_look = now_seconds();
	for (int k = 0; k < d.n; k++)
		d.pending += d.loaders[k].list[0] != '\0';
	if (start_loaders(&d, head, toc_end, err) != 0 || postgres_route_dump(toc, head, head_len, dump, route_block, &d, err) != 0) {
		stop_loaders(&d, err);
		goto done;
	}
	log_debug("the dump was read and queued in %.2f s", now_seconds() - t0);
	if (finish_loading(&d, err) != 0) {
		stop_loaders(&d, err);
		goto done;
	}
	loaders = json_array();
	for (int k = 0; k < d.n; k++) {
		uint64_t p = spool_peak_backlog(d.loaders[k].spool);
		peak = p > peak ? p : peak;
		json_array_append_new(loaders, json_pack("{s:I, s:I}", "tables", (json_int_t)d.loaders[k].tables, "bytes",
							 (json_int_t)d.loaders[k].bytes));
	}
	json_object_set_new(report, "data_loaders", loaders);
	json_object_set_new(report, "spool_peak_bytes", json_integer((json_int_t)peak));
	json_object_set_new(report, "built_while_loading", json_integer((json_int_t)d.n_early));
	json_object_set_new(report, "shared_tables", json_integer((json_int_t)d.n_shared));
	rc = 1;
done:
	for (int k = 0; k < n_alloc; k++) {
		spool_free(d.loaders[k].spool);
		if (d.loaders[k].list[0])
			unlink(d.loaders[k].list);
	}
	free(d.loaders);
	free(d.owners);
	free(d.post);
	return rc;
}

