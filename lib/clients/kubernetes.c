/*
 * kubernetes: settings, the service account token, the one request path
 * (k8s_call) and what the API's Status objects mean (see kubernetes.h).
 * What drctl does with Deployments and StatefulSets is in
 * kubernetes_workloads.c.
 *
 * Why the token is handled the way it is: a projected service account token
 * is replaced by the kubelet long before it expires (client-go re-reads it
 * too), so the file is read for every request, the token copied only into
 * that request's Authorization line, and both wiped when the request ends.
 */
#include "lib/clients/kubernetes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/core/keyfile.h"
#include "lib/core/log.h"

#define K8S_TOKEN_MAX (64u << 10)
#define K8S_URL_MAX 8192
#define K8S_CONTINUE_MAX 4096
#define K8S_LIST_RESTARTS 3
#define K8S_PAGES_MAX 100000

static const char k8s_token_default[] = K8S_SERVICE_ACCOUNT_DIR "/token";
static const char k8s_ca_default[] = K8S_SERVICE_ACCOUNT_DIR "/ca.crt";

struct k8s_client {
	struct http_client *http;
	char url[1024];          /* scheme://host:port, no trailing slash */
	char token_file[4096];   /* "" when no token is sent */
	char ca_file[4096];      /* "" for the system's trust store */
	long chunk_size;
	const struct http_retry_env *env;
};

/* --- settings -------------------------------------------------------------------- */

/* [kubernetes] api_url, else the in-cluster address client-go uses. */
static int k8s_resolve_url(struct k8s_client *kc, const struct config *cfg, int *in_cluster, struct drctl_error *err)
{
	const char *url = config_get(cfg, "kubernetes", "api_url");
	const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
	size_t n;

	*in_cluster = 0;
	if (url && *url) {
		if (strncmp(url, "https://", 8) && strncmp(url, "http://", 7))
			return err_set(err, EXIT_USAGE, "[kubernetes] api_url", "use https://HOST:PORT (kubectl config view --minify shows it)",
				       "[kubernetes] api_url \"%.200s\" is not an https:// URL", url);
		if (snprintf(kc->url, sizeof(kc->url), "%s", url) >= (int)sizeof(kc->url))
			return err_set(err, EXIT_USAGE, "[kubernetes] api_url", NULL, "[kubernetes] api_url is too long");
	} else if (host && *host && port && *port) {
		*in_cluster = 1;
		if (snprintf(kc->url, sizeof(kc->url), strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host, port) >=
		    (int)sizeof(kc->url))
			return err_set(err, EXIT_USAGE, "KUBERNETES_SERVICE_HOST", NULL, "KUBERNETES_SERVICE_HOST is too long");
	} else {
		return err_set(err, EXIT_USAGE, "[kubernetes] api_url",
			       "run drctl in a pod with a service account, or set [kubernetes] api_url, token_file and ca_file (docs/kubernetes.md)",
			       "no Kubernetes API to talk to: [kubernetes] api_url is not set and KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT are not (drctl is not in a pod)");
	}
	while ((n = strlen(kc->url)) > 8 && kc->url[n - 1] == '/')
		kc->url[n - 1] = '\0';
	return 0;
}

/* token_file, else the pod's token: required in a pod, optional otherwise
 * (an api_url of `kubectl proxy` needs none). */
static int k8s_resolve_token(struct k8s_client *kc, const struct config *cfg, int in_cluster, struct drctl_error *err)
{
	const char *file = config_get_path(cfg, "kubernetes", "token_file");
	int https = !strncmp(kc->url, "https://", 8);
	struct stat st;

	if (file && *file) {
		if (!https)
			return err_set(err, EXIT_USAGE, "[kubernetes] token_file",
				       "use an https:// api_url, or unset token_file for `kubectl proxy`",
				       "refusing to send the token of [kubernetes] token_file over plain http to %s", kc->url);
		snprintf(kc->token_file, sizeof(kc->token_file), "%s", file);
		return 0;
	}
	if (https && (in_cluster || stat(k8s_token_default, &st) == 0))
		snprintf(kc->token_file, sizeof(kc->token_file), "%s", k8s_token_default);
	return 0;
}

