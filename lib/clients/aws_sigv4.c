/*
 * aws_sigv4: AWS Signature Version 4 (see aws_sigv4.h).
 *
 * The canonical request is built in a buffer that wipes what it leaves
 * behind when it grows (it holds the session token), the signing key chain
 * lives on the stack and is wiped before returning, and the cache keeps only
 * the derived key and a SHA-256 fingerprint of the secret it came from.
 */
#include "lib/clients/aws_sigv4.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "lib/core/keyfile.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"

/* --- a growing string that wipes what it leaves behind ------------------- */

struct sbuf {
	char *p;
	size_t len, cap;
	int failed;
};

static void sbuf_free(struct sbuf *b)
{
	if (b->p) {
		OPENSSL_cleanse(b->p, b->cap);
		free(b->p);
	}
	memset(b, 0, sizeof(*b));
}

static void sbuf_put(struct sbuf *b, const void *data, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap && secure_grow(&b->p, &b->cap, b->len, b->len + n + 1) != 0) {
		b->failed = 1;
		return;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sbuf_puts(struct sbuf *b, const char *s)
{
	sbuf_put(b, s, strlen(s));
}

static void sbuf_putc(struct sbuf *b, char c)
{
	sbuf_put(b, &c, 1);
}

/* Hand the string over (NULL when anything failed). */
static char *sbuf_take(struct sbuf *b)
{
	char *p;

	if (!b->p)
		sbuf_put(b, "", 0);
	if (b->failed) {
		sbuf_free(b);
		return NULL;
	}
	p = b->p;
	memset(b, 0, sizeof(*b));
	return p;
}

/* --- encodings ------------------------------------------------------------ */

static int sigv4_unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* RFC 3986 percent-encoding of everything but the unreserved characters
 * (and '/' when keep_slash), upper-case hex, as AWS's UriEncode(). */
static void sbuf_uri_encode(struct sbuf *b, const char *s, size_t n, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[3] = { '%', hex[c >> 4], hex[c & 15] };

		if (sigv4_unreserved(c) || (keep_slash && c == '/'))
			sbuf_putc(b, (char)c);
		else
			sbuf_put(b, esc, 3);
	}
}

static void sigv4_hex(const unsigned char *d, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[2 * n] = '\0';
}

static int sigv4_sha256(const void *data, size_t len, unsigned char out[32])
{
	unsigned int n = 0;

	return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 && n == 32 ? 0 : -1;
}

static int sigv4_hmac(const void *key, size_t keylen, const char *msg, size_t msglen,
		      unsigned char out[32])
{
	unsigned int n = 0;

	return HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, msglen, out, &n) && n == 32 ? 0 : -1;
}

void aws_sigv4_payload_hash(const void *data, size_t len, char out[65])
{
	unsigned char d[32];

	if (sigv4_sha256(data ? data : "", len, d) != 0) {
		out[0] = '\0';
		return;
	}
	sigv4_hex(d, 32, out);
}

char *aws_sigv4_encode_path(const char *path)
{
	struct sbuf b = { 0 };

	if (!*path)
		sbuf_putc(&b, '/');
	sbuf_uri_encode(&b, path, strlen(path), 1);
	return sbuf_take(&b);
}

/* --- canonical URI -------------------------------------------------------- */

/* Under AWS_SIGV4_PATH_AS_IS the path must already be its one encoding. */
static int sigv4_path_is_encoded(const char *p)
{
	for (; *p; p++) {
		if (*p == '%') {
			if (!p[1] || !strchr("0123456789ABCDEF", p[1]) || !p[2] || !strchr("0123456789ABCDEF", p[2]))
				return 0;
			p += 2;
		} else if (*p != '/' && !sigv4_unreserved((unsigned char)*p)) {
			return 0;
		}
	}
	return 1;
}

/* RFC 3986 remove_dot_segments, with empty segments dropped too, as the
 * non-S3 services do: "//a/./b/../" -> "/a/". */
