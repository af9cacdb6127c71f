/*
 * repo: where backup sets live, behind one small storage interface.
 *
 * A driver (a local folder, an S3 bucket) offers objects by name
 * ("backups/<id>/manifest.json").  Drivers are the rows of a table in repo.c
 * (struct repo_driver): `[repository] type` picks the row, and every command
 * opens its repository through repo_open (init through repo_create).  Only a
 * driver knows how names map onto its store; nothing above it builds a path
 * from a name.  The order in which a backup set's objects are published
 * (archives, SHA256SUMS, signed manifest last) is decided above this layer,
 * once, in backup_set.c.  Locks are objects too, under "locks/", taken and
 * refreshed above the drivers, the same way for each (repo_lock.h).
 *
 * What every driver promises (tests/unit/test_storage_conformance.c checks
 * each promise against every driver in the table):
 *
 * - Names.  "/"-separated components, each non-empty, not starting with
 *   '.', holding neither REPO_RESERVED_MARK nor control characters, valid
 *   UTF-8, at most REPO_COMPONENT_MAX bytes; at most REPO_NAME_MAX bytes in
 *   all.  Spaces, '%', '+', '=' and non-ASCII
 *   letters are fine.  Other names (absolute ones, "..", "a//b") are refused
 *   with EXIT_FAILED before a driver sees them.
 * - Writing.  open_write gives a sink whose object is invisible (stat says
 *   missing, list does not show it) until the sink is closed, and then
 *   appears whole.  sink_abort (and a failed close, which aborts) leaves
 *   nothing, not even a temporary.  A sink has no other end, but its
 *   process can die: that leaves nothing visible either, at most a
 *   temporary that list hides and remove_dir removes (the local driver) or
 *   an unfinished upload the store never shows (S3 multipart).
 * - Writing a name that exists replaces the object, whole, when the new sink
 *   is closed (the local driver renames over it); until then readers see
 *   the old object, never a mix, and an aborted rewrite leaves it as it
 *   was.  The interface does not refuse it because an S3 PUT overwrites
 *   (conditional writes are not on every S3-compatible store), so
 *   write-once is the duty of the layer above: every name of a backup set
 *   is written once (the set id is new, backup_set_publish writes each name
 *   once), and nothing ever rewrites an object.
 * - Reading a missing object is EXIT_NOT_FOUND naming it.  A folder is not
 *   an object: stat says it is missing, reading it is EXIT_NOT_FOUND.
 * - list gives the immediate children of a folder (objects and folders),
 *   sorted bytewise, temporaries hidden; a missing folder, or the name of
 *   an object, is an empty list.
 * - stat gives an object's size.
 * - remove_dir removes a folder and everything under it, temporaries
 *   included, and nothing else (not "set2" when removing "set", not an
 *   object named like the folder); a missing folder is not an error.
 * - cleanup_stale_uploads (when a driver has one) aborts what writers that
 *   died left unfinished in the store, and nothing a live writer uses if
 *   older_than is before every live writer began.
 */
#ifndef DRCTL_REPO_H
#define DRCTL_REPO_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/core/config.h"
#include "lib/core/error.h"
#include "lib/stream/stream.h"

/* Longest object name (S3 keys are at most 1024 bytes), and longest
 * component (a file system's 255, less room for a temporary's suffix). */
#define REPO_NAME_MAX 1024
#define REPO_COMPONENT_MAX 200
/* Drivers may name their temporaries with this; no object name holds it. */
#define REPO_RESERVED_MARK ".tmp-"

struct repo;

struct repo_ops {
	struct sink *(*open_write)(struct repo *r, const char *name, struct drctl_error *err);
	struct source *(*open_read)(struct repo *r, const char *name, struct drctl_error *err);
	int (*list)(struct repo *r, const char *dir, char ***names, size_t *n, struct drctl_error *err);
	/* 1 and *size when the object exists, 0 when it does not, -1 on error. */
	int (*stat)(struct repo *r, const char *name, uint64_t *size, struct drctl_error *err);
	int (*remove_dir)(struct repo *r, const char *dir, struct drctl_error *err);
	void (*close)(struct repo *r);
	/* Remove one object; 0 also when it is not there.  Durable when it
	 * returns, so a caller that removes objects in an order (prune: the
	 * manifest first) can rely on the order surviving a crash. */
	int (*remove)(struct repo *r, const char *name, struct drctl_error *err);
	/* Throw away the unfinished uploads of writers that died, begun before
	 * older_than (S3 multipart uploads); *aborted counts them.  NULL for
	 * a driver whose debris remove_dir takes (the local one). */
	int (*cleanup_stale_uploads)(struct repo *r, time_t older_than, size_t *aborted, struct drctl_error *err);
	/* 1 with *until when the store itself keeps the object from removal
	 * until then (S3 Object Lock retention still running), 0 when nothing
	 * does, -1 on error.  NULL for a driver whose store has no such thing
	 * (the local one). */
	int (*retained_until)(struct repo *r, const char *name, time_t *until, struct drctl_error *err);
};

