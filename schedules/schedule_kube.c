/*
 * schedule_kube: the Kubernetes manifests of the schedules (`drctl schedule
 * render --kind cronjob`).
 *
 * What every pod gets:
 *  - the configuration from the ConfigMap drctl-config, mounted as
 *    CLUSTER_CONFIG_FILE, which DRCTL_CONFIG names;
 *  - the files that configuration names, from Secrets, and only those its
 *    job needs (schedule_cluster.c decides).  Kubernetes makes a Secret's
 *    files root's, or group-readable with fsGroup, and drctl refuses a key
 *    file that others or the group may read; so an init container (running
 *    as drctl's user) copies them with `install -m 0400` into an in-memory
 *    folder, CLUSTER_SECRETS_DIR, where they are drctl's own;
 *  - a non-root user, a read-only root file system, no capabilities, and
 *    volumes for what it writes: the state folder (an emptyDir, or for the
 *    scenarios a PersistentVolumeClaim, since the journal must outlive the
 *    pod) and /tmp;
 *  - a service account with no token unless the job calls the Kubernetes
 *    API (the backup reads the agents' replica counts, a scenario scales
 *    and restarts them) or logs in to Vault with it; the Roles grant those
 *    calls and nothing more.
 */
#include "schedules/schedule_private.h"

#include <stdlib.h>
#include <string.h>

#include "schedules/yaml_emit.h"

#define RUN_AS 65532          /* the image's drctl user and group */
#define SECRET_FILE_MODE 0440 /* root:fsGroup r--r-----: readable by the copier only */
#define SCENARIO_STATE_CLAIM "drctl-scenario-state"
#define REPOSITORY_CLAIM "drctl-repository"

/* How each job's pod runs. */
struct kube_job {
	enum schedule_job job;
	const char *component;  /* "backup": names, labels */
	long starting_deadline; /* CronJob: a run missed by more than this is skipped */
	long backoff_limit;     /* pods tried after the first fails */
	const char *cpu_request, *memory_request, *cpu_limit, *memory_limit;
};

static const struct kube_job kube_jobs[] = {
	{ SCHEDULE_JOB_BACKUP, "backup", 3600, 2, "500m", "512Mi", "2", "2Gi" },
	{ SCHEDULE_JOB_VERIFY, "verify", 3600, 1, "250m", "256Mi", "1", "1Gi" },
	/* A drill started late would still see the same Friday (UTC): --when
	 * last-friday keeps its answer within the hour. */
	{ SCHEDULE_JOB_DRILL, "drill", 3600, 1, "500m", "512Mi", "2", "2Gi" },
	/* The rotation, like a scenario, is never retried by Kubernetes: a run
	 * that failed is resumed by a person (jobs/scenario-resume-job.yaml),
	 * from the journal on the scenarios' claim.  Started late within the
	 * hour, it still sees the same Monday for --when third-monday. */
	{ SCHEDULE_JOB_ROTATE, "rotate-secrets", 3600, 0, "250m", "256Mi", "1", "512Mi" },
	/* A scenario is never retried by Kubernetes: a person resumes it. */
	{ SCHEDULE_JOB_SCENARIO, "scenario", 0, 0, "500m", "512Mi", "2", "2Gi" },
};

struct kube_render {
	const struct config *cfg;
	const struct schedule_options *o;
	struct cluster_config cc;
};

static const struct kube_job *kube_job_of(enum schedule_job job)
{
	for (size_t i = 0; i < sizeof(kube_jobs) / sizeof(kube_jobs[0]); i++)
		if (kube_jobs[i].job == job)
			return &kube_jobs[i];
	return &kube_jobs[0];
}

static json_t *labels(const char *component)
{
	return json_pack("{s:s, s:s}", "app.kubernetes.io/name", "drctl", "app.kubernetes.io/component", component);
}

