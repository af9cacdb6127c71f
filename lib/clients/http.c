/*
 * http: one libcurl easy handle per client, one attempt per http_perform
 * (see http.h for the design; the retries are in http_retry.c).  The
 * callbacks below are the only places bytes move: body_write (response ->
 * sink or memory), body_read (source or memory -> request) and header_line
 * (the status and every header field of the final response).
 */
#include "lib/clients/http.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

/* Error bodies are for messages: keep at most this much of them. */
#define HTTP_ERROR_BODY_MAX (1u << 20)
/* A 2xx body kept in memory (JSON answers) may be larger: KV metadata lists. */
#define HTTP_MEMORY_BODY_MAX (64u << 20)
/* Request bodies finished even after an early error answer. */
#define HTTP_KEEP_SENDING_MAX (1u << 20)
/* CA folders: the sum of the PEM files read into memory. */
#define HTTP_CA_PATH_MAX (16u << 20)

struct http_client {
	CURL *curl;
	struct http_tls tls;
	char *ca_file, *client_cert, *client_key, *server_name;
	char *ca_blob;  /* the PEM files of ca_path, concatenated */
	size_t ca_blob_len;
	long timeout;
	char errbuf[CURL_ERROR_SIZE];
};

/* State of one transfer, shared by the callbacks. */
struct http_transfer {
	const struct http_request *req;
	struct http_response *res;
	struct drctl_error *err;
	size_t mem_cap;
	size_t body_off;        /* in-memory request body already sent */
	int callback_failed;    /* a sink or source error is in err */
};

static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static CURLcode http_init_rc = CURLE_OK;

