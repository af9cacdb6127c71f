/*
 * pg_fingerprint: what a database holds, exactly: the row count of every
 * table pg_dump dumps data for and every sequence's value, taken in the
 * backup's snapshot and compared after a restore (see pg.h).
 *
 * Why fingerprints are counted with one UNION ALL statement: the backup sends
 * it asynchronously on the snapshot connection while pg_dump streams, so the
 * counting scan overlaps the dump instead of adding to its wall time, and it
 * still sees exactly the snapshot pg_dump sees.
 */
#include "lib/clients/pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ fingerprints */

int pg_fingerprint_sequences(PGconn *c, json_t *fp, struct drctl_error *err)
{
	/* pg_sequence_last_value() is what pg_dump's setval() restores: the
	 * value, or NULL when the sequence was never called (is_called false). */
	static const char sql[] =
		"SELECT n.nspname, c.relname, pg_sequence_last_value(c.oid), s.seqstart "
		"FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
		"JOIN pg_sequence s ON s.seqrelid = c.oid "
		"WHERE c.relkind = 'S' AND c.relpersistence <> 't' "
		"  AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_' "
		"  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass "
		"                  AND d.objid = c.oid AND d.deptype = 'e') "
		"ORDER BY 1, 2";
	json_t *seqs = json_array();
	PGresult *r = pg_query(c, sql, 0, NULL, "sequence fingerprints", err);

	if (!r) {
		json_decref(seqs);
		return -1;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		int called = !PQgetisnull(r, i, 2);
		json_array_append_new(seqs, json_pack("{s:s, s:s, s:I, s:b}", "schema", PQgetvalue(r, i, 0),
						      "name", PQgetvalue(r, i, 1), "last_value",
						      (json_int_t)strtoll(PQgetvalue(r, i, called ? 2 : 3), NULL, 10),
						      "is_called", called));
	}
	PQclear(r);
	json_object_set_new(fp, "sequences", seqs);
	return 0;
}

int pg_fingerprint_tables(PGconn *c, json_t *tables, json_t *sizes, struct drctl_error *err)
{
	/* The tables pg_dump writes TABLE DATA for: ordinary tables and
	 * partitions outside the system schemas, not temporary, not owned by an
	 * extension. */
	static const char list[] =
		"SELECT n.nspname, c.relname, pg_relation_size(c.oid) FROM pg_class c "
		"JOIN pg_namespace n ON n.oid = c.relnamespace "
		"WHERE c.relkind = 'r' AND c.relpersistence <> 't' "
		"  AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_' "
		"  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass "
		"                  AND d.objid = c.oid AND d.deptype = 'e') "
		"ORDER BY 1, 2";
	PGresult *r = pg_query(c, list, 0, NULL, "table fingerprints", err);

	if (!r)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		json_array_append_new(tables, json_pack("{s:s, s:s, s:I}", "schema", PQgetvalue(r, i, 0), "name",
							PQgetvalue(r, i, 1), "rows", (json_int_t)-1));
		if (sizes)
			json_array_append_new(sizes, json_integer((json_int_t)strtoll(PQgetvalue(r, i, 2), NULL, 10)));
	}
	PQclear(r);
	return 0;
}

/* "SELECT i, count(*) FROM ONLY s.t UNION ALL ..." for the tables whose
 * index has group[i] == want (ONLY: the rows pg_dump dumps for a table are
 * its own, not an inheritance child's).  NULL when the group is empty. */
static char *count_sql(PGconn *c, json_t *tables, const int *group, int want, struct drctl_error *err)
{
	char *q = NULL;
	size_t len = 0, cap = 0, i;
	json_t *t;

	json_array_foreach(tables, i, t) {
		const char *sn = json_string_value(json_object_get(t, "schema")), *tn = json_string_value(json_object_get(t, "name"));
		char *ns, *rel;
		size_t need;
		if (group[i] != want)
			continue;
		ns = PQescapeIdentifier(c, sn, strlen(sn));
		rel = PQescapeIdentifier(c, tn, strlen(tn));
		need = (ns ? strlen(ns) : 0) + (rel ? strlen(rel) : 0) + 80;
		if (!ns || !rel || (len + need >= cap && !(q = realloc(q, cap = (cap + need) * 2)))) {
			PQfreemem(ns);
			PQfreemem(rel);
			free(q);
			err_set(err, EXIT_FAILED, NULL, NULL, "out of memory building the fingerprint query");
			return NULL;
		}
		len += (size_t)snprintf(q + len, cap - len, "%sSELECT %zu, count(*) FROM ONLY %s.%s", len ? " UNION ALL " : "",
					i, ns, rel);
		PQfreemem(ns);
		PQfreemem(rel);
	}
	return q;
}

static int count_result(PGresult *r, json_t *tables, struct drctl_error *err)
{
	for (int i = 0; i < PQntuples(r); i++) {
		json_t *t = json_array_get(tables, (size_t)atoi(PQgetvalue(r, i, 0)));
		if (!t)
			return err_set(err, EXIT_FAILED, NULL, NULL, "row counts: unexpected table index");
		json_object_set_new(t, "rows", json_integer((json_int_t)strtoll(PQgetvalue(r, i, 1), NULL, 10)));
	}
	return 0;
}

