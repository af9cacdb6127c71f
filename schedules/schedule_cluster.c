/*
 * schedule_cluster: the host's configuration turned into the one the pods
 * read (the ConfigMap's drctl.conf), and the list of files it names that the
 * pods get from Secrets.
 *
 * Every key that is set (in the file, the environment or by a flag) is
 * carried over, with these changes:
 *  - a file the configuration names (a key, a password file, a CA bundle)
 *    becomes CLUSTER_SECRETS_DIR/<section>-<name>, filled from the Secret
 *    drctl-<section>, key <name without _file>; the pods that do not need a
 *    file (the nightly backup never gets the age identity) do not get it;
 *  - [state] dir is the pod's state volume;
 *  - the Kubernetes API and its credentials are the pod's service account,
 *    so [kubernetes] api_url, token_file, ca_file and [vault]
 *    kubernetes_token_file are left out;
 *  - [metrics] textfile_dir is left out (no node_exporter reads a pod's
 *    folder: pods push to [metrics] pushgateway_url);
 *  - a secret written into the configuration itself ([redis] password, a
 *    conninfo with a password) is refused: a ConfigMap is not for secrets.
 */
#include "schedules/schedule_private.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/core/log.h"

#define ALL_JOBS                                                                                            \
	(SCHEDULE_JOB_BACKUP | SCHEDULE_JOB_VERIFY | SCHEDULE_JOB_DRILL | SCHEDULE_JOB_ROTATE |              \
	 SCHEDULE_JOB_SCENARIO)
#define SOURCE_JOBS (SCHEDULE_JOB_BACKUP | SCHEDULE_JOB_ROTATE | SCHEDULE_JOB_SCENARIO)
/* The monthly rotation never opens the repository: it writes no backup set,
 * no evidence and nothing signed (the secrets-compromise scenario, which
 * keeps evidence, runs as a scenario Job). */
#define REPOSITORY_JOBS (SCHEDULE_JOB_BACKUP | SCHEDULE_JOB_VERIFY | SCHEDULE_JOB_DRILL | SCHEDULE_JOB_SCENARIO)

/* Which pods get a file, by section and key (NULL: any key); first match. */
static const struct {
	const char *section, *key;
	unsigned jobs;
} file_jobs[] = {
	/* The identity decrypts every backup set.  The nightly backup runs
	 * unattended with the databases' credentials and needs only the
	 * recipients: a backup pod that leaks gives no way into old sets. */
	{ "encryption", "identity_file", SCHEDULE_JOB_VERIFY | SCHEDULE_JOB_DRILL | SCHEDULE_JOB_SCENARIO },
	/* Signing: backups, drill records, incident bundles; verify only checks. */
	{ "signing", "secret_key_file", SCHEDULE_JOB_BACKUP | SCHEDULE_JOB_DRILL | SCHEDULE_JOB_SCENARIO },
	{ "signing", NULL, REPOSITORY_JOBS },
	{ "repository", NULL, REPOSITORY_JOBS },
	/* The platform's servers: backed up, rotated, restored by a scenario; the
	 * drill restores into the scratch servers only. */
	{ "postgres", NULL, SOURCE_JOBS },
	{ "redis", NULL, SOURCE_JOBS },
	{ "vault", NULL, SOURCE_JOBS },
	{ "scratch", NULL, SCHEDULE_JOB_DRILL },
	/* Only secrets-compromise revokes the listed tokens. */
	{ "rotation", "revoke_token_accessors_file", SCHEDULE_JOB_SCENARIO },
	{ NULL, NULL, ALL_JOBS },
};

/* Keys the pod's own service account replaces. */
static const struct { const char *section, *key; } in_cluster_keys[] = {
	{ "kubernetes", "api_url" },
	{ "kubernetes", "token_file" },
	{ "kubernetes", "ca_file" },
	{ "vault", "kubernetes_token_file" },
};

static unsigned jobs_of(const char *section, const char *key)
{
	size_t i = 0;

	for (; file_jobs[i].section; i++)
		if (!strcmp(file_jobs[i].section, section) && (!file_jobs[i].key || !strcmp(file_jobs[i].key, key)))
			break;
	return file_jobs[i].jobs;
}

