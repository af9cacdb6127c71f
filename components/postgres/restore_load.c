/*
 * postgres_load: pg_restore loading one dump, streamed from the backup set,
 * into the new database that restore.c created.
 *
 * The dump is one sequential stream (pg_dump's custom format written to a
 * pipe: header, table of contents, then each entry's data block in TOC
 * order).  pg_restore reads it from its stdin; nothing of the dump is ever
 * a whole file on disk.  On the way drctl reads the TOC and the data blocks
 * itself (lib/format/pg_dumpfile.c), joining pg_dump's one chunk per row into
 * large chunks: pg_restore sends each chunk as one CopyData message.
 *
 * With --jobs 1 one pg_restore reads the whole stream.  With --jobs N > 1
 * the restore takes the passes pg_restore --jobs takes internally:
 *
 *   1. schema (pre-data), from a small file holding only the header and
 *      TOC: that is all it needs;
 *   2. data, up to N tables at once, and the indexes and constraints of
 *      tables already loaded (restore_spread.c);
 *   3. the rest of the indexes and constraints (post-data) from the TOC
 *      file, N at a time.
 *
 * Without room in [state] dir for what step 2 queues, step 2 is one
 * pg_restore reading the stream and step 3 all of post-data.
 */
#include "components/postgres/restore_private.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/clients/pg.h"
#include "lib/format/pg_dumpfile.h"
#include "lib/core/fsutil.h"
#include "lib/core/log.h"

struct pipe_route {
	int fd;
	int broken; /* pg_restore stopped reading */
	struct drctl_error *err;
};

static int route_to_pipe(void *arg, int64_t dump_id, enum pg_piece piece, const unsigned char *buf, size_t len)
{
	struct pipe_route *r = arg;

	(void)dump_id;
	(void)piece;
	if (fs_write_all(r->fd, buf, len) != 0) {
		r->broken = errno == EPIPE;
		return err_set_errno(r->err, r->broken ? EXIT_FAILED : EXIT_IO, errno, "pg_restore", NULL,
				     "cannot write pg_restore's input");
	}
	return 0;
}

/* One pg_restore run: from `file`, or from its stdin fed with the dump
 * (`head`, read up to the end of its TOC, described by `toc`, then the rest
 * of `dump`).  section and list (-L) may be NULL. */
static int pg_restore_pass(const struct pg_load *l, const char *section, long jobs, const char *list, const char *file,
			   json_t *toc, const unsigned char *head, size_t head_len, struct source *dump,
			   struct drctl_error *err)
{
	size_t toc_end = toc ? (size_t)json_integer_value(json_object_get(toc, "toc_end")) : 0;
	struct pass_args args;
	char *argv[14];
	struct pg_tool t = { .pid = -1, .in_fd = -1, .out_fd = -1 };
	double t0 = now_seconds();
	int rc = -1;

	postgres_pass_argv(l, section, jobs, list, file, &args, argv);
	if (pg_tool_start(&t, argv, l->env, file ? 0 : 1, 0, l->state_dir, err) != 0)
		goto done;
	if (!file) {
		struct pipe_route to = { .fd = t.in_fd, .err = err };
		if (route_to_pipe(&to, 0, PG_PIECE_RAW, head, toc_end) != 0 || postgres_route_dump(toc, head, head_len, dump, route_to_pipe, &to, err) != 0) {
			if (to.broken)
				postgres_explain_early_exit(l, &t, err);
			goto done;
		}
	}
	if (pg_tool_finish(&t, "restore", l->staging, err) != 0)
		goto done;
	log_debug("pg_restore %s: %.2f s", section ? section : "(all sections)", now_seconds() - t0);
	rc = 0;
done:
	if (t.pid > 0)
		pg_tool_kill(&t);
	return rc;
}

/* Read the dump's start until its table of contents parses; info gets
 * pg_toc_parse's description of it. */
