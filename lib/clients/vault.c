/*
 * vault: settings, login and the one request path (vault_call).  See
 * vault.h for the precedence of settings and the retry policy; health and
 * waiting for an active node are in vault_health.c.
 *
 * Why the token is handled the way it is: it lives in one malloc'd buffer,
 * is copied only into the header line of the attempt in flight (wiped right
 * after), goes only to the configured address or to the active node a
 * standby named for a snapshot path (same scheme), and never reaches a log,
 * an error message or the process list.
 */
#include "lib/clients/vault.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lib/clients/http.h"
#include "lib/core/keyfile.h"
#include "lib/core/log.h"

#define VAULT_DEFAULT_ADDR "https://127.0.0.1:8200"
#define VAULT_TOKEN_MAX 8192
#define VAULT_MAX_REDIRECTS 3

struct vault_client {
	struct http_client *http;
	char address[512];       /* no trailing slash */
	char namespace_[256];
	char auth_method[16];
	char *token;             /* NULL until logged in */
	int max_retries;
	long timeout;
	unsigned retry_base_ms;
};

/* --- settings ------------------------------------------------------------ */

/* flag / DRCTL_VAULT_<KEY> > VAULT_* > config file.  config_get already
 * merges flag, DRCTL env and file, so the DRCTL variable is looked at
 * directly to know whether it (rather than the file) gave the value. */
static const char *vault_setting(const struct config *cfg, const char *key, const char *cli_env, int path)
{
	char name[96];
	const char *v;
	size_t i;

	if (snprintf(name, sizeof(name), "DRCTL_VAULT_%s", key) >= (int)sizeof(name))
		return NULL;
	for (i = 0; name[i]; i++)
		name[i] = (char)toupper((unsigned char)name[i]);
	v = getenv(name);
	if (v && *v)
		return path ? config_get_path(cfg, "vault", key) : config_get(cfg, "vault", key);
	if (cli_env && (v = getenv(cli_env)) != NULL && *v)
		return v;
	return path ? config_get_path(cfg, "vault", key) : config_get(cfg, "vault", key);
}

/* Go's strconv.ParseBool, which the CLI uses for VAULT_SKIP_VERIFY. */
static int vault_parse_bool(const char *v, int *out)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };
	for (size_t i = 0; i < 6; i++) {
		if (!strcmp(v, yes[i]))
			return *out = 1, 0;
		if (!strcmp(v, no[i]))
			return *out = 0, 0;
	}
	return -1;
}

/* VAULT_CLIENT_TIMEOUT: seconds, or a Go duration such as 90s, 5m, 1h. */
static long vault_parse_duration(const char *v)
{
	char *end;
	double n = strtod(v, &end);
	if (end == v || n <= 0)
		return -1;
	if (!*end || !strcmp(end, "s"))
		return (long)n;
	if (!strcmp(end, "m"))
		return (long)(n * 60);
	if (!strcmp(end, "h"))
		return (long)(n * 3600);
	if (!strcmp(end, "ms"))
		return n >= 1000 ? (long)(n / 1000) : 1;
	return -1;
}

static int vault_read_small_file(const char *path, const char *what, int secret, char **out,
				 struct drctl_error *err)
{
	char *data = NULL;
	size_t len = 0;

	*out = NULL;
	if (keyfile_read(path, what, secret, VAULT_TOKEN_MAX, &data, &len, err) != 0)
		return -1;
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r' || data[len - 1] == ' '))
		len--;
	*out = strndup(data, len);
	keyfile_free(data, len);
	if (!*out)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	if (!**out) {
		free(*out);
		*out = NULL;
		return err_set(err, EXIT_USAGE, path, NULL, "%s (%s) is empty", path, what);
	}
	return 0;
}

static void vault_token_free(char *t)
{
	if (t) {
		secure_wipe(t, strlen(t));
		free(t);
	}
}

/* The token for auth_method token: DRCTL_VAULT_TOKEN(_FILE) > VAULT_TOKEN >
 * [vault] token / token_file > ~/.vault-token. */