static void sigv4_normalized_path(struct sbuf *out, const char *path)
{
	size_t n = strlen(path), *starts = calloc(n / 2 + 2, sizeof(size_t)), depth = 0;
	struct sbuf tmp = { 0 };
	int trailing = 0;

	if (!starts) {
		out->failed = 1;
		return;
	}
	for (const char *p = path; *p;) {
		size_t len;

		p += strspn(p, "/");
		len = strcspn(p, "/");
		if (!len)
			break;
		trailing = p[len] == '/';
		if (len == 1 && p[0] == '.') {
			trailing = 1;
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (depth)
				tmp.len = starts[--depth];
			trailing = 1;
		} else {
			starts[depth++] = tmp.len;
			sbuf_putc(&tmp, '/');
			sbuf_put(&tmp, p, len);
		}
		p += len;
	}
	if (tmp.failed)
		out->failed = 1;
	if (tmp.len)
		sbuf_uri_encode(out, tmp.p, tmp.len, 1);
	if (!tmp.len || trailing)
		sbuf_putc(out, '/');
	sbuf_free(&tmp);
	free(starts);
}

static int sigv4_canonical_uri(struct sbuf *cr, const struct aws_sigv4_request *req, struct drctl_error *err)
{
	const char *path = req->path && *req->path ? req->path : "/";

	if (path[0] != '/')
		return err_set(err, EXIT_USAGE, NULL, NULL, "cannot sign a request path that does not start with '/'");
	if (req->flags & AWS_SIGV4_PATH_AS_IS) {
		if (!sigv4_path_is_encoded(path))
			return err_set(err, EXIT_USAGE, NULL, "build the path with aws_sigv4_encode_path",
				       "cannot sign the request path: it is not in its encoded form");
		sbuf_puts(cr, path);
	} else {
		sigv4_normalized_path(cr, path);
	}
	sbuf_putc(cr, '\n');
	return 0;
}

/* --- canonical query ------------------------------------------------------ */

struct sigv4_pair {
	char *name, *value; /* encoded */
	int bare;           /* no value: "name" on the wire */
};

static int sigv4_pair_cmp(const void *a, const void *b)
{
	const struct sigv4_pair *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->value, y->value);
}

static void sigv4_pairs_free(struct sigv4_pair *pairs, size_t n)
{
	for (size_t i = 0; pairs && i < n; i++) {
		free(pairs[i].name);
		free(pairs[i].value);
	}
	free(pairs);
}

/* The parameters encoded and sorted by name, then value. */
static struct sigv4_pair *sigv4_sorted_pairs(const struct aws_sigv4_param *params, size_t n)
{
	struct sigv4_pair *pairs = calloc(n ? n : 1, sizeof(*pairs));

	if (!pairs)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		struct sbuf nb = { 0 }, vb = { 0 };
		const char *v = params[i].value ? params[i].value : "";

		sbuf_uri_encode(&nb, params[i].name, strlen(params[i].name), 0);
		sbuf_uri_encode(&vb, v, strlen(v), 0);
		pairs[i].name = sbuf_take(&nb);
		pairs[i].value = sbuf_take(&vb);
		pairs[i].bare = !params[i].value;
		if (!pairs[i].name || !pairs[i].value) {
			sigv4_pairs_free(pairs, i + 1);
			return NULL;
		}
	}
	qsort(pairs, n, sizeof(*pairs), sigv4_pair_cmp);
	return pairs;
}

/* canonical: every name with '='; else the wire form (bare names stay bare). */
static int sigv4_put_query(struct sbuf *b, const struct aws_sigv4_param *params, size_t n, int canonical)
{
	struct sigv4_pair *pairs = sigv4_sorted_pairs(params, n);

	if (!pairs)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (i)
			sbuf_putc(b, '&');
		sbuf_puts(b, pairs[i].name);
		if (canonical || !pairs[i].bare) {
			sbuf_putc(b, '=');
			sbuf_puts(b, pairs[i].value);
		}
	}
	sigv4_pairs_free(pairs, n);
	return b->failed ? -1 : 0;
}

char *aws_sigv4_encode_query(const struct aws_sigv4_param *params, size_t count)
{
	struct sbuf b = { 0 };

	if (sigv4_put_query(&b, params, count, 0) != 0) {
		sbuf_free(&b);
		return NULL;
	}
	return sbuf_take(&b);
}

