/*
 * rotation_private: what the files of the rotation module share.
 *
 *   plan.c      [rotation] -> the list of secrets; plans and descriptions
 *   rotate.c    the state machine of one owned secret, and abort
 *   servers.c   what each kind of secret does on its server (apply, prove,
 *               retire) and the connections
 *   revoke.c    old sessions, clients and tokens
 *   evidence.c  the incident bundle
 */
#ifndef DRCTL_ROTATION_PRIVATE_H
#define DRCTL_ROTATION_PRIVATE_H

#include <libpq-fe.h>

#include "lib/clients/redis_conn.h"
#include "lib/clients/vault.h"
#include "lib/crypto/random_secret.h"
#include "rotation/rotation.h"

#define ROTATION_VALUE_MAX (RANDOM_SECRET_MAX + 1)
#define ROTATION_MARK_VERSION "drctl_pending_version"
#define ROTATION_MARK_RUN "drctl_run"
#define ROTATION_MARK_SINCE "drctl_pending_since"

enum rotation_kind {
	ROTATION_POSTGRES,          /* a role's password */
	ROTATION_REDIS_USER,        /* an ACL user's password */
	ROTATION_REDIS_REQUIREPASS, /* the default user's, by CONFIG SET requirepass */
	ROTATION_GENERATED,         /* a value only Vault holds */
	ROTATION_MANUAL,            /* a third-party key: a person rotates it */
};

struct rotation_secret {
	enum rotation_kind kind;
	char name[256];   /* role, user, or "<vault path>:<field>" */
	char key[640];    /* its fact: "rotation.postgres.agents_admin" */
	char vault[512];  /* "secret/platform/postgres/agents_admin" */
	char mount[128];
	char path[512];
	char field[128];
	struct random_secret_generator gen;
	char who[256];    /* manual: who issues it ("Anthropic console") */
};

struct rotation {
	const struct config *cfg;
	struct rotation_journal j;
	struct rotation_secret *secrets;
	size_t n;
	const char *revoke_file;
	const char *redis_persist;
	/* connections, opened when first needed */
	struct vault_client *vault;
	PGconn *pg;
	struct redis_conn *redis;
};

/* What a kind does on its server (servers.c).  works: 1 the value logs in,
 * 0 refused, -1 cannot tell.  apply: make the server accept it (keeping the
 * old one where it can).  retire (may be NULL): accept nothing else, save. */
struct rotation_kind_ops {
	const char *label; /* "PostgreSQL role" */
	int (*works)(struct rotation *r, const struct rotation_secret *s, const char *value, struct drctl_error *err);
	int (*apply)(struct rotation *r, const struct rotation_secret *s, const char *value, struct drctl_error *err);
	int (*retire)(struct rotation *r, const struct rotation_secret *s, const char *value, struct drctl_error *err);
};
const struct rotation_kind_ops *rotation_ops(enum rotation_kind kind);
const char *rotation_kind_name(enum rotation_kind kind); /* "postgres", "redis", "kv", "manual" */

int rotation_need_vault(struct rotation *r, struct vault_client **vc, struct drctl_error *err);
int rotation_need_pg(struct rotation *r, PGconn **c, struct drctl_error *err);
int rotation_need_redis(struct rotation *r, struct redis_conn **c, struct drctl_error *err);

/* The field of version `version` (0: current) into out (a secret: wipe it):
 * 1 read, 0 no such version or field, -1. */
int rotation_read_value(struct rotation *r, const struct rotation_secret *s, long version, char *out, size_t cap,
			struct drctl_error *err);

void rotation_note(struct rotation *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int rotation_set_state(struct rotation *r, const struct rotation_secret *s, const char *state, long old_version,
		       long pending_version, struct drctl_error *err);
const char *rotation_state(struct rotation *r, const struct rotation_secret *s);

#endif