static int vault_token_resolve(const struct config *cfg, char **token, struct drctl_error *err)
{
	const char *env_drctl = getenv("DRCTL_VAULT_TOKEN"), *env_drctl_file = getenv("DRCTL_VAULT_TOKEN_FILE");
	const char *env = getenv("VAULT_TOKEN"), *home = getenv("HOME");
	char path[4096];
	int rc;

	*token = NULL;
	if ((!env_drctl || !*env_drctl) && (!env_drctl_file || !*env_drctl_file) && env && *env) {
		*token = strdup(env);
		return *token ? 0 : err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	}
	rc = config_get_secret(cfg, "vault", "token", token, err);
	if (rc < 0)
		return -1;
	if (rc == 1)
		return 0;
	if (home && snprintf(path, sizeof(path), "%s/.vault-token", home) < (int)sizeof(path) &&
	    access(path, F_OK) == 0)
		return vault_read_small_file(path, "Vault token", 1, token, err);
	return err_set(err, EXIT_USAGE, "[vault] token_file",
		       "set VAULT_TOKEN, [vault] token_file, or run `vault login` (it writes ~/.vault-token); or use auth_method = kubernetes / approle",
		       "no Vault token: none of VAULT_TOKEN, [vault] token / token_file, ~/.vault-token is set");
}

static int vault_login(struct vault_client *vc, const struct config *cfg, struct drctl_error *err)
{
	const char *method = config_get(cfg, "vault", "auth_method");
	json_t *body = NULL, *resp = NULL;
	char *secret = NULL, *secret2 = NULL;
	const char *path, *what;
	const char *tok;
	int rc = -1;

	if (!method || !strcmp(method, "token")) {
		snprintf(vc->auth_method, sizeof(vc->auth_method), "token");
		return vault_token_resolve(cfg, &vc->token, err);
	}
	snprintf(vc->auth_method, sizeof(vc->auth_method), "%s", method);
	if (!strcmp(method, "kubernetes")) {
		const char *role = config_get(cfg, "vault", "kubernetes_role");
		const char *jwt_file = config_get_path(cfg, "vault", "kubernetes_token_file");
		if (!role)
			return err_set(err, EXIT_USAGE, "[vault] kubernetes_role", "set [vault] kubernetes_role to the Vault role bound to drctl's service account",
				       "auth_method = kubernetes needs a role");
		if (!jwt_file)
			jwt_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
		/* Kubernetes mounts the token 0644: it is not refused for its mode. */
		if (vault_read_small_file(jwt_file, "Kubernetes service account token [vault] kubernetes_token_file", 0, &secret, err) != 0)
			goto done;
		body = json_pack("{s:s, s:s}", "role", role, "jwt", secret);
		path = "auth/kubernetes/login";
		what = "Kubernetes";
	} else {
		const char *rid_file = config_get_path(cfg, "vault", "approle_role_id_file");
		const char *sid_file = config_get_path(cfg, "vault", "approle_secret_id_file");
		if (!rid_file || !sid_file)
			return err_set(err, EXIT_USAGE, "[vault] approle_role_id_file",
				       "set [vault] approle_role_id_file and approle_secret_id_file (mode 0600)",
				       "auth_method = approle needs the role_id and secret_id files");
		if (vault_read_small_file(rid_file, "AppRole role_id [vault] approle_role_id_file", 0, &secret, err) != 0 ||
		    vault_read_small_file(sid_file, "AppRole secret_id [vault] approle_secret_id_file", 1, &secret2, err) != 0)
			goto done;
		body = json_pack("{s:s, s:s}", "role_id", secret, "secret_id", secret2);
		path = "auth/approle/login";
		what = "AppRole";
	}
	if (!body) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		goto done;
	}
	if (vault_json(vc, "POST", path, body, VAULT_CALL_NO_TOKEN, NULL, &resp, err) != 0) {
		err_prefix(err, "%s login to Vault at %s", what, vc->address);
		err_hint(err, "%s", !strcmp(method, "kubernetes")
				       ? "check [vault] kubernetes_role and that the role binds this service account (vault read auth/kubernetes/role/<role>)"
				       : "check the role_id / secret_id files; a secret_id may have expired (vault write -f auth/approle/role/<role>/secret-id)");
		goto done;
	}
	tok = json_string_value(json_object_get(json_object_get(resp, "auth"), "client_token"));
	if (!tok || !*tok || strlen(tok) > VAULT_TOKEN_MAX) {
		err_set(err, EXIT_FAILED, vc->address, NULL, "%s login to Vault at %s returned no token", what, vc->address);
		goto done;
	}
	vc->token = strdup(tok);
	if (!vc->token) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		goto done;
	}
	log_info("logged in to Vault at %s with %s auth", vc->address, method);
	rc = 0;