int k8s_client_open(struct k8s_client **out, const struct config *cfg, struct drctl_error *err)
{
	struct k8s_client *kc = calloc(1, sizeof(*kc));
	struct http_tls tls = { 0 };
	const char *ca;
	long timeout = 30;
	int in_cluster = 0;
	struct stat st;

	*out = NULL;
	if (!kc)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	if (k8s_resolve_url(kc, cfg, &in_cluster, err) != 0 || k8s_resolve_token(kc, cfg, in_cluster, err) != 0)
		goto fail;
	ca = config_get_path(cfg, "kubernetes", "ca_file");
	if (ca && *ca)
		snprintf(kc->ca_file, sizeof(kc->ca_file), "%s", ca);
	else if (stat(k8s_ca_default, &st) == 0)
		snprintf(kc->ca_file, sizeof(kc->ca_file), "%s", k8s_ca_default);
	if (kc->ca_file[0] && stat(kc->ca_file, &st) != 0) {
		err_set_errno(err, EXIT_USAGE, errno, kc->ca_file, "check [kubernetes] ca_file",
			      "cannot read the Kubernetes API's CA bundle %s", kc->ca_file);
		goto fail;
	}
	tls.ca_file = kc->ca_file[0] ? kc->ca_file : NULL;
	if (config_get_int(cfg, "kubernetes", "timeout_seconds", &timeout) != 0 || timeout <= 0)
		timeout = 30;
	if (config_get_int(cfg, "kubernetes", "chunk_size", &kc->chunk_size) != 0 || kc->chunk_size <= 0)
		kc->chunk_size = 500;
	kc->http = http_client_new(&tls, timeout, err);
	if (!kc->http)
		goto fail;
	log_debug("kubernetes: API at %s, %s, CA %s", kc->url, kc->token_file[0] ? "token from the token file" : "no token",
		  kc->ca_file[0] ? kc->ca_file : "of the system");
	*out = kc;
	return 0;
fail:
	k8s_client_close(kc);
	return -1;
}

void k8s_client_close(struct k8s_client *kc)
{
	if (!kc)
		return;
	http_client_free(kc->http);
	free(kc);
}

const char *k8s_client_url(const struct k8s_client *kc)
{
	return kc->url;
}

void k8s_client_set_env(struct k8s_client *kc, const struct http_retry_env *env)
{
	kc->env = env;
}

/* --- the token --------------------------------------------------------------- */

/* The token as the file holds it now (trailing blanks removed); NULL and 0
 * when none is sent.  Free with k8s_token_free. */
static int k8s_token_read(const struct k8s_client *kc, char **token, struct drctl_error *err)
{
	char *data = NULL;
	size_t len = 0;

	*token = NULL;
	if (!kc->token_file[0])
		return 0;
	/* Kubernetes mounts the token 0644: its mode is not held against it. */
	if (keyfile_read(kc->token_file, "Kubernetes service account token", 0, K8S_TOKEN_MAX, &data, &len, err) != 0) {
		err_hint(err, "check [kubernetes] token_file (%s), or run drctl in a pod whose service account token is mounted",
			 kc->token_file);
		return -1;
	}
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r' || data[len - 1] == ' ' || data[len - 1] == '\t'))
		len--;
	*token = len ? strndup(data, len) : NULL;
	keyfile_free(data, len);
	if (!len)
		return err_set(err, EXIT_USAGE, kc->token_file, "check [kubernetes] token_file",
			       "the Kubernetes token file %s is empty", kc->token_file);
	return *token ? 0 : err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
}

static void k8s_token_free(char *t)
{
	if (t) {
		secure_wipe(t, strlen(t));
		free(t);
	}
}

/* --- paths and names ------------------------------------------------------------ */

