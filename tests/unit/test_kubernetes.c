/*
 * The Kubernetes client (lib/clients/kubernetes*.c) on fixtures shaped as
 * the API reference gives its objects (tests/data/kubernetes/README.md),
 * with the HTTP attempts scripted through the retry layer's world: kubectl's
 * rollout status rules step by step (a Deployment mid-rollout, one past its
 * progress deadline, one scaled to zero with its zero counters omitted, a
 * StatefulSet with revisions and a partition), selectors, a Status 403 that
 * names the RBAC rule, 401/404 and their hints, a list paged with continue
 * and started over on 410 Expired, a 409 answered by a fresh read, the
 * restart patch (and a paused Deployment refused as kubectl refuses it), and
 * the token file read for every request (a rotation picked up, a 401 right
 * after one sent again) without the token ever in an error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/clients/kubernetes.h"
#include "lib/core/config.h"
#include "lib/core/log.h"

#define FIXTURES TEST_DATA_DIR "/kubernetes/"

static json_t *fixture(const char *name)
{
	char path[512];
	json_error_t e;
	json_t *j;

	snprintf(path, sizeof(path), FIXTURES "%s", name);
	j = json_load_file(path, 0, &e);
	if (!j)
		fail_msg("fixture %s: %s", path, e.text);
	return j;
}

static char *fixture_text(const char *name)
{
	json_t *j = fixture(name);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

static void set_path(json_t *obj, const char *a, const char *b, json_t *value)
{
	json_t *o = json_object_get(obj, a);
	if (b)
		json_object_set_new(o, b, value);
	else
		json_object_set_new(obj, a, value);
}

/* --- rollout status ---------------------------------------------------------------- */

static enum k8s_rollout rollout(enum k8s_kind kind, json_t *obj, char *msg)
{
	return k8s_rollout_status(kind, obj, msg, 512);
}

static void test_deployment_rollout_walks_kubectl_conditions(void **state)
{
	json_t *d = fixture("deployment-mid-rollout.json");
	json_t *st = json_object_get(d, "status");
	char msg[512];

	(void)state;
	/* updatedReplicas 2 < spec.replicas 3 */
	assert_int_equal(rollout(K8S_DEPLOYMENT, d, msg), K8S_ROLLOUT_WAITING);
	assert_string_equal(msg, "Waiting for deployment \"planner\" rollout to finish: 2 out of 3 new replicas have been updated...");
	/* all updated, the old ReplicaSet's pod still there: replicas 4 > updated 3 */
	json_object_set_new(st, "updatedReplicas", json_integer(3));
	assert_int_equal(rollout(K8S_DEPLOYMENT, d, msg), K8S_ROLLOUT_WAITING);
	assert_string_equal(msg, "Waiting for deployment \"planner\" rollout to finish: 1 old replicas are pending termination...");
	/* old pod gone, one new pod not available yet */
	json_object_set_new(st, "replicas", json_integer(3));
	json_object_set_new(st, "availableReplicas", json_integer(2));
	assert_int_equal(rollout(K8S_DEPLOYMENT, d, msg), K8S_ROLLOUT_WAITING);
	assert_string_equal(msg, "Waiting for deployment \"planner\" rollout to finish: 2 of 3 updated replicas are available...");
	json_object_set_new(st, "availableReplicas", json_integer(3));
	assert_int_equal(rollout(K8S_DEPLOYMENT, d, msg), K8S_ROLLOUT_COMPLETE);
	assert_string_equal(msg, "deployment \"planner\" successfully rolled out");
	/* a new spec the controller has not seen: nothing else counts */
	set_path(d, "metadata", "generation", json_integer(6));
	assert_int_equal(rollout(K8S_DEPLOYMENT, d, msg), K8S_ROLLOUT_WAITING);
	assert_string_equal(msg, "Waiting for deployment spec update to be observed...");
	json_decref(d);
}

