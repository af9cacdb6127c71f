/*
 * xml: the reader described in xml.h.
 *
 * One pass over the input with an explicit stack of open elements (so deep
 * input cannot exhaust the C stack).  Names and decoded text go into one
 * pool allocated up front: decoded text is never longer than its source and
 * each element adds at most three NULs, so the pool never moves and the
 * pointers into it stay valid.  Elements are built in an array that grows
 * (by index), then turned into linked nodes at the end.
 */
#include "lib/format/xml.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct xml_node {
	const char *name;  /* local part */
	const char *text;
	const struct xml_node *child, *next;
};

struct xml_doc {
	char *pool;
	struct xml_node *nodes;
	size_t n_nodes;
};

#define XML_NONE SIZE_MAX

/* An element while it is being read. */
struct xml_building {
	size_t qname, local, text; /* offsets into the pool */
	size_t first_child, last_child, next;
	int has_children;
};

struct xml_parser {
	const char *p, *start, *end;
	char *pool;
	size_t pool_len;
	struct xml_building *el;
	size_t n_el, cap_el;
	size_t stack[XML_DEPTH_MAX];
	size_t depth;
	struct drctl_error *err;
};

static int xml_fail(struct xml_parser *x, const char *what)
{
	return err_set(x->err, EXIT_FAILED, NULL, NULL, "malformed XML at byte %zu: %s", (size_t)(x->p - x->start), what);
}

static int xml_at(const struct xml_parser *x, const char *lit)
{
	size_t n = strlen(lit);
	return (size_t)(x->end - x->p) >= n && !memcmp(x->p, lit, n);
}

static int xml_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void xml_skip_space(struct xml_parser *x)
{
	while (x->p < x->end && xml_space(*x->p))
		x->p++;
}

static int xml_name_start(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':' || c >= 0x80;
}

