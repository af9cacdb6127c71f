/*
 * xml: a small reader for the XML documents S3-compatible stores answer with
 * (ListBucketResult, Error, InitiateMultipartUploadResult, ...), written for
 * drctl so the S3 client needs no XML library.
 *
 * It reads a whole document held in memory into a tree of elements, and
 * checks that it is well formed: one root element, tags that nest and
 * match, quoted attribute values, known entities.  Text is decoded: the five
 * predefined entities (&lt; &gt; &amp; &quot; &apos;), character references
 * (&#233; &#xE9;) as UTF-8, CDATA sections as they are, line ends as "\n"
 * (XML 1.0, section 2.11); other whitespace is kept, so a key " a " reads
 * back as " a ".  Comments, processing instructions and the XML declaration
 * are skipped; attributes are checked and skipped (xmlns, xsi:type: S3 puts
 * nothing drctl reads in them).  Names are matched by their local part, so
 * "s3:Key" and "Key" are the same element to a caller.
 *
 * What is refused: a DOCTYPE (no DTD is read, so no entity can expand to
 * anything: no "billion laughs", no external entity), unknown entities, a
 * character reference to NUL, a surrogate or beyond U+10FFFF, control
 * characters other than tab, line feed and carriage return, nesting deeper
 * than XML_DEPTH_MAX, and documents larger than XML_INPUT_MAX.  Each refusal
 * is EXIT_FAILED saying what and at which byte.
 *
 *   struct xml_doc *doc;
 *   if (xml_parse(body, len, &doc, err) != 0) ...
 *   const struct xml_node *root = xml_root(doc);             // ListBucketResult
 *   for (const struct xml_node *c = xml_child(root, "Contents"); c; c = xml_next(c, "Contents"))
 *       key = xml_child_text(c, "Key");                      // NULL when absent
 *   xml_free(doc);
 */
#ifndef DRCTL_XML_H
#define DRCTL_XML_H

#include <stddef.h>

#include "lib/core/error.h"

#define XML_DEPTH_MAX 64
#define XML_INPUT_MAX (64u << 20)

struct xml_doc;
struct xml_node;

/* Parse len bytes of text (no NUL needed).  Fills *out, freed with
 * xml_free; on error *out is NULL. */
int xml_parse(const char *text, size_t len, struct xml_doc **out, struct drctl_error *err);
void xml_free(struct xml_doc *doc);

const struct xml_node *xml_root(const struct xml_doc *doc);
/* The element's local name ("Key" for <s3:Key>). */
const char *xml_name(const struct xml_node *n);
/* The first child element named name (any child when name is NULL), or NULL. */
const struct xml_node *xml_child(const struct xml_node *n, const char *name);
/* The next sibling element named name (any when NULL), or NULL. */
const struct xml_node *xml_next(const struct xml_node *n, const char *name);
/* The decoded text of an element without child elements ("" when empty);
 * "" for an element that has children (S3 never mixes text and elements). */
const char *xml_text(const struct xml_node *n);
/* The text of the first child named name; NULL when there is no such child
 * (so <Prefix/> gives "" and a missing Prefix gives NULL). */
const char *xml_child_text(const struct xml_node *n, const char *name);

#endif
