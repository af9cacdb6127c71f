/*
 * config: drctl's INI configuration, driven by one table.
 *
 * Every key drctl understands is one row of config_keys[] (config_keys.c):
 * section, name, type, default and a one-line description.  That table drives everything:
 * validation of file, environment and flag values, the "unknown key" hints,
 * the DRCTL_<SECTION>_<KEY> variable names and the commented template that
 * `drctl init` writes.  Adding a key is adding a row.
 *
 * Each key has four layers (default, file, environment, flag) and a read
 * takes the highest one that is set.  Values are validated and "cooked"
 * (paths resolved, lists split) when they are stored, not when they are
 * read: errors then surface once, at load time, naming the file and line or
 * the variable that caused them, and the getters stay const and cannot fail.
 *
 * The environment is read once, when the configuration is created, so a
 * config object is a stable snapshot.  An empty variable counts as unset.
 * Relative paths in the file are relative to the file's folder (a config
 * and its keys move together); relative paths from the environment or flags
 * are relative to the working directory, as whoever typed them expects.
 *
 * `#` and `;` start a comment only at the start of a line: passwords, URLs
 * and conninfo strings may contain them.  A value in double quotes is taken
 * literally (only \" and \\ are escapes), for leading spaces and the like.
 *
 * Secrets (passwords, tokens, conninfo) never appear in error messages.
 */
#include "lib/core/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/core/keyfile.h"
#include "lib/core/log.h"
#include "lib/core/config_private.h"

#define CONFIG_LINE_MAX 4096
#define CONFIG_FILE_MAX (1024 * 1024)
#define CONFIG_SECRET_MAX (64 * 1024)
#define CONFIG_SYSTEM_PATH "/etc/drctl/drctl.conf"

int config_key_index(const char *section, const char *key)
{
	for (size_t i = 0; i < config_key_count; i++)
		if (!strcmp(config_keys[i].section, section) && !strcmp(config_keys[i].name, key))
			return (int)i;
	return -1;
}

static int config_section_known(const char *section)
{
	for (size_t i = 0; i < config_key_count; i++)
		if (!strcmp(config_keys[i].section, section))
			return 1;
	return 0;
}

/* Edit distance, for "did you mean"; long names are never close. */
static size_t config_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64], prev, tmp;

	if (la >= 64 || lb >= 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			tmp = row[j];
			row[j] = prev + (a[i - 1] != b[j - 1]);
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			if (tmp + 1 < row[j])
				row[j] = tmp + 1;
			prev = tmp;
		}
	}
	return row[lb];
}

static int config_is_close(const char *typed, const char *known)
{
	size_t d = config_distance(typed, known);
	return d <= 2 && d < strlen(known);
}

/* The hint of an unknown key: the closest key, else every key of the section. */
static void config_hint_key(const char *section, const char *key, char *hint, size_t cap)
{
	size_t used;

	for (size_t i = 0; i < config_key_count; i++)
		if (!strcmp(config_keys[i].section, section) && config_is_close(key, config_keys[i].name)) {
			snprintf(hint, cap, "did you mean \"%s\"?", config_keys[i].name);
			return;
		}
	used = (size_t)snprintf(hint, cap, "valid keys in [%s]:", section);
	for (size_t i = 0, n = 0; i < config_key_count && used < cap; i++)
		if (!strcmp(config_keys[i].section, section))
			used += (size_t)snprintf(hint + used, cap - used, "%s %s", n++ ? "," : "",
						 config_keys[i].name);
}

static void config_hint_section(const char *section, char *hint, size_t cap)
{
	const char *last = "";
	size_t used;

	for (size_t i = 0; i < config_key_count; i++)
		if (config_is_close(section, config_keys[i].section)) {
			snprintf(hint, cap, "did you mean [%s]?", config_keys[i].section);
			return;
		}
	used = (size_t)snprintf(hint, cap, "valid sections:");
	for (size_t i = 0; i < config_key_count && used < cap; i++) {
		if (!strcmp(last, config_keys[i].section))
			continue;
		used += (size_t)snprintf(hint + used, cap - used, "%s [%s]", *last ? "," : "",
					 config_keys[i].section);
		last = config_keys[i].section;
	}
}

