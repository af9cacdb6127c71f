/*
 * redis_conn: a connection to Redis that drctl owns.
 *
 * Debian's hiredis 0.14 has no TLS and no way to plug a transport in, and
 * taking an RDB over the replication protocol needs raw reads of the socket
 * after the PSYNC line anyway.  So drctl owns the socket (TCP, optionally
 * OpenSSL on top of it) and uses only hiredis's protocol pieces: the command
 * formatter (redisFormatCommandArgv) for what it sends and a redisReader fed
 * from the socket for what comes back.  Raw reads (the RDB payload) first
 * hand out whatever the reader had already buffered, so no byte is lost when
 * the server's answer and the payload arrive in the same segment.
 *
 * URLs: redis://[user[:password]@]host:port[/db] and rediss:// for TLS.  A
 * password in the URL works but the configuration's [redis] password or
 * password_file (config_get_secret) is preferred; neither ever reaches a log,
 * an error or the manifest (redis_url.display has no password).  TLS checks
 * the server certificate against [redis] tls_ca_file (else the system store)
 * and the host name (or [redis] tls_server_name), sends SNI, and can present
 * a client certificate ([redis] tls_cert_file / tls_key_file).
 *
 * Error replies are turned into messages an operator can act on: a wrong
 * password, NOPERM (naming the ACL rule that is missing and the ACL SETUSER
 * line that grants the role's rights), NOMASTERLINK, LOADING, READONLY.
 */
#ifndef DRCTL_REDIS_CONN_H
#define DRCTL_REDIS_CONN_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "lib/core/config.h"
#include "lib/core/error.h"

struct redis_url {
	int tls;                        /* rediss:// */
	char host[256];
	int port;
	int db;                         /* -1 when the URL names none */
	char user[128];                 /* "" = the default user */
	char password[512];             /* from the URL; wiped by redis_url_wipe */
	int has_password;
	char display[512];              /* the URL without its password, for messages */
};

/* What a connection is for: decides the ACL line shown when a right is missing. */
enum redis_role {
	REDIS_ROLE_BACKUP,              /* REPLCONF + PSYNC */
	REDIS_ROLE_RESTORE,             /* INFO, SELECT, RESTORE, FLUSHALL, FUNCTION RESTORE, REPLICAOF */
};

/* The ACL lines documented in docs/redis.md (PASSWORD is a placeholder). */
#define REDIS_ACL_BACKUP "ACL SETUSER drctl-backup on >PASSWORD +psync +replconf"
#define REDIS_ACL_RESTORE \
	"ACL SETUSER drctl-restore on >PASSWORD ~* +info +ping +select +dbsize +restore " \
	"+flushall +function|restore +function|flush +replicaof"

int redis_url_parse(const char *text, struct redis_url *u, struct drctl_error *err);
void redis_url_wipe(struct redis_url *u);

struct redis_conn;

/* Connect to `url` (NULL: [redis] url), with [redis] timeout_seconds, TLS
 * when the URL is rediss:// or [redis] tls_ca_file is set, and AUTH when a
 * password is known (URL, else [redis] password / password_file). */
int redis_conn_open(struct redis_conn **out, const struct config *cfg, const char *url,
		    enum redis_role role, struct drctl_error *err);
/* The same with the password (when the URL has none) from `password`
 * instead of [redis] password / password_file: another server's, such as
 * the drill's scratch Redis ({"scratch", "redis_password"}).  NULL: [redis]. */
int redis_conn_open_auth(struct redis_conn **out, const struct config *cfg, const char *url,
			 const struct config_secret_ref *password, enum redis_role role, struct drctl_error *err);
/* The same, authenticating as `user` ("" or NULL: the default user) with
 * `password` instead of the URL's and the configuration's credentials. */
int redis_conn_open_as(struct redis_conn **out, const struct config *cfg, const char *url, const char *user,
		       const char *password, struct drctl_error *err);
/* Does `user` log in with `password` (a connection of its own to `url`, NULL:
 * [redis] url)?  1 yes, 0 the server refused the password, -1 when it
 * cannot tell (server down, TLS). */
int redis_conn_login_works(const struct config *cfg, const char *url, const char *user, const char *password,
			   struct drctl_error *err);
void redis_conn_close(struct redis_conn *c);
/* The URL without password, e.g. "rediss://drctl-backup@10.0.0.5:6380". */
const char *redis_conn_display(const struct redis_conn *c);

