/*
 * yaml_emit: see yaml_emit.h.  Kubernetes reads manifests as YAML 1.1
 * (sigs.k8s.io/yaml), Prometheus as YAML 1.2: the plain-scalar rule below
 * is the intersection, so a value means the same to both.
 */
#include "schedules/yaml_emit.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define FLOW_MAX_WIDTH 100 /* a flow sequence longer than this goes in block style */

int yaml_plain_ok(const char *s)
{
	/* Words that YAML 1.1 reads as booleans or null. */
	static const char *const reserved[] = { "y", "n", "yes", "no", "true", "false", "on", "off", "null", "~" };

	if (!*s || !(isalpha((unsigned char)*s) || *s == '_' || *s == '/'))
		return 0;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_./-", *p))
			return 0;
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (!strcasecmp(s, reserved[i]))
			return 0;
	return 1;
}

static void emit_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\t': fputs("\\t", f); break;
		case '\r': fputs("\\r", f); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\x%02x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

/* A literal block keeps text as it is, line by line: only for text whose
 * lines need no escapes and whose first line does not start with a space
 * (that would need an indentation indicator). */
static int literal_ok(const char *s)
{
	if (!strchr(s, '\n') || s[0] == ' ' || s[0] == '\n')
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
			return 0;
	return 1;
}

static void emit_literal(FILE *f, const char *s, int indent)
{
	size_t len = strlen(s);
	/* Chomping: "|" keeps one final line break, "|-" none, "|+" all. */
	const char *chomp = s[len - 1] != '\n' ? "-" : (len > 1 && s[len - 2] == '\n') ? "+" : "";
	const char *line = s;

	fprintf(f, "|%s\n", chomp);
	while (*line) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);
		if (n)
			fprintf(f, "%*s%.*s\n", indent, "", (int)n, line);
		else
			fputc('\n', f);
		line += n + (end ? 1 : 0);
	}
}

static void emit_string(FILE *f, const char *s, int indent)
{
	if (yaml_plain_ok(s))
		fputs(s, f);
	else if (literal_ok(s))
		emit_literal(f, s, indent);
	else
		emit_quoted(f, s);
}

static int is_scalar(const json_t *v)
{
	return !json_is_object(v) && !json_is_array(v);
}

/* Objects and arrays with nothing in them are written as {} and []. */
static int is_inline(const json_t *v)
{
	return is_scalar(v) || (json_is_object(v) && json_object_size(v) == 0) ||
	       (json_is_array(v) && json_array_size(v) == 0);
}

static void emit_scalar(FILE *f, const json_t *v, int indent)
{
	switch (json_typeof(v)) {
	case JSON_STRING: emit_string(f, json_string_value(v), indent); break;
	case JSON_INTEGER: fprintf(f, "%lld", (long long)json_integer_value(v)); break;
	case JSON_REAL: fprintf(f, "%.17g", json_real_value(v)); break;
	case JSON_TRUE: fputs("true", f); break;
	case JSON_FALSE: fputs("false", f); break;
	case JSON_OBJECT: fputs("{}", f); break;
	case JSON_ARRAY: fputs("[]", f); break;
	default: fputs("null", f); break;
	}
}

/* ["drctl", "backup"] on one line, when every item is a one-line scalar. */
static int flow_ok(const json_t *a)
{
	size_t i, width = 2;
	json_t *v;

	json_array_foreach(a, i, v) {
		if (!is_scalar(v) || (json_is_string(v) && strpbrk(json_string_value(v), "\n\r")))
			return 0;
		width += (json_is_string(v) ? strlen(json_string_value(v)) + 2 : 8) + 2;
	}
	return width <= FLOW_MAX_WIDTH;
}

static void emit_flow(FILE *f, const json_t *a)
{
	size_t i;
	json_t *v;

	fputc('[', f);
	json_array_foreach(a, i, v) {
		if (i)
			fputs(", ", f);
		if (json_is_string(v))
			emit_quoted(f, json_string_value(v));
		else
			emit_scalar(f, v, 0);
	}
	fputc(']', f);
}

static void emit_mapping(FILE *f, const json_t *o, int indent, int first_inline);
static void emit_sequence(FILE *f, const json_t *a, int indent);

/* After "key:" or "- ": the value, on this line or the next ones. */
static void emit_value(FILE *f, const json_t *v, int indent)
{
	if (is_inline(v)) {
		fputc(' ', f);
		emit_scalar(f, v, indent + 2);
		if (!json_is_string(v) || !literal_ok(json_string_value(v)) || yaml_plain_ok(json_string_value(v)))
			fputc('\n', f);
	} else if (json_is_array(v) && flow_ok(v)) {
		fputc(' ', f);
		emit_flow(f, v);
		fputc('\n', f);
	} else if (json_is_object(v)) {
		fputc('\n', f);
		emit_mapping(f, v, indent + 2, 0);
	} else {
		fputc('\n', f);
		emit_sequence(f, v, indent + 2);
	}
}

static void emit_key(FILE *f, const char *key)
{
	if (yaml_plain_ok(key))
		fputs(key, f);
	else
		emit_quoted(f, key);
	fputc(':', f);
}

/* first_inline: the first key goes on the current line (after "- "). */
static void emit_mapping(FILE *f, const json_t *o, int indent, int first_inline)
{
	const char *key;
	json_t *v;
	int first = 1;

	json_object_foreach((json_t *)o, key, v) {
		if (!(first && first_inline))
			fprintf(f, "%*s", indent, "");
		first = 0;
		emit_key(f, key);
		emit_value(f, v, indent);
	}
}

static void emit_sequence(FILE *f, const json_t *a, int indent)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v) {
		fprintf(f, "%*s-", indent, "");
		if (json_is_object(v) && json_object_size(v) > 0) {
			fputc(' ', f);
			emit_mapping(f, v, indent + 2, 1);
		} else {
			emit_value(f, v, indent);
		}
	}
}

void yaml_emit(FILE *f, const json_t *doc)
{
	if (json_is_object(doc) && json_object_size(doc) > 0)
		emit_mapping(f, doc, 0, 0);
	else if (json_is_array(doc) && json_array_size(doc) > 0)
		emit_sequence(f, doc, 0);
	else {
		emit_scalar(f, doc, 0);
		fputc('\n', f);
	}
}
