/*
 * restore_common: the pieces of feeding pg_restore that both ways of loading
 * a dump use, the one pg_restore of restore_load.c and the N loaders of
 * restore_spread.c: pg_restore's command line for a
 * pass, why a pg_restore stopped reading, and the dump's data blocks routed
 * as they stream.  It calls neither of them (restore_private.h says which
 * file calls which).
 */
#include "components/postgres/restore_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/clients/pg.h"
#include "lib/format/pg_dumpfile.h"
#include "lib/stream/stream.h"

void postgres_pass_argv(const struct pg_load *l, const char *section, long jobs, const char *list, const char *file,
			struct pass_args *a, char **argv)
{
	int n = 0;

	pg_dbname_arg(l->staging, a->dbarg, sizeof(a->dbarg));
	argv[n++] = (char *)l->pg_restore;
	argv[n++] = "--exit-on-error";
	argv[n++] = "--dbname";
	argv[n++] = a->dbarg;
	if (l->no_owner) {
		argv[n++] = "--no-owner";
		argv[n++] = "--no-acl";
	}
	if (section) {
		snprintf(a->section, sizeof(a->section), "--section=%s", section);
		argv[n++] = a->section;
	}
	if (jobs > 1) {
		snprintf(a->jobs, sizeof(a->jobs), "--jobs=%ld", jobs);
		argv[n++] = a->jobs;
	}
	if (list) {
		snprintf(a->list, sizeof(a->list), "--use-list=%s", list);
		argv[n++] = a->list;
	}
	if (file)
		argv[n++] = (char *)file;
	argv[n] = NULL;
}

void postgres_explain_early_exit(const struct pg_load *l, struct pg_tool *t, struct drctl_error *err)
{
	struct drctl_error why;

	err_clear(&why);
	if (t->pid <= 0)
		return;
	if (pg_tool_finish(t, "restore", l->staging, &why) != 0)
		*err = why;
	else
		err_set(err, EXIT_FAILED, l->staging, "check [postgres] pg_restore names PostgreSQL's pg_restore",
			"%s stopped reading the dump before its end, yet exited 0", t->name);
}

/* One piece of the dump into the data reader, which hands its blocks to the
 * route; a malformed stream is an integrity error, a failed route has set err. */
static int feed_data_reader(void *arg, const void *buf, size_t len, struct drctl_error *err)
{
	char why[256];
	int fed = pg_data_reader_feed(arg, buf, len, why, sizeof(why));

	if (fed == -1)
		return err_set(err, EXIT_INTEGRITY, "dump", "restore from another set (`drctl list`)",
			       "the dump's data cannot be read: %s", why);
	return fed != 0 ? -1 : 0;
}

/*
 * The data blocks after the TOC (the bytes of `head` past "toc_end", then
 * the rest of `dump`), each handed to route() with its dump id, the rows
 * joined into LOAD_CHUNK_SIZE chunks: pg_dump writes one chunk per row and
 * pg_restore sends each chunk as one CopyData message; a few large ones
 * cost the server less.  The route sets err when it fails.
 */
int postgres_route_dump(json_t *toc, const unsigned char *head, size_t head_len, struct source *dump,
			pg_block_route_fn route, void *arg, struct drctl_error *err)
{
	size_t toc_end = (size_t)json_integer_value(json_object_get(toc, "toc_end"));
	struct pg_data_reader *reader = pg_data_reader_new((int)json_integer_value(json_object_get(toc, "int_size")));
	char why[256];
	int rc = -1;

	if (!reader || pg_data_reader_route(reader, route, arg, LOAD_CHUNK_SIZE) != 0) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		goto done;
	}
	if (feed_data_reader(reader, head + toc_end, head_len - toc_end, err) != 0 ||
	    stream_pump(dump, LOAD_COPY_SIZE, feed_data_reader, reader, NULL, err) != 0)
		goto done;
	if (pg_data_reader_finish(reader, why, sizeof(why)) != 0) {
		err_set(err, EXIT_INTEGRITY, "dump", "restore from another set (`drctl list`)", "the dump is cut short: %s",
			why);
		goto done;
	}
	rc = 0;
done:
	pg_data_reader_free(reader);
	return rc;
}