done:
	/* The request and response held secrets: wipe what jansson kept. */
	if (body) {
		json_t *v;
		const char *k;
		json_object_foreach(body, k, v)
			if (json_is_string(v))
				secure_wipe((char *)json_string_value(v), json_string_length(v));
	}
	json_decref(body);
	json_decref(resp);
	vault_token_free(secret);
	vault_token_free(secret2);
	return rc;
}

int vault_client_open(struct vault_client **out, const struct config *cfg, const char *address,
		      int login, struct drctl_error *err)
{
	struct vault_client *vc = calloc(1, sizeof(*vc));
	struct http_tls tls = { 0 };
	const char *v;
	long timeout = 300;

	*out = NULL;
	if (!vc)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	v = address && *address ? address : vault_setting(cfg, "address", "VAULT_ADDR", 0);
	if (!v)
		v = VAULT_DEFAULT_ADDR;
	if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8)) {
		err_set(err, EXIT_USAGE, v, "set [vault] address / VAULT_ADDR to http(s)://host:port",
			"Vault address \"%s\" is not an http:// or https:// URL", v);
		goto fail;
	}
	if (snprintf(vc->address, sizeof(vc->address), "%s", v) >= (int)sizeof(vc->address)) {
		err_set(err, EXIT_USAGE, v, NULL, "Vault address is too long");
		goto fail;
	}
	while (strlen(vc->address) > 8 && vc->address[strlen(vc->address) - 1] == '/')
		vc->address[strlen(vc->address) - 1] = '\0';
	if ((v = vault_setting(cfg, "namespace", "VAULT_NAMESPACE", 0)) != NULL)
		snprintf(vc->namespace_, sizeof(vc->namespace_), "%s", v);
	tls.ca_file = vault_setting(cfg, "ca_cert", "VAULT_CACERT", 1);
	tls.ca_path = getenv("VAULT_CAPATH");
	tls.client_cert = getenv("VAULT_CLIENT_CERT");
	tls.client_key = getenv("VAULT_CLIENT_KEY");
	tls.server_name = getenv("VAULT_TLS_SERVER_NAME");
	if ((v = getenv("VAULT_SKIP_VERIFY")) != NULL && *v && vault_parse_bool(v, &tls.skip_verify) != 0) {
		err_set(err, EXIT_USAGE, "VAULT_SKIP_VERIFY", "use true or false", "VAULT_SKIP_VERIFY=\"%.40s\" is not a boolean", v);
		goto fail;
	}
	if (tls.skip_verify && !strncmp(vc->address, "https://", 8))
		log_warn("WARNING: VAULT_SKIP_VERIFY is set: Vault's TLS certificate is NOT verified; anyone on the network path to %s can impersonate Vault and read the token and the secrets. Set VAULT_CACERT instead.",
			 vc->address);
	if (!getenv("DRCTL_VAULT_TIMEOUT_SECONDS") && (v = getenv("VAULT_CLIENT_TIMEOUT")) != NULL && *v) {
		if ((timeout = vault_parse_duration(v)) <= 0) {
			err_set(err, EXIT_USAGE, "VAULT_CLIENT_TIMEOUT", "use seconds (300) or a duration (5m)",
				"VAULT_CLIENT_TIMEOUT=\"%.40s\" is not a duration", v);
			goto fail;
		}
	} else if (config_get_int(cfg, "vault", "timeout_seconds", &timeout) != 0) {
		timeout = 300;
	}
	vc->timeout = timeout;
	vc->max_retries = 2;
	if ((v = getenv("VAULT_MAX_RETRIES")) != NULL && *v) {
		char *end;
		long n = strtol(v, &end, 10);
		if (*end || n < 0 || n > 20) {
			err_set(err, EXIT_USAGE, "VAULT_MAX_RETRIES", "use a number from 0 to 20",
				"VAULT_MAX_RETRIES=\"%.40s\" is not a retry count", v);
			goto fail;
		}
		vc->max_retries = (int)n;
	}
	vc->retry_base_ms = 250;
	if ((v = getenv("DRCTL_VAULT_RETRY_BASE_MS")) != NULL && *v)
		vc->retry_base_ms = (unsigned)strtoul(v, NULL, 10);
	vc->http = http_client_new(&tls, timeout, err);
	if (!vc->http)
		goto fail;
	snprintf(vc->auth_method, sizeof(vc->auth_method), "none");
	if (login && vault_login(vc, cfg, err) != 0)
		goto fail;
	*out = vc;
	return 0;
