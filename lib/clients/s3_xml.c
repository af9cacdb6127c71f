/*
 * s3_xml: S3's XML answers read into C structures, on lib/format/xml.
 * Element names are those of the Amazon S3 API Reference (ListObjectsV2,
 * CreateMultipartUpload, CompleteMultipartUpload, ListMultipartUploads,
 * GetObjectLockConfiguration and "Error responses"); each parser checks the root element, so an <Error>
 * where a result was expected is never read as an empty result.
 */
#include "lib/clients/s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "lib/format/xml.h"

static int s3_xml_open(const char *body, size_t len, const char *root, struct xml_doc **doc,
		       struct drctl_error *err)
{
	if (xml_parse(body ? body : "", body ? len : 0, doc, err) != 0) {
		err_prefix(err, "S3 answered with a %s that is not XML", root);
		return -1;
	}
	if (strcmp(xml_name(xml_root(*doc)), root) != 0) {
		err_set(err, EXIT_FAILED, NULL, NULL, "S3 answered with <%.60s> where <%s> was expected",
			xml_name(xml_root(*doc)), root);
		xml_free(*doc);
		*doc = NULL;
		return -1;
	}
	return 0;
}

static void s3_copy(char *out, size_t cap, const char *in)
{
	snprintf(out, cap, "%s", in ? in : "");
}

static int s3_is_true(const char *v)
{
	return v && !strcmp(v, "true");
}

int s3_parse_error(const char *body, size_t len, struct s3_error_body *out)
{
	struct drctl_error ignored;
	struct xml_doc *doc;
	const struct xml_node *root;

	memset(out, 0, sizeof(*out));
	err_clear(&ignored);
	if (!body || len == 0 || xml_parse(body, len, &doc, &ignored) != 0)
		return 0;
	root = xml_root(doc);
	if (strcmp(xml_name(root), "Error") != 0) {
		xml_free(doc);
		return 0;
	}
	s3_copy(out->code, sizeof(out->code), xml_child_text(root, "Code"));
	s3_copy(out->message, sizeof(out->message), xml_child_text(root, "Message"));
	s3_copy(out->request_id, sizeof(out->request_id), xml_child_text(root, "RequestId"));
	xml_free(doc);
	return 1;
}

/* Append a copy of s to a growing array of strings. */
static int s3_push(char ***list, size_t *n, const char *s)
{
	char **grown, *copy = strdup(s);

	if (!copy)
		return -1;
	grown = realloc(*list, (*n + 1) * sizeof(**list));
	if (!grown) {
		free(copy);
		return -1;
	}
	*list = grown;
	(*list)[(*n)++] = copy;
	return 0;
}

void s3_list_page_free(struct s3_list_page *page)
{
	for (size_t i = 0; i < page->n_keys; i++)
		free(page->keys[i]);
	for (size_t i = 0; i < page->n_prefixes; i++)
		free(page->prefixes[i]);
	free(page->keys);
	free(page->prefixes);
	free(page->next_token);
	memset(page, 0, sizeof(*page));
}

int s3_parse_list_objects(const char *body, size_t len, struct s3_list_page *page, struct drctl_error *err)
{
	const struct xml_node *root, *n;
	struct xml_doc *doc;
	const char *token;

	memset(page, 0, sizeof(*page));
	if (s3_xml_open(body, len, "ListBucketResult", &doc, err) != 0)
		return -1;
	root = xml_root(doc);
	for (n = xml_child(root, "Contents"); n; n = xml_next(n, "Contents")) {
		const char *key = xml_child_text(n, "Key");
		if (!key)
			goto malformed;
		if (s3_push(&page->keys, &page->n_keys, key) != 0)
			goto oom;
	}
	for (n = xml_child(root, "CommonPrefixes"); n; n = xml_next(n, "CommonPrefixes")) {
		const char *prefix = xml_child_text(n, "Prefix");
		if (!prefix)
			goto malformed;
		if (s3_push(&page->prefixes, &page->n_prefixes, prefix) != 0)
			goto oom;
	}
	page->truncated = s3_is_true(xml_child_text(root, "IsTruncated"));
	token = xml_child_text(root, "NextContinuationToken");
	if (page->truncated && (!token || !*token)) {
		err_set(err, EXIT_FAILED, NULL, NULL, "S3 says the listing is truncated but gives no NextContinuationToken");
		goto fail;
	}
	if (page->truncated && !(page->next_token = strdup(token)))
		goto oom;
	xml_free(doc);
	return 0;
malformed:
	err_set(err, EXIT_FAILED, NULL, NULL, "S3 answered a listing with an entry that has no Key or Prefix");
	goto fail;
oom:
	err_set(err, EXIT_FAILED, NULL, NULL, "out of memory reading an S3 listing");
fail:
	xml_free(doc);
	s3_list_page_free(page);
	return -1;
}

int s3_parse_initiate(const char *body, size_t len, char **upload_id, struct drctl_error *err)
{
	struct xml_doc *doc;
	const char *id;

	*upload_id = NULL;
	if (s3_xml_open(body, len, "InitiateMultipartUploadResult", &doc, err) != 0)
		return -1;
	id = xml_child_text(xml_root(doc), "UploadId");
	if (!id || !*id) {
		xml_free(doc);
		return err_set(err, EXIT_FAILED, NULL, NULL, "S3 started a multipart upload but gave no UploadId");
	}
	*upload_id = strdup(id);
	xml_free(doc);
	return *upload_id ? 0 : err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
}

int s3_parse_complete(const char *body, size_t len, char etag[S3_ETAG_MAX], struct s3_error_body *error,
		      struct drctl_error *err)
{
	struct xml_doc *doc;
	const struct xml_node *root;

