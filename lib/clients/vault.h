/*
 * vault: drctl's HashiCorp Vault (and OpenBao) client.
 *
 * Settings and login follow the Vault CLI, so an operator's shell that works
 * with `vault` works with drctl.  Precedence, highest first:
 *   DRCTL_VAULT_<KEY> (or a flag) > the CLI's VAULT_* variable > [vault] in
 *   the config file > the CLI's default (and ~/.vault-token for the token).
 * VAULT_ADDR, VAULT_TOKEN, VAULT_CACERT, VAULT_CAPATH, VAULT_CLIENT_CERT,
 * VAULT_CLIENT_KEY, VAULT_SKIP_VERIFY, VAULT_TLS_SERVER_NAME,
 * VAULT_NAMESPACE, VAULT_CLIENT_TIMEOUT and VAULT_MAX_RETRIES are honoured.
 * auth_method kubernetes / approle log in first and use the token they get.
 *
 * Every call goes through vault_call: the token header (never logged), the
 * namespace header, the HTTP layer's retry policy (http.h) with Vault's own
 * exceptions (no retry of a sealed 503, of 429 from sys/health, or of a
 * write whose connection broke after it was sent), a standby's 307 followed
 * only where asked (the raft snapshot paths) and only to the same scheme,
 * and Vault's {"errors":[...]} turned into a message that names the address
 * and a hint with the next step.
 *
 * The raft snapshot (vault_snapshot.c), KV v2 export/import (vault_kv.c),
 * single KV v2 secrets and token accessors for the rotation (vault_secret.c)
 * and the transit signer (vault_transit.c) are built on it; their functions are
 * declared here too, so this header is the module's whole public face.
 */
#ifndef DRCTL_VAULT_H
#define DRCTL_VAULT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/core/config.h"
#include "lib/core/error.h"
#include "lib/crypto/minisign.h"
#include "lib/stream/archive_stream.h"
#include "lib/stream/stream.h"

/* --- client ------------------------------------------------------------- */

struct vault_client;

/* Resolve the settings, build the HTTP client and, when login is set, get a
 * token (token / kubernetes / approle).  address: overrides every other
 * source (restore --target, drill scratch), may be NULL. */
int vault_client_open(struct vault_client **out, const struct config *cfg, const char *address,
		      int login, struct drctl_error *err);
/* The same for another Vault (the drill's scratch one) with its own token,
 * [token->section] token->key (or its _file): no login, and none of [vault]'s
 * settings of the token (VAULT_TOKEN, token_file) is used. */
int vault_client_open_token(struct vault_client **out, const struct config *cfg, const char *address,
			    const struct config_secret_ref *token, struct drctl_error *err);
void vault_client_close(struct vault_client *vc);
const char *vault_client_address(const struct vault_client *vc);
/* "token", "kubernetes" or "approle" */
const char *vault_client_auth_method(const struct vault_client *vc);

/* Flags of a call. */
#define VAULT_CALL_OK_404     0x01u /* 404 is an answer (status set, json may hold the body) */
#define VAULT_CALL_NO_TOKEN   0x02u /* logins, sys/health */
#define VAULT_CALL_FOLLOW_307 0x04u /* a standby's redirect (raft snapshot paths) */
#define VAULT_CALL_NO_RETRY   0x08u

struct vault_call {
	const char *method;
	const char *path;          /* after /v1/, may carry a query */
	unsigned flags;
	/* Body: JSON, or a streamed source opened per attempt (a retry or a
	 * redirect replays it from its origin).  open_body returns an owned
	 * source, closed by vault_call after the attempt. */
	json_t *json_body;
	struct source *(*open_body)(void *ctx, unsigned attempt, struct drctl_error *err);
	void *body_ctx;
	uint64_t body_len;
	/* A 2xx body streams into sink (not closed) when set; else parsed JSON. */
	struct sink *sink;
	int streamed;
	/* Results. */
	long status;
	json_t *json;              /* 2xx (or accepted 404) JSON body; caller decrefs */
	char node[512];            /* the address that answered (after a redirect) */
	uint64_t sink_bytes;
};

/* 0 when Vault answered 2xx (or an accepted 404); -1 with a clear error. */
int vault_call(struct vault_client *vc, struct vault_call *call, struct drctl_error *err);
/* Shorthand for JSON calls: *out (may be NULL) gets the response. */
int vault_json(struct vault_client *vc, const char *method, const char *path, json_t *body,
	       unsigned flags, long *status, json_t **out, struct drctl_error *err);

/* --- health (vault_health.c) ---------------------------------------------- */

enum vault_state {
	VAULT_ACTIVE,
	VAULT_STANDBY,
	VAULT_PERF_STANDBY,
	VAULT_DR_SECONDARY,
	VAULT_SEALED,
	VAULT_UNINITIALIZED,
};