static int read_toc_head(struct source *dump, unsigned char **head, size_t *len, json_t *info, struct drctl_error *err)
{
	size_t cap = 0;
	char why[256];
	int parsed = 1;

	*head = NULL;
	*len = 0;
	while (parsed == 1) {
		size_t got = 0;
		if (*len + LOAD_COPY_SIZE > cap) {
			unsigned char *grown;
			if (cap > PG_TOC_MAX + LOAD_COPY_SIZE)
				return err_set(err, EXIT_INTEGRITY, "dump", NULL, "the dump's table of contents is larger than %u MiB",
					       PG_TOC_MAX >> 20);
			if (!(grown = realloc(*head, cap = cap ? cap * 2 : 4 * LOAD_COPY_SIZE)))
				return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
			*head = grown;
		}
		if (source_read(dump, *head + *len, LOAD_COPY_SIZE, &got, err) != 0)
			return -1;
		if (got == 0)
			return err_set(err, EXIT_INTEGRITY, "dump", NULL, "the dump ends inside its table of contents");
		*len += got;
		json_object_clear(info);
		parsed = pg_toc_parse(*head, *len, info, why, sizeof(why));
	}
	if (parsed < 0)
		return err_set(err, EXIT_INTEGRITY, "dump", NULL, "the dump cannot be read: %s", why);
	return 0;
}

/* --- the passes ------------------------------------------------------------------ */

int postgres_load(const struct pg_load *l, struct source *dump, json_t *report, struct drctl_error *err)
{
	char tocfile[PATH_MAX] = "";
	unsigned char *head = NULL;
	size_t head_len = 0, toc_end;
	json_t *toc = json_object();
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	double t0 = now_seconds();
	int fd = -1, rc = -1, spread;

	sigaction(SIGPIPE, &ign, &old); /* a failing pg_restore must not kill us */
	if (read_toc_head(dump, &head, &head_len, toc, err) != 0)
		goto done;
	if (l->jobs <= 1) {
		if (pg_restore_pass(l, NULL, 1, NULL, NULL, toc, head, head_len, dump, err) != 0)
			goto done;
	} else {
		int len = snprintf(tocfile, sizeof(tocfile), "%s/pg-toc.XXXXXX", l->state_dir);
		toc_end = (size_t)json_integer_value(json_object_get(toc, "toc_end"));
		if (len < 0 || (size_t)len >= sizeof(tocfile) || (fd = mkstemp(tocfile)) < 0) {
			tocfile[0] = '\0';
			err_set_errno(err, EXIT_IO, errno, l->state_dir, "check [state] dir, or use --jobs 1",
				      "cannot create a file for the dump's table of contents in %s", l->state_dir);
			goto done;
		}
		if (fs_write_all(fd, head, toc_end) != 0 || close(fd) != 0) {
			fd = -1;
			err_set_errno(err, EXIT_IO, errno, tocfile, "check [state] dir", "cannot write %s", tocfile);
			goto done;
		}
		fd = -1;
		log_info("restoring the schema, then the data (streamed), then indexes and constraints with %ld jobs",
			 l->jobs);
		if (pg_restore_pass(l, "pre-data", 1, NULL, tocfile, NULL, NULL, 0, NULL, err) != 0)
			goto done;
		if ((spread = postgres_load_spread(l, tocfile, toc, head, head_len, dump, report, err)) < 0)
			goto done;
		if (!spread && (pg_restore_pass(l, "data", 1, NULL, NULL, toc, head, head_len, dump, err) != 0 ||
				pg_restore_pass(l, "post-data", l->jobs, NULL, tocfile, NULL, NULL, 0, NULL, err) != 0))
			goto done;
	}
	json_object_set_new(report, "pg_restore",
			    json_pack("{s:I, s:s, s:f}", "jobs", (json_int_t)l->jobs, "input",
				      l->jobs > 1 ? "pipe (data), table of contents (schema, indexes)" : "pipe",
				      "seconds", now_seconds() - t0));
	rc = 0;
done:
	if (fd >= 0)
		close(fd);
	if (tocfile[0])
		unlink(tocfile);
	free(head);
	json_decref(toc);
	sigaction(SIGPIPE, &old, NULL);
	if (rc != 0)
		err_prefix(err, "restoring database %s into %s", l->database, l->staging);
	return rc;
}