static void test_deployment_progress_deadline_is_a_failure(void **state)
{
	json_t *d = fixture("deployment-progress-deadline.json");
	char msg[512];

	(void)state;
	assert_int_equal(rollout(K8S_DEPLOYMENT, d, msg), K8S_ROLLOUT_FAILED);
	assert_string_equal(msg, "deployment \"support\" exceeded its progress deadline");
	/* ... but only once the controller observed the spec, as kubectl reads it */
	set_path(d, "metadata", "generation", json_integer(10));
	assert_int_equal(rollout(K8S_DEPLOYMENT, d, msg), K8S_ROLLOUT_WAITING);
	json_decref(d);
}

static void test_deployment_scaled_to_zero_with_omitted_counters(void **state)
{
	json_t *d = fixture("deployment-scaled-to-zero.json");
	char msg[512];

	(void)state;
	assert_int_equal(k8s_spec_replicas(d), 0);
	assert_int_equal(k8s_status_count(d, "readyReplicas"), 0);
	assert_int_equal(k8s_status_count(d, "replicas"), 0);
	assert_int_equal(rollout(K8S_DEPLOYMENT, d, msg), K8S_ROLLOUT_COMPLETE);
	/* spec.replicas absent: the API's default, 1 */
	json_object_del(json_object_get(d, "spec"), "replicas");
	assert_int_equal(k8s_spec_replicas(d), 1);
	json_decref(d);
}

static void test_statefulset_rollout_partition_and_revisions(void **state)
{
	json_t *s = fixture("statefulset-revisions.json");
	json_t *st = json_object_get(s, "status"), *strategy = json_object_get(json_object_get(s, "spec"), "updateStrategy");
	char msg[512];

	(void)state;
	/* partition 0: 1 of 2 pods updated */
	assert_int_equal(rollout(K8S_STATEFULSET, s, msg), K8S_ROLLOUT_WAITING);
	assert_string_equal(msg, "Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...");
	/* partition 1 keeps one pod at the old revision on purpose */
	json_object_set_new(json_object_get(strategy, "rollingUpdate"), "partition", json_integer(1));
	assert_int_equal(rollout(K8S_STATEFULSET, s, msg), K8S_ROLLOUT_COMPLETE);
	assert_string_equal(msg, "partitioned roll out complete: 1 new pods have been updated...");
	/* without rollingUpdate: the revisions decide */
	json_object_del(strategy, "rollingUpdate");
	assert_int_equal(rollout(K8S_STATEFULSET, s, msg), K8S_ROLLOUT_WAITING);
	assert_string_equal(msg, "waiting for statefulset rolling update to complete 1 pods at revision research-85b9f6d7c8...");
	json_object_set_new(st, "currentRevision", json_string("research-85b9f6d7c8"));
	json_object_set_new(st, "currentReplicas", json_integer(2));
	assert_int_equal(rollout(K8S_STATEFULSET, s, msg), K8S_ROLLOUT_COMPLETE);
	assert_string_equal(msg, "statefulset rolling update complete 2 pods at revision research-85b9f6d7c8...");
	/* a pod not ready */
	json_object_set_new(st, "readyReplicas", json_integer(1));
	assert_int_equal(rollout(K8S_STATEFULSET, s, msg), K8S_ROLLOUT_WAITING);
	assert_string_equal(msg, "Waiting for 1 pods to be ready...");
	/* observedGeneration 0 (absent) is never "observed" */
	json_object_del(st, "observedGeneration");
	assert_int_equal(rollout(K8S_STATEFULSET, s, msg), K8S_ROLLOUT_WAITING);
	assert_string_equal(msg, "Waiting for statefulset spec update to be observed...");
	json_decref(s);
}

static void test_statefulset_on_delete_needs_ready_pods_only(void **state)
{
	json_t *s = fixture("statefulset-revisions.json");
	json_t *strategy = json_object_get(json_object_get(s, "spec"), "updateStrategy");
	char msg[512];

	(void)state;
	json_object_set_new(strategy, "type", json_string("OnDelete"));
	json_object_del(strategy, "rollingUpdate");
	assert_int_equal(rollout(K8S_STATEFULSET, s, msg), K8S_ROLLOUT_COMPLETE);
	json_object_set_new(json_object_get(s, "status"), "readyReplicas", json_integer(0));
	assert_int_equal(rollout(K8S_STATEFULSET, s, msg), K8S_ROLLOUT_WAITING);
	json_decref(s);
}