static void http_global_init(void)
{
	http_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Read every regular file of a folder into one PEM blob.  OpenSSL's own
 * CApath wants c_rehash'ed names; the Vault CLI reads the folder's files
 * itself, so drctl does the same. */
static int http_load_ca_path(struct http_client *c, const char *dir, struct drctl_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = -1;

	if (!d)
		return err_set_errno(err, EXIT_USAGE, errno, dir, "set VAULT_CAPATH to a folder of PEM certificates",
				     "cannot open CA folder %s", dir);
	while ((de = readdir(d)) != NULL) {
		char path[4096];
		struct stat st;
		FILE *f;
		char *grown;

		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			continue;
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (c->ca_blob_len + (size_t)st.st_size + 2 > HTTP_CA_PATH_MAX) {
			err_set(err, EXIT_USAGE, dir, NULL, "CA folder %s holds more than %u MiB", dir,
				HTTP_CA_PATH_MAX >> 20);
			goto done;
		}
		grown = realloc(c->ca_blob, c->ca_blob_len + (size_t)st.st_size + 2);
		if (!grown) {
			err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
			goto done;
		}
		c->ca_blob = grown;
		f = fopen(path, "rb");
		if (!f) {
			err_set_errno(err, EXIT_USAGE, errno, path, NULL, "cannot read CA certificate %s", path);
			goto done;
		}
		c->ca_blob_len += fread(c->ca_blob + c->ca_blob_len, 1, (size_t)st.st_size, f);
		c->ca_blob[c->ca_blob_len++] = '\n';
		fclose(f);
	}
	if (c->ca_blob_len == 0) {
		err_set(err, EXIT_USAGE, dir, "put the PEM certificates of the CA that signed Vault's certificate there",
			"CA folder %s holds no files", dir);
		goto done;
	}
	rc = 0;
done:
	closedir(d);
	return rc;
}

static char *http_strdup_opt(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

struct http_client *http_client_new(const struct http_tls *tls, long timeout_seconds,
				    struct drctl_error *err)
{
	struct http_client *c;

	pthread_once(&http_once, http_global_init);
	if (http_init_rc != CURLE_OK)
		return (err_set(err, EXIT_FAILED, NULL, NULL, "cannot initialise libcurl: %s",
				curl_easy_strerror(http_init_rc)), NULL);
	c = calloc(1, sizeof(*c));
	if (!c || !(c->curl = curl_easy_init())) {
		free(c);
		return (err_set(err, EXIT_FAILED, NULL, NULL, "out of memory"), NULL);
	}
	c->timeout = timeout_seconds > 0 ? timeout_seconds : 60;
	if (tls) {
		c->ca_file = http_strdup_opt(tls->ca_file);
		c->client_cert = http_strdup_opt(tls->client_cert);
		c->client_key = http_strdup_opt(tls->client_key);
		c->server_name = http_strdup_opt(tls->server_name);
		c->tls.skip_verify = tls->skip_verify;
		/* A CA file wins over a CA folder, as in the Vault CLI. */
		if (!c->ca_file && tls->ca_path && *tls->ca_path && http_load_ca_path(c, tls->ca_path, err) != 0) {
			http_client_free(c);
			return NULL;
		}
	}
	return c;
}

void http_client_free(struct http_client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	free(c->ca_file);
	free(c->client_cert);
	free(c->client_key);
	free(c->server_name);
	free(c->ca_blob);
	free(c);
}

void http_response_free(struct http_response *res)
{
	if (!res)
		return;
	free(res->body);
	res->body = NULL;
	res->body_len = 0;
	free(res->header_data);
	res->header_data = NULL;
	res->header_data_len = 0;
	res->n_headers = 0;
}

static int http_keep(struct http_transfer *t, const char *p, size_t n, size_t cap)
{
	struct http_response *res = t->res;
	char *grown;

	if (res->body_len + n > cap)
		n = res->body_len < cap ? cap - res->body_len : 0;
	if (n == 0)
		return 0;
	grown = realloc(res->body, res->body_len + n + 1);
	if (!grown)
		return -1;
	res->body = grown;
	memcpy(res->body + res->body_len, p, n);
	res->body_len += n;
	res->body[res->body_len] = '\0';
	return 0;
}

static size_t http_body_write(char *p, size_t size, size_t nmemb, void *ud)
{
	struct http_transfer *t = ud;
	size_t n = size * nmemb;
	long st = t->res->status;

	if (st >= 200 && st < 300 && t->req->sink) {
		if (sink_write(t->req->sink, p, n, t->err) != 0) {
			t->callback_failed = 1;
			return 0;
		}
		t->res->sink_bytes += n;
		return n;
	}
	if (st >= 200 && st < 300 && t->res->body_len + n > HTTP_MEMORY_BODY_MAX) {
		err_set(t->err, EXIT_IO, NULL, NULL, "response larger than %u MiB", HTTP_MEMORY_BODY_MAX >> 20);
		t->callback_failed = 1;
		return 0;
	}
	if (http_keep(t, p, n, st >= 200 && st < 300 ? HTTP_MEMORY_BODY_MAX : HTTP_ERROR_BODY_MAX) != 0) {
		err_set(t->err, EXIT_FAILED, NULL, NULL, "out of memory");
		t->callback_failed = 1;
		return 0;
	}
	return n;
}

static size_t http_body_read(char *p, size_t size, size_t nmemb, void *ud)
{
	struct http_transfer *t = ud;
	size_t cap = size * nmemb, got = 0;

	if (t->req->body_src) {
		if (source_read(t->req->body_src, p, cap, &got, t->err) != 0) {
			t->callback_failed = 1;
			return CURL_READFUNC_ABORT;
		}
		t->res->sent_bytes += got;
		return got;
	}
	got = t->req->body_len - t->body_off;
	if (got > cap)
		got = cap;
	memcpy(p, (const char *)t->req->body + t->body_off, got);
	t->body_off += got;
	return got;
}

/* Room for n more bytes of header names and values, within the bound. */
static int http_header_room(struct http_response *res, size_t n)
{
	size_t cap, want = res->header_data_len + n;
	char *grown;

	if (want > HTTP_HEADER_BYTES_MAX)
		return -1;
	for (cap = 1024; cap < want; cap *= 2)
		;
	grown = realloc(res->header_data, cap);
	if (!grown)
		return -1;
	res->header_data = grown;
	return 0;
}

static void http_trim(const char **p, size_t *n)
{
	while (*n && (**p == ' ' || **p == '\t'))
		(*p)++, (*n)--;
	while (*n && ((*p)[*n - 1] == '\r' || (*p)[*n - 1] == '\n' || (*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
		(*n)--;
}

/* An obsolete folded line (RFC 9112 5.2) continues the last field's value,
 * which is the last thing in header_data. */
static void http_header_unfold(struct http_response *res, const char *v, size_t vlen)
{
	if (res->n_headers == 0 || vlen == 0)
		return;
	if (http_header_room(res, vlen + 1) != 0) {
		res->headers_truncated = 1;
		return;
	}
	res->header_data[res->header_data_len - 1] = ' ';
	memcpy(res->header_data + res->header_data_len, v, vlen);
	res->header_data_len += vlen;
	res->header_data[res->header_data_len++] = '\0';
}

/* Keep one "Name: value" line as name\0value\0. */
static void http_header_keep(struct http_response *res, const char *line, size_t n)
{
	const char *colon = memchr(line, ':', n), *v;
	size_t nlen, vlen;

	if (n > 0 && (line[0] == ' ' || line[0] == '\t')) {
		http_trim(&line, &n);
		http_header_unfold(res, line, n);
		return;
	}
	if (!colon || colon == line)
		return; /* the blank line that ends the block, or not a field */
	nlen = (size_t)(colon - line);
	v = colon + 1;
	vlen = n - nlen - 1;
	http_trim(&v, &vlen);
	if (res->n_headers >= HTTP_HEADERS_MAX || http_header_room(res, nlen + vlen + 2) != 0) {
		res->headers_truncated = 1;
		return;
	}
	res->header_at[res->n_headers].name = (uint32_t)res->header_data_len;
	memcpy(res->header_data + res->header_data_len, line, nlen);
	res->header_data_len += nlen;
	res->header_data[res->header_data_len++] = '\0';
	res->header_at[res->n_headers].value = (uint32_t)res->header_data_len;
	memcpy(res->header_data + res->header_data_len, v, vlen);
	res->header_data_len += vlen;
	res->header_data[res->header_data_len++] = '\0';
	res->n_headers++;
}

static size_t http_header_line(char *line, size_t size, size_t nmemb, void *ud)
{
	struct http_transfer *t = ud;
	struct http_response *res = t->res;
	size_t n = size * nmemb;

	if (n > 5 && !strncmp(line, "HTTP/", 5)) {
		/* A new status line (after 100 Continue, too): only the final
		 * response's fields are kept. */
		const char *sp = memchr(line, ' ', n);
		res->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		res->n_headers = 0;
		res->header_data_len = 0;
		res->headers_truncated = 0;
		return n;
	}
	http_header_keep(res, line, n);
	return n;
}

const char *http_response_header(const struct http_response *res, const char *name)
{
	for (size_t i = 0; i < res->n_headers; i++)
		if (!strcasecmp(res->header_data + res->header_at[i].name, name))
			return res->header_data + res->header_at[i].value;
	return NULL;
}

void http_url_for_message(const char *url, char *out, size_t cap)
{
	const char *scheme_end = strstr(url, "://"), *auth = url, *at;
	size_t o = 0, n;

	if (cap == 0)
		return;
	if (scheme_end && (size_t)(scheme_end - url) < strcspn(url, "/?#")) {
		auth = scheme_end + 3;
		n = (size_t)(auth - url);
		o = n < cap - 1 ? n : cap - 1;
		memcpy(out, url, o);
		/* user:password@host: what follows the last @ of the authority */
		n = strcspn(auth, "/?#");
		for (at = auth + n; at > auth && at[-1] != '@'; at--)
			;
		auth = at;
	}
	n = strcspn(auth, "?#");
	if (n > cap - 1 - o)
		n = cap - 1 - o;
	memcpy(out + o, auth, n);
	out[o + n] = '\0';
}

/* VAULT_TLS_SERVER_NAME: request https://<name>:<port>/... and connect to
 * the real host.  curl then sends SNI and checks the certificate for <name>. */
static int http_apply_server_name(struct http_client *c, const char *url, char **new_url,
				  struct curl_slist **connect_to, struct drctl_error *err)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	char entry[1024];
	int rc = -1;

	*new_url = NULL;
	if (!u) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		goto done;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
		err_set(err, EXIT_USAGE, url, NULL, "cannot parse the URL %s", url);
		goto done;
	}
	if (strcmp(scheme, "https") != 0) {
		rc = 0; /* no TLS, nothing to override */
		goto done;
	}
	if (snprintf(entry, sizeof(entry), "%s:%s:%s:%s", c->server_name, port, host, port) >= (int)sizeof(entry) ||
	    curl_url_set(u, CURLUPART_HOST, c->server_name, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, new_url, 0) != CURLUE_OK) {
		err_set(err, EXIT_USAGE, c->server_name, NULL, "cannot use TLS server name %s", c->server_name);
		goto done;
	}
	*connect_to = curl_slist_append(NULL, entry);
	if (!*connect_to) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		goto done;
	}
	rc = 0;
done:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	if (rc != 0) {
		curl_free(*new_url);
		*new_url = NULL;
	}
	return rc;
}

static void http_setup_tls(struct http_client *c)
{
	CURL *h = c->curl;

	if (c->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
	if (c->ca_blob) {
		struct curl_blob blob = { .data = c->ca_blob, .len = c->ca_blob_len, .flags = CURL_BLOB_NOCOPY };
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
	}
	if (c->client_cert)
		curl_easy_setopt(h, CURLOPT_SSLCERT, c->client_cert);
	if (c->client_key)
		curl_easy_setopt(h, CURLOPT_SSLKEY, c->client_key);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->tls.skip_verify ? 0L : 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->tls.skip_verify ? 0L : 2L);
}

static int http_is_tls_error(CURLcode rc)
{
	return rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION ||
	       rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CIPHER ||
	       rc == CURLE_SSL_ISSUER_ERROR || rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH ||
	       rc == CURLE_SSL_CRL_BADFILE || rc == CURLE_USE_SSL_FAILED;
}

/* The request's own header lines, as curl wants them. */
static int http_header_list(const struct http_request *req, struct curl_slist **out, struct drctl_error *err)
{
	*out = NULL;
	for (size_t i = 0; i < req->n_headers; i++) {
		struct curl_slist *n = curl_slist_append(*out, req->headers[i]);
		if (!n)
			return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		*out = n;
	}
	return 0;
}

static void http_setup_transfer(struct http_client *c, const struct http_request *req, const char *url,
				struct curl_slist *connect_to, struct http_transfer *t)
{
	CURL *h = c->curl;

	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	c->errbuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "drctl/" DRCTL_VERSION);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, c->timeout < 30 ? c->timeout : 30L);
	if (req->streamed) {
		/* A stall, not the length of a big transfer, is the failure. */
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, c->timeout);
	} else {
		curl_easy_setopt(h, CURLOPT_TIMEOUT, c->timeout);
	}
	if (connect_to)
		curl_easy_setopt(h, CURLOPT_CONNECT_TO, connect_to);
	http_setup_tls(c);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, http_header_line);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_body_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
	/* UPLOAD means PUT to curl; the method string says what is meant. */
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
	if (!strcmp(req->method, "HEAD"))
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
}

