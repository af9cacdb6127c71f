/*
 * repo: choosing the driver, and the small helpers every caller needs
 * (whole small objects, name lists).
 */
#include "lib/storage/repo.h"

#include <stdlib.h>
#include <string.h>

#include "lib/core/log.h"

int repo_open(struct repo **out, const struct config *cfg, struct drctl_error *err)
{
	const char *type = config_get(cfg, "repository", "type");

	*out = NULL;
	if (!type || !strcmp(type, "local")) {
		if (repo_local_open(out, config_get_path(cfg, "repository", "path"), 0, err) != 0)
			return -1;
		log_debug("repository: %s", (*out)->description);
		return 0;
	}
	return err_set(err, EXIT_USAGE, "[repository] type",
		       "use type = local for now; S3 support is tracked in the issues",
		       "repository type \"%s\" is not supported by this build", type);
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