static void test_selector_string(void **state)
{
	json_t *sel = json_loads("{\"matchLabels\":{\"app\":\"planner\",\"tier\":\"agents\"},\"matchExpressions\":["
				 "{\"key\":\"env\",\"operator\":\"In\",\"values\":[\"prod\",\"staging\"]},"
				 "{\"key\":\"canary\",\"operator\":\"DoesNotExist\"},"
				 "{\"key\":\"team\",\"operator\":\"Exists\"},"
				 "{\"key\":\"zone\",\"operator\":\"NotIn\",\"values\":[\"b\"]}]}",
				 0, NULL);
	char out[256], tiny[8];

	(void)state;
	assert_int_equal(k8s_selector_string(sel, out, sizeof(out)), 0);
	assert_string_equal(out, "app=planner,tier=agents,env in (prod,staging),!canary,team,zone notin (b)");
	assert_int_equal(k8s_selector_string(sel, tiny, sizeof(tiny)), -1);
	json_object_set_new(json_array_get(json_object_get(sel, "matchExpressions"), 0), "operator", json_string("Like"));
	assert_int_equal(k8s_selector_string(sel, out, sizeof(out)), -1);
	json_decref(sel);
}

/* --- a scripted API server ------------------------------------------------------------ */

#define SCRIPT_MAX 16

struct answer {
	const char *method;      /* expected */
	const char *path;        /* expected in the URL */
	long status;
	const char *body_file;   /* fixture, or */
	const char *body;
	const char *rotate_to;   /* after this answer, the token file holds this */
};

struct server {
	struct answer script[SCRIPT_MAX];
	size_t n, served;
	char urls[SCRIPT_MAX][1024];
	char methods[SCRIPT_MAX][16];
	char auth[SCRIPT_MAX][256];
	char ctype[SCRIPT_MAX][128];
	char bodies[SCRIPT_MAX][1024];
	double now;
	char token_file[256];
};

static struct server srv;

static void write_token(const char *token)
{
	char tmp[300];
	FILE *f;

	/* as the kubelet does it: a new file, renamed over the old one */
	snprintf(tmp, sizeof(tmp), "%s.new", srv.token_file);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", token);
	fclose(f);
	assert_int_equal(rename(tmp, srv.token_file), 0);
}

static double s_now(void *ud) { (void)ud; return srv.now; }
static void s_sleep(void *ud, double s) { (void)ud; srv.now += s; }
static double s_random(void *ud) { (void)ud; return 0.5; }

static int s_perform(void *ud, struct http_client *c, const struct http_request *req, struct http_response *res,
		     struct drctl_error *err)
{
	const struct answer *a;
	size_t i = srv.served;

	(void)ud;
	(void)c;
	(void)err;
	if (i >= srv.n)
		fail_msg("unexpected request %s %s", req->method, req->url);
	a = &srv.script[i];
	snprintf(srv.urls[i], sizeof(srv.urls[i]), "%s", req->url);
	snprintf(srv.methods[i], sizeof(srv.methods[i]), "%s", req->method);
	srv.auth[i][0] = srv.ctype[i][0] = srv.bodies[i][0] = '\0';
	for (size_t h = 0; h < req->n_headers; h++) {
		if (!strncmp(req->headers[h], "Authorization: ", 15))
			snprintf(srv.auth[i], sizeof(srv.auth[i]), "%s", req->headers[h] + 15);
		if (!strncmp(req->headers[h], "Content-Type: ", 14))
			snprintf(srv.ctype[i], sizeof(srv.ctype[i]), "%s", req->headers[h] + 14);
	}
	if (req->body)
		snprintf(srv.bodies[i], sizeof(srv.bodies[i]), "%.*s", (int)req->body_len, (const char *)req->body);
	if (a->method && strcmp(a->method, req->method))
		fail_msg("request %zu: %s %s, expected %s", i, req->method, req->url, a->method);
	if (a->path && !strstr(req->url, a->path))
		fail_msg("request %zu: %s, expected a URL with %s", i, req->url, a->path);
	http_response_free(res);
	memset(res, 0, sizeof(*res));
	res->status = a->status;
	res->body = a->body_file ? fixture_text(a->body_file) : strdup(a->body ? a->body : "{}");
	res->body_len = strlen(res->body);
	if (a->rotate_to)
		write_token(a->rotate_to);
	srv.served++;
	return 0;
}