int config_unknown(const char *origin, const char *subject, const char *section,
		   const char *key, struct drctl_error *err)
{
	char hint[512];

	if (!config_section_known(section)) {
		config_hint_section(section, hint, sizeof(hint));
		return err_set(err, EXIT_USAGE, subject, hint, "%sunknown section [%s]", origin, section);
	}
	config_hint_key(section, key, hint, sizeof(hint));
	return err_set(err, EXIT_USAGE, subject, hint, "%sunknown key \"%s\" in [%s]", origin, key, section);
}

static char *config_trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int config_parse_long(const char *s, long *out)
{
	char *end;

	if (!isdigit((unsigned char)s[0]) && !(s[0] == '-' && isdigit((unsigned char)s[1])))
		return -1;
	errno = 0;
	*out = strtol(s, &end, 10);
	return (errno || *end) ? -1 : 0;
}

/* 1, 0, or -1 when not a boolean. */
static int config_parse_bool(const char *s)
{
	static const char *const yes[] = { "true", "yes", "on", "1" }, *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i]))
			return 1;
		if (!strcasecmp(s, no[i]))
			return 0;
	}
	return -1;
}

static int config_enum_has(const char *choices, const char *value)
{
	size_t n = strlen(value);

	for (const char *p = choices; *p;) {
		size_t len = strcspn(p, ",");
		if (len == n && !strncmp(p, value, n))
			return 1;
		p += len;
		p += strspn(p, ", ");
	}
	return 0;
}

/* origin ("file:line: ", "environment variable X: " or "") starts the message. */
int config_check_value(const struct config_key *k, const char *value, const char *origin,
		       const char *subject, struct drctl_error *err)
{
	const char *shown = k->sensitive ? "(hidden)" : value;
	struct duration span;
	long n;

	switch (k->type) {
	case CONFIG_INT:
		if (config_parse_long(value, &n) != 0)
			return err_set(err, EXIT_USAGE, subject, "write a decimal number, e.g. 4",
				       "%s[%s] %s = \"%.200s\" is not a whole number", origin, k->section, k->name, shown);
		if (n < k->min || n > k->max)
			return err_set(err, EXIT_USAGE, subject, NULL, "%s[%s] %s = %ld is out of range (%ld..%ld)",
				       origin, k->section, k->name, n, k->min, k->max);
		return 0;
	case CONFIG_BOOL:
		if (config_parse_bool(value) < 0)
			return err_set(err, EXIT_USAGE, subject, "use true or false (yes/no, on/off, 1/0 work too)",
				       "%s[%s] %s = \"%.200s\" is not true or false", origin, k->section, k->name, shown);
		return 0;
	case CONFIG_ENUM:
		if (!config_enum_has(k->choices, value))
			return err_set(err, EXIT_USAGE, subject, NULL, "%s[%s] %s = \"%.200s\" is not one of: %s",
				       origin, k->section, k->name, shown, k->choices);
		return 0;
	case CONFIG_DURATION:
		if (duration_parse(value, &span) != 0)
			return err_set(err, EXIT_USAGE, subject,
				       "write whole numbers with units y (years), m (months), w (weeks), d (days), h (hours), e.g. 30d, 2w, 36h, 1y2m; or 0",
				       "%s[%s] %s = \"%.200s\" is not a duration", origin, k->section, k->name, shown);
		return 0;
	case CONFIG_PATH:
		if (!*value)
			return err_set(err, EXIT_USAGE, subject, "give a path, or leave the key out",
				       "%s[%s] %s is empty", origin, k->section, k->name);
		return 0;
	default:
		return 0;
	}
}

static const char *config_home(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (home && *home)
		return home;
	pw = getpwuid(getuid());
	return pw && pw->pw_dir && *pw->pw_dir ? pw->pw_dir : NULL;
}

/* "~/x" is under $HOME; a relative path is under base when there is one. */
static char *config_resolve_path(const char *value, const char *base)
{
	const char *home = config_home();
	char *out = NULL;

	if (value[0] == '~' && (value[1] == '/' || value[1] == '\0') && home)
		return asprintf(&out, "%s%s", home, value + 1) < 0 ? NULL : out;
	if (value[0] == '/' || !base || !*base)
		return strdup(value);
	while (value[0] == '.' && value[1] == '/')
		value += 2 + strspn(value + 2, "/");
	if (!*value || !strcmp(value, "."))
		return strdup(base);
	return asprintf(&out, "%s/%s", base, value) < 0 ? NULL : out;
}

/* The items, trimmed and each NUL-terminated, one after the other, then a
 * final NUL (so an empty list is "" too): at most strlen + 2 bytes. */