/* "/apis/apps/v1/namespaces/NS/deployments/NAME/scale" */
static int k8s_ref_path(const struct k8s_ref *ref, char *out, size_t cap)
{
	char ns[512], name[512];
	int n;

	if (http_escape_segment(ref->ns ? ref->ns : "", ns, sizeof(ns)) != 0 ||
	    http_escape_segment(ref->name ? ref->name : "", name, sizeof(name)) != 0)
		return -1;
	n = ref->group && *ref->group ? snprintf(out, cap, "/apis/%s/v1", ref->group) : snprintf(out, cap, "/api/v1");
	if (ref->ns)
		n += snprintf(out + n, cap - (size_t)n, "/namespaces/%s", ns);
	n += snprintf(out + n, cap - (size_t)n, "/%s", ref->resource);
	if (ref->name)
		n += snprintf(out + n, cap - (size_t)n, "/%s", name);
	if (ref->name && ref->subresource)
		n += snprintf(out + n, cap - (size_t)n, "/%s", ref->subresource);
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* The RBAC verb of a request. */
static const char *k8s_verb(const char *method, const struct k8s_ref *ref)
{
	if (!strcmp(method, "GET"))
		return ref->name ? "get" : "list";
	if (!strcmp(method, "PATCH"))
		return "patch";
	if (!strcmp(method, "PUT"))
		return "update";
	if (!strcmp(method, "POST"))
		return "create";
	return "delete";
}

/* "deployments/scale" */
static void k8s_resource_name(const struct k8s_ref *ref, char *out, size_t cap)
{
	snprintf(out, cap, "%s%s%s", ref->resource, ref->name && ref->subresource ? "/" : "",
		 ref->name && ref->subresource ? ref->subresource : "");
}

/* "deployments/scale ai-agents/planner", "pods in ai-agents" */
static void k8s_ref_describe(const struct k8s_ref *ref, char *out, size_t cap)
{
	char res[128];

	k8s_resource_name(ref, res, sizeof(res));
	if (ref->name)
		snprintf(out, cap, "%s %s%s%s", res, ref->ns ? ref->ns : "", ref->ns ? "/" : "", ref->name);
	else
		snprintf(out, cap, "%s in %s", res, ref->ns ? ref->ns : "every namespace");
}

/* --- errors ---------------------------------------------------------------------- */

/* The Status object's message (the body's start when it is none: a proxy's
 * page), cut to what a message can hold, control characters dropped. */
static void k8s_status_message(const struct http_response *res, char *msg, size_t cap, char *reason, size_t rcap)
{
	json_t *j = res->body ? json_loadb(res->body, res->body_len, 0, NULL) : NULL;
	const char *m = json_string_value(json_object_get(j, "message"));
	const char *r = json_string_value(json_object_get(j, "reason"));
	const char *src = m ? m : (j ? "" : res->body ? res->body : "");
	size_t o = 0;

	for (const char *p = src; *p && o + 1 < cap && o < 300; p++)
		msg[o++] = (unsigned char)*p < 0x20 ? ' ' : *p;
	msg[o] = '\0';
	snprintf(reason, rcap, "%s", r ? r : http_status_text(res->status));
	json_decref(j);
}

static int k8s_status_error(const struct k8s_client *kc, const char *method, const struct k8s_ref *ref,
			    const char *patch_type, const struct http_response *res, unsigned retries,
			    struct drctl_error *err)
{
	const char *verb = k8s_verb(method, ref);
	char msg[320], reason[64], what[600], res_name[128], retried[48] = "";
	long st = res->status;

	k8s_status_message(res, msg, sizeof(msg), reason, sizeof(reason));
	k8s_ref_describe(ref, what, sizeof(what));
	k8s_resource_name(ref, res_name, sizeof(res_name));
	if (retries)
		snprintf(retried, sizeof(retried), " (after %u retries)", retries);
	if (st == 401)
		return err_set(err, EXIT_USAGE, kc->token_file[0] ? kc->token_file : kc->url,
			       kc->token_file[0]
				       ? "check [kubernetes] token_file: it must hold a valid token of this cluster's service account (kubectl create token SERVICEACCOUNT prints one)"
				       : "set [kubernetes] token_file to a service account token of this cluster",
			       "the Kubernetes API at %s refused drctl's credentials on %s %s (401 %s)%s%s", kc->url, verb, what,
			       reason, msg[0] ? ": " : "", msg);
	if (st == 403) {
		char hint[512];
		snprintf(hint, sizeof(hint),
			 "grant drctl's service account the rule {apiGroups: [\"%s\"], resources: [\"%s\"], verbs: [\"%s\"]} in a Role of namespace %s, as in the README's \"Kubernetes RBAC\" section (docs/kubernetes.md)",
			 ref->group ? ref->group : "", res_name, verb, ref->ns ? ref->ns : "(all)");
		return err_set(err, EXIT_USAGE, what, hint,
			       "the Kubernetes API at %s forbids %s on %s (API group \"%s\") in namespace %s: %s", kc->url, verb,
			       res_name, ref->group ? ref->group : "", ref->ns ? ref->ns : "(all)", msg[0] ? msg : reason);
	}
	if (st == 404)
		return err_set(err, EXIT_NOT_FOUND, what, "check the namespace and the name: kubectl get with the same namespace lists what exists",
			       "%s not found at the Kubernetes API at %s%s%s", what, kc->url, msg[0] ? ": " : "", msg);
	if (st == 409)
		return err_set(err, EXIT_FAILED, what, "something else changes it at the same time; run the command again",
			       "%s on %s conflicted (409 %s)%s: %s", verb, what, reason, retried, msg);
	if (st == 410)
		return err_set(err, EXIT_FAILED, what, "run the command again",
			       "%s of %s: the API server no longer has that version (410 %s): %s", verb, what, reason, msg);
	if (st == 415)
		return err_set(err, EXIT_FAILED, what, "this resource takes another patch type (a custom resource takes no strategic merge patch)",
			       "the Kubernetes API at %s does not take a %s patch of %s (415 %s): %s", kc->url,
			       patch_type ? patch_type : "(none)", what, reason, msg);
	if (st == 429)
		return err_set(err, EXIT_IO, kc->url, "the API server is overloaded (API Priority and Fairness); wait and run the command again",
			       "the Kubernetes API at %s kept answering %s %s with 429 %s%s: %s", kc->url, verb, what, reason,
			       retried, msg);
	if (st >= 500)
		return err_set(err, EXIT_IO, kc->url, "check the API server's health (kubectl get --raw /readyz), then run the command again",
			       "the Kubernetes API at %s failed %s %s with HTTP %ld %s%s: %s", kc->url, verb, what, st, reason,
			       retried, msg);
	return err_set(err, EXIT_FAILED, what, NULL, "the Kubernetes API at %s answered %s %s with HTTP %ld %s: %s", kc->url,
		       verb, what, st, reason, msg);
}

/* --- requests ---------------------------------------------------------------------- */

struct k8s_call {
	const char *method;
	const struct k8s_ref *ref;
	const char *query;        /* escaped already; may be NULL */
	const char *content_type; /* of the body */
	json_t *body;
	unsigned flags;           /* K8S_ANSWER_*, K8S_IDEMPOTENT, K8S_ANSWER_410 */
	const char *log_note;     /* after the path in the -v log ("page 2") */
	long status;
	json_t *json;             /* the 2xx answer */
};

#define K8S_ANSWER_410 0x100u /* internal: k8s_list's expired continue token */

/* A PATCH that sets a value may be sent again after a broken connection. */
static enum http_retry_verdict k8s_retryable(void *ctx, const struct http_request *req, const struct http_response *res,
					     char *reason, size_t cap)
{
	const struct k8s_call *call = ctx;

	(void)req;
	(void)reason;
	(void)cap;
	if (res->transport_failed && !res->tls_failed && (call->flags & K8S_IDEMPOTENT))
		return HTTP_RETRY_YES;
	return HTTP_RETRY_DEFAULT;
}

/* One request with the token as the file holds it now; *sent_token keeps
 * what was sent (to tell a rotation after a 401). */
static int k8s_send(struct k8s_client *kc, struct k8s_call *call, const char *url, const char *body,
		    struct http_response *res, unsigned *retries, char **sent_token, struct drctl_error *err)
{
	char *auth = NULL, ctype[128];
	const char *headers[3];
	size_t n = 0;
	struct http_retry_state st = { 0 };
	struct http_retrying_request rr = {
		.retryable = k8s_retryable, .retryable_ctx = call, .state = &st, .env = kc->env,
	};
	int rc = -1;

	if (k8s_token_read(kc, sent_token, err) != 0)
		return -1;
	headers[n++] = "Accept: application/json";
	if (*sent_token) {
		size_t len = strlen(*sent_token) + 32;
		if (!(auth = malloc(len)))
			return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		snprintf(auth, len, "Authorization: Bearer %s", *sent_token);
		headers[n++] = auth;
	}
	if (body) {
		snprintf(ctype, sizeof(ctype), "Content-Type: %s", call->content_type);
		headers[n++] = ctype;
	}
	rr.req = (struct http_request){ .method = call->method, .url = url, .headers = headers, .n_headers = n,
					.body = body, .body_len = body ? strlen(body) : 0 };
	rc = http_perform_retrying(kc->http, &rr, res, err);
	*retries = st.retries;
	if (auth) {
		secure_wipe(auth, strlen(auth));
		free(auth);
	}
	if (rc != 0 && res->tls_failed)
		err_hint(err, "check [kubernetes] ca_file (%s): it must hold the CA of the API server's certificate",
			 kc->ca_file[0] ? kc->ca_file : "unset: the system's trust store");
	return rc;
}

/* After a 401: was the token rotated since it was read?  Then once more. */
static int k8s_token_rotated(const struct k8s_client *kc, const char *sent)
{
	struct drctl_error ignored;
	char *now = NULL;
	int rotated;

	err_clear(&ignored);
	if (!sent || k8s_token_read(kc, &now, &ignored) != 0)
		return 0;
	rotated = strcmp(now, sent) != 0;
	k8s_token_free(now);
	return rotated;
}

static void k8s_log_request(const struct k8s_client *kc, const struct k8s_call *call, const char *path, double started)
{
	char query[512] = "";

	(void)kc;
	/* A continue token is long and says nothing to a person. */
	if (call->query)
		snprintf(query, sizeof(query), "?%.*s", (int)strcspn(call->query, "&"), call->query);
	log_debug("kubernetes: %s %s%s%s%s -> %ld (%.2f s)", call->method, path, query, call->log_note ? " " : "",
		  call->log_note ? call->log_note : "", call->status, now_seconds() - started);
}

static int k8s_call(struct k8s_client *kc, struct k8s_call *call, struct drctl_error *err)
{
	struct http_response res = { 0 };
	char path[2048], *url = malloc(K8S_URL_MAX), *body = NULL, *sent = NULL;
	double started = now_seconds();
	unsigned retries = 0;
	int rc = -1, again = 1;

	call->status = 0;
	call->json = NULL;
	if (!url) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		goto cleanup;
	}
	if (k8s_ref_path(call->ref, path, sizeof(path)) != 0 ||
	    snprintf(url, K8S_URL_MAX, "%s%s%s%s", kc->url, path, call->query ? "?" : "", call->query ? call->query : "") >=
		    K8S_URL_MAX) {
		err_set(err, EXIT_USAGE, call->ref->name ? call->ref->name : call->ref->resource, NULL,
			"the Kubernetes request for %s is too long", call->ref->resource);
		goto cleanup;
	}
	if (call->body && !(body = json_dumps(call->body, JSON_COMPACT))) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		goto cleanup;
	}
	for (;;) {
		if (k8s_send(kc, call, url, body, &res, &retries, &sent, err) != 0)
			goto cleanup;
		call->status = res.status;
		k8s_log_request(kc, call, path, started);
		if (res.status != 401 || !again-- || !k8s_token_rotated(kc, sent))
			break;
		log_info("the Kubernetes token in %s changed since the request was sent; sending it again with the new one",
			 kc->token_file);
		k8s_token_free(sent);
		sent = NULL;
	}
	if ((res.status == 404 && (call->flags & K8S_ANSWER_404)) || (res.status == 409 && (call->flags & K8S_ANSWER_409)) ||
	    (res.status == 410 && (call->flags & K8S_ANSWER_410))) {
		rc = 1;
		goto cleanup;
	}
	if (res.status < 200 || res.status >= 300) {
		k8s_status_error(kc, call->method, call->ref, call->content_type, &res, retries, err);
		goto cleanup;
	}
	if (!(call->json = json_loadb(res.body ? res.body : "", res.body_len, 0, NULL)) || !json_is_object(call->json)) {
		char what[600];
		k8s_ref_describe(call->ref, what, sizeof(what));
		err_set(err, EXIT_FAILED, what, "check that [kubernetes] api_url is the API server, not another service",
			"the Kubernetes API at %s answered %s %s with a body that is not a JSON object", kc->url,
			k8s_verb(call->method, call->ref), what);
		json_decref(call->json);
		call->json = NULL;
		goto cleanup;
	}
	rc = 0;