static const struct http_retry_env s_env = { .now = s_now, .sleep = s_sleep, .random = s_random, .perform = s_perform };

static struct k8s_client *client_with(const struct answer *script, size_t n, const char *token)
{
	struct config *cfg = config_new_empty();
	struct drctl_error err;
	struct k8s_client *kc = NULL;
	char ca[300];
	FILE *f;

	memset(&srv, 0, sizeof(srv));
	memcpy(srv.script, script, n * sizeof(*script));
	srv.n = n;
	snprintf(srv.token_file, sizeof(srv.token_file), "/tmp/drctl-test-k8s-%d.token", (int)getpid());
	snprintf(ca, sizeof(ca), "/tmp/drctl-test-k8s-%d.ca", (int)getpid());
	f = fopen(ca, "w");
	assert_non_null(f);
	fclose(f);
	write_token(token);
	err_clear(&err);
	assert_int_equal(config_set(cfg, "kubernetes", "api_url", "https://k8s.test:6443/", &err), 0);
	assert_int_equal(config_set(cfg, "kubernetes", "token_file", srv.token_file, &err), 0);
	assert_int_equal(config_set(cfg, "kubernetes", "ca_file", ca, &err), 0);
	assert_int_equal(config_set(cfg, "kubernetes", "chunk_size", "2", &err), 0);
	if (k8s_client_open(&kc, cfg, &err) != 0)
		fail_msg("k8s_client_open: %s", err.message);
	config_free(cfg); /* the client keeps copies */
	unlink(ca);
	k8s_client_set_env(kc, &s_env);
	assert_string_equal(k8s_client_url(kc), "https://k8s.test:6443");
	return kc;
}

static void client_done(struct k8s_client *kc)
{
	k8s_client_close(kc);
	unlink(srv.token_file);
	assert_int_equal(srv.served, srv.n);
}

static const struct k8s_ref deployments = { .group = "apps", .resource = "deployments", .ns = "ai-agents" };

static void test_403_names_the_missing_rbac_rule(void **state)
{
	struct answer script[] = { { "PATCH", "/apis/apps/v1/namespaces/ai-agents/deployments/planner/scale", 403,
				     "status-403-scale.json", NULL, NULL } };
	struct k8s_client *kc = client_with(script, 1, "sekrit-token-403");
	struct drctl_error err;

	(void)state;
	err_clear(&err);
	assert_int_equal(k8s_scale(kc, K8S_DEPLOYMENT, "ai-agents", "planner", 0, &err), -1);
	assert_int_equal(err.code, EXIT_USAGE);
	assert_non_null(strstr(err.message, "forbids patch on deployments/scale (API group \"apps\") in namespace ai-agents"));
	assert_non_null(strstr(err.message, "cannot patch resource \\\"deployments/scale\\\"") ||
			strstr(err.message, "cannot patch resource \"deployments/scale\""));
	assert_non_null(strstr(err.hint, "{apiGroups: [\"apps\"], resources: [\"deployments/scale\"], verbs: [\"patch\"]}"));
	assert_non_null(strstr(err.hint, "Kubernetes RBAC"));
	assert_string_equal(err.subject, "deployments/scale ai-agents/planner");
	assert_string_equal(srv.ctype[0], "application/merge-patch+json");
	assert_string_equal(srv.bodies[0], "{\"spec\":{\"replicas\":0}}");
	client_done(kc);
}