fail:
	vault_client_close(vc);
	return -1;
}

int vault_client_open_token(struct vault_client **out, const struct config *cfg, const char *address,
			    const struct config_secret_ref *token, struct drctl_error *err)
{
	struct vault_client *vc;
	int got;

	if (vault_client_open(&vc, cfg, address, 0, err) != 0)
		return -1;
	got = config_get_secret(cfg, token->section, token->key, &vc->token, err);
	if (got <= 0) {
		if (got == 0)
			err_set(err, EXIT_USAGE, address, NULL, "no token is configured for the Vault at %s", address);
		if (got == 0)
			err_hint(err, "set [%s] %s_file to a file (mode 0600) holding a token of that Vault", token->section,
				 token->key);
		vault_client_close(vc);
		return -1;
	}
	snprintf(vc->auth_method, sizeof(vc->auth_method), "token");
	*out = vc;
	return 0;
}

void vault_client_close(struct vault_client *vc)
{
	if (!vc)
		return;
	vault_token_free(vc->token);
	http_client_free(vc->http);
	free(vc);
}

const char *vault_client_address(const struct vault_client *vc)
{
	return vc->address;
}

const char *vault_client_auth_method(const struct vault_client *vc)
{
	return vc->auth_method;
}

/* --- errors ----------------------------------------------------------------- */

/* Vault's errors read "1 error occurred:\n\t* permission denied\n\n": keep the
 * items, joined with "; ". */
static void vault_errors_text(const char *body, char *out, size_t cap)
{
	json_t *j = body ? json_loads(body, 0, NULL) : NULL;
	json_t *errs = json_object_get(j, "errors"), *e;
	size_t i, o = 0;

	out[0] = '\0';
	json_array_foreach(errs, i, e) {
		const char *s = json_string_value(e);
		const char *items = s ? strstr(s, "\t* ") : NULL;
		if (!s)
			continue;
		if (items)
			s = items;
		while (*s && o + 3 < cap) {
			if (!strncmp(s, "\t* ", 3)) {
				if (o > 0)
					o += (size_t)snprintf(out + o, cap - o, "; ");
				s += 3;
				continue;
			}
			if (*s == '\n' || *s == '\t') {
				s++;
				continue;
			}
			out[o++] = *s++;
		}
		if (json_array_size(errs) > i + 1 && o + 3 < cap)
			o += (size_t)snprintf(out + o, cap - o, "; ");
		out[o < cap ? o : cap - 1] = '\0';
	}
	json_decref(j);
}

static const char *vault_capability(const char *method, const char *path)
{
	if (strstr(path, "list=true"))
		return "list";
	if (!strcmp(method, "GET") || !strcmp(method, "HEAD"))
		return "read";
	if (!strcmp(method, "DELETE"))
		return "delete";
	return "update";
}