static char *config_split_list(const char *value, size_t *count)
{
	char *out = malloc(strlen(value) + 2), *w = out;
	const char *p = value;

	*count = 0;
	if (!out)
		return NULL;
	while (*p) {
		size_t len = strcspn(p, ",");
		const char *b = p, *e = p + len;

		while (b < e && isspace((unsigned char)*b))
			b++;
		while (e > b && isspace((unsigned char)e[-1]))
			e--;
		if (e > b) {
			memcpy(w, b, (size_t)(e - b));
			w += e - b;
			*w++ = '\0';
			(*count)++;
		}
		p += len + (p[len] == ',');
	}
	*w = '\0';
	return out;
}

static void config_value_clear(const struct config_key *k, struct config_value *v)
{
	if (v->raw && k->sensitive)
		secure_wipe(v->raw, strlen(v->raw));
	free(v->raw);
	free(v->cooked);
	memset(v, 0, sizeof(*v));
}

int config_store(struct config *cfg, size_t idx, enum config_layer layer, const char *value,
		 int line, const char *origin, const char *subject, struct drctl_error *err)
{
	const struct config_key *k = &config_keys[idx];
	struct config_value nv = { .line = line };

	if (config_check_value(k, value, origin, subject, err) != 0)
		return -1;
	nv.raw = strdup(value);
	if (!nv.raw)
		goto fail;
	if (k->type == CONFIG_PATH && !(nv.cooked = config_resolve_path(value, layer == LAYER_FILE ? cfg->dir : NULL)))
		goto fail;
	if (k->type == CONFIG_LIST && !(nv.cooked = config_split_list(value, &nv.nitems)))
		goto fail;
	config_value_clear(k, &cfg->values[idx][layer]);
	cfg->values[idx][layer] = nv;
	return 0;
fail:
	config_value_clear(k, &nv);
	return err_set(err, EXIT_FAILED, subject, NULL, "out of memory storing [%s] %s", k->section, k->name);
}

/* Unquote "..." in place; NULL on success, else what is wrong. */
const char *config_unquote(char *v)
{
	char *r = v + 1, *w = v;

	while (*r && *r != '"') {
		if (*r == '\\') {
			if (r[1] == '\0')
				break;
			if (r[1] != '"' && r[1] != '\\')
				return "unknown escape in the quoted value (only \\\" and \\\\ are allowed)";
			r++;
		}
		*w++ = *r++;
	}
	if (*r != '"')
		return "unterminated quote in the value";
	if (r[1] != '\0')
		return "text after the closing quote";
	*w = '\0';
	return NULL;
}

/* One line, NUL-terminated; section is the current [section] ("" before any). */
static int config_parse_line(struct config *cfg, char *line, int lineno, char *section, size_t cap,
			     struct drctl_error *err)
{
	char origin[PATH_MAX + 32], *s = config_trim(line), *eq, *key, *value, *close;
	const char *problem;
	int idx;

	snprintf(origin, sizeof(origin), "%s:%d: ", cfg->file, lineno);
	if (!*s || *s == '#' || *s == ';')
		return 0;
	if (*s == '[') {
		close = strchr(s, ']');
		if (!close || close[1] != '\0')
			return err_set(err, EXIT_USAGE, cfg->file, "write a section header as [name] alone on its line",
				       "%smalformed section header", origin);
		*close = '\0';
		s = config_trim(s + 1);
		if (!strncmp(s, "repository.", 11)) {
			if (!config_repo_name_valid(s + 11))
				return err_set(err, EXIT_USAGE, cfg->file, "e.g. [repository.offsite]: lower-case letters, digits, '-' and '_'",
					       "%s[%.100s] does not name a repository", origin, s);
			snprintf(section, cap, "%s", s);
			return 0;
		}
		if (!config_section_known(s))
			return config_unknown(origin, cfg->file, s, "", err);
		snprintf(section, cap, "%s", s);
		return 0;
	}
	eq = strchr(s, '=');
	if (!eq)
		return err_set(err, EXIT_USAGE, cfg->file, "write key = value, or start a comment with #",
			       "%sexpected \"key = value\" or \"[section]\"", origin);
	*eq = '\0';
	key = config_trim(s);
	value = config_trim(eq + 1);
	if (!*key)
		return err_set(err, EXIT_USAGE, cfg->file, NULL, "%smissing key name before '='", origin);
	if (!*section)
		return err_set(err, EXIT_USAGE, cfg->file, "put it under its [section] header",
			       "%skey \"%s\" is outside any section", origin, key);
	if (!strncmp(section, "repository.", 11))
		return config_parse_named(cfg, section, key, value, lineno, origin, err);
	idx = config_key_index(section, key);
	if (idx < 0)
		return config_unknown(origin, cfg->file, section, key, err);
	if (*value == '"' && (problem = config_unquote(value)))
		return err_set(err, EXIT_USAGE, cfg->file, "close the quote with \", and write \\\" for a quote inside",
			       "%s%s of \"%s\" in [%s]", origin, problem, key, section);
	if (cfg->values[idx][LAYER_FILE].raw)
		return err_set(err, EXIT_USAGE, cfg->file, "keep one of the two lines",
			       "%sduplicate key \"%s\" in [%s] (first set on line %d)", origin, key, section,
			       cfg->values[idx][LAYER_FILE].line);
	return config_store(cfg, (size_t)idx, LAYER_FILE, value, lineno, origin, cfg->file, err);
}