/* --- canonical headers ---------------------------------------------------- */

struct sigv4_hdr {
	char name[128];     /* lower-case */
	const char *value;  /* as given; trimmed when written */
	size_t order;       /* position given, so duplicates keep their order */
};

static int sigv4_hdr_cmp(const void *a, const void *b)
{
	const struct sigv4_hdr *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->order < y->order ? -1 : x->order > y->order);
}

/* Trim() and sequential spaces collapsed to one, as AWS documents. */
static void sigv4_put_header_value(struct sbuf *b, const char *v)
{
	const char *end = v + strlen(v);

	while (*v == ' ' || *v == '\t')
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	while (v < end) {
		if (*v == ' ' || *v == '\t') {
			sbuf_putc(b, ' ');
			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
		} else {
			sbuf_putc(b, *v++);
		}
	}
}

static int sigv4_name_ok(const char *name)
{
	if (!*name)
		return 0;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p <= ' ' || *p >= 127 || *p == ':')
			return 0;
	return 1;
}

/* Fill hdrs (lower-cased, sorted) from the caller's headers and the ones the
 * signer adds; refuse what cannot be signed. */
static int sigv4_collect_headers(const struct aws_sigv4_request *req, const struct aws_sigv4_header *added,
				 size_t nadded, struct sigv4_hdr *hdrs, struct drctl_error *err)
{
	size_t n = 0;
	int host = 0;

	for (size_t i = 0; i < req->header_count + nadded; i++) {
		const struct aws_sigv4_header *h = i < req->header_count ? &req->headers[i] : &added[i - req->header_count];
		struct sigv4_hdr *d = &hdrs[n];
		size_t len = strlen(h->name);

		if (!sigv4_name_ok(h->name) || len >= sizeof(d->name))
			return err_set(err, EXIT_USAGE, NULL, NULL, "cannot sign a header named \"%.64s\"", h->name);
		for (size_t j = 0; j <= len; j++)
			d->name[j] = (char)tolower((unsigned char)h->name[j]);
		if (!h->value)
			return err_set(err, EXIT_USAGE, NULL, NULL, "cannot sign header %s: it has no value", d->name);
		if (strpbrk(h->value, "\r\n"))
			return err_set(err, EXIT_USAGE, NULL, NULL, "cannot sign header %s: its value has a line break", d->name);
		if (i < req->header_count &&
		    (!strcmp(d->name, "authorization") || !strcmp(d->name, "x-amz-date") ||
		     !strcmp(d->name, "x-amz-security-token") ||
		     (!strcmp(d->name, "x-amz-content-sha256") && (req->flags & AWS_SIGV4_CONTENT_SHA256))))
			return err_set(err, EXIT_USAGE, NULL, "leave it out: the signer adds it",
				       "cannot sign a request that already carries header %s", d->name);
		host |= !strcmp(d->name, "host");
		d->value = h->value;
		d->order = i;
		n++;
	}
	if (!host)
		return err_set(err, EXIT_USAGE, NULL, "give the Host header of the URL",
			       "cannot sign a request without a Host header");
	qsort(hdrs, n, sizeof(*hdrs), sigv4_hdr_cmp);
	return 0;
}

/* "name:v1,v2\n" for each name, then the blank line, then the signed
 * header list with its newline; the list also goes to signed_list. */
static void sigv4_put_headers(struct sbuf *cr, struct sbuf *signed_list, const struct sigv4_hdr *hdrs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int same = i && !strcmp(hdrs[i].name, hdrs[i - 1].name);

		if (same) {
			sbuf_putc(cr, ',');
		} else {
			if (i) {
				sbuf_putc(cr, '\n');
				sbuf_putc(signed_list, ';');
			}
			sbuf_puts(cr, hdrs[i].name);
			sbuf_putc(cr, ':');
			sbuf_puts(signed_list, hdrs[i].name);
		}
		sigv4_put_header_value(cr, hdrs[i].value);
	}
	sbuf_puts(cr, "\n\n");
	sbuf_put(cr, signed_list->p ? signed_list->p : "", signed_list->len);
	sbuf_putc(cr, '\n');
}

