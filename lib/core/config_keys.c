/*
 * config_keys: every key drctl understands, one row each, and the commented
 * template `drctl init` writes from them.  Adding a key is adding a row;
 * lib/core/config.c does the rest (validation, DRCTL_<SECTION>_<KEY>, hints).
 */
#include "lib/core/config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/core/config_private.h"

#define K(sec, nm, ty, df, dc) { .section = sec, .name = nm, .type = ty, .def = df, .doc = dc }
#define KX(sec, nm, ty, ex, dc) { .section = sec, .name = nm, .type = ty, .example = ex, .doc = dc }
#define KINT(sec, nm, df, lo, hi, dc) \
	{ .section = sec, .name = nm, .type = CONFIG_INT, .def = df, .min = lo, .max = hi, .doc = dc }
#define KENUM(sec, nm, ch, df, dc) \
	{ .section = sec, .name = nm, .type = CONFIG_ENUM, .choices = ch, .def = df, .doc = dc }
#define KDUR(sec, nm, df, dc) { .section = sec, .name = nm, .type = CONFIG_DURATION, .def = df, .doc = dc }
#define KSECRET(sec, nm, ty, ex, dc) \
	{ .section = sec, .name = nm, .type = ty, .example = ex, .sensitive = 1, .doc = dc }