static void test_401_points_at_the_token_file_never_shows_it(void **state)
{
	struct answer script[] = { { "GET", "/scale", 401, NULL,
				     "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"Unauthorized\",\"reason\":\"Unauthorized\",\"code\":401}",
				     NULL } };
	struct k8s_client *kc = client_with(script, 1, "sekrit-token-401");
	struct drctl_error err;
	long replicas;

	(void)state;
	err_clear(&err);
	assert_int_equal(k8s_read_scale(kc, K8S_DEPLOYMENT, "ai-agents", "planner", &replicas, NULL, 0, &err), -1);
	assert_int_equal(err.code, EXIT_USAGE);
	assert_non_null(strstr(err.message, "refused drctl's credentials on get deployments/scale ai-agents/planner (401 Unauthorized)"));
	assert_non_null(strstr(err.hint, "check [kubernetes] token_file"));
	assert_string_equal(err.subject, srv.token_file);
	assert_string_equal(srv.auth[0], "Bearer sekrit-token-401");
	assert_null(strstr(err.message, "sekrit"));
	assert_null(strstr(err.hint, "sekrit"));
	client_done(kc);
}

static void test_404_is_not_found(void **state)
{
	struct answer script[] = { { "GET", "/apis/apps/v1/namespaces/ai-agents/statefulsets/gone", 404, NULL,
				     "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"statefulsets.apps \\\"gone\\\" not found\",\"reason\":\"NotFound\",\"details\":{\"name\":\"gone\",\"group\":\"apps\",\"kind\":\"statefulsets\"},\"code\":404}",
				     NULL } };
	struct k8s_client *kc = client_with(script, 1, "t");
	struct drctl_error err;
	char msg[256];

	(void)state;
	err_clear(&err);
	assert_int_equal(k8s_workload_settled(kc, K8S_STATEFULSET, "ai-agents", "gone", 2, msg, sizeof(msg), &err), -1);
	assert_int_equal(err.code, EXIT_NOT_FOUND);
	assert_non_null(strstr(err.message, "statefulsets ai-agents/gone not found"));
	assert_non_null(strstr(err.message, "statefulsets.apps \"gone\" not found"));
	client_done(kc);
}

static void test_list_follows_continue_pages(void **state)
{
	struct answer script[] = {
		{ "GET", "/apis/apps/v1/namespaces/ai-agents/deployments?labelSelector=role%3Dagent&limit=2", 200,
		  "deployment-list-page1.json", NULL, NULL },
		{ "GET", "&continue=eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NDkyMDAxLCJzdGFydCI6InBsYW5uZXJcdTAwMDAifQ", 200,
		  "deployment-list-page2.json", NULL, NULL },
	};
	struct k8s_client *kc = client_with(script, 2, "t");
	struct drctl_error err;
	json_t *items;

	(void)state;
	err_clear(&err);
	assert_int_equal(k8s_list(kc, &deployments, "role=agent", &items, &err), 0);
	assert_int_equal(json_array_size(items), 3);
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(items, 2), "metadata"), "name")),
			    "support");
	assert_non_null(strstr(srv.urls[1], "labelSelector=role%3Dagent&limit=2&continue="));
	json_decref(items);
	client_done(kc);
}

static void test_list_starts_over_when_continue_expires(void **state)
{
	struct answer script[] = {
		{ "GET", "limit=2", 200, "deployment-list-page1.json", NULL, NULL },
		{ "GET", "&continue=", 410, "status-410-expired.json", NULL, NULL },
		{ "GET", "limit=2", 200, "deployment-list-page1.json", NULL, NULL },
		{ "GET", "&continue=", 200, "deployment-list-page2.json", NULL, NULL },
	};
	struct k8s_client *kc = client_with(script, 4, "t");
	struct drctl_error err;
	json_t *items;

	(void)state;
	err_clear(&err);
	assert_int_equal(k8s_list(kc, &deployments, "role=agent", &items, &err), 0);
	assert_null(strstr(srv.urls[2], "continue="));
	assert_int_equal(json_array_size(items), 3); /* the first pass's items are not kept twice */
	json_decref(items);
	client_done(kc);
}

