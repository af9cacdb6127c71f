/*
 * files: the files component (certificates, configuration).
 *
 * Each configured path is stored under its absolute path without the leading
 * slash ("/etc/drctl/tls.crt" -> "etc/drctl/tls.crt"), so two paths with the
 * same base name never collide and a restore into a target folder shows where
 * each file came from.  Only regular files and folders are stored: symbolic
 * links and special files are skipped and listed in the manifest, because
 * archives must never hold links.
 */
#include "components/files/files.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/core/log.h"

int files_configured(const struct config *cfg)
{
	const char *items[1];
	return config_get_list(cfg, "files", "paths", items, 1) > 0;
}

static int add_path(struct capture_ctx *ctx, const char *path, json_t *skipped, int depth,
		    struct drctl_error *err);

static int add_dir(struct capture_ctx *ctx, const char *path, const char *member, mode_t mode,
		   json_t *skipped, int depth, struct drctl_error *err)
{
	struct dirent **entries = NULL;
	int n, rc = 0;

	if (archive_out_add_dir(ctx->archive, member, mode, err) != 0)
		return -1;
	n = scandir(path, &entries, NULL, alphasort);
	if (n < 0)
		return err_set_errno(err, EXIT_IO, errno, path, "check [files] paths and the folder's permissions",
				     "cannot list %s", path);
	for (int i = 0; i < n; i++) {
		char child[PATH_MAX];
		if (rc == 0 && strcmp(entries[i]->d_name, ".") && strcmp(entries[i]->d_name, "..")) {
			snprintf(child, sizeof(child), "%s/%s", path, entries[i]->d_name);
			rc = add_path(ctx, child, skipped, depth + 1, err);
		}
		free(entries[i]);
	}
	free(entries);
	return rc;
}

static int add_path(struct capture_ctx *ctx, const char *path, json_t *skipped, int depth,
		    struct drctl_error *err)
{
	struct stat st;
	const char *member = path;

	while (*member == '/')
		member++;
	if (depth > 64)
		return err_set(err, EXIT_USAGE, path, NULL, "%s is nested more than 64 folders deep", path);
	if (lstat(path, &st) != 0)
		return err_set_errno(err, EXIT_IO, errno, path,
				     "fix [files] paths (or DRCTL_FILES_PATHS) and run the backup again",
				     "cannot back up %s", path);
	if (S_ISREG(st.st_mode))
		return archive_out_add_file(ctx->archive, member, path, err);
	if (S_ISDIR(st.st_mode))
		return *member ? add_dir(ctx, path, member, st.st_mode, skipped, depth, err)
			       : err_set(err, EXIT_USAGE, path, NULL, "refusing to back up the root folder");
	log_warn("skipping %s: %s", path, S_ISLNK(st.st_mode) ? "symbolic link" : "not a regular file or folder");
	json_array_append_new(skipped, json_pack("{s:s, s:s}", "path", path, "reason",
						 S_ISLNK(st.st_mode) ? "symbolic link" : "special file"));
	return 0;
}

int files_capture(struct capture_ctx *ctx, struct drctl_error *err)
{
	const char *paths[256];
	size_t n = config_get_list(ctx->cfg, "files", "paths", paths, 256);
	json_t *skipped = json_array(), *list = json_array();

	json_object_set_new(ctx->section, "source", json_pack("{s:o}", "paths", list));
	json_object_set_new(ctx->section, "skipped", skipped);
	if (n == 0)
		return err_set(err, EXIT_USAGE, "[files] paths",
			       "set [files] paths (comma-separated) or DRCTL_FILES_PATHS", "no paths to back up");
	if (n > 256)
		return err_set(err, EXIT_USAGE, "[files] paths", NULL, "at most 256 paths");
	for (size_t i = 0; i < n; i++) {
		char abs[PATH_MAX];
		if (paths[i][0] != '/') {
			if (!realpath(paths[i], abs))
				return err_set_errno(err, EXIT_IO, errno, paths[i], "fix [files] paths",
						     "cannot back up %s", paths[i]);
		} else {
			snprintf(abs, sizeof(abs), "%s", paths[i]);
		}
		json_array_append_new(list, json_string(abs));
		if (add_path(ctx, abs, skipped, 0, err) != 0)
			return -1;
	}
	return 0;
}
