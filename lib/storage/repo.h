/*
 * repo: where backup sets live, behind one small storage interface.
 *
 * A driver (local directory now, S3 later) offers objects by name
 * ("backups/<id>/manifest.json").  An object being written is invisible until
 * its sink is closed: the local driver writes a temporary file, fsyncs it,
 * renames it into place and fsyncs the folder; aborting removes the temporary
 * file.  The order in which a backup set's objects are published (archives,
 * SHA256SUMS, signed manifest last) is decided above this layer, once, in
 * backup_set.c.
 */
#ifndef DRCTL_REPO_H
#define DRCTL_REPO_H

#include <stddef.h>
#include <stdint.h>

#include "lib/core/config.h"
#include "lib/core/error.h"
#include "lib/stream/stream.h"

struct repo;

struct repo_ops {
	struct sink *(*open_write)(struct repo *r, const char *name, struct drctl_error *err);
	struct source *(*open_read)(struct repo *r, const char *name, struct drctl_error *err);
	/* Immediate children of a folder, sorted; temporary objects are hidden. */
	int (*list)(struct repo *r, const char *dir, char ***names, size_t *n, struct drctl_error *err);
	/* 1 and *size when the object exists, 0 when it does not, -1 on error. */
	int (*stat)(struct repo *r, const char *name, uint64_t *size, struct drctl_error *err);
	/* Remove a folder and everything in it, temporary objects included. */
	int (*remove_dir)(struct repo *r, const char *dir, struct drctl_error *err);
	/* Take the repository's writer lock (backup, prune): fails at once with
	 * EXIT_LOCKED naming the holder when another process has it. */
	int (*lock)(struct repo *r, const char *purpose, struct drctl_error *err);
	void (*unlock)(struct repo *r);
	void (*close)(struct repo *r);
	/* Remove one object; 0 also when it is not there.  Durable when it
	 * returns, so a caller that removes objects in an order (prune: the
	 * manifest first) can rely on the order surviving a crash. */
	int (*remove)(struct repo *r, const char *name, struct drctl_error *err);
};

struct repo {
	const struct repo_ops *ops;
	char description[512]; /* "local repository /srv/backups", for messages */
};

/* Open the repository the configuration names ([repository] type, path...). */
int repo_open(struct repo **out, const struct config *cfg, struct drctl_error *err);
/* The local driver on its own (tests, init). create: make the folder. */
int repo_local_open(struct repo **out, const char *path, int create, struct drctl_error *err);

static inline struct sink *repo_open_write(struct repo *r, const char *name, struct drctl_error *err)
{
	return r->ops->open_write(r, name, err);
}
static inline struct source *repo_open_read(struct repo *r, const char *name, struct drctl_error *err)
{
	return r->ops->open_read(r, name, err);
}
static inline int repo_list(struct repo *r, const char *dir, char ***names, size_t *n, struct drctl_error *err)
{
	return r->ops->list(r, dir, names, n, err);
}
static inline int repo_stat(struct repo *r, const char *name, uint64_t *size, struct drctl_error *err)
{
	return r->ops->stat(r, name, size, err);
}
static inline int repo_remove_dir(struct repo *r, const char *dir, struct drctl_error *err)
{
	return r->ops->remove_dir(r, dir, err);
}
static inline int repo_remove(struct repo *r, const char *name, struct drctl_error *err)
{
	return r->ops->remove(r, name, err);
}
static inline int repo_lock(struct repo *r, const char *purpose, struct drctl_error *err)
{
	return r->ops->lock(r, purpose, err);
}
static inline void repo_unlock(struct repo *r)
{
	r->ops->unlock(r);
}
void repo_close(struct repo *r);
void repo_names_free(char **names, size_t n);

/* Whole small objects (manifests, sums, signatures), bounded by max bytes. */
int repo_read_all(struct repo *r, const char *name, size_t max, char **buf, size_t *len,
		  struct drctl_error *err);
int repo_write_all(struct repo *r, const char *name, const void *buf, size_t len,
		   struct drctl_error *err);

#endif