/* text has len bytes and a NUL after them (the parser writes there). */
static int config_parse(struct config *cfg, char *text, size_t len, struct drctl_error *err)
{
	char section[64] = "", *p = text, *end = text + len;
	int lineno = 0;

	if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
		p += 3; /* a byte order mark some editors write */
	while (p < end) {
		char *eol = memchr(p, '\n', (size_t)(end - p));

		if (!eol)
			eol = end;
		lineno++;
		if (eol - p > CONFIG_LINE_MAX)
			return err_set(err, EXIT_USAGE, cfg->file, NULL, "%s:%d: line is longer than %d characters",
				       cfg->file, lineno, CONFIG_LINE_MAX);
		if (memchr(p, '\0', (size_t)(eol - p)))
			return err_set(err, EXIT_USAGE, cfg->file, "is this a text file?", "%s:%d: line contains a NUL byte",
				       cfg->file, lineno);
		*eol = '\0';
		if (config_parse_line(cfg, p, lineno, section, sizeof(section), err) != 0)
			return -1;
		p = eol + 1;
	}
	return 0;
}

static void config_env_name(const struct config_key *k, char *out, size_t cap)
{
	size_t n = (size_t)snprintf(out, cap, "DRCTL_%s_%s", k->section, k->name);

	for (size_t i = 0; i < n && i < cap; i++)
		out[i] = (char)toupper((unsigned char)out[i]);
}

/* When !strict (config_new_empty, which cannot report), a bad variable is skipped. */
static int config_apply_env(struct config *cfg, int strict, struct drctl_error *err)
{
	struct drctl_error ignored;
	char name[128], origin[160];
	const char *v;

	for (size_t i = 0; i < config_key_count; i++) {
		config_env_name(&config_keys[i], name, sizeof(name));
		v = getenv(name);
		if (!v || !*v)
			continue;
		snprintf(origin, sizeof(origin), "environment variable %s: ", name);
		err_clear(&ignored);
		if (config_store(cfg, i, LAYER_ENV, v, 0, origin, name, strict ? err : &ignored) != 0 && strict)
			return -1;
	}
	return 0;
}

static void config_default_state_dir(char *out, size_t cap)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = config_home();

	if (xdg && xdg[0] == '/')
		snprintf(out, cap, "%s/drctl", xdg);
	else if (home)
		snprintf(out, cap, "%s/.local/state/drctl", home);
	else
		snprintf(out, cap, "/var/lib/drctl");
}

struct config *config_alloc(struct drctl_error *err)
{
	struct config *cfg = calloc(1, sizeof(*cfg));
	char state[PATH_MAX];

	if (cfg && !(cfg->values = calloc(config_key_count, sizeof(*cfg->values)))) {
		free(cfg);
		cfg = NULL;
	}
	if (!cfg) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory allocating the configuration");
		return NULL;
	}
	config_default_state_dir(state, sizeof(state));
	for (size_t i = 0; i < config_key_count; i++) {
		const struct config_key *k = &config_keys[i];
		const char *def = strcmp(k->section, "state") || strcmp(k->name, "dir") ? k->def : state;

		if (def && config_store(cfg, i, LAYER_DEFAULT, def, 0, "default: ", NULL, err) != 0)
			goto fail;
	}
	return cfg;
fail:
	config_free(cfg);
	return NULL;
}