/* --- signing key and its cache -------------------------------------------- */

struct aws_sigv4_cache {
	pthread_mutex_t lock;
	int valid;
	char date[9], region[64], service[64];
	unsigned char secret_fp[32]; /* SHA-256 of the secret the key came from */
	unsigned char key[32];
	unsigned long derivations;
};

struct aws_sigv4_cache *aws_sigv4_cache_new(void)
{
	struct aws_sigv4_cache *c = calloc(1, sizeof(*c));

	if (c && pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c);
		return NULL;
	}
	return c;
}

void aws_sigv4_cache_free(struct aws_sigv4_cache *cache)
{
	if (!cache)
		return;
	pthread_mutex_destroy(&cache->lock);
	OPENSSL_cleanse(cache, sizeof(*cache));
	free(cache);
}

unsigned long aws_sigv4_cache_derivations(const struct aws_sigv4_cache *cache)
{
	unsigned long n;

	if (!cache)
		return 0;
	pthread_mutex_lock((pthread_mutex_t *)&cache->lock);
	n = cache->derivations;
	pthread_mutex_unlock((pthread_mutex_t *)&cache->lock);
	return n;
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request") */
static int sigv4_derive_key(const char *secret, const char *date, const char *region, const char *service,
			    unsigned char key[32])
{
	size_t slen = strlen(secret);
	char *k = malloc(slen + 5);
	unsigned char a[32], b[32];
	int rc = -1;

	if (!k)
		return -1;
	memcpy(k, "AWS4", 4);
	memcpy(k + 4, secret, slen + 1);
	if (sigv4_hmac(k, slen + 4, date, strlen(date), a) == 0 &&
	    sigv4_hmac(a, 32, region, strlen(region), b) == 0 &&
	    sigv4_hmac(b, 32, service, strlen(service), a) == 0 &&
	    sigv4_hmac(a, 32, "aws4_request", 12, key) == 0)
		rc = 0;
	OPENSSL_cleanse(k, slen + 5);
	free(k);
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(b, sizeof(b));
	return rc;
}

/* The signing key for (date, region, service, secret), from the cache when
 * it holds that one.  *cached says which. */
static int sigv4_signing_key(struct aws_sigv4_cache *cache, const char *secret, const char *date,
			     const char *region, const char *service, unsigned char key[32], int *cached)
{
	unsigned char fp[32];
	int rc = 0;

	*cached = 0;
	if (!cache)
		return sigv4_derive_key(secret, date, region, service, key);
	if (sigv4_sha256(secret, strlen(secret), fp) != 0)
		return -1;
	pthread_mutex_lock(&cache->lock);
	if (cache->valid && !strcmp(cache->date, date) && !strcmp(cache->region, region) &&
	    !strcmp(cache->service, service) && CRYPTO_memcmp(cache->secret_fp, fp, 32) == 0) {
		memcpy(key, cache->key, 32);
		*cached = 1;
	} else if (sigv4_derive_key(secret, date, region, service, key) == 0) {
		cache->derivations++;
		if (strlen(region) < sizeof(cache->region) && strlen(service) < sizeof(cache->service)) {
			memcpy(cache->key, key, 32);
			memcpy(cache->secret_fp, fp, 32);
			snprintf(cache->date, sizeof(cache->date), "%s", date);
			snprintf(cache->region, sizeof(cache->region), "%s", region);
			snprintf(cache->service, sizeof(cache->service), "%s", service);
			cache->valid = 1;
		}
	} else {
		rc = -1;
	}
	pthread_mutex_unlock(&cache->lock);
	OPENSSL_cleanse(fp, sizeof(fp));
	return rc;
}

/* --- signing -------------------------------------------------------------- */

/* Region, service and access key id go into the scope and the header. */
static int sigv4_scope_part_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (!n || n >= max)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-_.", *s))
			return 0;
	return 1;
}