static json_t *metadata(const char *name, const char *ns, const char *component)
{
	return json_pack("{s:s, s:s, s:o}", "name", name, "namespace", ns, "labels", labels(component));
}

/* "drctl-backup": the name of a job's CronJob, service account and Role. */
static void name_of(const char *component, char *out, size_t cap)
{
	snprintf(out, cap, "drctl-%s", component);
}

/* The pods' service accounts: a token only for a job that calls the API. */
static int needs_token(const struct kube_render *r, enum schedule_job job)
{
	if (job == SCHEDULE_JOB_BACKUP || job == SCHEDULE_JOB_ROTATE || job == SCHEDULE_JOB_SCENARIO)
		return r->cc.kubernetes_agents || r->cc.vault_kubernetes_auth;
	return 0;
}

static json_t *argv_json(const char *first, const char *const *args, const char *when)
{
	json_t *a = json_array();

	json_array_append_new(a, json_string(first));
	for (; *args; args++)
		json_array_append_new(a, json_string(*args));
	if (when) {
		json_array_append_new(a, json_string("--when"));
		json_array_append_new(a, json_string(when));
	}
	return a;
}

static json_t *container_security(void)
{
	return json_pack("{s:b, s:b, s:b, s:{s:[s]}}", "allowPrivilegeEscalation", 0, "readOnlyRootFilesystem", 1,
			 "runAsNonRoot", 1, "capabilities", "drop", "ALL");
}

static json_t *resources(const char *cpu_req, const char *mem_req, const char *cpu_lim, const char *mem_lim)
{
	return json_pack("{s:{s:s, s:s}, s:{s:s, s:s}}", "requests", "cpu", cpu_req, "memory", mem_req, "limits", "cpu",
			 cpu_lim, "memory", mem_lim);
}

static json_t *mount(const char *volume, const char *path, int read_only)
{
	return read_only ? json_pack("{s:s, s:s, s:b}", "name", volume, "mountPath", path, "readOnly", 1)
			 : json_pack("{s:s, s:s}", "name", volume, "mountPath", path);
}

/* A local repository's volume, for every job that reads or writes the
 * repository: all but the monthly rotation. */
static int mounts_repository(const struct kube_render *r, enum schedule_job job)
{
	return r->cc.repository_path[0] && job != SCHEDULE_JOB_ROTATE;
}

/* Does this job's pod get any file from a Secret? */
static int has_files(const struct kube_render *r, enum schedule_job job)
{
	for (size_t i = 0; i < r->cc.n_files; i++)
		if (r->cc.files[i].jobs & job)
			return 1;
	return 0;
}

/* The mounts of a container that runs drctl. */
static json_t *drctl_mounts(const struct kube_render *r, enum schedule_job job)
{
	json_t *m = json_array();

	json_array_append_new(m, mount("config", CLUSTER_CONFIG_DIR, 1));
	if (has_files(r, job))
		json_array_append_new(m, mount("secrets", CLUSTER_SECRETS_DIR, 1));
	json_array_append_new(m, mount("state", CLUSTER_STATE_DIR, 0));
	json_array_append_new(m, mount("tmp", CLUSTER_TMP_DIR, 0));
	if (mounts_repository(r, job))
		json_array_append_new(m, mount("repository", r->cc.repository_path, 0));
	return m;
}

static json_t *drctl_container(const struct kube_render *r, const struct kube_job *kj, const char *name,
			       json_t *command, json_t *extra_env)
{
	json_t *env = json_pack("[{s:s, s:s}]", "name", "DRCTL_CONFIG", "value", CLUSTER_CONFIG_FILE);

	if (extra_env)
		json_array_append_new(env, extra_env);
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "name", name, "image", r->o->image,
			 "imagePullPolicy", "IfNotPresent", "command", command, "env", env, "securityContext",
			 container_security(), "resources",
			 resources(kj->cpu_request, kj->memory_request, kj->cpu_limit, kj->memory_limit), "volumeMounts",
			 drctl_mounts(r, kj->job));
}

