/*
 * files: restoring the files component into a target folder.
 *
 * Safety: every member name was already checked by the archive reader (no
 * absolute path, no `..`); on top of that every folder on the way is opened
 * with O_NOFOLLOW relative to the one before, so a symbolic link planted in
 * the target cannot lead a write outside it.  Each file is written under a
 * temporary name, its SHA-256 compared with the signed manifest, and only
 * then renamed into place: an existing file (with --force) is replaced only
 * by content that is proven good.
 */
#include "components/files/files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lib/core/fsutil.h"
#include "lib/core/log.h"
#include "lib/stream/stream.h"

static int folder_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int empty = 1;

	if (!d)
		return errno == ENOENT;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			empty = 0;
			break;
		}
	closedir(d);
	return empty;
}

static int mkdir_p(const char *path, struct drctl_error *err)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s/", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST)
			return err_set_errno(err, EXIT_IO, errno, buf, NULL, "cannot create %s", buf);
		*p = '/';
	}
	return 0;
}

/* Open (creating when asked) the folder `rel` under root, never following a
 * link.  Returns an fd or -1. */
static int open_folder(int root, const char *rel, int create, const char *target, struct drctl_error *err)
{
	char buf[PATH_MAX], *save = NULL, *part;
	int fd = dup(root);

	snprintf(buf, sizeof(buf), "%s", rel);
	for (part = strtok_r(buf, "/", &save); part && fd >= 0; part = strtok_r(NULL, "/", &save)) {
		int next;
		if (!strcmp(part, "."))
			continue;
		if (create && mkdirat(fd, part, 0750) != 0 && errno != EEXIST) {
			err_set_errno(err, EXIT_IO, errno, rel, NULL, "cannot create %s/%s", target, rel);
			close(fd);
			return -1;
		}
		next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			if (errno == ELOOP || errno == ENOTDIR)
				err_set(err, EXIT_INTEGRITY, rel, NULL,
					"%s/%s goes through a link or a file; refusing to write there", target, rel);
			else
				err_set_errno(err, EXIT_IO, errno, rel, NULL, "cannot open %s/%s", target, rel);
			close(fd);
			return -1;
		}
		close(fd);
		fd = next;
	}
	return fd;
}

/* Each chunk of a member into the running SHA-256 and the temporary file. */
struct file_out {
	EVP_MD_CTX *md;
	int fd;
	const char *target, *name;
};

static int file_out_feed(void *arg, const void *buf, size_t len, struct drctl_error *err)
{
	struct file_out *o = arg;

	EVP_DigestUpdate(o->md, buf, len);
	if (fs_write_all(o->fd, buf, len) != 0)
		return err_set_errno(err, EXIT_IO, errno, o->name, NULL, "cannot write %s/%s", o->target, o->name);
	return 0;
}

static int restore_file(struct restore_ctx *ctx, int root, const struct archive_member *m,
			json_t *expected, struct drctl_error *err)
{
	const char *target = ctx->opts->target;
	const char *want = json_string_value(json_object_get(expected, "sha256"));
	char dir[PATH_MAX], tmp[NAME_MAX + 1], hex[65];
	const char *base = strrchr(m->name, '/');
	unsigned char sha[32];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	struct file_out out;
	uint64_t total = 0;
	int dfd = -1, fd = -1, rc = -1;

	if (!md) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		goto done;
	}
	snprintf(dir, sizeof(dir), "%.*s", base ? (int)(base - m->name) : 1, base ? m->name : ".");
	base = base ? base + 1 : m->name;
	if ((dfd = open_folder(root, dir, 1, target, err)) < 0)
		goto done;
	if (!ctx->opts->force && faccessat(dfd, base, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		err_set(err, EXIT_USAGE, m->name, "restore into an empty folder, or add --force to replace existing files",
			"%s/%s already exists; not overwritten", target, m->name);
		goto done;
	}
	snprintf(tmp, sizeof(tmp), ".%.200s.drctl-restore-%ld", base, (long)getpid());
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_set_errno(err, EXIT_IO, errno, m->name, NULL, "cannot create %s/%s", target, m->name);
		goto done;
	}
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	out = (struct file_out){ .md = md, .fd = fd, .target = target, .name = m->name };
	if (stream_pump(archive_in_member_source(ctx->archive), 256 * 1024, file_out_feed, &out, &total, err) != 0)
		goto done;
	EVP_DigestFinal_ex(md, sha, NULL);
	hex_encode(sha, 32, hex);
	if (!want || strcmp(want, hex) != 0 || (json_int_t)total != json_integer_value(json_object_get(expected, "size"))) {
		err_set(err, EXIT_INTEGRITY, m->name, "restore from another set (`drctl list`)",
			"%s does not match the signed manifest (SHA-256 or size differs); it was not written", m->name);
		goto done;
	}
	if (fchmod(fd, m->mode & 0777) != 0 || fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		err_set_errno(err, EXIT_IO, errno, m->name, NULL, "cannot finish %s/%s", target, m->name);
		goto done;
	}
	fd = -1;
	if (renameat(dfd, tmp, dfd, base) != 0) {
		err_set_errno(err, EXIT_IO, errno, m->name, NULL, "cannot put %s/%s in place", target, m->name);
		goto done;
	}
	tmp[0] = '\0';
	rc = 0;
done:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0) {
		if (tmp[0] && rc != 0)
			unlinkat(dfd, tmp, 0);
		close(dfd);
	}
	EVP_MD_CTX_free(md);
	return rc;
}

int files_restore(struct restore_ctx *ctx, struct drctl_error *err)
{
	const char *target = ctx->opts->target;
	json_t *members = json_object_get(ctx->section, "members"), *expected, *rec;
	struct archive_member m;
	size_t i, files = 0, folders = 0;
	int root = -1, rc = -1, more;

	if (!target)
		return err_set(err, EXIT_USAGE, "--target", "add --target FOLDER (files are restored under it, by their original path)",
			       "restoring files needs a target folder");
	expected = json_object();
	json_array_foreach(members, i, rec)
		json_object_set(expected, json_string_value(json_object_get(rec, "name")), rec);
	if (ctx->opts->dry_run) {
		log_info("dry run: would restore %zu files from %s into %s", json_object_size(expected),
			 ctx->backup_id, target);
		json_object_set_new(ctx->report, "dry_run", json_true());
		json_object_set_new(ctx->report, "would_restore", json_incref(members));
		json_decref(expected);
		return 0;
	}
	if (!ctx->opts->force && !folder_is_empty(target)) {
		json_decref(expected);
		return err_set(err, EXIT_USAGE, target,
			       "restore into an empty or new folder, or add --force to replace files there (each only after its new content is verified)",
			       "target folder %s is not empty; nothing was written", target);
	}
	if (mkdir_p(target, err) != 0)
		goto done;
	root = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		err_set_errno(err, EXIT_IO, errno, target, NULL, "cannot open target folder %s", target);
		goto done;
	}
	while ((more = archive_in_next(ctx->archive, &m, err)) == 1) {
		json_t *want = json_object_get(expected, m.name);
		if (m.is_dir) {
			int fd = open_folder(root, m.name, 1, target, err);
			if (fd < 0)
				goto done;
			close(fd);
			folders++;
			continue;
		}
		if (!want) {
			err_set(err, EXIT_INTEGRITY, m.name, "restore from another set (`drctl list`)",
				"the archive holds %s, which the signed manifest does not list; refused", m.name);
			goto done;
		}
		if (restore_file(ctx, root, &m, want, err) != 0)
			goto done;
		json_object_del(expected, m.name);
		files++;
	}
	if (more < 0)
		goto done;
	if (json_object_size(expected) > 0) {
		const char *missing = json_object_iter_key(json_object_iter(expected));
		err_set(err, EXIT_INTEGRITY, missing, "restore from another set (`drctl list`)",
			"the archive lacks %zu member(s) the manifest lists, e.g. %s", json_object_size(expected), missing);
		goto done;
	}
	json_object_set_new(ctx->report, "files", json_integer((json_int_t)files));
	json_object_set_new(ctx->report, "folders", json_integer((json_int_t)folders));
	log_info("restored %zu files into %s", files, target);
	rc = 0;
done:
	if (root >= 0)
		close(root);
	json_decref(expected);
	return rc;
}