static void test_list_gives_up_after_three_expiries(void **state)
{
	struct answer script[] = {
		{ "GET", NULL, 200, "deployment-list-page1.json", NULL, NULL },
		{ "GET", "&continue=", 410, "status-410-expired.json", NULL, NULL },
		{ "GET", NULL, 200, "deployment-list-page1.json", NULL, NULL },
		{ "GET", "&continue=", 410, "status-410-expired.json", NULL, NULL },
		{ "GET", NULL, 200, "deployment-list-page1.json", NULL, NULL },
		{ "GET", "&continue=", 410, "status-410-expired.json", NULL, NULL },
	};
	struct k8s_client *kc = client_with(script, 6, "t");
	struct drctl_error err;
	json_t *items = NULL;

	(void)state;
	err_clear(&err);
	assert_int_equal(k8s_list(kc, &deployments, NULL, &items, &err), -1);
	assert_null(items);
	assert_non_null(strstr(err.message, "the continue token expired 3 times (410 Expired)"));
	client_done(kc);
}

static void test_scale_conflict_reads_afresh_and_patches_again(void **state)
{
	struct answer script[] = {
		{ "PATCH", "/deployments/planner/scale", 409, NULL,
		  "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"Operation cannot be fulfilled on deployments.apps \\\"planner\\\": the object has been modified; please apply your changes to the latest version and try again\",\"reason\":\"Conflict\",\"code\":409}",
		  NULL },
		{ "GET", "/deployments/planner/scale", 200, "scale-deployment.json", NULL, NULL },
		{ "PATCH", "/deployments/planner/scale", 200, "scale-deployment.json", NULL, NULL },
	};
	struct k8s_client *kc = client_with(script, 3, "t");
	struct drctl_error err;

	(void)state;
	err_clear(&err);
	assert_int_equal(k8s_scale(kc, K8S_DEPLOYMENT, "ai-agents", "planner", 3, &err), 0);
	assert_string_equal(srv.bodies[2], "{\"spec\":{\"replicas\":3}}");
	client_done(kc);
}

static void test_5xx_and_429_are_retried_by_the_policy(void **state)
{
	struct answer script[] = {
		{ "GET", "/scale", 503, NULL, "{\"kind\":\"Status\",\"code\":503,\"message\":\"the server is currently unable to handle the request\",\"reason\":\"ServiceUnavailable\"}", NULL },
		{ "GET", "/scale", 429, NULL, "{\"kind\":\"Status\",\"code\":429,\"message\":\"Too many requests, please try again later.\",\"reason\":\"TooManyRequests\"}", NULL },
		{ "GET", "/scale", 200, "scale-deployment.json", NULL, NULL },
	};
	struct k8s_client *kc = client_with(script, 3, "t");
	struct drctl_error err;
	char selector[128];
	long replicas = 0;

	(void)state;
	err_clear(&err);
	assert_int_equal(k8s_read_scale(kc, K8S_DEPLOYMENT, "ai-agents", "planner", &replicas, selector, sizeof(selector), &err), 0);
	assert_int_equal(replicas, 3);
	assert_string_equal(selector, "app=planner");
	assert_true(srv.now > 0); /* it waited between the attempts */
	client_done(kc);
}

static void test_restart_patch_as_kubectl_sends_it(void **state)
{
	struct answer script[] = {
		{ "GET", "/apis/apps/v1/namespaces/ai-agents/deployments/planner", 200, "deployment-mid-rollout.json", NULL, NULL },
		{ "PATCH", "/apis/apps/v1/namespaces/ai-agents/deployments/planner", 200, "deployment-mid-rollout.json", NULL, NULL },
		{ "PATCH", "/apis/apps/v1/namespaces/ai-agents/statefulsets/research", 200, "statefulset-revisions.json", NULL, NULL },
	};
	struct k8s_client *kc = client_with(script, 3, "t");
	struct drctl_error err;

	(void)state;
	err_clear(&err);
	assert_int_equal(k8s_restart(kc, K8S_DEPLOYMENT, "ai-agents", "planner", 1796094900, &err), 0);
	assert_string_equal(srv.ctype[1], "application/strategic-merge-patch+json");
	assert_string_equal(srv.bodies[1],
			    "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"kubectl.kubernetes.io/restartedAt\":\"2026-12-01T03:15:00Z\"}}}}}");
	/* a StatefulSet cannot be paused: no read first */
	assert_int_equal(k8s_restart(kc, K8S_STATEFULSET, "ai-agents", "research", 1796094900, &err), 0);
	client_done(kc);
}

