/*
 * schedule_private: what the renderers of schedule.h share.  Only
 * schedules/schedule*.c include it.
 */
#ifndef DRCTL_SCHEDULES_SCHEDULE_PRIVATE_H
#define DRCTL_SCHEDULES_SCHEDULE_PRIVATE_H

#include "schedules/schedule.h"

/* Where things are inside the pods. */
#define CLUSTER_CONFIG_DIR "/etc/drctl"
#define CLUSTER_CONFIG_FILE CLUSTER_CONFIG_DIR "/drctl.conf"
#define CLUSTER_SECRETS_DIR "/run/drctl/secrets"          /* the key files drctl reads, mode 0400 */
#define CLUSTER_SECRET_VOLUMES "/run/drctl/secret-volumes" /* the Secrets as Kubernetes mounts them */
#define CLUSTER_STATE_DIR "/var/lib/drctl"
#define CLUSTER_TMP_DIR "/tmp"

/* A file the configuration names (a key, a password, a CA bundle) that the
 * pods get from a Secret: drctl-<section>, key <name without _file>. */
struct cluster_file {
	char section[32], key[64];
	char secret[64];     /* "drctl-signing" */
	char secret_key[64]; /* "secret-key" */
	char file[128];      /* "signing-secret-key": its name in CLUSTER_SECRETS_DIR */
	char source[4096];   /* the file on this host, for `kubectl create secret --from-file` */
	unsigned jobs;       /* enum schedule_job bits: the pods that mount it */
};

/* The host's configuration turned into the one the pods read. */
struct cluster_config {
	char *text;                   /* drctl.conf of the ConfigMap */
	struct cluster_file *files;
	size_t n_files;
	char repository_path[4096];   /* a local repository's folder (a volume), "" for s3 */
	char jobs_namespace[256];     /* [kubernetes] namespace: where the jobs run */
	char agents_namespace[256];   /* [agents] namespace: whose workloads they read or scale */
	int kubernetes_agents;        /* [agents] control = kubernetes: the API is needed */
	int vault_kubernetes_auth;    /* [vault] auth_method = kubernetes: the pod's token logs in */
};

int cluster_config_build(const struct config *cfg, struct cluster_config *out, struct drctl_error *err);
void cluster_config_free(struct cluster_config *cc);

/* Write s as one word of a POSIX shell command line, single-quoted unless
 * it is made only of characters no shell treats specially. */
void schedule_shell_word(FILE *f, const char *s);

/* Add a file (takes text, which was malloc'd, also on failure). */
int schedule_output_add(struct schedule_output *out, const char *name, char *text, struct drctl_error *err);

int schedule_render_kube(const struct config *cfg, const struct schedule_options *o, struct schedule_output *out,
			 struct drctl_error *err);
int schedule_render_crontab(const struct config *cfg, const struct schedule_options *o,
			    struct schedule_output *out, struct drctl_error *err);
int schedule_render_systemd(const struct config *cfg, const struct schedule_options *o,
			    struct schedule_output *out, struct drctl_error *err);

#endif