cleanup:
	k8s_token_free(sent);
	http_response_free(&res);
	if (body) {
		secure_wipe(body, strlen(body));
		free(body);
	}
	free(url);
	return rc;
}

int k8s_get(struct k8s_client *kc, const struct k8s_ref *ref, unsigned flags, long *status, json_t **obj,
	    struct drctl_error *err)
{
	struct k8s_call call = { .method = "GET", .ref = ref, .flags = flags & (K8S_ANSWER_404 | K8S_ANSWER_409) };
	int rc = k8s_call(kc, &call, err);

	if (status)
		*status = call.status;
	*obj = call.json;
	return rc;
}

int k8s_patch(struct k8s_client *kc, const struct k8s_ref *ref, const char *patch_type, json_t *patch,
	      unsigned flags, long *status, json_t **obj, struct drctl_error *err)
{
	struct k8s_call call = { .method = "PATCH", .ref = ref, .content_type = patch_type, .body = patch,
				 .flags = flags & (K8S_ANSWER_404 | K8S_ANSWER_409 | K8S_IDEMPOTENT) };
	int rc = k8s_call(kc, &call, err);

	if (status)
		*status = call.status;
	if (obj)
		*obj = call.json;
	else
		json_decref(call.json);
	return rc;
}

/* --- lists ------------------------------------------------------------------------- */