static int vault_status_error(struct vault_client *vc, const struct vault_call *call, const char *node,
			      const struct http_response *res, int retries, struct drctl_error *err)
{
	char msg[512], bare[512], retried[64] = "", location_shown[1024] = "";
	const char *location = http_response_header(res, "Location");
	size_t plen = strcspn(call->path, "?");
	long st = res->status;

	(void)vc;
	if (location)
		http_url_for_message(location, location_shown, sizeof(location_shown));
	vault_errors_text(res->body, msg, sizeof(msg));
	snprintf(bare, sizeof(bare), "%.*s", (int)(plen < 400 ? plen : 400), call->path);
	if (retries > 0)
		snprintf(retried, sizeof(retried), " (after %d retries)", retries);
	if (st == 403) {
		if (strstr(msg, "invalid token"))
			return err_set(err, EXIT_USAGE, node,
				       "the token is invalid or expired: log in again (`vault login`) or fix VAULT_TOKEN / [vault] token_file / auth_method",
				       "Vault at %s refused the token on %s %s: %s", node, call->method, bare, msg);
		return err_set(err, EXIT_USAGE, node, NULL,
			       "permission denied by Vault at %s on %s %s; the token's policy needs capability \"%s\" on path \"%s\"",
			       node, call->method, bare, vault_capability(call->method, call->path), bare);
	}
	if (st == 503 && strstr(msg, "sealed"))
		return err_set(err, EXIT_FAILED, node,
			       "unseal it: run `vault operator unseal` with key shares until the threshold is reached, then run this command again",
			       "Vault at %s is sealed", node);
	if (st == 400 && (strstr(msg, "unseal keys") || strstr(msg, "snapshot-force")))
		return err_set(err, EXIT_FAILED, node,
			       "if this is a new cluster, run `drctl restore vault --force-new-cluster`; afterwards Vault must be unsealed with the unseal keys of the cluster the snapshot came from",
			       "Vault at %s refused the snapshot: it was made by a cluster with different keys (%s); nothing was restored",
			       node, msg);
	if (st == 400 && strstr(msg, "raft storage is not in use"))
		return err_set(err, EXIT_USAGE, node,
			       "this Vault does not use integrated (raft) storage: list its KV v2 mounts in [vault] kv_mounts to export them key by key",
			       "Vault at %s: raft storage is not in use", node);
	if (st == 429)
		return err_set(err, EXIT_IO, node, "wait and run it again, or raise the rate limit quota that covers drctl's requests (vault read sys/quotas/rate-limit/...)",
			       "Vault at %s rate-limited %s %s%s: %s", node, call->method, bare, retried, msg[0] ? msg : "too many requests");
	if (st == 404)
		return err_set(err, EXIT_NOT_FOUND, node, NULL, "Vault at %s: %s %s not found%s%s", node, call->method, bare,
			       msg[0] ? ": " : "", msg);
	if (st == 307)
		return err_set(err, EXIT_FAILED, node, "point [vault] address / VAULT_ADDR at the active node",
			       "Vault at %s redirected %s %s to %s, which drctl does not follow", node, call->method, bare,
			       location ? location_shown : "(no Location)");
	if (st >= 500)
		return err_set(err, EXIT_IO, node, "check Vault's server log, then run the command again",
			       "Vault at %s failed %s %s with HTTP %ld%s: %s", node, call->method, bare, st, retried,
			       msg[0] ? msg : "no error message");
	return err_set(err, EXIT_FAILED, node, NULL, "Vault at %s answered %s %s with HTTP %ld: %s", node, call->method, bare,
		       st, msg[0] ? msg : "no error message");
}

/* --- calls -------------------------------------------------------------------- */

/* What every attempt of one call sends.  The token header is the only copy
 * of the token outside vc->token and is wiped when the call ends. */
struct vault_request {
	char url[4096];
	char token_hdr[VAULT_TOKEN_MAX + 32];
	char ns_hdr[300];
	const char *headers[5];
	size_t n_headers;
	char *json_text;
};