static int http_setup_body(CURL *h, const struct http_request *req, struct http_transfer *t,
			   struct curl_slist **headers, struct drctl_error *err)
{
	uint64_t len = req->body_src ? req->body_src_len : req->body_len;
	struct curl_slist *n;

	if (!req->body_src && !req->body)
		return 0;
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, http_body_read);
	curl_easy_setopt(h, CURLOPT_READDATA, t);
	if (len != HTTP_BODY_UNKNOWN)
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	/* After an early answer (a 307, a 500 before the body was read) curl
	 * stops sending and drops the connection.  Right for a big body (a
	 * standby's 307 must not cost a whole snapshot upload); a small one is
	 * finished so the connection stays usable. */
	if (len != HTTP_BODY_UNKNOWN && len < HTTP_KEEP_SENDING_MAX)
		curl_easy_setopt(h, CURLOPT_KEEP_SENDING_ON_ERROR, 1L);
	/* Chunked only when the length is unknown: a known one goes out as
	 * Content-Length, which S3 requires of every upload (411 without). */
	if (len != HTTP_BODY_UNKNOWN)
		return 0;
	n = curl_slist_append(*headers, "Transfer-Encoding: chunked");
	if (!n)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	*headers = n;
	return 0;
}

/* No complete response: say what failed, and whether any byte of the
 * request left (a retry of a request that never left is always safe). */