/* "labelSelector=...&limit=N&continue=..." */
static int k8s_list_query(const struct k8s_client *kc, const char *selector, const char *cont, char *out, size_t cap)
{
	char sel[2048] = "", c[3 * K8S_CONTINUE_MAX + 1] = "";
	int n;

	if ((selector && *selector && http_escape_segment(selector, sel, sizeof(sel)) != 0) ||
	    (cont && *cont && http_escape_segment(cont, c, sizeof(c)) != 0))
		return -1;
	n = snprintf(out, cap, "%s%s%slimit=%ld%s%s", sel[0] ? "labelSelector=" : "", sel, sel[0] ? "&" : "", kc->chunk_size,
		     c[0] ? "&continue=" : "", c);
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* One pass over the pages.  Returns 0 done, 1 when the continue token
 * expired (start again), -1 error. */
static int k8s_list_pass(struct k8s_client *kc, const struct k8s_ref *ref, const char *selector, json_t *items,
			 struct drctl_error *err)
{
	char cont[K8S_CONTINUE_MAX + 1] = "", query[3 * K8S_CONTINUE_MAX + 2200], note[32];
	json_t *item;
	size_t i;

	for (long page = 1; page <= K8S_PAGES_MAX; page++) {
		struct k8s_call call = { .method = "GET", .ref = ref, .query = query, .log_note = note,
					 .flags = cont[0] ? K8S_ANSWER_410 : 0 };
		const char *next;
		int rc;

		if (k8s_list_query(kc, selector, cont, query, sizeof(query)) != 0)
			return err_set(err, EXIT_USAGE, selector, NULL, "the label selector is too long");
		snprintf(note, sizeof(note), "(page %ld)", page);
		if ((rc = k8s_call(kc, &call, err)) != 0)
			return rc;
		json_array_foreach(json_object_get(call.json, "items"), i, item)
			json_array_append(items, item);
		next = json_string_value(json_object_get(json_object_get(call.json, "metadata"), "continue"));
		if (!next || !*next) {
			json_decref(call.json);
			return 0;
		}
		if (strlen(next) > K8S_CONTINUE_MAX) {
			json_decref(call.json);
			return err_set(err, EXIT_FAILED, ref->resource, NULL, "the Kubernetes API's continue token is too long");
		}
		snprintf(cont, sizeof(cont), "%s", next);
		json_decref(call.json);
	}
	return err_set(err, EXIT_FAILED, ref->resource, NULL, "the list of %s did not end after %d pages", ref->resource,
		       K8S_PAGES_MAX);
}

int k8s_list(struct k8s_client *kc, const struct k8s_ref *ref, const char *selector, json_t **items,
	     struct drctl_error *err)
{
	char what[600];

	*items = NULL;
	k8s_ref_describe(ref, what, sizeof(what));
	for (int restarts = 0;; restarts++) {
		json_t *all = json_array();
		int rc = all ? k8s_list_pass(kc, ref, selector, all, err) : err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		if (rc == 0) {
			*items = all;
			return 0;
		}
		json_decref(all);
		if (rc < 0)
			return -1;
		if (restarts + 1 >= K8S_LIST_RESTARTS)
			return err_set(err, EXIT_FAILED, what, "the cluster changes faster than drctl can list it; run the command again",
				       "listing %s: the continue token expired %d times (410 Expired)", what, K8S_LIST_RESTARTS);
		log_info("listing %s: the continue token expired (410 Expired); listing again from the start", what);
	}
}