static int sigv4_check_inputs(const struct aws_sigv4_request *req, const struct aws_credentials *cred,
			      struct drctl_error *err)
{
	if (!req->method || !*req->method || strpbrk(req->method, " \t\r\n"))
		return err_set(err, EXIT_USAGE, NULL, NULL, "cannot sign a request without a method");
	if (!req->region || !sigv4_scope_part_ok(req->region, 64))
		return err_set(err, EXIT_USAGE, NULL, "set [repository] region, e.g. us-east-1",
			       "cannot sign for region \"%.64s\"", req->region ? req->region : "");
	if (!req->service || !sigv4_scope_part_ok(req->service, 64))
		return err_set(err, EXIT_USAGE, NULL, NULL, "cannot sign for service \"%.64s\"",
			       req->service ? req->service : "");
	if (!cred || !cred->access_key_id || !sigv4_scope_part_ok(cred->access_key_id, 256))
		return err_set(err, EXIT_USAGE, cred ? cred->source : NULL, NULL,
			       "cannot sign with this access key id: it is empty or has characters an access key id cannot have");
	if (!cred->secret_access_key || !*cred->secret_access_key)
		return err_set(err, EXIT_USAGE, cred->source, NULL, "cannot sign without a secret access key");
	if (cred->session_token && strpbrk(cred->session_token, "\r\n"))
		return err_set(err, EXIT_USAGE, cred->source, NULL, "cannot send a session token with a line break");
	if (req->payload_hash && strcmp(req->payload_hash, AWS_SIGV4_UNSIGNED_PAYLOAD) &&
	    (strlen(req->payload_hash) != 64 || strspn(req->payload_hash, "0123456789abcdef") != 64))
		return err_set(err, EXIT_USAGE, NULL, "give the hex SHA-256 of the body, or UNSIGNED-PAYLOAD",
			       "cannot sign payload hash \"%.80s\"", req->payload_hash);
	return 0;
}

/* The headers the signer adds before signing, in out->headers order. */
static int sigv4_added_headers(const struct aws_sigv4_request *req, const struct aws_credentials *cred,
			       struct aws_sigv4_signed *out)
{
	struct tm tm;

	if (!gmtime_r(&req->time, &tm) || !strftime(out->amz_date, sizeof(out->amz_date), "%Y%m%dT%H%M%SZ", &tm))
		return -1;
	out->headers[out->header_count++] = (struct aws_sigv4_header){ "x-amz-date", out->amz_date };
	if (req->flags & AWS_SIGV4_CONTENT_SHA256) {
		snprintf(out->content_sha256, sizeof(out->content_sha256), "%s",
			 req->payload_hash ? req->payload_hash : AWS_SIGV4_EMPTY_PAYLOAD);
		out->headers[out->header_count++] = (struct aws_sigv4_header){ "x-amz-content-sha256", out->content_sha256 };
	}
	if (cred->session_token) {
		out->security_token = strdup(cred->session_token);
		if (!out->security_token)
			return -1;
		out->headers[out->header_count++] = (struct aws_sigv4_header){ "x-amz-security-token", out->security_token };
	}
	return 0;
}

static int sigv4_canonical_request(const struct aws_sigv4_request *req, struct aws_sigv4_signed *out,
				   struct sbuf *signed_list, struct drctl_error *err)
{
	struct sbuf cr = { 0 };
	struct sigv4_hdr *hdrs = calloc(req->header_count + out->header_count, sizeof(*hdrs));
	int rc = -1;

	if (!hdrs)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory signing a request");
	sbuf_puts(&cr, req->method);
	sbuf_putc(&cr, '\n');
	if (sigv4_canonical_uri(&cr, req, err) != 0)
		goto cleanup;
	if (sigv4_put_query(&cr, req->query, req->query_count, 1) != 0 && !cr.failed)
		cr.failed = 1;
	sbuf_putc(&cr, '\n');
	if (sigv4_collect_headers(req, out->headers, out->header_count, hdrs, err) != 0)
		goto cleanup;
	sigv4_put_headers(&cr, signed_list, hdrs, req->header_count + out->header_count);
	sbuf_puts(&cr, req->payload_hash ? req->payload_hash : AWS_SIGV4_EMPTY_PAYLOAD);
	if (signed_list->failed || !(out->canonical_request = sbuf_take(&cr))) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory signing a request");
		goto cleanup;
	}
	rc = 0;