static void test_restart_refuses_a_paused_deployment(void **state)
{
	struct answer script[] = { { "GET", "/deployments/planner", 200, "deployment-paused.json", NULL, NULL } };
	struct k8s_client *kc = client_with(script, 1, "t");
	struct drctl_error err;

	(void)state;
	err_clear(&err);
	assert_int_equal(k8s_restart(kc, K8S_DEPLOYMENT, "ai-agents", "planner", 1796094900, &err), -1);
	assert_non_null(strstr(err.message, "deployments.apps \"planner\" can't restart paused deployment (run rollout resume first)"));
	assert_non_null(strstr(err.hint, "kubectl -n ai-agents rollout resume deployment/planner"));
	client_done(kc); /* and no PATCH was sent */
}

static void test_token_read_for_every_request(void **state)
{
	struct answer script[] = {
		{ "GET", "/scale", 200, "scale-deployment.json", NULL, "second-token" },
		{ "GET", "/scale", 200, "scale-deployment.json", NULL, NULL },
	};
	struct k8s_client *kc = client_with(script, 2, "first-token");
	struct drctl_error err;
	long replicas;

	(void)state;
	err_clear(&err);
	assert_int_equal(k8s_read_scale(kc, K8S_DEPLOYMENT, "ai-agents", "planner", &replicas, NULL, 0, &err), 0);
	assert_int_equal(k8s_read_scale(kc, K8S_DEPLOYMENT, "ai-agents", "planner", &replicas, NULL, 0, &err), 0);
	assert_string_equal(srv.auth[0], "Bearer first-token");
	assert_string_equal(srv.auth[1], "Bearer second-token");
	client_done(kc);
}

static void test_401_after_a_rotation_is_sent_again_with_the_new_token(void **state)
{
	struct answer script[] = {
		{ "GET", "/scale", 401, NULL, "{\"kind\":\"Status\",\"code\":401,\"reason\":\"Unauthorized\",\"message\":\"Unauthorized\"}",
		  "rotated-token" },
		{ "GET", "/scale", 200, "scale-deployment.json", NULL, NULL },
	};
	struct k8s_client *kc = client_with(script, 2, "expired-token");
	struct drctl_error err;
	long replicas = 0;

	(void)state;
	err_clear(&err);
	assert_int_equal(k8s_read_scale(kc, K8S_DEPLOYMENT, "ai-agents", "planner", &replicas, NULL, 0, &err), 0);
	assert_int_equal(replicas, 3);
	assert_string_equal(srv.auth[0], "Bearer expired-token");
	assert_string_equal(srv.auth[1], "Bearer rotated-token");
	client_done(kc);
}

static void test_pods_that_may_still_run(void **state)
{
	struct answer script[] = {
		{ "GET", "/api/v1/namespaces/ai-agents/pods?labelSelector=app%3Dplanner&limit=2", 200, "pod-list.json", NULL, NULL },
	};
	struct k8s_client *kc = client_with(script, 1, "t");
	struct drctl_error err;
	long running = -1;

	(void)state;
	err_clear(&err);
	assert_int_equal(k8s_count_pods(kc, "ai-agents", "app=planner", &running, &err), 0);
	assert_int_equal(running, 2); /* the running one and the terminating one; not the evicted one */
	client_done(kc);
}

