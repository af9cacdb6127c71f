#include "lib/core/options.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* "--name" or "--name=value" against spec->name; "-n" against short_name. */
static int matches(const struct opt_spec *spec, const char *arg, const char **inline_value)
{
	*inline_value = NULL;
	if (arg[0] == '-' && arg[1] == '-') {
		size_t len = strcspn(arg + 2, "=");
		if (strlen(spec->name) != len || strncmp(arg + 2, spec->name, len) != 0)
			return 0;
		if (arg[2 + len] == '=')
			*inline_value = arg + 3 + len;
		return 1;
	}
	return spec->short_name && arg[0] == '-' && arg[1] == spec->short_name && arg[2] == '\0';
}

const struct opt_spec *opt_find(const struct opt_spec *table, const char *arg)
{
	const char *inline_value;
	for (const struct opt_spec *s = table; s && s->name; s++)
		if (matches(s, arg, &inline_value))
			return s;
	return NULL;
}

int opt_take(const struct opt_spec *table, void *target, int argc, char **argv, int *i,
	     struct drctl_error *err)
{
	const char *arg = argv[*i], *value = NULL;
	const struct opt_spec *spec = NULL;
	char *field;

	for (const struct opt_spec *s = table; s && s->name; s++)
		if (matches(s, arg, &value)) {
			spec = s;
			break;
		}
	if (!spec)
		return 0;
	field = (char *)target + spec->offset;
	if (spec->type == OPT_FLAG) {
		if (value)
			return err_set(err, EXIT_USAGE, arg, NULL, "--%s takes no value", spec->name);
		*(int *)field = 1;
		return 1;
	}
	if (!value) {
		if (*i + 1 >= argc)
			return err_set(err, EXIT_USAGE, arg, NULL, "--%s needs a value (%s)", spec->name,
				       spec->value_name ? spec->value_name : "a value");
		value = argv[++*i];
	}
	if (spec->type == OPT_STRING) {
		*(const char **)field = value;
		return 1;
	}
	{
		char *end;
		long n;
		errno = 0;
		n = strtol(value, &end, 10);
		if (errno || end == value || *end || n < 0)
			return err_set(err, EXIT_USAGE, arg, NULL, "--%s takes a whole number, not \"%s\"", spec->name,
				       value);
		*(long *)field = n;
	}
	return 1;
}

void opt_print_help(FILE *out, const struct opt_spec *table)
{
	for (const struct opt_spec *s = table; s && s->name; s++) {
		char left[64];
		if (s->short_name)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", s->short_name, s->name, s->value_name ? " " : "",
				 s->value_name ? s->value_name : "");
		else
			snprintf(left, sizeof(left), "--%s%s%s", s->name, s->value_name ? " " : "",
				 s->value_name ? s->value_name : "");
		fprintf(out, "  %-28s %s\n", left, s->help ? s->help : "");
	}
}