struct vault_health {
	enum vault_state state;
	long status;               /* sys/health's HTTP status */
	int initialized, sealed, standby, performance_standby;
	char version[64];
	char cluster_name[128];
	char cluster_id[64];
};

const char *vault_state_name(enum vault_state s);
/* GET sys/health (no token).  429 there means standby, not rate limited. */
int vault_health(struct vault_client *vc, struct vault_health *h, struct drctl_error *err);
/* Poll sys/health until the node is initialized, unsealed and active (seen
 * twice in a row, so a restore that has not started yet is not mistaken for
 * one that finished).  Fails early, with the command to run, when the node
 * stays sealed for sealed_grace seconds or is not initialized. */
int vault_wait_active(struct vault_client *vc, double timeout, double sealed_grace,
		      struct vault_health *last, struct drctl_error *err);
/* {"state","version","cluster_name","cluster_id","initialized","sealed","standby"} */
json_t *vault_health_json(const struct vault_health *h);

/* --- raft snapshots (vault_snapshot.c) ------------------------------------ */

/* A streaming check of a raft snapshot (gzip over tar of meta.json,
 * state.bin, SHA256SUMS, SHA256SUMS.sealed): fed the compressed bytes in any
 * pieces, memory stays flat. */
struct vault_snapshot_check;
struct vault_snapshot_check *vault_snapshot_check_new(struct drctl_error *err);
/* Fails as soon as the bytes cannot be a snapshot (corrupt gzip, bad tar
 * header, a member too large to be meta.json...). */
int vault_snapshot_check_feed(struct vault_snapshot_check *c, const void *buf, size_t len,
			      struct drctl_error *err);
/* At the end of the bytes: complete gzip and tar, the four members,
 * SHA256SUMS.sealed non-empty, SHA256SUMS matching.  *facts (may be NULL)
 * gets {"size","sha256","members":{name:{"size","sha256"}},"meta":{...}}. */
int vault_snapshot_check_finish(struct vault_snapshot_check *c, json_t **facts, struct drctl_error *err);
void vault_snapshot_check_free(struct vault_snapshot_check *c);

#define VAULT_SNAPSHOT_MEMBER "vault/raft.snap"

/* GET sys/storage/raft/snapshot (following a standby's 307) into the
 * archive as the part stream `member`, checked on the way.  Returns 1 when
 * Vault does not use raft storage (nothing written), 0 on success with
 * *facts set, -1 on error. */
int vault_snapshot_save(struct vault_client *vc, struct archive_out *ao, const char *member,
			json_t *streams, json_t **facts, struct drctl_error *err);

/* POST sys/storage/raft/snapshot (-force with force): body from open_body
 * (called again for a retry or a standby's 307: it must replay the snapshot
 * from its origin), body_len bytes.  node gets the address that took it. */
int vault_snapshot_restore(struct vault_client *vc, int force,
			   struct source *(*open_body)(void *ctx, unsigned attempt, struct drctl_error *err),
			   void *body_ctx, uint64_t body_len, char *node, size_t node_cap,
			   struct drctl_error *err);

/* A source that checks a snapshot while it passes (upstream owned) and holds
 * its last byte back until the upstream ended cleanly and the check passed:
 * Vault never receives a complete snapshot that drctl has not proven. */
struct source *vault_snapshot_checked_source(struct source *upstream, struct drctl_error *err);

/* --- KV version 2 (vault_kv.c) ---------------------------------------------- */

/* "vault/kv/<mount>.jsonl" */
void vault_kv_member_name(const char *mount, char *out, size_t cap);
/* Export every key of a KV v2 mount (current value + metadata), one JSON
 * line per key, as the part stream vault_kv_member_name(mount).  Values are
 * secrets: the caller must only call this into an encrypted archive.
 * *facts gets {"mount","keys","deleted","folders"}. */
int vault_kv_export(struct vault_client *vc, const char *mount, struct archive_out *ao, json_t *streams,
		    json_t **facts, struct drctl_error *err);
/* Write the export read from `lines` back with check-and-set: a missing key
 * is created (cas 0); a key whose value differs is written with cas = its
 * current version, unless that version was written after exported_at
 * (newer than the backup): then it is skipped and reported, unless force.
 * report gets {"mount","written","unchanged","skipped_newer":[...],"deleted_in_backup","conflicts":[...]}. */
int vault_kv_import(struct vault_client *vc, const char *mount, struct source *lines, const char *exported_at,
		    int force, json_t *report, struct drctl_error *err);