static int vault_request_build(const struct vault_client *vc, const struct vault_call *call, struct vault_request *r,
			       struct drctl_error *err)
{
	if (snprintf(r->url, sizeof(r->url), "%s/v1/%s", vc->address, call->path) >= (int)sizeof(r->url))
		return err_set(err, EXIT_USAGE, call->path, NULL, "Vault path too long");
	r->headers[r->n_headers++] = "X-Vault-Request: true";
	if (!(call->flags & VAULT_CALL_NO_TOKEN) && vc->token) {
		snprintf(r->token_hdr, sizeof(r->token_hdr), "X-Vault-Token: %s", vc->token);
		r->headers[r->n_headers++] = r->token_hdr;
	}
	if (vc->namespace_[0]) {
		snprintf(r->ns_hdr, sizeof(r->ns_hdr), "X-Vault-Namespace: %s", vc->namespace_);
		r->headers[r->n_headers++] = r->ns_hdr;
	}
	if (call->json_body) {
		r->json_text = json_dumps(call->json_body, JSON_COMPACT);
		if (!r->json_text)
			return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		r->headers[r->n_headers++] = "Content-Type: application/json";
	}
	return 0;
}

static void vault_request_wipe(struct vault_request *r)
{
	secure_wipe(r->token_hdr, sizeof(r->token_hdr));
	if (r->json_text) {
		secure_wipe(r->json_text, strlen(r->json_text));
		free(r->json_text);
		r->json_text = NULL;
	}
}

/* VAULT_MAX_RETRIES retries (none with VAULT_CALL_NO_RETRY), the backoff
 * growing from DRCTL_VAULT_RETRY_BASE_MS to 10 s, a Retry-After up to 30 s,
 * no retry beginning more than 10 minutes after the first attempt. */
static void vault_retry_policy(const struct vault_client *vc, const struct vault_call *call, struct http_retry_policy *p)
{
	p->max_attempts = call->flags & VAULT_CALL_NO_RETRY ? 1 : (unsigned)vc->max_retries + 1;
	p->max_elapsed_seconds = 600;
	p->base_delay = vc->retry_base_ms / 1000.0;
	p->max_delay = 10;
	p->max_retry_after = 30;
}

/* What Vault's answers mean beyond the generic rules. */
static enum http_retry_verdict vault_retryable(void *ctx, const struct http_request *req, const struct http_response *res,
					       char *reason, size_t cap)
{
	const struct vault_call *call = ctx;

	(void)reason;
	(void)cap;
	/* Vault treats PUT like POST: only reads are safe to send twice. */
	if (res->transport_failed)
		return res->nothing_sent || !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD") ? HTTP_RETRY_DEFAULT
													: HTTP_RETRY_NO;
	/* sys/health answers 429 for a standby: a state, not a rate limit. */
	if (res->status == 429 && !strncmp(call->path, "sys/health", 10))
		return HTTP_RETRY_NO;
	/* A sealed Vault stays sealed until someone unseals it. */
	if (res->status == 503 && res->body && strstr(res->body, "sealed"))
		return HTTP_RETRY_NO;
	return HTTP_RETRY_DEFAULT;
}

/* node = scheme://host:port of a URL */
static void vault_node_of(const char *url, char *node, size_t cap)
{
	const char *p = strstr(url, "://");
	size_t n = p ? (size_t)(p + 3 - url) + strcspn(p + 3, "/?#") : strcspn(url, "/?#");

	snprintf(node, cap, "%.*s", (int)(n < 500 ? n : 500), url);
}

/* A standby's 307 on a path that follows it (the raft snapshot): the next
 * URL, only of the same scheme (the token must not leave TLS).  Returns 1
 * when followed, 0 when the answer is not such a redirect, -1 on error. */
static int vault_follow_redirect(const struct vault_client *vc, struct vault_call *call, const struct http_response *res,
				 struct vault_request *r, int *redirects, struct drctl_error *err)
{
	const char *location = http_response_header(res, "Location");
	int https = !strncmp(vc->address, "https://", 8);
	char shown[1024];