static void test_settled_at_zero_waits_for_the_last_pod(void **state)
{
	struct answer script[] = {
		{ "GET", "/deployments/planner/scale", 200, NULL,
		  "{\"kind\":\"Scale\",\"apiVersion\":\"autoscaling/v1\",\"metadata\":{\"name\":\"planner\"},\"spec\":{\"replicas\":0},\"status\":{\"selector\":\"app=planner\"}}",
		  NULL },
		{ "GET", "/pods?labelSelector=app%3Dplanner", 200, "pod-list.json", NULL, NULL },
		{ "GET", "/deployments/planner/scale", 200, NULL,
		  "{\"kind\":\"Scale\",\"apiVersion\":\"autoscaling/v1\",\"metadata\":{\"name\":\"planner\"},\"spec\":{\"replicas\":0},\"status\":{}}",
		  NULL },
		{ "GET", "/apis/apps/v1/namespaces/ai-agents/deployments/planner", 200, "deployment-scaled-to-zero.json", NULL, NULL },
		{ "GET", "/pods?labelSelector=app%3Dplanner", 200, NULL, "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":[]}", NULL },
	};
	struct k8s_client *kc = client_with(script, 5, "t");
	struct drctl_error err;
	char msg[256];

	(void)state;
	err_clear(&err);
	assert_int_equal(k8s_workload_settled(kc, K8S_DEPLOYMENT, "ai-agents", "planner", 0, msg, sizeof(msg), &err), 0);
	assert_string_equal(msg, "Deployment ai-agents/planner: 2 pods (app=planner) still running or terminating");
	/* no status.selector: the Deployment's spec.selector */
	assert_int_equal(k8s_workload_settled(kc, K8S_DEPLOYMENT, "ai-agents", "planner", 0, msg, sizeof(msg), &err), 1);
	client_done(kc);
}

static void test_settled_needs_ready_equal_to_wanted(void **state)
{
	struct answer script[] = {
		{ "GET", "/deployments/planner", 200, "deployment-mid-rollout.json", NULL, NULL },
		{ "GET", "/deployments/support", 200, "deployment-progress-deadline.json", NULL, NULL },
	};
	struct k8s_client *kc = client_with(script, 2, "t");
	struct drctl_error err;
	char msg[256];

	(void)state;
	err_clear(&err);
	assert_int_equal(k8s_workload_settled(kc, K8S_DEPLOYMENT, "ai-agents", "planner", 3, msg, sizeof(msg), &err), 0);
	assert_non_null(strstr(msg, "2 out of 3 new replicas have been updated"));
	assert_int_equal(k8s_workload_settled(kc, K8S_DEPLOYMENT, "ai-agents", "support", 1, msg, sizeof(msg), &err), -1);
	assert_non_null(strstr(err.message, "the rollout of Deployment ai-agents/support failed: deployment \"support\" exceeded its progress deadline"));
	assert_non_null(strstr(err.hint, "kubectl -n ai-agents describe deployment support"));
	client_done(kc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deployment_rollout_walks_kubectl_conditions),
		cmocka_unit_test(test_deployment_progress_deadline_is_a_failure),
		cmocka_unit_test(test_deployment_scaled_to_zero_with_omitted_counters),
		cmocka_unit_test(test_statefulset_rollout_partition_and_revisions),
		cmocka_unit_test(test_statefulset_on_delete_needs_ready_pods_only),
		cmocka_unit_test(test_selector_string),
		cmocka_unit_test(test_403_names_the_missing_rbac_rule),
		cmocka_unit_test(test_401_points_at_the_token_file_never_shows_it),
		cmocka_unit_test(test_404_is_not_found),
		cmocka_unit_test(test_list_follows_continue_pages),
		cmocka_unit_test(test_list_starts_over_when_continue_expires),
		cmocka_unit_test(test_list_gives_up_after_three_expiries),
		cmocka_unit_test(test_scale_conflict_reads_afresh_and_patches_again),
		cmocka_unit_test(test_5xx_and_429_are_retried_by_the_policy),
		cmocka_unit_test(test_restart_patch_as_kubectl_sends_it),
		cmocka_unit_test(test_restart_refuses_a_paused_deployment),
		cmocka_unit_test(test_token_read_for_every_request),
		cmocka_unit_test(test_401_after_a_rotation_is_sent_again_with_the_new_token),
		cmocka_unit_test(test_pods_that_may_still_run),
		cmocka_unit_test(test_settled_at_zero_waits_for_the_last_pod),
		cmocka_unit_test(test_settled_needs_ready_equal_to_wanted),
	};
	log_setup(LOG_WARN, LOG_TEXT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