/* The Secret volumes of a job (one per Secret, with the items it needs),
 * appended to `volumes`; returns the copier, the init container that
 * installs them as drctl's own files. */
static json_t *secret_files_container(const struct kube_render *r, enum schedule_job job, json_t *volumes)
{
	json_t *command = json_pack("[s, s, s, s, s]", "install", "-m", "0400", "-t", CLUSTER_SECRETS_DIR);
	json_t *mounts = json_pack("[o]", mount("secrets", CLUSTER_SECRETS_DIR, 0));
	json_t *items = NULL;
	const char *current = "";

	for (size_t i = 0; i < r->cc.n_files; i++) {
		const struct cluster_file *f = &r->cc.files[i];
		char path[512], volume[96];
		if (!(f->jobs & job))
			continue;
		if (strcmp(current, f->secret)) {
			snprintf(volume, sizeof(volume), "secret-%s", f->secret + strlen("drctl-"));
			snprintf(path, sizeof(path), "%s/%s", CLUSTER_SECRET_VOLUMES, f->secret);
			items = json_array();
			json_array_append_new(volumes, json_pack("{s:s, s:{s:s, s:i, s:o}}", "name", volume, "secret",
								 "secretName", f->secret, "defaultMode",
								 SECRET_FILE_MODE, "items", items));
			json_array_append_new(mounts, mount(volume, path, 1));
			current = f->secret;
		}
		json_array_append_new(items, json_pack("{s:s, s:s}", "key", f->secret_key, "path", f->file));
		snprintf(path, sizeof(path), "%s/%s/%s", CLUSTER_SECRET_VOLUMES, f->secret, f->file);
		json_array_append_new(command, json_string(path));
	}
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "name", "secret-files", "image", r->o->image,
			 "imagePullPolicy", "IfNotPresent", "command", command, "securityContext", container_security(),
			 "resources", resources("10m", "16Mi", "100m", "32Mi"), "volumeMounts", mounts);
}

static json_t *pod_security(void)
{
	return json_pack("{s:b, s:i, s:i, s:i, s:{s:s}}", "runAsNonRoot", 1, "runAsUser", RUN_AS, "runAsGroup", RUN_AS,
			 "fsGroup", RUN_AS, "seccompProfile", "type", "RuntimeDefault");
}

/* A run of the scenario engine that a person may have to resume: its
 * journal (and the platform's scenario lock, so that a rotation never runs
 * during a disaster scenario) is on the claim, not in the pod. */
static int keeps_journal(enum schedule_job job)
{
	return job == SCHEDULE_JOB_ROTATE || job == SCHEDULE_JOB_SCENARIO;
}

static json_t *pod_volumes(const struct kube_render *r, const struct kube_job *kj, json_t *inits)
{
	json_t *volumes = json_array();

	json_array_append_new(volumes, json_pack("{s:s, s:{s:s}}", "name", "config", "configMap", "name", "drctl-config"));
	if (has_files(r, kj->job)) {
		json_array_append_new(inits, secret_files_container(r, kj->job, volumes));
		json_array_append_new(volumes, json_pack("{s:s, s:{s:s, s:s}}", "name", "secrets", "emptyDir", "medium",
							 "Memory", "sizeLimit", "1Mi"));
	}
	if (keeps_journal(kj->job))
		json_array_append_new(volumes, json_pack("{s:s, s:{s:s}}", "name", "state", "persistentVolumeClaim",
							 "claimName", SCENARIO_STATE_CLAIM));
	else
		json_array_append_new(volumes, json_pack("{s:s, s:{}}", "name", "state", "emptyDir"));
	json_array_append_new(volumes, json_pack("{s:s, s:{}}", "name", "tmp", "emptyDir"));
	if (mounts_repository(r, kj->job))
		json_array_append_new(volumes, json_pack("{s:s, s:{s:s}}", "name", "repository", "persistentVolumeClaim",
							 "claimName", REPOSITORY_CLAIM));
	return volumes;
}