static void http_transport_error(struct http_client *c, const struct http_request *req, CURLcode rc,
				 const struct http_transfer *t, const char *shown, struct drctl_error *err)
{
	struct http_response *res = t->res;
	long request_size = 0;

	curl_easy_getinfo(c->curl, CURLINFO_REQUEST_SIZE, &request_size);
	res->transport_failed = 1;
	res->tls_failed = http_is_tls_error(rc);
	res->nothing_sent = request_size == 0 && res->sent_bytes == 0 && t->body_off == 0;
	snprintf(res->transport_error, sizeof(res->transport_error), "%s", c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
	err_set(err, EXIT_IO, shown,
		res->tls_failed ? "check the CA certificate (VAULT_CACERT / [vault] ca_cert) and the name in the server's certificate"
				: "check that the server is up and reachable at this address",
		"%s %s failed: %s", req->method, shown, res->transport_error);
}

int http_perform(struct http_client *c, const struct http_request *req, struct http_response *res,
		 struct drctl_error *err)
{
	struct curl_slist *headers = NULL, *connect_to = NULL;
	struct http_transfer t = { .req = req, .res = res, .err = err };
	char *url_override = NULL, shown[1024];
	CURLcode rc;
	int ret = -1;

	http_response_free(res);
	memset(res, 0, sizeof(*res));
	http_url_for_message(req->url, shown, sizeof(shown));
	curl_easy_reset(c->curl);
	if (c->server_name && http_apply_server_name(c, req->url, &url_override, &connect_to, err) != 0)
		goto done;
	if (http_header_list(req, &headers, err) != 0)
		goto done;
	http_setup_transfer(c, req, url_override ? url_override : req->url, connect_to, &t);
	if (http_setup_body(c->curl, req, &t, &headers, err) != 0)
		goto done;
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);

	rc = curl_easy_perform(c->curl);
	if (t.callback_failed) {
		/* The sink's or the source's error is already in err. */
		res->transport_failed = 0;
		goto done;
	}
	if (rc != CURLE_OK) {
		http_transport_error(c, req, rc, &t, shown, err);
		goto done;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &res->status);
	ret = 0;
done:
	curl_slist_free_all(headers);
	curl_slist_free_all(connect_to);
	curl_free(url_override);
	return ret;
}

int http_escape_segment(const char *in, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		int plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
			    *p == '-' || *p == '.' || *p == '_' || *p == '~';
		if (o + (plain ? 1 : 3) >= cap)
			return -1;
		if (plain) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
	return 0;
}