	etag[0] = '\0';
	memset(error, 0, sizeof(*error));
	/* AWS answers 200 at once and sends whitespace while it assembles the
	 * object; what follows is the result or an <Error>. */
	if (xml_parse(body ? body : "", body ? len : 0, &doc, err) != 0) {
		err_prefix(err, "S3 answered CompleteMultipartUpload with a body that is not XML");
		return -1;
	}
	root = xml_root(doc);
	if (!strcmp(xml_name(root), "Error")) {
		s3_copy(error->code, sizeof(error->code), xml_child_text(root, "Code"));
		s3_copy(error->message, sizeof(error->message), xml_child_text(root, "Message"));
		s3_copy(error->request_id, sizeof(error->request_id), xml_child_text(root, "RequestId"));
		xml_free(doc);
		return 0;
	}
	if (strcmp(xml_name(root), "CompleteMultipartUploadResult") != 0) {
		err_set(err, EXIT_FAILED, NULL, NULL,
			"S3 answered CompleteMultipartUpload with <%.60s>, neither a result nor an error", xml_name(root));
		xml_free(doc);
		return -1;
	}
	s3_copy(etag, S3_ETAG_MAX, xml_child_text(root, "ETag"));
	xml_free(doc);
	return 1;
}

void s3_uploads_page_free(struct s3_uploads_page *page)
{
	for (size_t i = 0; i < page->n; i++) {
		free(page->uploads[i].key);
		free(page->uploads[i].upload_id);
	}
	free(page->uploads);
	free(page->next_key_marker);
	free(page->next_upload_id_marker);
	memset(page, 0, sizeof(*page));
}

static char *s3_dup_opt(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

int s3_parse_list_uploads(const char *body, size_t len, struct s3_uploads_page *page, struct drctl_error *err)
{
	const struct xml_node *root, *n;
	struct xml_doc *doc;
	size_t count = 0;

	memset(page, 0, sizeof(*page));
	if (s3_xml_open(body, len, "ListMultipartUploadsResult", &doc, err) != 0)
		return -1;
	root = xml_root(doc);
	for (n = xml_child(root, "Upload"); n; n = xml_next(n, "Upload"))
		count++;
	page->uploads = calloc(count ? count : 1, sizeof(*page->uploads));
	if (!page->uploads)
		goto oom;
	for (n = xml_child(root, "Upload"); n; n = xml_next(n, "Upload")) {
		struct s3_upload *u = &page->uploads[page->n];
		const char *key = xml_child_text(n, "Key"), *id = xml_child_text(n, "UploadId");
		const char *when = xml_child_text(n, "Initiated");
		if (!key || !id || !*id) {
			err_set(err, EXIT_FAILED, NULL, NULL, "S3 listed an unfinished upload without Key or UploadId");
			goto fail;
		}
		page->n++;
		if (!(u->key = strdup(key)) || !(u->upload_id = strdup(id)))
			goto oom;
		if (!when || s3_parse_time(when, &u->initiated) != 0)
			u->initiated = (time_t)-1;
	}
	page->truncated = s3_is_true(xml_child_text(root, "IsTruncated"));
	page->next_key_marker = s3_dup_opt(xml_child_text(root, "NextKeyMarker"));
	page->next_upload_id_marker = s3_dup_opt(xml_child_text(root, "NextUploadIdMarker"));
	if (page->truncated && !page->next_key_marker) {
		err_set(err, EXIT_FAILED, NULL, NULL, "S3 says the upload listing is truncated but gives no NextKeyMarker");
		goto fail;
	}
	xml_free(doc);
	return 0;
oom:
	err_set(err, EXIT_FAILED, NULL, NULL, "out of memory reading an S3 upload listing");
fail:
	xml_free(doc);
	s3_uploads_page_free(page);
	return -1;
}

int s3_parse_object_lock_config(const char *body, size_t len, struct drctl_error *err)
{
	struct xml_doc *doc;
	const char *enabled;
	int rc;

	if (s3_xml_open(body, len, "ObjectLockConfiguration", &doc, err) != 0)
		return -1;
	/* "Enabled" is the one value the API Reference gives; a document
	 * without it (a store that only echoes a rule) is no Object Lock. */
	enabled = xml_child_text(xml_root(doc), "ObjectLockEnabled");
	rc = enabled && !strcmp(enabled, "Enabled");
	xml_free(doc);
	return rc;
}

int s3_parse_time(const char *text, time_t *out)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, s, used = 0;
	const char *rest;
	time_t t;

	if (!text || sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &used) != 6 || used == 0)
		return -1;
	rest = text + used;
	if (*rest == '.')
		for (rest++; *rest >= '0' && *rest <= '9'; rest++)
			;
	if (strcmp(rest, "Z") != 0 && strcmp(rest, "+00:00") != 0)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 || y < 1970)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = t;
	return 0;
}

void s3_multipart_etag(const struct s3_part *parts, size_t n, char out[S3_ETAG_MAX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	out[0] = '\0';
	if (!ctx)
		return;
	if (EVP_DigestInit_ex(ctx, EVP_md5(), NULL) == 1) {
		for (size_t i = 0; i < n; i++)
			EVP_DigestUpdate(ctx, parts[i].md5, sizeof(parts[i].md5));
		if (EVP_DigestFinal_ex(ctx, md, &md_len) == 1) {
			for (unsigned i = 0; i < md_len; i++)
				snprintf(hex + 2 * i, 3, "%02x", md[i]);
			snprintf(out, S3_ETAG_MAX, "\"%.32s-%zu\"", hex, n);
		}
	}
	EVP_MD_CTX_free(ctx);
}