/* A pod that runs drctl's command lines in order: all but the last as
 * init containers (each starts only when the one before succeeded), after
 * the copier of the Secret files. */
static json_t *pod_spec(const struct kube_render *r, const struct kube_job *kj, json_t *init, json_t *main)
{
	json_t *inits = json_array(), *volumes = pod_volumes(r, kj, inits), *spec;
	char sa[64];

	name_of(kj->component, sa, sizeof(sa));
	json_array_extend(inits, init);
	json_decref(init);
	spec = json_pack("{s:s, s:b, s:s, s:b, s:i, s:o}", "serviceAccountName", sa, "automountServiceAccountToken",
			 needs_token(r, kj->job), "restartPolicy", "Never", "enableServiceLinks", 0,
			 "terminationGracePeriodSeconds", 120, "securityContext", pod_security());
	if (json_array_size(inits))
		json_object_set(spec, "initContainers", inits);
	json_object_set_new(spec, "containers", json_pack("[o]", main));
	json_object_set_new(spec, "volumes", volumes);
	json_decref(inits);
	return spec;
}

/* deadline: seconds before the Job is stopped (0: none). */
static json_t *job_spec(const struct kube_render *r, const struct kube_job *kj, long deadline, json_t *init,
			json_t *main)
{
	json_t *spec = json_pack("{s:I}", "backoffLimit", (json_int_t)kj->backoff_limit);

	if (deadline)
		json_object_set_new(spec, "activeDeadlineSeconds", json_integer(deadline));
	if (kj->job == SCHEDULE_JOB_SCENARIO)
		json_object_set_new(spec, "ttlSecondsAfterFinished", json_integer(7 * 86400));
	json_object_set_new(spec, "template", json_pack("{s:{s:o}, s:o}", "metadata", "labels", labels(kj->component),
							"spec", pod_spec(r, kj, init, main)));
	return spec;
}

/* A task's CronJob: its steps as containers, in order. */
static json_t *cronjob(const struct kube_render *r, const struct schedule_task *t)
{
	const struct kube_job *kj = kube_job_of(t->job);
	json_t *init = json_array(), *main = NULL;
	char schedule[64], name[64];
	size_t n = 0;

	while (n < SCHEDULE_STEPS_MAX && t->steps[n][0])
		n++;
	for (size_t s = 0; s < n; s++) {
		json_t *c = drctl_container(r, kj, t->steps[s][0],
					    argv_json("drctl", t->steps[s], s + 1 == n ? t->when : NULL), NULL);
		if (s + 1 < n)
			json_array_append_new(init, c);
		else
			main = c;
	}
	name_of(kj->component, name, sizeof(name));
	snprintf(schedule, sizeof(schedule), "%s %s * * %s", t->cron_minute, t->cron_hour, t->cron_weekday);
	return json_pack("{s:s, s:s, s:o, s:{s:s, s:s, s:s, s:I, s:i, s:i, s:{s:{s:o}, s:o}}}", "apiVersion",
			 "batch/v1", "kind", "CronJob", "metadata", metadata(name, r->cc.jobs_namespace, kj->component),
			 "spec", "schedule", schedule, "timeZone", "Etc/UTC", "concurrencyPolicy", "Forbid",
			 "startingDeadlineSeconds", (json_int_t)kj->starting_deadline, "successfulJobsHistoryLimit", 3,
			 "failedJobsHistoryLimit", 5, "jobTemplate", "metadata", "labels", labels(kj->component), "spec",
			 job_spec(r, kj, t->deadline_hours * 3600, init, main));
}