cleanup:
	sbuf_free(&cr);
	free(hdrs);
	return rc;
}

/* String to sign, signature and the Authorization value, from the canonical request. */
static int sigv4_finish(const struct aws_sigv4_request *req, const struct aws_credentials *cred,
			struct aws_sigv4_cache *cache, const char *signed_list, struct aws_sigv4_signed *out)
{
	unsigned char digest[32], key[32], sig[32];
	char hex[65], sighex[65], date[9], scope[160];
	struct sbuf sts = { 0 }, authz = { 0 };
	int rc = -1;

	memcpy(date, out->amz_date, 8);
	date[8] = '\0';
	snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", date, req->region, req->service);
	if (sigv4_sha256(out->canonical_request, strlen(out->canonical_request), digest) != 0)
		goto cleanup;
	sigv4_hex(digest, 32, hex);
	sbuf_puts(&sts, SIGV4_ALGORITHM "\n");
	sbuf_puts(&sts, out->amz_date);
	sbuf_putc(&sts, '\n');
	sbuf_puts(&sts, scope);
	sbuf_putc(&sts, '\n');
	sbuf_puts(&sts, hex);
	if (sts.failed ||
	    sigv4_signing_key(cache, cred->secret_access_key, date, req->region, req->service, key,
			      &out->signing_key_cached) != 0 ||
	    sigv4_hmac(key, 32, sts.p, sts.len, sig) != 0)
		goto cleanup;
	sigv4_hex(sig, 32, sighex);
	sbuf_puts(&authz, SIGV4_ALGORITHM " Credential=");
	sbuf_puts(&authz, cred->access_key_id);
	sbuf_putc(&authz, '/');
	sbuf_puts(&authz, scope);
	sbuf_puts(&authz, ", SignedHeaders=");
	sbuf_puts(&authz, signed_list);
	sbuf_puts(&authz, ", Signature=");
	sbuf_puts(&authz, sighex);
	out->string_to_sign = sbuf_take(&sts);
	out->authorization = sbuf_take(&authz);
	if (out->string_to_sign && out->authorization) {
		out->headers[out->header_count++] = (struct aws_sigv4_header){ "Authorization", out->authorization };
		rc = 0;
	}
cleanup:
	OPENSSL_cleanse(key, sizeof(key));
	sbuf_free(&sts);
	sbuf_free(&authz);
	return rc;
}

int aws_sigv4_sign(const struct aws_sigv4_request *req, const struct aws_credentials *cred,
		   struct aws_sigv4_cache *cache, struct aws_sigv4_signed *out,
		   struct drctl_error *err)
{
	struct sbuf signed_list = { 0 };
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (sigv4_check_inputs(req, cred, err) != 0)
		return -1;
	if (sigv4_added_headers(req, cred, out) != 0) {
		err_set(err, EXIT_FAILED, NULL, NULL, "cannot sign a request: out of memory or a time out of range");
		goto cleanup;
	}
	if (sigv4_canonical_request(req, out, &signed_list, err) != 0)
		goto cleanup;
	if (sigv4_finish(req, cred, cache, signed_list.p ? signed_list.p : "", out) != 0) {
		err_set(err, EXIT_FAILED, NULL, NULL, "cannot sign a request: %s", err_openssl_reason());
		goto cleanup;
	}
	rc = 0;
cleanup:
	sbuf_free(&signed_list);
	if (rc != 0)
		aws_sigv4_signed_clear(out);
	return rc;
}

static void sigv4_wipe_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

void aws_sigv4_signed_clear(struct aws_sigv4_signed *out)
{
	sigv4_wipe_free(out->canonical_request);
	sigv4_wipe_free(out->string_to_sign);
	sigv4_wipe_free(out->authorization);
	sigv4_wipe_free(out->security_token);
	OPENSSL_cleanse(out, sizeof(*out));
}