static int is_in_cluster_key(const char *section, const char *key)
{
	for (size_t i = 0; i < sizeof(in_cluster_keys) / sizeof(in_cluster_keys[0]); i++)
		if (!strcmp(in_cluster_keys[i].section, section) && !strcmp(in_cluster_keys[i].key, key))
			return 1;
	return 0;
}

/* "secret_access_key_file" -> "secret-access-key" */
static void kube_name(const char *from, char *out, size_t cap)
{
	size_t n = strlen(from), j = 0;

	if (n > 5 && !strcmp(from + n - 5, "_file"))
		n -= 5;
	for (size_t i = 0; i < n && j + 1 < cap; i++)
		out[j++] = from[i] == '_' ? '-' : (char)tolower((unsigned char)from[i]);
	out[j] = '\0';
}

/* A libpq conninfo with a password in it: key=value "password", or a URI's
 * user:password@. */
static int conninfo_has_password(const char *v)
{
	const char *p = v, *at, *slash;

	for (; *p; p++)
		if (!strncasecmp(p, "password", 8))
			return 1;
	if (strncmp(v, "postgresql://", 13) && strncmp(v, "postgres://", 11))
		return 0;
	p = strstr(v, "://") + 3;
	at = strchr(p, '@');
	slash = strchr(p, '/');
	return at && (!slash || at < slash) && memchr(p, ':', (size_t)(at - p));
}

static int refuse_secret(const struct config_key_info *k, struct drctl_error *err)
{
	char subject[128];

	snprintf(subject, sizeof(subject), "[%s] %s", k->section, k->name);
	err_set(err, EXIT_USAGE, subject, NULL,
		"%s holds a secret in the configuration itself; the manifests put the configuration in a ConfigMap, "
		"which is not for secrets, so nothing was rendered",
		subject);
	if (!strcmp(k->name, "conninfo") || !strcmp(k->name, "postgres_conninfo"))
		err_hint(err, "take the password out of %s and give it as [%s] password_file, a file mounted from a Secret",
			 subject, k->section);
	else
		err_hint(err, "unset %s (and DRCTL_%s_%s) and give it as [%s] %s_file, a file mounted from a Secret",
			 subject, k->section, k->name, k->section, k->name);
	return -1;
}

static int add_file(struct cluster_config *cc, const struct config *cfg, const struct config_key_info *k,
		    struct drctl_error *err)
{
	struct cluster_file *files = realloc(cc->files, (cc->n_files + 1) * sizeof(*files)), *f;
	const char *source = config_get_path(cfg, k->section, k->name);
	char section[32];

	if (!files)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	cc->files = files;
	f = memset(&files[cc->n_files++], 0, sizeof(*f));
	snprintf(f->section, sizeof(f->section), "%s", k->section);
	snprintf(f->key, sizeof(f->key), "%s", k->name);
	kube_name(k->section, section, sizeof(section));
	kube_name(k->name, f->secret_key, sizeof(f->secret_key));
	snprintf(f->secret, sizeof(f->secret), "drctl-%s", section);
	snprintf(f->file, sizeof(f->file), "%s-%s", section, f->secret_key);
	snprintf(f->source, sizeof(f->source), "%s", source ? source : "");
	f->jobs = jobs_of(k->section, k->name);
	return 0;
}

/* The value the pods get for one key that is set: out NULL to leave it out. */
static int cluster_value(struct cluster_config *cc, const struct config *cfg, const struct config_key_info *k,
			 const char **out, char *buf, size_t cap, struct drctl_error *err)
{
	const char *v = config_get(cfg, k->section, k->name);

	*out = NULL;
	if (is_in_cluster_key(k->section, k->name))
		return 0;
	if (!strcmp(k->section, "metrics") && !strcmp(k->name, "textfile_dir")) {
		log_warn("[metrics] textfile_dir is left out of the manifests: no node_exporter reads a pod's folder; "
			 "set [metrics] pushgateway_url for the jobs' metrics");
		return 0;
	}
	if (!strcmp(k->section, "repository") && !strcmp(k->name, "path")) {
		snprintf(cc->repository_path, sizeof(cc->repository_path), "%s", config_get_path(cfg, k->section, k->name));
		*out = cc->repository_path;
		return 0;
	}
	if (k->is_path) {
		if (add_file(cc, cfg, k, err) != 0)
			return -1;
		snprintf(buf, cap, "%s/%s", CLUSTER_SECRETS_DIR, cc->files[cc->n_files - 1].file);
		*out = buf;
		return 0;
	}
	if (k->is_secret && (!strstr(k->name, "conninfo") || conninfo_has_password(v)))
		return refuse_secret(k, err);
	*out = v;
	return 0;
}

