/*
 * repo: the driver table, the rules for names that every driver shares, and
 * the small helpers every caller needs (whole small objects, name lists).
 *
 * Adding a driver is adding a row: its file defines a struct repo_driver
 * (type, summary, capabilities, open), repo_private.h declares it, and the
 * table below lists it.  The conformance suite
 * (tests/unit/test_storage_conformance.c) refuses a row it has no fixture
 * for.
 */
#include "lib/storage/repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/log.h"
#include "lib/core/utf8.h"
#include "lib/storage/repo_private.h"

static const struct repo_driver *const repo_driver_table[] = {
	&repo_driver_local,
	&repo_driver_s3,
};

#define N_DRIVERS (sizeof(repo_driver_table) / sizeof(repo_driver_table[0]))

const struct repo_driver *const *repo_drivers(size_t *n)
{
	*n = N_DRIVERS;
	return repo_driver_table;
}

static void repo_driver_types(char *out, size_t cap)
{
	size_t len = 0;
	out[0] = '\0';
	for (size_t i = 0; i < N_DRIVERS && len < cap; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? ", " : "", repo_driver_table[i]->type);
}

const struct repo_driver *repo_driver_find(const char *type, struct drctl_error *err)
{
	char types[256];

	if (!type)
		type = "local";
	for (size_t i = 0; i < N_DRIVERS; i++)
		if (!strcmp(repo_driver_table[i]->type, type))
			return repo_driver_table[i];
	if (err) {
		repo_driver_types(types, sizeof(types));
		err_set(err, EXIT_USAGE, "[repository] type", NULL,
			"[repository] type = \"%.100s\" has no storage driver in this build; the types it has: %s",
			type, types);
		err_hint(err, "set [repository] type to one of: %s", types);
	}
	return NULL;
}

static int repo_open_mode(struct repo **out, const struct config *cfg, enum repo_open_mode mode,
			  struct drctl_error *err)
{
	const struct repo_driver *driver = repo_driver_find(config_get(cfg, "repository", "type"), err);

	*out = NULL;
	if (!driver || driver->open(out, cfg, mode, err) != 0)
		return -1;
	(*out)->driver = driver;
	log_debug("repository: %s", (*out)->description);
	return 0;
}

int repo_open(struct repo **out, const struct config *cfg, struct drctl_error *err)
{
	return repo_open_mode(out, cfg, REPO_OPEN_EXISTING, err);
}

int repo_create(struct repo **out, const struct config *cfg, struct drctl_error *err)
{
	return repo_open_mode(out, cfg, REPO_CREATE, err);
}

/* --- names ------------------------------------------------------------------- */

#define REPO_STRINGIFY_(x) #x
#define REPO_STRINGIFY(x) REPO_STRINGIFY_(x)

static const char *repo_name_fault(const char *name)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t component = 0;

	if (!*name)
		return "it is empty";
	if (strlen(name) > REPO_NAME_MAX)
		return "it is longer than " REPO_STRINGIFY(REPO_NAME_MAX) " bytes";
	if (strstr(name, REPO_RESERVED_MARK))
		return "it holds " REPO_RESERVED_MARK ", which drivers keep for their temporaries";
	while (*p) {
		size_t len;
		if (*p == '/') {
			if (component == 0)
				return name[0] == '/' ? "it is absolute" : "it has an empty component";
			component = 0;
			p++;
			continue;
		}
		if (component == 0 && *p == '.')
			return "a component starts with '.' (\"..\", \".\" or a hidden name)";
		if (*p < 0x20 || *p == 0x7f)
			return "it holds a control character";
		if (!(len = utf8_sequence_length(p)))
			return "it is not valid UTF-8";
		if (component + len > REPO_COMPONENT_MAX)
			return "a component is longer than " REPO_STRINGIFY(REPO_COMPONENT_MAX) " bytes";
		p += len;
		component += len;
	}
	return component == 0 ? "it ends with '/'" : NULL;
}

int repo_name_check(const char *name, struct drctl_error *err)
{
	const char *fault = name ? repo_name_fault(name) : "it is missing";
	if (!fault)
		return 0;
	return err_set(err, EXIT_FAILED, name, NULL, "invalid repository object name \"%.200s\": %s",
		       name ? name : "", fault);
}

/* --- the operations ------------------------------------------------------------ */

struct sink *repo_open_write(struct repo *r, const char *name, struct drctl_error *err)
{
	return repo_name_check(name, err) == 0 ? r->ops->open_write(r, name, err) : NULL;
}

struct source *repo_open_read(struct repo *r, const char *name, struct drctl_error *err)
{
	return repo_name_check(name, err) == 0 ? r->ops->open_read(r, name, err) : NULL;
}

int repo_list(struct repo *r, const char *dir, char ***names, size_t *n, struct drctl_error *err)
{
	*names = NULL;
	*n = 0;
	return repo_name_check(dir, err) == 0 ? r->ops->list(r, dir, names, n, err) : -1;
}

int repo_stat(struct repo *r, const char *name, uint64_t *size, struct drctl_error *err)
{
	return repo_name_check(name, err) == 0 ? r->ops->stat(r, name, size, err) : -1;
}

int repo_remove_dir(struct repo *r, const char *dir, struct drctl_error *err)
{
	return repo_name_check(dir, err) == 0 ? r->ops->remove_dir(r, dir, err) : -1;
}

int repo_remove(struct repo *r, const char *name, struct drctl_error *err)
{
	return repo_name_check(name, err) == 0 ? r->ops->remove(r, name, err) : -1;
}

int repo_cleanup_stale_uploads(struct repo *r, time_t older_than, size_t *aborted, struct drctl_error *err)
{
	*aborted = 0;
	return r->ops->cleanup_stale_uploads ? r->ops->cleanup_stale_uploads(r, older_than, aborted, err) : 0;
}

int repo_retained_until(struct repo *r, const char *name, time_t *until, struct drctl_error *err)
{
	*until = 0;
	if (repo_name_check(name, err) != 0)
		return -1;
	return r->ops->retained_until ? r->ops->retained_until(r, name, until, err) : 0;
}

void repo_close(struct repo *r)
{
	if (r)
		r->ops->close(r);
}

void repo_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* --- whole small objects ----------------------------------------------------- */

int repo_read_all(struct repo *r, const char *name, size_t max, char **buf, size_t *len,
		  struct drctl_error *err)
{
	struct source *src = repo_open_read(r, name, err);
	struct sink *mem;
	int rc;

	*buf = NULL;
	*len = 0;
	if (!src)
		return -1;
	mem = memory_sink_new(buf, len, max, err);
	if (!mem) {
		source_close(src);
		return -1;
	}
	rc = stream_copy(src, mem, NULL, err);
	source_close(src);
	if (rc != 0) {
		sink_abort(mem);
		err_prefix(err, "reading %s", name);
		return -1;
	}
	return sink_close(mem, err);
}

int repo_write_all(struct repo *r, const char *name, const void *buf, size_t len,
		   struct drctl_error *err)
{
	struct sink *s = repo_open_write(r, name, err);
	if (!s)
		return -1;
	if (sink_write(s, buf, len, err) != 0) {
		sink_abort(s);
		return -1;
	}
	return sink_close(s, err);
}