/* What a driver's store can do, so the layer above can choose without
 * knowing which driver it has. */
enum repo_capability {
	/* Folders exist on their own (a file system): one can outlive its
	 * objects, and hold only a crashed writer's temporaries.  Without it
	 * a folder is a name prefix, there while an object is under it. */
	REPO_CAP_FOLDERS = 1u << 0,
	/* An object is published by renaming a temporary inside the store.
	 * Without it the store itself makes an upload visible whole when it
	 * completes (S3 PUT, CompleteMultipartUpload). */
	REPO_CAP_ATOMIC_RENAME = 1u << 1,
};

enum repo_open_mode {
	REPO_OPEN_EXISTING, /* the repository must exist (every command but init) */
	REPO_CREATE,        /* make it when missing; an existing one is opened as it is */
};

/* A row of the driver table. */
struct repo_driver {
	const char *type;    /* the [repository] type value: "local" */
	const char *summary; /* "a folder on this machine", for messages */
	unsigned caps;       /* enum repo_capability bits */
	/* Read the driver's own [repository] keys from cfg and open (or create)
	 * the repository; fills *out, or fails naming the key at fault. */
	int (*open)(struct repo **out, const struct config *cfg, enum repo_open_mode mode,
		    struct drctl_error *err);
};

struct repo {
	const struct repo_ops *ops;
	const struct repo_driver *driver; /* the row it was opened through */
	char description[512];            /* "local repository /srv/backups", for messages */
};

/* The driver table. */
const struct repo_driver *const *repo_drivers(size_t *n);
/* The row for a [repository] type (NULL is the default, local).  When this
 * build has none: NULL, and when err is given, EXIT_USAGE naming the key and
 * listing the types the table has (a command checks the configured type
 * before it creates anything). */
const struct repo_driver *repo_driver_find(const char *type, struct drctl_error *err);

/* Open the repository the configuration names ([repository] type, then the
 * driver's keys). */
int repo_open(struct repo **out, const struct config *cfg, struct drctl_error *err);
/* The same, making the repository when it does not exist yet (drctl init). */
int repo_create(struct repo **out, const struct config *cfg, struct drctl_error *err);

/* 0 when name is a valid object or folder name (see above), else -1 with
 * EXIT_FAILED naming it. */
int repo_name_check(const char *name, struct drctl_error *err);

/* The operations; each checks the name, then calls the driver. */
struct sink *repo_open_write(struct repo *r, const char *name, struct drctl_error *err);
struct source *repo_open_read(struct repo *r, const char *name, struct drctl_error *err);
int repo_list(struct repo *r, const char *dir, char ***names, size_t *n, struct drctl_error *err);
int repo_stat(struct repo *r, const char *name, uint64_t *size, struct drctl_error *err);
int repo_remove_dir(struct repo *r, const char *dir, struct drctl_error *err);
/* One object, durable when it returns; 0 when it is already gone. */
int repo_remove(struct repo *r, const char *name, struct drctl_error *err);
/* Abort the unfinished uploads begun before older_than (see
 * cleanup_stale_uploads); 0 with *aborted = 0 for a driver without any. */
int repo_cleanup_stale_uploads(struct repo *r, time_t older_than, size_t *aborted, struct drctl_error *err);
/* 1 with *until when the store keeps name from removal until then (see
 * retained_until); 0 for a driver without retention. */
int repo_retained_until(struct repo *r, const char *name, time_t *until, struct drctl_error *err);
void repo_close(struct repo *r);
void repo_names_free(char **names, size_t n);

/* Whole small objects (manifests, sums, signatures), bounded by max bytes. */
int repo_read_all(struct repo *r, const char *name, size_t max, char **buf, size_t *len,
		  struct drctl_error *err);
int repo_write_all(struct repo *r, const char *name, const void *buf, size_t len,
		   struct drctl_error *err);

#endif