/* Incremental check of an export's lines (deep verify). */
struct vault_kv_lines;
struct vault_kv_lines *vault_kv_lines_new(struct drctl_error *err);
int vault_kv_lines_feed(struct vault_kv_lines *l, const void *buf, size_t len, struct drctl_error *err);
/* Returns the number of keys (lines), or -1. */
long vault_kv_lines_finish(struct vault_kv_lines *l, struct drctl_error *err);
void vault_kv_lines_free(struct vault_kv_lines *l);

/* --- one KV v2 secret, token accessors (vault_secret.c) --------------------- */

/* "secret/platform/postgres/app" -> mount "secret", path "platform/postgres/app"
 * (the first segment is the mount, as `vault kv ... -mount=secret` takes it). */
int vault_kv_split(const char *full, char *mount, size_t mount_cap, char *path, size_t path_cap,
		   struct drctl_error *err);

struct vault_kv_meta {
	long current_version;    /* 0 when the secret does not exist */
	json_t *custom_metadata; /* an object, never NULL after a read (caller frees) */
};
/* GET <mount>/metadata/<path>; a missing secret is version 0, no error. */
int vault_kv_meta_read(struct vault_client *vc, const char *mount, const char *path, struct vault_kv_meta *m,
		       struct drctl_error *err);
void vault_kv_meta_free(struct vault_kv_meta *m);
/* POST <mount>/metadata/<path> {"custom_metadata": custom}: replaces the
 * custom metadata, nothing else (values must be strings). */
int vault_kv_meta_write_custom(struct vault_client *vc, const char *mount, const char *path, json_t *custom,
			       struct drctl_error *err);
/* Read a version (0: the current one): 1 and *data (its fields: secrets,
 * free with vault_kv_secret_free) and *version_read (may be NULL); 0 when
 * there is no such secret or version, or it is deleted or destroyed. */
int vault_kv_get(struct vault_client *vc, const char *mount, const char *path, long version, json_t **data,
		 long *version_read, struct drctl_error *err);
void vault_kv_secret_free(json_t *data);
/* Write `data` (borrowed) as a new version only if `cas` is still the
 * current one (0: only if the secret does not exist): 0 and *version, 1
 * when the check-and-set did not match (someone else wrote), -1. */
int vault_kv_put_cas(struct vault_client *vc, const char *mount, const char *path, json_t *data, long cas,
		     long *version, struct drctl_error *err);

/* DELETE <mount>/data/<path>: a soft delete of the current version (the
 * versions before it stay readable). */
int vault_kv_delete_current(struct vault_client *vc, const char *mount, const char *path, struct drctl_error *err);

/* Every token accessor (LIST auth/token/accessors; needs sudo), a JSON
 * array of strings. */
int vault_token_accessors(struct vault_client *vc, json_t **accessors, struct drctl_error *err);
/* What Vault says of a token by its accessor (display_name, policies,
 * creation_time, expire_time, ttl, path, meta...; never its id): 0 and
 * *info, 1 when Vault knows no such accessor, -1. */
int vault_token_lookup_accessor(struct vault_client *vc, const char *accessor, json_t **info, struct drctl_error *err);
/* Revoke the token (and its children) by accessor: 0 revoked, 1 no such
 * accessor (revoked already, or never was), -1. */
int vault_token_revoke_accessor(struct vault_client *vc, const char *accessor, struct drctl_error *err);
/* The accessor of drctl's own token (lookup-self). */
int vault_token_self_accessor(struct vault_client *vc, char *out, size_t cap, struct drctl_error *err);

/* --- transit signing (vault_transit.c) -------------------------------------- */

/* The ed25519 transit key's public key as a minisign public key.  The key
 * id is the first 8 bytes of SHA-256 of the raw 32-byte public key, so it is
 * stable for a key version.  *version gets the key version. */
int vault_transit_public_key(struct vault_client *vc, const char *key, struct minisign_public_key *pk,
			     long *version, struct drctl_error *err);
/* A minisign signer whose signatures come from transit/sign/<key> (the key
 * version pinned, every signature checked against the public key before
 * use).  The client and signer state live until the process exits. */
int vault_transit_signer_open(const struct config *cfg, const char *key, struct minisign_signer *signer,
			      struct minisign_public_key *pk, struct drctl_error *err);
/* The backup's signer when [signing] vault_transit_key is set: opens it and
 * makes sure [signing] public_key_file holds its public key: written there
 * when the file does not exist, refused when it holds another key (sets
 * signed with a key that `drctl verify` cannot check would be useless). */
int vault_transit_signer_for_backup(const struct config *cfg, struct minisign_signer *signer,
				    struct drctl_error *err);
/* Write the minisign public key of transit key `key` into path (new file). */
int vault_transit_export_public_key(const struct config *cfg, const char *key, const char *path,
				    struct drctl_error *err);

#endif
