/*
 * config: drctl's one INI file, with DRCTL_<SECTION>_<KEY> environment
 * overrides and command-line flag overrides on top (flag > env > file >
 * default).
 *
 * Every key drctl knows is in one table (config_keys.c) with its type and
 * default; an unknown section or key, or a bad value, is an error that names
 * the file, the line and the key.  Secret values may come from `<key>_file`
 * keys (Kubernetes Secret mounts); a secret file readable by group or others
 * is refused, as ssh does.  Relative paths in the file are relative to the
 * file's folder.
 */
#ifndef DRCTL_CONFIG_H
#define DRCTL_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "lib/core/duration.h"
#include "lib/core/error.h"

struct config;

/* Where the config is: explicit path, else $DRCTL_CONFIG, else
 * $XDG_CONFIG_HOME/drctl/drctl.conf (~/.config when unset), else
 * /etc/drctl/drctl.conf.  Writes the chosen path into out.  The per-user
 * file is chosen when it exists or when /etc/drctl/drctl.conf does not (it is
 * where `drctl init` writes). */
void config_default_path(const char *explicit_path, char *out, size_t cap);

/* Load and validate.  A missing file is an error with a hint to run
 * `drctl init` (unless allow_missing, used by init itself).  A NULL or ""
 * path gives defaults and environment only, with bad variables reported.
 * The DRCTL_<SECTION>_<KEY> variables are read once, here; empty ones count
 * as unset. */
int config_load(struct config **out, const char *path, int allow_missing, struct drctl_error *err);
/* An empty configuration (defaults and environment only), for tests and init.
 * It cannot report errors, so a variable with a bad value is skipped; use
 * config_load(&cfg, NULL, ...) to have it reported.  NULL when out of memory. */
struct config *config_new_empty(void);
void config_free(struct config *cfg);

/* Named repositories.  Besides [repository] (the default one, also called
 * "default"), the file may describe others as [repository.NAME] sections
 * with the same keys (`drctl repo copy --from NAME --to NAME`).  NAME is
 * lower-case letters, digits, '-' and '_', at most CONFIG_REPO_NAME_MAX. */
#define CONFIG_REPO_NAME_MAX 40
int config_repo_name_valid(const char *name);
/* A copy of cfg in which [repository] is repository NAME ("default" or
 * NULL: [repository] itself, environment and flags included; another name:
 * its section's keys only, the others at their defaults).  EXIT_USAGE
 * naming the sections there are when the file has no such section. */
int config_for_repository(const struct config *cfg, const char *name, struct config **out, struct drctl_error *err);

/* Set a value as a flag would (highest precedence); validated like a file value.
 * A relative path is kept relative (to the working directory).  value NULL
 * removes the flag value. */
int config_set(struct config *cfg, const char *section, const char *key, const char *value,
	       struct drctl_error *err);

/* The effective value (flag, env, file, then default), or NULL when unset. */
const char *config_get(const struct config *cfg, const char *section, const char *key);
/* Was the key given (file, environment, flag), rather than its default? */
int config_is_set(const struct config *cfg, const char *section, const char *key);
int config_get_int(const struct config *cfg, const char *section, const char *key, long *out);
int config_get_bool(const struct config *cfg, const char *section, const char *key);
/* A duration ("30d", "2w", "1y2m"): 0, or -1 when unset (or not one). */
int config_get_duration(const struct config *cfg, const char *section, const char *key, struct duration *out);
/* A path value, resolved against the config file's folder when relative.
 * Returns NULL when unset.  The returned string lives as long as cfg. */
const char *config_get_path(const struct config *cfg, const char *section, const char *key);
/* A comma-separated list, split and trimmed; returns the count, fills up to
 * max pointers into an internal copy that lives as long as cfg. */
size_t config_get_list(const struct config *cfg, const char *section, const char *key,
		       const char **items, size_t max);

/* A secret: the value of `key` itself, or the contents of the file named by
 * `<key>_file` (trailing newline removed; the file must not be readable by
 * group or others).  Returns 1 and a malloc'd value, 0 when neither is set,
 * -1 on error.  Wipe and free the value with config_secret_free. */
int config_get_secret(const struct config *cfg, const char *section, const char *key,
		      char **value, struct drctl_error *err);
void config_secret_free(char *value);
/* Which secret a client takes: [section] key (or key_file).  The drill's
 * scratch servers have their own ([scratch] redis_password_file,
 * vault_token_file), so production's are never sent to them. */
struct config_secret_ref {
	const char *section;
	const char *key;
};

/* The file this configuration came from ("" for none) and its folder. */
const char *config_file(const struct config *cfg);
const char *config_dir(const struct config *cfg);

/* The keys drctl knows, in the template's order, for code that walks a
 * configuration (`drctl schedule render` writes an in-cluster copy). */
struct config_key_info {
	const char *section, *name;
	int is_path;   /* a file or folder, resolved against the config's folder */
	int is_secret; /* the value itself must never be shown or copied */
};
size_t config_key_info_count(void);
void config_key_info_at(size_t i, struct config_key_info *out);
/* "key = value" and a line break, quoted so that config_load reads the very
 * value back; -1 when the value holds a line break (a line-based file cannot
 * hold it) or the write fails. */
int config_write_entry(FILE *f, const char *key, const char *value);

/* The commented configuration `drctl init` writes, with every key.  The
 * recipient and key paths are filled in.  Returns malloc'd text. */
char *config_render_template(const char *recipient, const char *secret_key_file,
			     const char *public_key_file, const char *identity_file,
			     const char *repository_path, const char *state_dir);
/* A key's value for config_render_template_with. */
struct config_fill {
	const char *section, *key, *value;
};
/* The same, with more keys filled in (an S3 repository's type, bucket,
 * endpoint, ...); a NULL value leaves its key commented. */
char *config_render_template_with(const char *recipient, const char *secret_key_file,
				  const char *public_key_file, const char *identity_file,
				  const char *repository_path, const char *state_dir,
				  const struct config_fill *more, size_t n_more);

#endif