/* Rows of one section are adjacent: the template walks the table in order. */
const struct config_key config_keys[] = {
	KENUM("repository", "type", "local, s3", "local", "where backups live: local (a folder) or s3 (an S3-compatible bucket)"),
	K("repository", "path", CONFIG_PATH, NULL, "folder of a local repository"),
	KX("repository", "bucket", CONFIG_STRING, "drctl-backups", "S3 bucket (type = s3)"),
	KX("repository", "prefix", CONFIG_STRING, "prod/", "key prefix inside the bucket"),
	/* No default: an unset region falls back to AWS_REGION, AWS_DEFAULT_REGION and ~/.aws/config. */
	KX("repository", "region", CONFIG_STRING, "us-east-1",
	   "S3 region (else AWS_REGION, AWS_DEFAULT_REGION, the profile's region in ~/.aws/config, else us-east-1)"),
	KX("repository", "endpoint", CONFIG_STRING, "https://minio.example:9000",
	   "S3 endpoint URL of a non-AWS store (MinIO, Ceph RGW, https://storage.googleapis.com); else AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL; unset means AWS"),
	K("repository", "force_path_style", CONFIG_BOOL, "false",
	  "address objects as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY (MinIO and Ceph RGW usually need true)"),
	K("repository", "ca_file", CONFIG_PATH, NULL, "CA bundle that verifies the S3 endpoint's certificate (the system's when unset)"),
	KINT("repository", "timeout_seconds", "60", 1, 86400,
	     "S3: time limit of a small request, and how long a transfer may stall, before the attempt fails and is retried"),
	KINT("repository", "lock_stale_minutes", "30", 1, 10080,
	     "a repository lock (locks/*.json) not refreshed for this long is stale: its holder died; `--steal` (backup, prune) removes it (holders refresh every sixth of it)"),
	KX("repository", "access_key_id_file", CONFIG_PATH, "/run/secrets/s3-access-key-id",
	   "file holding the S3 access key id (mode 0600); else AWS_ACCESS_KEY_ID, else ~/.aws/credentials"),
	KX("repository", "secret_access_key_file", CONFIG_PATH, "/run/secrets/s3-secret-access-key",
	   "file holding the S3 secret access key (mode 0600), with access_key_id_file"),
	KX("repository", "session_token_file", CONFIG_PATH, "/run/secrets/s3-session-token",
	   "file holding the session token of temporary S3 credentials (mode 0600), with access_key_id_file"),
	KX("repository", "storage_class", CONFIG_STRING, "STANDARD_IA", "S3 storage class of the objects drctl writes (unset: the store's default)"),
	KINT("repository", "part_size", "16777216", 5242880, 5368709120L,
	     "bytes per part of an S3 multipart upload (16 MiB; S3 takes 5 MiB to 5 GiB)"),
	KINT("repository", "object_lock_days", "0", 0, 36500, "S3 Object Lock retention of new objects in days (0 = off)"),
	KENUM("repository", "object_lock_mode", "GOVERNANCE, COMPLIANCE", "GOVERNANCE",
	      "S3 Object Lock mode when object_lock_days > 0: GOVERNANCE (lifted only with s3:BypassGovernanceRetention) or COMPLIANCE (nobody can shorten it)"),

	KX("state", "dir", CONFIG_PATH, "~/.local/state/drctl", "journals, locks, caches and the restore's spools (default $XDG_STATE_HOME/drctl or ~/.local/state/drctl)"),

	K("signing", "secret_key_file", CONFIG_PATH, NULL, "minisign secret key that signs manifests (mode 0600)"),
	K("signing", "public_key_file", CONFIG_PATH, NULL, "minisign public key that verifies manifests"),
	KX("signing", "vault_transit_key", CONFIG_STRING, "drctl-signing", "sign with this Vault Transit key instead of secret_key_file"),

	K("encryption", "enabled", CONFIG_BOOL, "true", "encrypt archives with age (turn off only for tests)"),
	K("encryption", "recipients", CONFIG_LIST, NULL, "age recipients (age1...), comma-separated; any of them can decrypt"),
	K("encryption", "identity_file", CONFIG_PATH, NULL, "age identity (AGE-SECRET-KEY-1...), needed only to restore (mode 0600)"),

	KINT("compression", "level", "3", 1, 19, "zstd level, 1 (fast) to 19 (small)"),
	KINT("compression", "threads", "0", 0, 1024, "zstd worker threads (0 = all cores)"),

	KINT("backup", "parallel", NULL, 1, 16,
	     "components backed up at the same time, each into its own object (default: every configured one, at most 4; 1 = one after another)"),

	KX("files", "paths", CONFIG_LIST, "/etc/agents, /srv/agents/config", "files and folders to back up, comma-separated"),

	KSECRET("postgres", "conninfo", CONFIG_STRING, "host=127.0.0.1 dbname=agents_db", "libpq connection string; PG* variables fill the rest (put the password in password_file)"),
	K("postgres", "databases", CONFIG_STRING, "agents_db", "databases to dump, comma-separated"),
	KINT("postgres", "jobs", "2", 1, 64, "parallel pg_dump / pg_restore jobs"),
	KINT("postgres", "compression_level", "1", 1, 19,
	     "zstd level of the postgres object (overrides [compression] level; 1: COPY text compresses as well as at 3, twice as fast)"),
	K("postgres", "pg_dump", CONFIG_STRING, "pg_dump", "pg_dump program (a name on PATH or a full path)"),
	K("postgres", "pg_restore", CONFIG_STRING, "pg_restore", "pg_restore program (a name on PATH or a full path)"),
	KX("postgres", "password_file", CONFIG_PATH, "/run/secrets/postgres-password", "file holding the PostgreSQL password (mode 0600)"),

	K("redis", "url", CONFIG_STRING, "redis://127.0.0.1:6379", "redis://[user@]host:port of the server to back up"),
	KSECRET("redis", "password", CONFIG_SECRET, NULL, "Redis password (prefer password_file)"),
	KX("redis", "password_file", CONFIG_PATH, "/run/secrets/redis-password", "file holding the Redis password (mode 0600)"),
	K("redis", "tls_ca_file", CONFIG_PATH, NULL, "CA bundle that verifies the server (enables TLS)"),
	K("redis", "tls_cert_file", CONFIG_PATH, NULL, "client certificate for mutual TLS"),
	K("redis", "tls_key_file", CONFIG_PATH, NULL, "client key for mutual TLS (mode 0600)"),
	K("redis", "tls_server_name", CONFIG_STRING, NULL, "name expected in the server certificate (SNI)"),
	KINT("redis", "compression_level", "1", 1, 19,
	     "zstd level of the redis object (overrides [compression] level; 1: an RDB, LZF-packed already, compresses better than at 3, 1.6x as fast)"),
	KINT("redis", "timeout_seconds", "60", 1, 86400, "connect and command timeout"),
	KENUM("redis", "restore_method", "commands, replication", "commands",
	      "how a restore puts keys into a server: RESTORE commands, or the server loads the RDB as drctl's replica"),
	K("redis", "replication_address", CONFIG_STRING, NULL,
	  "HOST[:PORT] of this machine that the server connects to for restore_method = replication (default: loopback for a server on loopback)"),

	KX("vault", "address", CONFIG_STRING, "https://vault.example:8200", "Vault address (VAULT_ADDR when unset)"),
	KSECRET("vault", "token", CONFIG_SECRET, NULL, "Vault token (prefer token_file; VAULT_TOKEN when unset)"),
	KX("vault", "token_file", CONFIG_PATH, "/run/secrets/vault-token", "file holding the Vault token (mode 0600)"),
	K("vault", "namespace", CONFIG_STRING, NULL, "Vault Enterprise namespace"),
	K("vault", "ca_cert", CONFIG_PATH, NULL, "CA bundle that verifies Vault's certificate"),
	KENUM("vault", "auth_method", "token, kubernetes, approle", "token", "how drctl logs in to Vault"),
	KX("vault", "kubernetes_role", CONFIG_STRING, "drctl", "role for auth_method = kubernetes"),
	K("vault", "kubernetes_token_file", CONFIG_PATH, "/var/run/secrets/kubernetes.io/serviceaccount/token", "service account token for auth_method = kubernetes"),
	K("vault", "approle_role_id_file", CONFIG_PATH, NULL, "file holding the AppRole role_id"),
	K("vault", "approle_secret_id_file", CONFIG_PATH, NULL, "file holding the AppRole secret_id (mode 0600)"),
	KX("vault", "kv_mounts", CONFIG_LIST, "secret", "KV mounts also exported key by key, comma-separated"),
	KINT("vault", "timeout_seconds", "300", 1, 86400, "request timeout (a raft snapshot can be slow)"),

	/* Unset, all three come from the pod's service account (docs/kubernetes.md). */
	KX("kubernetes", "api_url", CONFIG_STRING, "https://k8s.example:6443",
	   "Kubernetes API server URL (unset: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT, inside a pod)"),
	KX("kubernetes", "token_file", CONFIG_PATH, "/var/run/secrets/kubernetes.io/serviceaccount/token",
	   "bearer token file, read again for every request (unset: the pod's service account token)"),
	KX("kubernetes", "ca_file", CONFIG_PATH, "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
	   "CA bundle of the API server (unset: the service account's ca.crt, else the system's)"),
	K("kubernetes", "namespace", CONFIG_STRING, "ai-agents", "namespace drctl's own jobs run in (schedules/); the agents' is [agents] namespace"),
	KINT("kubernetes", "timeout_seconds", "30", 1, 3600, "how long one request to the Kubernetes API may take"),
	KINT("kubernetes", "chunk_size", "500", 1, 100000, "objects per page of a list (kubectl's --chunk-size)"),

	KENUM("agents", "control", "kubernetes, command", "kubernetes", "how agents are stopped and started around a restore"),
	K("agents", "namespace", CONFIG_STRING, "ai-agents", "namespace of the agent workloads (control = kubernetes)"),
	K("agents", "selector", CONFIG_STRING, "role=agent", "label selector of the agent workloads (control = kubernetes)"),
	KX("agents", "status_command", CONFIG_STRING, "agentctl status", "command that prints one line per agent: NAME REPLICAS (control = command)"),
	KX("agents", "stop_command", CONFIG_STRING, "agentctl stop {name}", "command that stops agent {name} (control = command)"),
	KX("agents", "start_command", CONFIG_STRING, "agentctl start {name} {replicas}", "command that starts agent {name} with {replicas} replicas (control = command)"),
	KX("agents", "restart_command", CONFIG_STRING, "agentctl restart {name}", "command that restarts agent {name} (control = command)"),
	KINT("agents", "wait_seconds", "600", 1, 86400, "how long scaling the agents or a rollout may take"),
	KX("agents", "health_url", CONFIG_STRING, "http://{name}.ai-agents.svc:8080/api/v1/agents/{name}/health", "each agent's health URL ({name}: the agent), 200 when healthy"),
	KINT("health", "timeout_seconds", "10", 1, 3600, "how long each health check may take"),

	/* The scenarios' own settings (docs/cluster-loss.md). */
	KX("scenario", "deploy_command", CONFIG_STRING, "./infrastructure/scripts/deploy.sh production full",
	   "cluster-loss: the command that deploys the platform onto the new cluster, split on blanks and run without a shell (it must be safe to run twice)"),
	KINT("scenario", "deploy_timeout_seconds", "1800", 1, 86400, "cluster-loss: how long the deploy command may take"),
	KINT("scenario", "services_wait_seconds", "600", 1, 86400,
	     "cluster-loss: how long to wait after the deploy for PostgreSQL and Redis to answer"),
	KINT("scenario", "vault_wait_seconds", "300", 1, 86400,
	     "cluster-loss: how long to wait for Vault to be active after the snapshot restore and the unseal"),
	KX("scenario", "files_target", CONFIG_PATH, "/",
	   "cluster-loss: the folder the files component is restored under, by each file's original path (/: the original paths); unset: files are not restored"),
	K("scenario", "redis_flush", CONFIG_BOOL, "false",
	  "cluster-loss: empty a Redis that already holds keys before restoring into it (after the backup is proven)"),

	KSECRET("scratch", "postgres_conninfo", CONFIG_STRING, "host=127.0.0.1 port=5433 dbname=postgres", "scratch PostgreSQL for drills and restore tests"),
	KX("scratch", "redis_url", CONFIG_STRING, "redis://127.0.0.1:6380", "scratch Redis for drills and restore tests"),
	KX("scratch", "vault_address", CONFIG_STRING, "http://127.0.0.1:8210", "scratch Vault for drills and restore tests"),
	KX("scratch", "postgres_password_file", CONFIG_PATH, "/run/secrets/scratch-postgres-password",
	   "file holding the scratch PostgreSQL's password (mode 0600)"),
	KX("scratch", "redis_password_file", CONFIG_PATH, "/run/secrets/scratch-redis-password",
	   "file holding the scratch Redis's password (mode 0600)"),
	KX("scratch", "vault_token_file", CONFIG_PATH, "/run/secrets/scratch-vault-token",
	   "file holding a token of the scratch Vault (mode 0600)"),

	/* Retention (drctl prune): every rule is off by default, and with no rule
	 * set prune removes no complete set; see README "Retention". */
	KINT("retention", "keep_last", "0", 0, 100000,
	     "keep the N newest complete sets (0 = off; with every rule off, prune keeps every complete set)"),
	KINT("retention", "keep_hourly", "0", 0, 100000,
	     "keep the newest set of each of the N most recent hours (UTC) that have a set (0 = off)"),
	KINT("retention", "keep_daily", "0", 0, 100000,
	     "keep the newest set of each of the N most recent days (UTC) that have a set (0 = off; e.g. 7)"),
	KINT("retention", "keep_weekly", "0", 0, 100000,
	     "keep the newest set of each of the N most recent ISO weeks (Monday to Sunday, UTC) that have a set (0 = off; e.g. 4)"),
	KINT("retention", "keep_monthly", "0", 0, 100000,
	     "keep the newest set of each of the N most recent months (UTC) that have a set (0 = off; e.g. 12)"),
	KINT("retention", "keep_yearly", "0", 0, 100000,
	     "keep the newest set of each of the N most recent years (UTC) that have a set (0 = off)"),
	KDUR("retention", "keep_within", "0",
	     "keep every set made less than this before the newest complete set: y m w d h, e.g. 30d, 2w, 36h, 1y2m (0 = off)"),
	KDUR("retention", "incomplete_grace", "24h",
	     "an incomplete set (no signed manifest) younger than this may be a backup in progress and is kept; older ones are removed"),

	/* Secret rotation (drctl rotate-secrets, scenario secrets-compromise;
	 * docs/secrets.md).  A Vault path is MOUNT/PATH of a KV v2 secret. */
	KX("rotation", "postgres_roles", CONFIG_LIST, "agents_admin, app_writer",
	   "PostgreSQL roles whose passwords drctl rotates (never the role drctl connects as)"),
	K("rotation", "postgres_vault_path", CONFIG_STRING, "secret/platform/postgres/{role}",
	  "the KV v2 secret that holds each role's password ({role}: the role)"),
	K("rotation", "postgres_vault_field", CONFIG_STRING, "password", "the field of that secret that holds the password"),
	KX("rotation", "redis_users", CONFIG_LIST, "agents-app",
	   "Redis ACL users whose passwords drctl rotates (never the user of [redis] url)"),
	K("rotation", "redis_vault_path", CONFIG_STRING, "secret/platform/redis/{user}",
	  "the KV v2 secret that holds each Redis user's password ({user}: the user; default for requirepass)"),
	K("rotation", "redis_vault_field", CONFIG_STRING, "password", "the field of that secret that holds the password"),
	K("rotation", "redis_requirepass", CONFIG_BOOL, "false",
	  "also rotate the default user's password with CONFIG SET requirepass (a Redis without ACL users)"),
	KENUM("rotation", "redis_persist", "auto, aclfile, config, none", "auto",
	      "how Redis keeps the change across a restart: ACL SAVE (aclfile), CONFIG REWRITE (config), auto (whichever the server has), none"),
	K("rotation", "password_generator", CONFIG_STRING, "token32",
	  "new PostgreSQL and Redis passwords: token<N> (letters and digits), hex<N> or base64url<N>, N characters"),
	KX("rotation", "generated", CONFIG_LIST, "secret/agents/internal-api:api_key:token32, secret/agents/webhook:secret:hex64",
	   "values only Vault holds that drctl generates: PATH:FIELD:GENERATOR, comma-separated"),
	KX("rotation", "manual", CONFIG_LIST, "secret/agents/anthropic:api_key:Anthropic console",
	   "third-party keys only a person can rotate (a gate names them): PATH:FIELD:WHERE IT IS ISSUED, comma-separated"),
	KX("rotation", "revoke_token_accessors_file", CONFIG_PATH, "/etc/drctl/revoke-accessors.txt",
	   "Vault token accessors to revoke in the secrets-compromise scenario, one a line (# comments)"),

	/* Metrics of batch jobs (docs/monitoring.md); neither destination set:
	 * nothing is published.  A destination that fails is a warning. */
	KX("metrics", "pushgateway_url", CONFIG_STRING, "http://pushgateway:9091",
	   "Prometheus Pushgateway that backup, verify, prune, drill and scenario runs push their metrics to (POST)"),
	KX("metrics", "textfile_dir", CONFIG_PATH, "/var/lib/node_exporter/textfile_collector",
	   "node_exporter textfile collector folder to write the same metrics to (drctl_<job>.prom files, replaced atomically)"),
	K("metrics", "job", CONFIG_STRING, "drctl", "the job label of the Pushgateway grouping key"),
	KX("metrics", "instance", CONFIG_STRING, "backup-host-1",
	   "the instance label of the Pushgateway grouping key (default: this machine's host name)"),
	KINT("metrics", "timeout_seconds", "10", 1, 300, "how long one push to the Pushgateway may take"),
	K("metrics", "ca_file", CONFIG_PATH, NULL, "CA bundle that verifies an https Pushgateway (the system's when unset)"),
};

