/*
 * config_private: the table of keys that lib/core/config.c reads and
 * lib/core/config_keys.c holds, and the configuration's insides that
 * config.c shares with config_repository.c (the [repository.NAME]
 * sections).  Only those files include it; config.h is the module's public
 * face.
 */
#ifndef DRCTL_CONFIG_PRIVATE_H
#define DRCTL_CONFIG_PRIVATE_H

#include <limits.h>
#include <stddef.h>

#include "lib/core/config.h"
#include "lib/core/error.h"

enum config_type {
	CONFIG_STRING,
	CONFIG_PATH,   /* relative to the config file's folder; ~/ expanded */
	CONFIG_INT,    /* decimal, within [min, max] */
	CONFIG_BOOL,
	CONFIG_ENUM,   /* one of choices */
	CONFIG_LIST,   /* comma-separated, trimmed, empty items dropped */
	CONFIG_SECRET, /* a string never shown; <name>_file is its file form */
	CONFIG_DURATION, /* "30d", "2w", "36h", "1y2m" (lib/core/duration.h) */
};

struct config_key {
	const char *section;
	const char *name;
	enum config_type type;
	const char *def;      /* default, NULL when none */
	const char *doc;      /* one line, for the template */
	const char *choices;  /* CONFIG_ENUM: "a, b, c" */
	long min, max;        /* CONFIG_INT */
	const char *example;  /* shown (commented) in the template when there is no default */
	int sensitive;        /* the value never appears in messages */
};

extern const struct config_key config_keys[];
extern const size_t config_key_count;

enum config_layer { LAYER_DEFAULT, LAYER_FILE, LAYER_ENV, LAYER_FLAG, LAYER_COUNT };

struct config_value {
	char *raw;      /* as given (unquoted); NULL when this layer does not set the key */
	char *cooked;   /* path: resolved; list: the items, each NUL-terminated */
	size_t nitems;  /* list: how many items cooked holds */
	int line;       /* file layer: where it was set */
};

/* A key of a [repository.NAME] section, as the file gives it: checked
 * against [repository]'s row when read, stored when the repository is
 * chosen (config_for_repository). */
struct config_named {
	char name[CONFIG_REPO_NAME_MAX + 1];
	size_t idx;     /* of the [repository] key */
	char *raw;
	int line;
};

struct config {
	char file[PATH_MAX];
	char dir[PATH_MAX];
	struct config_value (*values)[LAYER_COUNT]; /* per key of config_keys[], per layer */
	struct config_named *named;                 /* the [repository.NAME] keys, in file order */
	size_t n_named;
};

/* config.c's helpers: the row of a key (-1: none); the "unknown section or
 * key" error with its hint; a value checked against its row; a value
 * stored into a layer (checked, cooked); a quoted value unquoted in place
 * (NULL, or what is wrong); a configuration with every default. */
int config_key_index(const char *section, const char *key);
int config_unknown(const char *origin, const char *subject, const char *section, const char *key,
		   struct drctl_error *err);
int config_check_value(const struct config_key *k, const char *value, const char *origin, const char *subject,
		       struct drctl_error *err);
int config_store(struct config *cfg, size_t idx, enum config_layer layer, const char *value, int line,
		 const char *origin, const char *subject, struct drctl_error *err);
const char *config_unquote(char *v);
struct config *config_alloc(struct drctl_error *err);
/* key = value under [repository.NAME] (section is "repository.NAME"). */
int config_parse_named(struct config *cfg, const char *section, const char *key, char *value, int lineno,
		       const char *origin, struct drctl_error *err);

#endif
