/*
 * fuzz_xml: any bytes, read as an S3 answer: the XML reader first (every
 * node walked, every text read to its end), then each S3 parser on the same
 * bytes.  What must hold: no crash, no leak, no read past a buffer; a
 * parser that succeeds gives what it promises (keys, an upload id, ...).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clients/s3.h"
#include "lib/format/xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t walk(const struct xml_node *n, int depth)
{
	size_t total = 0;

	if (depth > XML_DEPTH_MAX)
		abort();
	for (; n; n = xml_next(n, NULL)) {
		total += strlen(xml_name(n)) + strlen(xml_text(n));
		total += walk(xml_child(n, NULL), depth + 1);
	}
	return total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct drctl_error err;
	struct xml_doc *doc = NULL;
	struct s3_list_page page;
	struct s3_uploads_page uploads;
	struct s3_error_body e;
	char etag[S3_ETAG_MAX], *id = NULL;

	err_clear(&err);
	if (xml_parse(text, size, &doc, &err) == 0) {
		if (!xml_root(doc))
			abort();
		walk(xml_root(doc), 1);
		xml_free(doc);
	} else if (doc || !err_is_set(&err)) {
		abort(); /* a refusal leaves nothing and says why */
	}
	err_clear(&err);
	if (s3_parse_list_objects(text, size, &page, &err) == 0) {
		for (size_t i = 0; i < page.n_keys; i++)
			if (!page.keys[i])
				abort();
		if (page.truncated && !page.next_token)
			abort();
		s3_list_page_free(&page);
	}
	err_clear(&err);
	if (s3_parse_list_uploads(text, size, &uploads, &err) == 0)
		s3_uploads_page_free(&uploads);
	err_clear(&err);
	if (s3_parse_initiate(text, size, &id, &err) == 0 && (!id || !*id))
		abort();
	free(id);
	err_clear(&err);
	s3_parse_complete(text, size, etag, &e, &err);
	s3_parse_error(text, size, &e);
	return 0;
}