const size_t config_key_count = sizeof(config_keys) / sizeof(config_keys[0]);

size_t config_key_info_count(void)
{
	return config_key_count;
}

void config_key_info_at(size_t i, struct config_key_info *out)
{
	const struct config_key *k = &config_keys[i];

	out->section = k->section;
	out->name = k->name;
	out->is_path = k->type == CONFIG_PATH;
	out->is_secret = k->sensitive || k->type == CONFIG_SECRET;
}

/* key = value, quoted when reading it back would otherwise change it. */
int config_write_entry(FILE *f, const char *key, const char *value)
{
	size_t len = strlen(value);

	if (strpbrk(value, "\n\r"))
		return -1; /* a line-based format cannot hold it */
	if (len && !isspace((unsigned char)value[0]) && !isspace((unsigned char)value[len - 1]) && value[0] != '"')
		return fprintf(f, "%s = %s\n", key, value) < 0 ? -1 : 0;
	fprintf(f, "%s = \"", key);
	for (const char *p = value; *p; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', f);
		fputc(*p, f);
	}
	return fputs("\"\n", f) < 0 ? -1 : 0;
}

static const char config_template_header[] =
	"# drctl configuration, written by `drctl init`.\n"
	"#\n"
	"# Every key drctl knows is listed, each under a comment saying what it is.\n"
	"# A commented-out key shows its default (or an example); uncomment it to\n"
	"# change it.  `#` and `;` start a comment only at the start of a line.\n"
	"# Quote a value with \"...\" to keep leading or trailing spaces.\n"
	"#\n"
	"# Every key can also be set by an environment variable DRCTL_<SECTION>_<KEY>\n"
	"# (e.g. DRCTL_REPOSITORY_PATH) and by a command-line flag: a flag beats the\n"
	"# environment, which beats this file.  Relative paths are relative to this\n"
	"# file's folder.  Give secrets as *_file keys naming files of mode 0600.\n";

