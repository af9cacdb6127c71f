/*
 * config_private: the table of keys that lib/core/config.c reads and
 * lib/core/config_keys.c holds.  Only those two files include it; config.h is
 * the module's public face.
 */
#ifndef DRCTL_CONFIG_PRIVATE_H
#define DRCTL_CONFIG_PRIVATE_H

#include <stddef.h>

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

#endif