static int config_set_file(struct config *cfg, const char *path, struct drctl_error *err)
{
	const char *rel = path, *slash;
	char cwd[PATH_MAX];
	int n;

	if ((size_t)snprintf(cfg->file, sizeof(cfg->file), "%s", path) >= sizeof(cfg->file))
		return err_set(err, EXIT_USAGE, NULL, NULL, "configuration path is too long");
	if (path[0] == '/') {
		slash = strrchr(path, '/');
		n = snprintf(cfg->dir, sizeof(cfg->dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	} else {
		if (!getcwd(cwd, sizeof(cwd)))
			return err_set_errno(err, EXIT_IO, errno, path, NULL, "cannot find the working directory");
		while (rel[0] == '.' && rel[1] == '/')
			rel += 2 + strspn(rel + 2, "/");
		slash = strrchr(rel, '/');
		n = slash ? snprintf(cfg->dir, sizeof(cfg->dir), "%s/%.*s", cwd, (int)(slash - rel), rel)
			  : snprintf(cfg->dir, sizeof(cfg->dir), "%s", cwd);
	}
	if (n < 0 || (size_t)n >= sizeof(cfg->dir))
		return err_set(err, EXIT_USAGE, path, NULL, "configuration path is too long");
	return 0;
}

void config_default_path(const char *explicit_path, char *out, size_t cap)
{
	const char *env = getenv("DRCTL_CONFIG"), *xdg = getenv("XDG_CONFIG_HOME"), *home = config_home();

	if (explicit_path && *explicit_path) {
		snprintf(out, cap, "%s", explicit_path);
		return;
	}
	if (env && *env) {
		snprintf(out, cap, "%s", env);
		return;
	}
	/* A relative XDG_CONFIG_HOME is invalid per the XDG spec and ignored. */
	if (xdg && xdg[0] == '/')
		snprintf(out, cap, "%s/drctl/drctl.conf", xdg);
	else if (home)
		snprintf(out, cap, "%s/.config/drctl/drctl.conf", home);
	else
		snprintf(out, cap, "%s", CONFIG_SYSTEM_PATH);
	/* The per-user file wins when it exists; else a system-wide one; else the
	 * per-user path is where `drctl init` will write. */
	if (access(out, F_OK) != 0 && access(CONFIG_SYSTEM_PATH, F_OK) == 0)
		snprintf(out, cap, "%s", CONFIG_SYSTEM_PATH);
}

int config_load(struct config **out, const char *path, int allow_missing, struct drctl_error *err)
{
	struct config *cfg;
	struct stat st;
	char *text = NULL;
	size_t len = 0;

	*out = NULL;
	cfg = config_alloc(err);
	if (!cfg)
		return -1;
	if (path && *path) {
		if (config_set_file(cfg, path, err) != 0)
			goto fail;
		if (stat(path, &st) != 0 && errno == ENOENT) {
			if (!allow_missing) {
				err_set(err, EXIT_USAGE, path,
					"run `drctl init` to create it, or point --config or DRCTL_CONFIG at an existing file",
					"configuration file %s does not exist", path);
				goto fail;
			}
		} else {
			if (keyfile_read(path, "configuration file", 0, CONFIG_FILE_MAX, &text, &len, err) != 0)
				goto fail;
			if (config_parse(cfg, text, len, err) != 0)
				goto fail;
		}
	}
	if (config_apply_env(cfg, 1, err) != 0)
		goto fail;
	keyfile_free(text, len); /* the file may hold a password */
	log_debug("configuration: %s", path);
	*out = cfg;
	return 0;
fail:
	keyfile_free(text, len);
	config_free(cfg);
	return -1;
}

struct config *config_new_empty(void)
{
	struct drctl_error err;
	struct config *cfg;

	err_clear(&err);
	cfg = config_alloc(&err);
	if (cfg)
		config_apply_env(cfg, 0, &err);
	return cfg;
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n_named; i++)
		free(cfg->named[i].raw);
	free(cfg->named);
	for (size_t i = 0; i < config_key_count; i++)
		for (int l = 0; l < LAYER_COUNT; l++)
			config_value_clear(&config_keys[i], &cfg->values[i][l]);
	free(cfg->values);
	free(cfg);
}

int config_set(struct config *cfg, const char *section, const char *key, const char *value,
	       struct drctl_error *err)
{
	int idx = config_key_index(section, key);
	char subject[128];

	snprintf(subject, sizeof(subject), "[%s] %s", section, key);
	if (idx < 0)
		return config_unknown("", subject, section, key, err);
	if (!value) {
		config_value_clear(&config_keys[idx], &cfg->values[idx][LAYER_FLAG]);
		return 0;
	}
	return config_store(cfg, (size_t)idx, LAYER_FLAG, value, 0, "", subject, err);
}

static const struct config_value *config_top(const struct config *cfg, int idx)
{
	if (idx < 0)
		return NULL;
	for (int l = LAYER_COUNT - 1; l >= 0; l--)
		if (cfg->values[idx][l].raw)
			return &cfg->values[idx][l];
	return NULL;
}

const char *config_get(const struct config *cfg, const char *section, const char *key)
{
	const struct config_value *v = config_top(cfg, config_key_index(section, key));

	return v ? v->raw : NULL;
}

int config_is_set(const struct config *cfg, const char *section, const char *key)
{
	int idx = config_key_index(section, key);
	const struct config_value *v = config_top(cfg, idx);

	return v && v != &cfg->values[idx][LAYER_DEFAULT];
}

int config_get_int(const struct config *cfg, const char *section, const char *key, long *out)
{
	const char *v = config_get(cfg, section, key);

	return v ? config_parse_long(v, out) : -1;
}

int config_get_duration(const struct config *cfg, const char *section, const char *key, struct duration *out)
{
	const char *v = config_get(cfg, section, key);

	return v ? duration_parse(v, out) : -1;
}

int config_get_bool(const struct config *cfg, const char *section, const char *key)
{
	const char *v = config_get(cfg, section, key);

	return v && config_parse_bool(v) == 1;
}

const char *config_get_path(const struct config *cfg, const char *section, const char *key)
{
	const struct config_value *v = config_top(cfg, config_key_index(section, key));

	return !v ? NULL : v->cooked ? v->cooked : v->raw;
}

size_t config_get_list(const struct config *cfg, const char *section, const char *key,
		       const char **items, size_t max)
{
	const struct config_value *v = config_top(cfg, config_key_index(section, key));
	const char *p;

	if (!v || !v->cooked)
		return 0;
	p = v->cooked;
	for (size_t i = 0; i < v->nitems && i < max; i++) {
		items[i] = p;
		p += strlen(p) + 1;
	}
	return v->nitems;
}

static int config_ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && !strcmp(s + ls - lx, suffix);
}