/* A scenario Job template: `kubectl create -f` makes a new Job each time. */
static json_t *scenario_job(const struct kube_render *r, const char *what, json_t *command, json_t *extra_env)
{
	const struct kube_job *kj = kube_job_of(SCHEDULE_JOB_SCENARIO);
	char prefix[128];
	json_t *meta;

	snprintf(prefix, sizeof(prefix), "drctl-scenario-%s-", what);
	meta = json_pack("{s:s, s:s, s:o}", "generateName", prefix, "namespace", r->cc.jobs_namespace, "labels",
			 labels(kj->component));
	return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "batch/v1", "kind", "Job", "metadata", meta, "spec",
			 job_spec(r, kj, 0, json_array(), drctl_container(r, kj, "scenario", command, extra_env)));
}

static json_t *service_account(const struct kube_render *r, enum schedule_job job)
{
	const char *component = kube_job_of(job)->component;
	char name[64];

	name_of(component, name, sizeof(name));
	return json_pack("{s:s, s:s, s:o, s:b}", "apiVersion", "v1", "kind", "ServiceAccount", "metadata",
			 metadata(name, r->cc.jobs_namespace, component), "automountServiceAccountToken",
			 needs_token(r, job));
}

static json_t *rule(const char *group, json_t *resources_, json_t *verbs)
{
	return json_pack("{s:[s], s:o, s:o}", "apiGroups", group, "resources", resources_, "verbs", verbs);
}

/* The least each job needs, in the agents' namespace
 * (lib/platform/agents_kubernetes.c makes the calls). */
static json_t *role(const struct kube_render *r, enum schedule_job job)
{
	const char *component = kube_job_of(job)->component;
	int restarts = job == SCHEDULE_JOB_ROTATE || job == SCHEDULE_JOB_SCENARIO;
	json_t *rules = json_array();
	char name[64];

	/* The backup records each workload's replicas; the rotation and a
	 * scenario also restart it (a patch of the pod template's restartedAt
	 * annotation) and read its rollout until it is done. */
	json_array_append_new(rules, rule("apps", json_pack("[s, s]", "deployments", "statefulsets"),
					  restarts ? json_pack("[s, s, s]", "get", "list", "patch")
						   : json_pack("[s, s]", "get", "list")));
	/* Waiting for an agent that ran at 0 replicas reads its /scale (the
	 * pods' selector) and lists its pods; a scenario also scales to zero
	 * and back, and collects recent events for the incident bundle. */
	if (restarts) {
		json_array_append_new(rules, rule("apps", json_pack("[s, s]", "deployments/scale", "statefulsets/scale"),
						  job == SCHEDULE_JOB_SCENARIO ? json_pack("[s, s]", "get", "patch")
									       : json_pack("[s]", "get")));
		json_array_append_new(rules, rule("", json_pack("[s]", "pods"), json_pack("[s]", "list")));
	}
	if (job == SCHEDULE_JOB_SCENARIO)
		json_array_append_new(rules, rule("", json_pack("[s]", "events"), json_pack("[s]", "list")));
	name_of(component, name, sizeof(name));
	return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "rbac.authorization.k8s.io/v1", "kind", "Role",
			 "metadata", metadata(name, r->cc.agents_namespace, component), "rules", rules);
}

static json_t *role_binding(const struct kube_render *r, enum schedule_job job)
{
	const char *component = kube_job_of(job)->component;
	char name[64];

	name_of(component, name, sizeof(name));
	return json_pack("{s:s, s:s, s:o, s:{s:s, s:s, s:s}, s:[{s:s, s:s, s:s}]}", "apiVersion",
			 "rbac.authorization.k8s.io/v1", "kind", "RoleBinding", "metadata",
			 metadata(name, r->cc.agents_namespace, component), "roleRef", "apiGroup",
			 "rbac.authorization.k8s.io", "kind", "Role", "name", name, "subjects", "kind", "ServiceAccount",
			 "name", name, "namespace", r->cc.jobs_namespace);
}