	if (res->status != 307 || !(call->flags & VAULT_CALL_FOLLOW_307) || !location || !*location ||
	    *redirects >= VAULT_MAX_REDIRECTS)
		return 0;
	http_url_for_message(location, shown, sizeof(shown));
	if (https ? strncmp(location, "https://", 8) : strncmp(location, "http://", 7))
		return err_set(err, EXIT_FAILED, call->node, "point [vault] address / VAULT_ADDR at the active node",
			       "the Vault node at %s redirected to %s, a different scheme; not followed (the token would leave TLS)",
			       call->node, shown);
	log_info("Vault at %s is a standby; following its redirect to the active node %s", call->node, shown);
	if (snprintf(r->url, sizeof(r->url), "%s", location) >= (int)sizeof(r->url))
		return err_set(err, EXIT_FAILED, call->node, NULL, "redirect location too long");
	vault_node_of(location, call->node, sizeof(call->node));
	(*redirects)++;
	return 1;
}

/* Send the call (retried under the policy), following a standby's
 * redirects; res gets the last answer, st counts attempts and retries. */
static int vault_send(struct vault_client *vc, struct vault_call *call, struct vault_request *r, struct http_response *res,
		      struct http_retry_state *st, struct drctl_error *err)
{
	struct http_retry_policy policy;
	struct http_body_origin origin = { .open = call->open_body, .ctx = call->body_ctx, .len = call->body_len };
	struct http_retrying_request rr = {
		.req = { .method = call->method, .url = r->url, .headers = r->headers, .n_headers = r->n_headers,
			 .sink = call->sink, .streamed = call->streamed },
		.policy = &policy, .retryable = vault_retryable, .retryable_ctx = call, .state = st,
	};
	int redirects = 0, followed;

	vault_retry_policy(vc, call, &policy);
	if (r->json_text) {
		rr.req.body = r->json_text;
		rr.req.body_len = strlen(r->json_text);
	} else if (call->open_body) {
		rr.origin = &origin;
	}
	do {
		if (http_perform_retrying(vc->http, &rr, res, err) != 0) {
			call->sink_bytes = res->sink_bytes;
			return -1;
		}
		call->sink_bytes = res->sink_bytes;
	} while ((followed = vault_follow_redirect(vc, call, res, r, &redirects, err)) == 1);
	return followed;
}

/* A 2xx (or an accepted 404) is the answer, its JSON parsed unless it
 * went into the sink; anything else becomes an error. */
static int vault_answer(struct vault_client *vc, struct vault_call *call, const struct http_response *res,
			unsigned retries, struct drctl_error *err)
{
	json_error_t jerr;

	call->status = res->status;
	if (!((res->status >= 200 && res->status < 300) || (res->status == 404 && (call->flags & VAULT_CALL_OK_404))))
		return vault_status_error(vc, call, call->node, res, (int)retries, err);
	if ((call->sink && res->status != 404) || res->body_len == 0)
		return 0;
	call->json = json_loadb(res->body, res->body_len, 0, &jerr);
	if (!call->json && res->status != 404)
		return err_set(err, EXIT_FAILED, call->node, NULL, "Vault at %s answered %s %.*s with a body that is not JSON: %s",
			       call->node, call->method, (int)strcspn(call->path, "?"), call->path, jerr.text);
	return 0;
}

int vault_call(struct vault_client *vc, struct vault_call *call, struct drctl_error *err)
{
	struct vault_request r = { .n_headers = 0 };
	struct http_response res = { 0 };
	struct http_retry_state st = { 0 };
	int rc = -1;

	call->status = 0;
	call->json = NULL;
	call->sink_bytes = 0;
	snprintf(call->node, sizeof(call->node), "%s", vc->address);
	if (vault_request_build(vc, call, &r, err) == 0 && vault_send(vc, call, &r, &res, &st, err) == 0)
		rc = vault_answer(vc, call, &res, st.retries, err);
	vault_request_wipe(&r);
	http_response_free(&res);
	return rc;
}

int vault_json(struct vault_client *vc, const char *method, const char *path, json_t *body,
	       unsigned flags, long *status, json_t **out, struct drctl_error *err)
{
	struct vault_call call = { .method = method, .path = path, .flags = flags, .json_body = body };
	int rc = vault_call(vc, &call, err);

	if (status)
		*status = call.status;
	if (out)
		*out = call.json;
	else
		json_decref(call.json);
	return rc;
}
