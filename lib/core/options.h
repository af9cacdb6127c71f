/*
 * options: command-line options described as data.
 *
 * An option table says, for each option, its name, the kind of value it
 * takes and where in a caller's struct the value goes (offsetof).  The same
 * tables serve the command line (drctl/cli.c parses argv with them and
 * prints --help from them) and callers that pass options as data: the
 * scenario engine and the drill fill a component's restore-options struct
 * directly, the command line fills the very same struct through the table.
 */
#ifndef DRCTL_CORE_OPTIONS_H
#define DRCTL_CORE_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#include "lib/core/error.h"

enum opt_type {
	OPT_FLAG,   /* int, set to 1 */
	OPT_STRING, /* const char *, points into argv */
	OPT_LONG,   /* long, a decimal number >= 0 */
};

struct opt_spec {
	const char *name;       /* "database" for --database; NULL ends a table */
	char short_name;        /* 'n' for -n, or 0 */
	enum opt_type type;
	size_t offset;          /* of the value in the target struct */
	const char *value_name; /* "NAME" in --help; NULL for flags */
	const char *help;       /* one line */
};

/* Take argv[*i] as an option of `table`, writing its value into `target`;
 * a value is the next argument or follows '='.  Returns 1 when taken (*i is
 * then the last argument used), 0 when argv[*i] is not one of the table's
 * options, -1 when it is but its value is missing or bad (err names the
 * option). */
int opt_take(const struct opt_spec *table, void *target, int argc, char **argv, int *i,
	     struct drctl_error *err);
/* The table as "  --name VALUE   help" lines. */
void opt_print_help(FILE *out, const struct opt_spec *table);
/* Is `name` ("--database") an option of the table? */
const struct opt_spec *opt_find(const struct opt_spec *table, const char *arg);

#endif