static json_t *claim(const char *name, const char *ns, const char *component, const char *access, const char *size)
{
	return json_pack("{s:s, s:s, s:o, s:{s:[s], s:{s:{s:s}}}}", "apiVersion", "v1", "kind",
			 "PersistentVolumeClaim", "metadata", metadata(name, ns, component), "spec", "accessModes",
			 access, "resources", "requests", "storage", size);
}

/* One file: its comment lines, then the documents (taken). */
static int add_yaml(struct schedule_output *out, const char *name, const char *comment, json_t **docs, size_t n,
		    struct drctl_error *err)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int ok = f != NULL;

	for (size_t i = 0; i < n; i++)
		ok = ok && docs[i];
	if (ok) {
		fputs(comment, f);
		for (size_t i = 0; i < n; i++) {
			if (i)
				fputs("---\n", f);
			yaml_emit(f, docs[i]);
		}
	}
	for (size_t i = 0; i < n; i++)
		json_decref(docs[i]);
	if (f && fclose(f) != 0)
		ok = 0;
	if (!ok) {
		free(text);
		return err_set(err, EXIT_FAILED, name, NULL, "out of memory rendering %s", name);
	}
	return schedule_output_add(out, name, text, err);
}

/* Which of the jobs get a file: "backup, verify, drill, scenario". */
static void jobs_text(unsigned jobs, char *out, size_t cap)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(kube_jobs) / sizeof(kube_jobs[0]); i++)
		if (jobs & kube_jobs[i].job)
			len += (size_t)snprintf(out + len, len < cap ? cap - len : 0, "%s%s", len ? ", " : "",
						kube_jobs[i].component);
}

/* How to create the Secrets the files come from, and who mounts which. */
static void secrets_comment(const struct kube_render *r, FILE *f)
{
	char who[128];

	if (!r->cc.n_files)
		return;
	fputs("# Before the first run, create the Secrets that hold the files it names, from\n"
	      "# the files of the configuration this was rendered from:\n", f);
	for (size_t i = 0; i < r->cc.n_files; i++) {
		const struct cluster_file *fi = &r->cc.files[i];
		if (i == 0 || strcmp(fi->secret, r->cc.files[i - 1].secret)) {
			fprintf(f, "%s#   kubectl -n ", i ? "\n" : "");
			schedule_shell_word(f, r->cc.jobs_namespace);
			fprintf(f, " create secret generic %s", fi->secret);
		}
		fprintf(f, " \\\n#     --from-file=%s=", fi->secret_key);
		schedule_shell_word(f, fi->source);
	}
	fputs("\n#\n# Which pods mount each file:\n", f);
	for (size_t i = 0; i < r->cc.n_files; i++) {
		jobs_text(r->cc.files[i].jobs, who, sizeof(who));
		fprintf(f, "#   [%s] %s (%s/%s): %s\n", r->cc.files[i].section, r->cc.files[i].key, r->cc.files[i].secret,
			r->cc.files[i].secret_key, who);
	}
}

/* The configuration's ConfigMap, after the commands that create the
 * Secrets its files come from. */
static int add_configmap(const struct kube_render *r, struct schedule_output *out, struct drctl_error *err)
{
	char *comment = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&comment, &len);
	json_t *doc;
	int rc;

	if (!f)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	fputs("# drctl's configuration for the jobs (DRCTL_CONFIG=" CLUSTER_CONFIG_FILE ").\n"
	      "# Rendered by `drctl schedule render --kind cronjob` (docs/schedules.md); render again\n"
	      "# after changing the configuration rather than editing this file.\n#\n",
	      f);
	secrets_comment(r, f);
	if (fclose(f) != 0) {
		free(comment);
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	}
	doc = json_pack("{s:s, s:s, s:o, s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap", "metadata",
			metadata("drctl-config", r->cc.jobs_namespace, "config"), "data", "drctl.conf", r->cc.text);
	rc = add_yaml(out, "configmap.yaml", comment, &doc, 1, err);
	free(comment);
	return rc;
}

