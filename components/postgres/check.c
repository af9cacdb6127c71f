/*
 * postgres: deep verification of the PostgreSQL component.
 *
 * For each database dump it reads the table of contents of pg_dump's custom
 * format with a reader of its own (below), and checks that every table of the
 * signed fingerprints has a TABLE DATA entry: a dump that pg_restore could not
 * list, or that lost a table, fails verification before anyone needs it.
 *
 * Why a reader of our own (pg_toc_parse, lib/format/pg_dumpfile.c) rather than `pg_restore
 * -l`: deep verification runs in the weekly CronJob image, which need not
 * carry PostgreSQL's tools, and the TOC is at the start of the stream, so it
 * is read from the first part(s) while the generic code hashes everything.
 * Only the TOC is buffered (at most PG_TOC_MAX); the table data passes by.
 */
#include "components/postgres/postgres.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "components/component.h"
#include "lib/clients/pg.h"
#include "lib/format/pg_dumpfile.h"

#define POSTGRES_TOC_MAX PG_TOC_MAX

/* Between members: the TOC being gathered, and what each dump's TOC said. */
struct pg_verify_state {
	char stream[ARCHIVE_MEMBER_NAME_MAX + 1]; /* the dump whose TOC is being gathered */
	unsigned char *buf;
	size_t len;
	json_t *results; /* stream -> {"ok", "tables": {...}, "error"} */
};

static struct pg_verify_state *state_of(struct check_ctx *ctx)
{
	struct pg_verify_state *s = ctx->state;
	if (!s && (s = calloc(1, sizeof(*s))) != NULL) {
		s->results = json_object();
		ctx->state = s;
	}
	return s;
}

static void state_free(struct check_ctx *ctx)
{
	struct pg_verify_state *s = ctx->state;
	if (!s)
		return;
	free(s->buf);
	json_decref(s->results);
	free(s);
	ctx->state = NULL;
}

/* The dump stream a member belongs to, from the manifest ("" if none). */
static const char *dump_stream_of(json_t *section, const char *member, unsigned *part)
{
	json_t *db;
	const char *name;
	json_object_foreach(json_object_get(section, "databases"), name, db) {
		const char *stream = json_string_value(json_object_get(db, "stream"));
		size_t n = stream ? strlen(stream) : 0;
		if (n && !strncmp(member, stream, n) && !strncmp(member + n, ".part-", 6)) {
			*part = (unsigned)strtoul(member + n + 6, NULL, 10);
			return stream;
		}
	}
	return "";
}

int postgres_check_member(struct check_ctx *ctx, const struct archive_member *m, struct source *data,
			  struct drctl_error *err)
{
	struct pg_verify_state *s = state_of(ctx);
	unsigned part = 0;
	const char *stream = dump_stream_of(ctx->section, m->name, &part);
	json_t *result;
	size_t got;
	int rc = -1;

	if (!s)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	if (!*stream)
		return 0; /* globals, or a member the generic check reports */
	if (part == 1) {
		snprintf(s->stream, sizeof(s->stream), "%s", stream);
		s->len = 0;
	} else if (strcmp(s->stream, stream) != 0) {
		return 0; /* TOC already read (or given up on) for this dump */
	}
	/* Gather this part (bounded), then try to parse what we have. */
	while (s->len < POSTGRES_TOC_MAX) {
		size_t want = POSTGRES_TOC_MAX - s->len < 65536 ? POSTGRES_TOC_MAX - s->len : 65536;
		unsigned char *grown = realloc(s->buf, s->len + want);
		if (!grown) {
			err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
			goto done;
		}
		s->buf = grown;
		if (source_read(data, s->buf + s->len, want, &got, err) != 0)
			goto done;
		if (got == 0)
			break;
		s->len += got;
		if (s->len >= 65536 && s->len % (1u << 20) < 65536) {
			/* Try now and then, so a small TOC stops the buffering early. */
			json_t *t = json_object();
			char why[256];
			int p = pg_toc_parse(s->buf, s->len, t, why, sizeof(why));
			json_decref(t);
			if (p != 1)
				break;
		}
	}
	{
		json_t *info = json_object();
		char why[256] = "";
		int p = pg_toc_parse(s->buf, s->len, info, why, sizeof(why));
		if (p == 1 && s->len < POSTGRES_TOC_MAX && (json_int_t)part <
		    json_integer_value(json_object_get(json_object_get(json_object_get(ctx->section, "streams"), stream), "parts"))) {
			json_decref(info);
			rc = 0; /* the TOC goes on in the next part */
			goto done;
		}
		if (p == 1)
			snprintf(why, sizeof(why), "the table of contents is truncated (or larger than %u MiB)",
				 POSTGRES_TOC_MAX >> 20);
		result = json_pack("{s:b, s:o, s:s}", "ok", p == 0, "toc", info, "error", why);
		json_object_set_new(s->results, stream, result);
		s->stream[0] = '\0';
		free(s->buf);
		s->buf = NULL;
		s->len = 0;
	}
	rc = 0;
done:
	if (rc != 0)
		state_free(ctx);
	return rc;
}

int postgres_check_finish(struct check_ctx *ctx, struct drctl_error *err)
{
	struct pg_verify_state *s = state_of(ctx);
	json_t *db;
	const char *name;
	int rc = 0;

	if (!s)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	json_object_foreach(json_object_get(ctx->section, "databases"), name, db) {
		const char *stream = json_string_value(json_object_get(db, "stream"));
		json_t *res = json_object_get(s->results, stream ? stream : ""), *t;
		json_t *tables = json_object_get(json_object_get(res, "toc"), "tables");
		size_t i;
		if (!res) {
			rc = err_set(err, EXIT_INTEGRITY, name, NULL, "the dump of database %s (%s) was not found or not read",
				     name, stream ? stream : "?");
			break;
		}
		if (!json_is_true(json_object_get(res, "ok"))) {
			rc = err_set(err, EXIT_INTEGRITY, name, NULL, "the dump of database %s cannot be read by pg_restore: %s",
				     name, json_string_value(json_object_get(res, "error")));
			break;
		}
		json_array_foreach(json_object_get(json_object_get(db, "fingerprints"), "tables"), i, t) {
			char key[2 * PG_NAME_MAX + 8];
			snprintf(key, sizeof(key), "%s.%s", json_string_value(json_object_get(t, "schema")),
				 json_string_value(json_object_get(t, "name")));
			if (!json_object_get(tables, key)) {
				rc = err_set(err, EXIT_INTEGRITY, key, NULL,
					     "the dump of database %s has no data for table %s, which the fingerprints list",
					     name, key);
				break;
			}
		}
		if (rc != 0)
			break;
	}
	state_free(ctx);
	return rc;
}