char *config_render_template(const char *recipient, const char *secret_key_file,
			     const char *public_key_file, const char *identity_file,
			     const char *repository_path, const char *state_dir)
{
	return config_render_template_with(recipient, secret_key_file, public_key_file, identity_file, repository_path,
					   state_dir, NULL, 0);
}

char *config_render_template_with(const char *recipient, const char *secret_key_file,
				  const char *public_key_file, const char *identity_file,
				  const char *repository_path, const char *state_dir,
				  const struct config_fill *more, size_t n_more)
{
	const struct { const char *section, *name, *value; } filled[] = {
		{ "encryption", "recipients", recipient },
		{ "signing", "secret_key_file", secret_key_file },
		{ "signing", "public_key_file", public_key_file },
		{ "encryption", "identity_file", identity_file },
		{ "repository", "path", repository_path },
		{ "state", "dir", state_dir },
	};
	const char *section = "";
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	fputs(config_template_header, f);
	for (size_t i = 0; i < config_key_count; i++) {
		const struct config_key *k = &config_keys[i];
		const char *value = NULL, *shown = k->def ? k->def : k->example;

		for (size_t j = 0; j < sizeof(filled) / sizeof(filled[0]); j++)
			if (!strcmp(filled[j].section, k->section) && !strcmp(filled[j].name, k->name))
				value = filled[j].value;
		for (size_t j = 0; j < n_more; j++)
			if (!strcmp(more[j].section, k->section) && !strcmp(more[j].key, k->name) && more[j].value)
				value = more[j].value;
		if (strcmp(section, k->section)) {
			fprintf(f, "\n[%s]\n", k->section);
			section = k->section;
		}
		fprintf(f, "# %s\n", k->doc);
		if (value) {
			if (config_write_entry(f, k->name, value) != 0)
				goto fail;
		} else if (shown) {
			fprintf(f, "# %s = %s\n", k->name, shown);
		} else {
			fprintf(f, "# %s =\n", k->name);
		}
	}
	if (fclose(f) != 0) {
		f = NULL;
		goto fail;
	}
	return text;
fail:
	if (f)
		fclose(f);
	free(text);
	return NULL;
}