static int add_accounts(const struct kube_render *r, struct schedule_output *out, struct drctl_error *err)
{
	json_t *docs[] = { service_account(r, SCHEDULE_JOB_BACKUP), service_account(r, SCHEDULE_JOB_VERIFY),
			   service_account(r, SCHEDULE_JOB_DRILL), service_account(r, SCHEDULE_JOB_ROTATE),
			   service_account(r, SCHEDULE_JOB_SCENARIO) };
	json_t *rbac[6];

	if (add_yaml(out, "serviceaccounts.yaml",
		     "# One service account per job.  Only a job that calls the Kubernetes API gets a token:\n"
		     "# the backup (it records the agents' replica counts), the rotation (it restarts the\n"
		     "# agents) and the scenarios (they scale and restart the agents), and only with\n"
		     "# [agents] control = kubernetes (or Vault's Kubernetes login); rbac.yaml grants them\n"
		     "# exactly those calls.\n",
		     docs, 5, err) != 0)
		return -1;
	if (!r->cc.kubernetes_agents)
		return 0;
	rbac[0] = role(r, SCHEDULE_JOB_BACKUP);
	rbac[1] = role_binding(r, SCHEDULE_JOB_BACKUP);
	rbac[2] = role(r, SCHEDULE_JOB_ROTATE);
	rbac[3] = role_binding(r, SCHEDULE_JOB_ROTATE);
	rbac[4] = role(r, SCHEDULE_JOB_SCENARIO);
	rbac[5] = role_binding(r, SCHEDULE_JOB_SCENARIO);
	return add_yaml(out, "rbac.yaml",
			"# The least the jobs need, in the agents' namespace ([agents] namespace); no ClusterRole.\n"
			"# drctl-backup reads the agents' Deployments and StatefulSets (their replica counts go\n"
			"# into the backup set).  drctl-rotate-secrets also restarts them (a patch of the pod\n"
			"# template) and waits for their rollouts (for one at 0 replicas: its /scale and its\n"
			"# pods).  drctl-scenario also scales them to zero and back (the /scale subresources),\n"
			"# waits until their pods are gone, and collects recent events for the incident bundle.\n"
			"# verify and the drill call no Kubernetes API.\n",
			rbac, 6, err);
}

static int add_cronjobs(const struct kube_render *r, struct schedule_output *out, struct drctl_error *err)
{
	for (size_t i = 0; i < schedule_task_count; i++) {
		const struct schedule_task *t = &schedule_tasks[i];
		char name[96], comment[2048], when[256] = "", journal[768] = "";
		json_t *doc;
		if (!t->kubernetes)
			continue;
		if (t->when)
			snprintf(when, sizeof(when),
				 "# cron cannot say that day alone: the job runs on every such weekday, and\n"
				 "# --when %s makes drctl exit 0 at once on the others.\n",
				 t->when);
		if (keeps_journal(t->job))
			snprintf(journal, sizeof(journal),
				 "# Its journal is on the claim " SCENARIO_STATE_CLAIM " and Kubernetes never retries it: a\n"
				 "# run that failed, or stopped at a gate (exit 7: third-party keys for a person), is\n"
				 "# resumed with jobs/scenario-resume-job.yaml and the run id in its log.\n");
		snprintf(comment, sizeof(comment),
			 "# drctl: %s.\n# Schedule: \"%s %s * * %s\" in UTC.\n%s%s"
			 "# Rendered by `drctl schedule render --kind cronjob` (docs/schedules.md).\n",
			 t->summary, t->cron_minute, t->cron_hour, t->cron_weekday, when, journal);
		snprintf(name, sizeof(name), "%s-cronjob.yaml", t->name);
		doc = cronjob(r, t);
		if (add_yaml(out, name, comment, &doc, 1, err) != 0)
			return -1;
	}
	return 0;
}