/* Send one command (hiredis's formatter).  Arguments are binary-safe. */
int redis_conn_send(struct redis_conn *c, int argc, const char **argv, const size_t *lens,
		    struct drctl_error *err);
/* The next reply: 1 with *reply (free with freeReplyObject; may be an error
 * reply), 0 when wait is 0 and none is complete yet, -1 on a transport or
 * protocol failure. */
int redis_conn_read_reply(struct redis_conn *c, redisReply **reply, int wait, struct drctl_error *err);
/* Send a command of NUL-terminated arguments and wait for its reply; an
 * error reply fails (mapped by redis_conn_reply_error).  *reply is NULL on
 * failure. */
int redis_conn_call(struct redis_conn *c, redisReply **reply, struct drctl_error *err,
		    const char *arg0, ...) __attribute__((sentinel));
/* INFO keyspace: the keys of every database of the server, added up; per
 * database into per_db ({"0": 12}, may be NULL); and a summary
 * "db0=12, db3=4" (may be NULL). */
int redis_conn_keyspace(struct redis_conn *c, json_t *per_db, uint64_t *total, char *summary, size_t cap,
			struct drctl_error *err);
/* INFO keyspace: the keys of every database of the server, added up. */
int redis_conn_key_count(struct redis_conn *c, unsigned long long *total, struct drctl_error *err);
/* Map an error reply to err: what = the command ("PSYNC", "RESTORE of key
 * x in db 0"), subject = the thing it is about.  Always returns -1. */
int redis_conn_reply_error(const struct redis_conn *c, const char *text, const char *what,
			   const char *subject, struct drctl_error *err);

/* Raw bytes, for the RDB payload and for pipelines built by hand. */
int redis_conn_write(struct redis_conn *c, const void *buf, size_t len, struct drctl_error *err);
/* Whatever is available (blocking until something is, or the timeout);
 * *got == 0 when the server closed the connection. */
int redis_conn_read_raw(struct redis_conn *c, void *buf, size_t cap, size_t *got, struct drctl_error *err);

/* Stop the connection now (shutdown(2)): a thread blocked reading it returns. */
void redis_conn_shutdown(struct redis_conn *c);

/* --- users and clients (redis_acl.c): the secret rotation, evidence ---- */

/* SHA-256 of a password in lower-case hex, as ACL GETUSER lists it. */
void redis_password_hash(const char *password, char out[65]);
/* ACL GETUSER: the user's password hashes (a JSON array of hex strings)
 * and whether it has "nopass"; EXIT_NOT_FOUND when there is no such user. */
int redis_acl_passwords(struct redis_conn *c, const char *user, json_t **hashes, int *nopass, struct drctl_error *err);
/* ACL SETUSER user #<sha256>: one more password; the others stay valid. */
int redis_acl_add_password(struct redis_conn *c, const char *user, const char *password, struct drctl_error *err);
/* Remove every password of `user` but the one whose hash is keep_hash
 * (`!<hash>` each, or `resetpass #<keep>` for a nopass user), in one
 * command; refused when the user does not hold keep_hash. */
int redis_acl_keep_only(struct redis_conn *c, const char *user, const char *keep_hash, int *removed,
			struct drctl_error *err);
/* CONFIG SET requirepass (a Redis without ACL users). */
int redis_set_requirepass(struct redis_conn *c, const char *password, struct drctl_error *err);
/* Write the users and requirepass where the server reads them at start:
 * mode "aclfile" (ACL SAVE), "config" (CONFIG REWRITE), "none", or "auto"
 * (ACL SAVE, else CONFIG REWRITE, else say that the change lives in memory
 * only).  done_how says what was done, for the report. */
int redis_persist(struct redis_conn *c, const char *mode, char *done_how, size_t cap, struct drctl_error *err);
/* CLIENT KILL USER: every connection authenticated as `user`. */
int redis_clients_kill_user(struct redis_conn *c, const char *user, long long *killed, struct drctl_error *err);
/* CLIENT LIST, as the server gives it (malloc'd). */
int redis_client_list(struct redis_conn *c, char **text, struct drctl_error *err);

/* "field:value" lines of an INFO reply: 0 and the value in out, -1 if absent. */
int redis_info_field(const char *info, const char *field, char *out, size_t cap);
/* The newest RDB version a Redis of this version loads ("7.0.15" -> 10). */
int redis_rdb_version_for(const char *redis_version);

#endif