static int xml_name_char(unsigned char c)
{
	return xml_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* Skip up to and past `close`; fails when the input ends first. */
static int xml_skip_past(struct xml_parser *x, const char *close, const char *what)
{
	size_t n = strlen(close);
	for (; (size_t)(x->end - x->p) >= n; x->p++)
		if (!memcmp(x->p, close, n)) {
			x->p += n;
			return 0;
		}
	x->p = x->end;
	return xml_fail(x, what);
}

/* Comments, processing instructions (the XML declaration too), and the
 * refusal of a DOCTYPE; 1 when something was skipped, 0 when the input is
 * not at one, -1 on error. */
static int xml_skip_misc(struct xml_parser *x)
{
	if (xml_at(x, "<!--"))
		return xml_skip_past(x, "-->", "a comment is not closed") == 0 ? 1 : -1;
	if (xml_at(x, "<?"))
		return xml_skip_past(x, "?>", "a processing instruction is not closed") == 0 ? 1 : -1;
	if (xml_at(x, "<!DOCTYPE") || xml_at(x, "<!doctype"))
		return xml_fail(x, "a DOCTYPE is not accepted (no DTD is read)");
	return 0;
}

static void xml_pool_put(struct xml_parser *x, const char *s, size_t n)
{
	memcpy(x->pool + x->pool_len, s, n);
	x->pool_len += n;
}

static void xml_put_utf8(struct xml_parser *x, uint32_t c)
{
	char b[4];
	size_t n;

	if (c < 0x80) {
		b[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		b[0] = (char)(0xc0 | (c >> 6));
		b[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		b[0] = (char)(0xe0 | (c >> 12));
		b[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		b[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | (c >> 18));
		b[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		b[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	}
	xml_pool_put(x, b, n);
}

/* The current element takes text unless it has children already. */
static int xml_keeps_text(const struct xml_parser *x)
{
	return x->depth > 0 && !x->el[x->stack[x->depth - 1]].has_children;
}

static int xml_char_ref(struct xml_parser *x, const char *digits, size_t n, int hex)
{
	uint32_t c = 0;

	if (n == 0 || n > 8)
		return xml_fail(x, "a character reference has no digits or too many");
	for (size_t i = 0; i < n; i++) {
		char d = digits[i];
		int v = d >= '0' && d <= '9' ? d - '0' : hex && d >= 'a' && d <= 'f' ? d - 'a' + 10
			: hex && d >= 'A' && d <= 'F' ? d - 'A' + 10 : -1;
		if (v < 0)
			return xml_fail(x, "a character reference has a character that is not a digit");
		c = c * (hex ? 16u : 10u) + (uint32_t)v;
	}
	if (c == 0 || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return xml_fail(x, "a character reference names no character XML allows");
	if (xml_keeps_text(x))
		xml_put_utf8(x, c);
	return 0;
}

/* At '&': decode one reference into the current element's text. */
static int xml_reference(struct xml_parser *x)
{
	static const struct { const char *name; char c; } predefined[] = {
		{ "lt", '<' }, { "gt", '>' }, { "amp", '&' }, { "quot", '"' }, { "apos", '\'' },
	};
	const char *semi, *body = x->p + 1;
	size_t n;

	for (semi = body; semi < x->end && semi - body < 12 && *semi != ';'; semi++)
		;
	if (semi >= x->end || *semi != ';')
		return xml_fail(x, "'&' starts no entity or character reference");
	n = (size_t)(semi - body);
	x->p = semi + 1;
	if (n >= 2 && body[0] == '#')
		return body[1] == 'x' ? xml_char_ref(x, body + 2, n - 2, 1) : xml_char_ref(x, body + 1, n - 1, 0);
	for (size_t i = 0; i < sizeof(predefined) / sizeof(predefined[0]); i++)
		if (strlen(predefined[i].name) == n && !memcmp(predefined[i].name, body, n)) {
			if (xml_keeps_text(x))
				xml_pool_put(x, &predefined[i].c, 1);
			return 0;
		}
	x->p = body - 1;
	return xml_fail(x, "an entity other than the five XML predefines (no DTD is read)");
}

/* Character data up to the next '<' or '&', line ends normalized. */
static int xml_char_data(struct xml_parser *x)
{
	int keep = xml_keeps_text(x);

	while (x->p < x->end && *x->p != '<' && *x->p != '&') {
		unsigned char c = (unsigned char)*x->p;
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
			return xml_fail(x, "a control character in text");
		if (x->depth == 0 && !xml_space((char)c))
			return xml_fail(x, "text outside the root element");
		if (c == '\r') {
			if (x->p + 1 < x->end && x->p[1] == '\n')
				x->p++;
			c = '\n';
		}
		if (keep)
			x->pool[x->pool_len++] = (char)c;
		x->p++;
	}
	return 0;
}

static int xml_cdata(struct xml_parser *x)
{
	const char *from = x->p += strlen("<![CDATA[");

	if (x->depth == 0)
		return xml_fail(x, "a CDATA section outside the root element");
	if (xml_skip_past(x, "]]>", "a CDATA section is not closed") != 0)
		return -1;
	if (xml_keeps_text(x))
		xml_pool_put(x, from, (size_t)(x->p - 3 - from));
	return 0;
}

/* A name at x->p, copied into the pool and NUL-terminated; its offset. */
static int xml_read_name(struct xml_parser *x, size_t *at, size_t *local)
{
	const char *from = x->p;

	if (x->p >= x->end || !xml_name_start((unsigned char)*x->p))
		return xml_fail(x, "a tag without a valid name");
	while (x->p < x->end && xml_name_char((unsigned char)*x->p))
		x->p++;
	*at = x->pool_len;
	*local = *at;
	for (const char *c = from; c < x->p; c++)
		if (*c == ':')
			*local = *at + (size_t)(c + 1 - from);
	xml_pool_put(x, from, (size_t)(x->p - from));
	x->pool[x->pool_len++] = '\0';
	return 0;
}

/* Attributes are checked (name = "value" with a matching quote, no '<' in
 * it) and skipped. */
static int xml_attributes(struct xml_parser *x)
{
	for (;;) {
		const char *name_from;
		char quote;

		xml_skip_space(x);
		if (x->p >= x->end)
			return xml_fail(x, "a start tag is not closed");
		if (*x->p == '>' || *x->p == '/')
			return 0;
		name_from = x->p;
		while (x->p < x->end && xml_name_char((unsigned char)*x->p))
			x->p++;
		if (x->p == name_from || !xml_name_start((unsigned char)*name_from))
			return xml_fail(x, "an attribute without a valid name");
		xml_skip_space(x);
		if (x->p >= x->end || *x->p != '=')
			return xml_fail(x, "an attribute without '='");
		x->p++;
		xml_skip_space(x);
		if (x->p >= x->end || (*x->p != '"' && *x->p != '\''))
			return xml_fail(x, "an attribute value without quotes");
		quote = *x->p++;
		while (x->p < x->end && *x->p != quote && *x->p != '<')
			x->p++;
		if (x->p >= x->end || *x->p != quote)
			return xml_fail(x, "an attribute value is not closed");
		x->p++;
	}
}

static int xml_new_element(struct xml_parser *x, size_t *index)
{
	struct xml_building *e;

	if (x->n_el == x->cap_el) {
		size_t cap = x->cap_el ? x->cap_el * 2 : 64;
		struct xml_building *grown = realloc(x->el, cap * sizeof(*grown));
		if (!grown)
			return err_set(x->err, EXIT_FAILED, NULL, NULL, "out of memory reading XML");
		x->el = grown;
		x->cap_el = cap;
	}
	*index = x->n_el++;
	e = &x->el[*index];
	memset(e, 0, sizeof(*e));
	e->first_child = e->last_child = e->next = XML_NONE;
	return 0;
}

/* At '<' + name: an element starts (and, for <a/>, ends). */
static int xml_start_tag(struct xml_parser *x)
{
	size_t i = 0, qname = 0, local = 0;

	if (x->depth == XML_DEPTH_MAX)
		return xml_fail(x, "elements nest deeper than drctl reads");
	x->p++;
	if (xml_read_name(x, &qname, &local) != 0 || xml_attributes(x) != 0 || xml_new_element(x, &i) != 0)
		return -1;
	x->el[i].qname = qname;
	x->el[i].local = local;
	if (x->depth > 0) {
		struct xml_building *parent = &x->el[x->stack[x->depth - 1]];
		if (parent->last_child == XML_NONE)
			parent->first_child = i;
		else
			x->el[parent->last_child].next = i;
		parent->last_child = i;
		parent->has_children = 1;
	}
	x->el[i].text = x->pool_len;
	if (*x->p == '/') {
		if (x->p + 1 >= x->end || x->p[1] != '>')
			return xml_fail(x, "'/' in a start tag not followed by '>'");
		x->p += 2;
		x->pool[x->pool_len++] = '\0';
		return 0;
	}
	x->p++; /* '>' */
	x->stack[x->depth++] = i;
	return 0;
}

/* At "</": the current element ends, with its own name. */
static int xml_end_tag(struct xml_parser *x)
{
	struct xml_building *e;
	const char *from;
	size_t n;

	if (x->depth == 0)
		return xml_fail(x, "an end tag without a start tag");
	e = &x->el[x->stack[x->depth - 1]];
	x->pool[x->pool_len++] = '\0'; /* ends its text */
	x->p += 2;
	from = x->p;
	while (x->p < x->end && xml_name_char((unsigned char)*x->p))
		x->p++;
	n = (size_t)(x->p - from);
	if (n != strlen(x->pool + e->qname) || memcmp(from, x->pool + e->qname, n) != 0)
		return xml_fail(x, "an end tag does not match its start tag");
	xml_skip_space(x);
	if (x->p >= x->end || *x->p != '>')
		return xml_fail(x, "an end tag is not closed");
	x->p++;
	x->depth--;
	return 0;
}

/* The root element and everything in it. */
static int xml_content(struct xml_parser *x)
{
	int rc;

	if (xml_start_tag(x) != 0)
		return -1;
	while (x->depth > 0) {
		if (x->p >= x->end)
			return xml_fail(x, "the document ends inside an element");
		if (*x->p == '&')
			rc = xml_reference(x);
		else if (*x->p != '<')
			rc = xml_char_data(x);
		else if (xml_at(x, "</"))
			rc = xml_end_tag(x);
		else if (xml_at(x, "<![CDATA["))
			rc = xml_cdata(x);
		else if ((rc = xml_skip_misc(x)) != 0)
			rc = rc > 0 ? 0 : -1;
		else if (xml_at(x, "<!"))
			rc = xml_fail(x, "a markup declaration inside an element");
		else
			rc = xml_start_tag(x);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* Whitespace, comments and processing instructions before or after the root. */
static int xml_misc(struct xml_parser *x)
{
	for (;;) {
		int rc;
		xml_skip_space(x);
		if ((rc = xml_skip_misc(x)) < 0)
			return -1;
		if (rc == 0)
			return 0;
	}
}

/* Turn the built elements into linked nodes. */
static int xml_link(struct xml_parser *x, struct xml_doc *doc)
{
	doc->nodes = calloc(x->n_el, sizeof(*doc->nodes));
	if (!doc->nodes)
		return err_set(x->err, EXIT_FAILED, NULL, NULL, "out of memory reading XML");
	doc->n_nodes = x->n_el;
	for (size_t i = 0; i < x->n_el; i++) {
		const struct xml_building *e = &x->el[i];
		struct xml_node *n = &doc->nodes[i];
		n->name = x->pool + e->local;
		n->text = e->has_children ? "" : x->pool + e->text;
		n->child = e->first_child == XML_NONE ? NULL : &doc->nodes[e->first_child];
		n->next = e->next == XML_NONE ? NULL : &doc->nodes[e->next];
	}
	return 0;
}

int xml_parse(const char *text, size_t len, struct xml_doc **out, struct drctl_error *err)
{
	struct xml_parser x = { .p = text, .start = text, .end = text + len, .err = err };
	struct xml_doc *doc = NULL;

	*out = NULL;
	if (len > XML_INPUT_MAX)
		return err_set(err, EXIT_FAILED, NULL, NULL, "XML document of %zu bytes is larger than drctl reads", len);
	/* Decoded text never outgrows its source; names and text ends add at
	 * most three NULs per element, and an element takes at least 4 bytes. */
	x.pool = malloc(2 * len + 16);
	doc = calloc(1, sizeof(*doc));
	if (!x.pool || !doc) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory reading XML");
		goto fail;
	}
	if (len >= 3 && !memcmp(x.p, "\xef\xbb\xbf", 3))
		x.p += 3;
	if (xml_misc(&x) != 0)
		goto fail;
	if (x.p >= x.end || *x.p != '<' || x.p + 1 >= x.end || !xml_name_start((unsigned char)x.p[1])) {
		xml_fail(&x, x.p >= x.end ? "no root element" : "the document does not start with an element");
		goto fail;
	}
	if (xml_content(&x) != 0 || xml_misc(&x) != 0)
		goto fail;
	if (x.p != x.end) {
		xml_fail(&x, "something follows the root element");
		goto fail;
	}
	if (xml_link(&x, doc) != 0)
		goto fail;
	free(x.el);
	doc->pool = x.pool;
	*out = doc;
	return 0;
fail:
	free(x.el);
	free(x.pool);
	free(doc);
	return -1;
}

void xml_free(struct xml_doc *doc)
{
	if (!doc)
		return;
	free(doc->pool);
	free(doc->nodes);
	free(doc);
}

const struct xml_node *xml_root(const struct xml_doc *doc)
{
	return doc && doc->n_nodes ? &doc->nodes[0] : NULL;
}

const char *xml_name(const struct xml_node *n)
{
	return n ? n->name : "";
}

static const struct xml_node *xml_first_named(const struct xml_node *n, const char *name)
{
	for (; n; n = n->next)
		if (!name || !strcmp(n->name, name))
			return n;
	return NULL;
}

const struct xml_node *xml_child(const struct xml_node *n, const char *name)
{
	return n ? xml_first_named(n->child, name) : NULL;
}

const struct xml_node *xml_next(const struct xml_node *n, const char *name)
{
	return n ? xml_first_named(n->next, name) : NULL;
}

const char *xml_text(const struct xml_node *n)
{
	return n ? n->text : "";
}

const char *xml_child_text(const struct xml_node *n, const char *name)
{
	const struct xml_node *c = xml_child(n, name);
	return c ? c->text : NULL;
}