int config_get_secret(const struct config *cfg, const char *section, const char *key,
		      char **value, struct drctl_error *err)
{
	const struct config_value *v;
	char file_key[96], what[128];
	int idx = config_key_index(section, key), fidx;
	char *data = NULL;
	size_t len = 0;

	*value = NULL;
	if (idx >= 0 && config_keys[idx].type == CONFIG_PATH && config_ends_with(key, "_file")) {
		fidx = idx; /* asked for the file key itself: read what it names */
		idx = -1;
	} else {
		snprintf(file_key, sizeof(file_key), "%s_file", key);
		fidx = config_key_index(section, file_key);
	}
	if (idx < 0 && fidx < 0)
		return err_set(err, EXIT_USAGE, NULL, NULL, "no key [%s] %s or %s_file is known", section, key, key);
	v = config_top(cfg, idx);
	if (v && *v->raw) {
		*value = strdup(v->raw);
		if (!*value)
			return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory reading [%s] %s", section, key);
		return 1;
	}
	v = config_top(cfg, fidx);
	if (!v)
		return 0;
	snprintf(what, sizeof(what), "[%s] %s", section, config_keys[fidx].name);
	if (keyfile_read(v->cooked, what, 1, CONFIG_SECRET_MAX, &data, &len, err) != 0) {
		char env[96];
		config_env_name(&config_keys[fidx], env, sizeof(env));
		if (err->code == EXIT_NOT_FOUND)
			err_hint(err, "put the secret in %s (mode 0600), or point %s / %s at the file that holds it",
				 v->cooked, what, env);
		return -1;
	}
	if (memchr(data, '\0', len)) {
		keyfile_free(data, len);
		return err_set(err, EXIT_USAGE, v->cooked, NULL, "%s %s contains a NUL byte", what, v->cooked);
	}
	if (len && data[len - 1] == '\n')
		data[len - 1] = '\0';
	*value = data; /* config_secret_free wipes up to the NUL, which covers every secret byte */
	return 1;
}

void config_secret_free(char *value)
{
	if (value) {
		secure_wipe(value, strlen(value));
		free(value);
	}
}

const char *config_file(const struct config *cfg)
{
	return cfg->file;
}

const char *config_dir(const struct config *cfg)
{
	return cfg->dir;
}