static int write_entry(FILE *f, const char **section, const char *sec, const char *key, const char *value,
		       struct drctl_error *err)
{
	if (strcmp(*section, sec)) {
		fprintf(f, "\n[%s]\n", sec);
		*section = sec;
	}
	if (config_write_entry(f, key, value) != 0)
		return err_set(err, EXIT_USAGE, key, "a configuration value is one line", "[%s] %s holds a line break",
			       sec, key);
	return 0;
}

static int write_cluster_text(struct cluster_config *cc, const struct config *cfg, FILE *f, struct drctl_error *err)
{
	const char *section = "";
	char buf[4096];

	fputs("# drctl's configuration inside the cluster, rendered by `drctl schedule render --kind cronjob`\n"
	      "# from the operator's one: key files are in " CLUSTER_SECRETS_DIR " (from the drctl-* Secrets),\n"
	      "# state in " CLUSTER_STATE_DIR ", the Kubernetes API is the pod's service account.\n",
	      f);
	for (size_t i = 0; i < config_key_info_count(); i++) {
		struct config_key_info k;
		const char *value;

		config_key_info_at(i, &k);
		if (!strcmp(k.section, "state") && !strcmp(k.name, "dir")) {
			if (write_entry(f, &section, k.section, k.name, CLUSTER_STATE_DIR, err) != 0)
				return -1;
			continue;
		}
		if (!config_is_set(cfg, k.section, k.name))
			continue;
		if (cluster_value(cc, cfg, &k, &value, buf, sizeof(buf), err) != 0)
			return -1;
		if (value && write_entry(f, &section, k.section, k.name, value, err) != 0)
			return -1;
	}
	return 0;
}

int cluster_config_build(const struct config *cfg, struct cluster_config *cc, struct drctl_error *err)
{
	size_t len = 0;
	const char *type = config_get(cfg, "repository", "type");
	FILE *f;
	int rc;

	memset(cc, 0, sizeof(*cc));
	snprintf(cc->jobs_namespace, sizeof(cc->jobs_namespace), "%s", config_get(cfg, "kubernetes", "namespace"));
	snprintf(cc->agents_namespace, sizeof(cc->agents_namespace), "%s", config_get(cfg, "agents", "namespace"));
	cc->kubernetes_agents = !strcmp(config_get(cfg, "agents", "control"), "kubernetes");
	cc->vault_kubernetes_auth = !strcmp(config_get(cfg, "vault", "auth_method"), "kubernetes");
	if (!(f = open_memstream(&cc->text, &len)))
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	rc = write_cluster_text(cc, cfg, f, err);
	if (fclose(f) != 0 && rc == 0)
		rc = err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	if (rc == 0 && strcmp(type, "local") != 0)
		cc->repository_path[0] = '\0';
	if (rc == 0 && config_get_bool(cfg, "encryption", "enabled") && !config_is_set(cfg, "encryption", "identity_file"))
		log_warn("[encryption] identity_file is not set: in the cluster, verify --deep, the drill and the scenarios "
			 "cannot read a backup set back");
	if (rc == 0 && !strcmp(type, "local") && !cc->repository_path[0])
		rc = err_set(err, EXIT_USAGE, "[repository] path", "set [repository] path, or use type = s3",
			     "a local repository needs [repository] path");
	if (rc != 0)
		cluster_config_free(cc);
	return rc;
}

void cluster_config_free(struct cluster_config *cc)
{
	free(cc->text);
	free(cc->files);
	memset(cc, 0, sizeof(*cc));
}