/* Wait for the result of a query sent with PQsendQuery. */
static int collect_counts(PGconn *c, json_t *tables, struct drctl_error *err)
{
	PGresult *r;
	int rc = 0;

	while ((r = PQgetResult(c)) != NULL) {
		if (rc == 0 && PQresultStatus(r) != PGRES_TUPLES_OK)
			rc = err_set(err, EXIT_FAILED, NULL, "check the server log", "counting rows failed: %s",
				     PQresultErrorMessage(r));
		else if (rc == 0)
			rc = count_result(r, tables, err);
		PQclear(r);
	}
	return rc;
}

struct sized {
	long long size;
	size_t index;
};

static int by_size_desc(const void *a, const void *b)
{
	long long x = ((const struct sized *)a)->size, y = ((const struct sized *)b)->size;
	return x < y ? 1 : x > y ? -1 : 0;
}

int pg_fingerprint_take(PGconn *c, PGconn *helper, json_t **out, struct drctl_error *err)
{
	json_t *fp = json_object(), *tables = json_array(), *sizes = json_array(), *v;
	PGconn *conns[2] = { c, helper ? helper : c };
	char *sql[2] = { NULL, NULL };
	long long load[2] = { 0, 0 };
	int *group = NULL, rc = -1;
	size_t n, i;

	json_object_set_new(fp, "tables", tables);
	if (pg_fingerprint_tables(c, tables, sizes, err) != 0)
		goto done;
	/* Two groups of about equal size, largest tables first, counted on two
	 * connections at once when a helper connection is there: a count is a
	 * full scan, and one connection uses one core. */
	n = json_array_size(tables);
	if (!(group = calloc(n ? n : 1, sizeof(*group)))) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		goto done;
	}
	{
		struct sized *order = calloc(n ? n : 1, sizeof(*order));
		if (!order) {
			err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
			goto done;
		}
		json_array_foreach(sizes, i, v)
			order[i] = (struct sized){ json_integer_value(v), i };
		qsort(order, n, sizeof(*order), by_size_desc);
		for (size_t k = 0; k < n; k++) {
			int g = load[0] <= load[1] ? 0 : 1;
			group[order[k].index] = g + 1;
			load[g] += order[k].size;
		}
		free(order);
	}
	for (int g = 0; g < 2; g++) {
		sql[g] = count_sql(c, tables, group, g + 1, err);
		if (err_is_set(err))
			goto done;
	}
	for (int g = 0; g < 2; g++) {
		if (!sql[g])
			continue;
		if (!PQsendQuery(conns[g], sql[g])) {
			err_set(err, EXIT_IO, NULL, NULL, "cannot send the row-count query: %s", PQerrorMessage(conns[g]));
			goto done;
		}
		if (conns[0] == conns[1] && collect_counts(conns[g], tables, err) != 0)
			goto done;
	}
	if (conns[0] != conns[1])
		for (int g = 0; g < 2; g++)
			if (sql[g] && collect_counts(conns[g], tables, err) != 0)
				goto done;
	json_array_foreach(tables, i, v)
		if (json_integer_value(json_object_get(v, "rows")) < 0) {
			err_set(err, EXIT_FAILED, NULL, NULL, "row counts: no count for table %s",
				json_string_value(json_object_get(v, "name")));
			goto done;
		}
	if (pg_fingerprint_sequences(c, fp, err) != 0)
		goto done;
	*out = json_incref(fp);
	rc = 0;
done:
	free(sql[0]);
	free(sql[1]);
	free(group);
	json_decref(sizes);
	json_decref(fp);
	return rc;
}

static json_t *index_by_name(json_t *list)
{
	json_t *idx = json_object(), *e;
	size_t i;
	json_array_foreach(list, i, e) {
		char key[2 * PG_NAME_MAX + 8];
		snprintf(key, sizeof(key), "%s.%s", json_string_value(json_object_get(e, "schema")),
			 json_string_value(json_object_get(e, "name")));
		json_object_set(idx, key, e);
	}
	return idx;
}

static size_t compare_list(json_t *want, json_t *got, const char *kind, const char *field, json_t *diffs)
{
	json_t *w = index_by_name(want), *g = index_by_name(got), *e;
	const char *key;
	size_t n = 0;

	json_object_foreach(w, key, e) {
		json_t *a = json_object_get(g, key);
		json_t *ev = json_object_get(e, field), *av = a ? json_object_get(a, field) : NULL;
		int same = a && json_equal(ev, av);
		if (same && !strcmp(kind, "sequence"))
			same = json_equal(json_object_get(e, "is_called"), json_object_get(a, "is_called"));
		if (!same) {
			json_array_append_new(diffs, json_pack("{s:s, s:s, s:O, s:O}", "object", key, "kind", kind,
							       "expected", ev, "actual", av ? av : json_null()));
			n++;
		}
	}
	json_object_foreach(g, key, e) {
		if (!json_object_get(w, key)) {
			json_array_append_new(diffs, json_pack("{s:s, s:s, s:n, s:O}", "object", key, "kind", kind,
							       "expected", "actual", json_object_get(e, field)));
			n++;
		}
	}
	json_decref(w);
	json_decref(g);
	return n;
}

size_t pg_fingerprint_compare(json_t *expected, json_t *actual, json_t *differences)
{
	return compare_list(json_object_get(expected, "tables"), json_object_get(actual, "tables"), "table", "rows",
			    differences) +
	       compare_list(json_object_get(expected, "sequences"), json_object_get(actual, "sequences"), "sequence",
			    "last_value", differences);
}