static int add_claims(const struct kube_render *r, struct schedule_output *out, struct drctl_error *err)
{
	json_t *doc = claim(SCENARIO_STATE_CLAIM, r->cc.jobs_namespace, "scenario", "ReadWriteOnce", "20Gi");

	if (add_yaml(out, "scenario-state-pvc.yaml",
		     "# The scenarios' state folder, and the monthly rotation's: the journal of every run\n"
		     "# must outlive the pod, so that `drctl scenario resume RUN` in a new pod carries on\n"
		     "# where the last one stopped, and the platform's scenario lock is the same for all.\n"
		     "# The restore's spools are here too: size it for the largest database.\n",
		     &doc, 1, err) != 0)
		return -1;
	if (!r->cc.repository_path[0])
		return 0;
	doc = claim(REPOSITORY_CLAIM, r->cc.jobs_namespace, "repository", "ReadWriteMany", "100Gi");
	return add_yaml(out, "repository-pvc.yaml",
			"# The local repository ([repository] type = local): every job mounts it, at times at\n"
			"# once on different nodes, hence ReadWriteMany.  Off-site storage (type = s3) is what\n"
			"# survives the loss of the cluster.\n",
			&doc, 1, err);
}

static int add_scenario_jobs(const struct kube_render *r, struct schedule_output *out, struct drctl_error *err)
{
	char comment[1024];
	json_t *doc;

	snprintf(comment, sizeof(comment),
		 "# Runs the %s scenario (drctl scenario run %s --yes), started by a person:\n"
		 "#   drctl scenario plan %s          # what it will do, first\n"
		 "#   kubectl create -f jobs/scenario-run-job.yaml\n"
		 "# Its journal is on the PersistentVolumeClaim " SCENARIO_STATE_CLAIM "; when the pod stops\n"
		 "# (a failure, or a gate that waits for a person), continue with scenario-resume-job.yaml.\n",
		 r->o->scenario, r->o->scenario, r->o->scenario);
	doc = scenario_job(r, r->o->scenario,
			   json_pack("[s, s, s, s, s]", "drctl", "scenario", "run", r->o->scenario, "--yes"), NULL);
	if (add_yaml(out, "jobs/scenario-run-job.yaml", comment, &doc, 1, err) != 0)
		return -1;
	doc = scenario_job(r, "resume", json_pack("[s, s, s, s]", "drctl", "scenario", "resume", "$(DRCTL_RUN)"),
			   json_pack("{s:s, s:s}", "name", "DRCTL_RUN", "value", "REPLACE-WITH-RUN-ID"));
	return add_yaml(out, "jobs/scenario-resume-job.yaml",
			"# Resumes a scenario run (drctl scenario resume RUN) after its pod stopped; the run id is\n"
			"# in the last pod's log and in `drctl scenario status`.  Kubernetes puts DRCTL_RUN into\n"
			"# the command ($(DRCTL_RUN)); no shell is involved:\n"
			"#   kubectl set env --local -f jobs/scenario-resume-job.yaml DRCTL_RUN=RUN -o yaml \\\n"
			"#     | kubectl create -f -\n"
			"# After a gate, confirm the step a person did with --confirm STEP (docs/schedules.md).\n",
			&doc, 1, err);
}

int schedule_render_kube(const struct config *cfg, const struct schedule_options *o, struct schedule_output *out,
			 struct drctl_error *err)
{
	struct kube_render r = { .cfg = cfg, .o = o };
	int rc = -1;

	if (cluster_config_build(cfg, &r.cc, err) != 0)
		return -1;
	if (add_accounts(&r, out, err) == 0 && add_configmap(&r, out, err) == 0 && add_cronjobs(&r, out, err) == 0 &&
	    add_claims(&r, out, err) == 0 && add_scenario_jobs(&r, out, err) == 0)
		rc = 0;
	cluster_config_free(&r.cc);
	return rc;
}
