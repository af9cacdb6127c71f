/*
 * restore_replica (restore): the RDB put into a running server by making it,
 * for one full synchronisation, a replica of drctl ([redis] restore_method =
 * replication).  The server loads the RDB the way it loads its own dump
 * file, several times faster than a RESTORE command per key, and still with
 * no access to its file system.
 *
 *   drctl listens on [redis] replication_address (a free port unless one
 *   is given) -> REPLICAOF <that address> on the target -> the target
 *   connects and asks for a full synchronisation -> the RDB streams out of
 *   the archive through the parser (CRC64, counts, every part's and the
 *   stream's SHA-256) onto the link -> only when all of it was proven, the
 *   end mark (lib/clients/redis_primary.h) -> the target swaps its data set
 *   for the RDB -> REPLICAOF NO ONE -> INFO keyspace against the counts.
 *
 * Until the mark, the target's data set is untouched: a backup that fails a
 * check halfway, or drctl killed, leaves it as it was (it is left a
 * primary again, or, after SIGKILL, a replica of an address nobody answers
 * on: `REPLICAOF NO ONE` ends that, and the hint says so).  Keys whose
 * expiry has passed are loaded by a replica and removed by the server once
 * it is a primary; the count check allows for them.
 *
 * The link is plain TCP between the server and drctl: use it where that
 * path is trusted (loopback, the same pod or node network), not across the
 * internet; a rediss:// target is refused.
 */
#include "components/redis/restore_private.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/clients/redis_conn.h"
#include "lib/clients/redis_primary.h"

#define WAIT_STEP_US (100 * 1000)

struct replica_load {
	struct restore_ctx *ctx;
	struct redis_conn *conn;
	struct redis_primary *primary;
	struct redis_counts counts;
	int64_t expire_ms;
	uint32_t db;
	int replicating; /* REPLICAOF was sent and not yet undone */
	long timeout;    /* [redis] timeout_seconds */
	char host[256];
	int port;
};

static int count_key_begin(void *arg, const struct rdb_key_info *k, struct drctl_error *err)
{
	struct replica_load *l = arg;
	(void)err;
	l->db = k->db;
	l->expire_ms = k->expire_ms;
	return 0;
}

static int count_key_end(void *arg, struct drctl_error *err)
{
	struct replica_load *l = arg;
	return redis_counts_add(&l->counts, l->db, l->expire_ms, err) < 0 ? -1 : 0;
}

static int send_to_replica(void *arg, const void *buf, size_t len, struct drctl_error *err)
{
	struct replica_load *l = arg;
	return redis_primary_send(l->primary, buf, len, err);
}

static int is_loopback(const char *host)
{
	return !strcmp(host, "localhost") || !strncmp(host, "127.", 4) || !strcmp(host, "::1");
}

/* Where the target connects to: [redis] replication_address HOST[:PORT],
 * or for a target on loopback, loopback. */
static int listen_address(struct replica_load *l, const char *target_url, struct drctl_error *err)
{
	const char *addr = config_get(l->ctx->cfg, "redis", "replication_address");
	struct redis_url u;
	const char *colon;

	if (redis_url_parse(target_url, &u, err) != 0)
		return -1;
	redis_url_wipe(&u);
	if (u.tls)
		return err_set(err, EXIT_USAGE, u.display, "use [redis] restore_method = commands for a TLS server",
			       "restore_method = replication sends the RDB in plain text, so it is refused for the TLS server %s",
			       u.display);
	if (!addr || !*addr) {
		if (!is_loopback(u.host))
			return err_set(err, EXIT_USAGE, "[redis] replication_address",
				       "set [redis] replication_address to this machine's address as the server sees it (e.g. the pod IP), or use restore_method = commands",
				       "restore_method = replication needs the address the server %s connects back to", u.display);
		addr = "127.0.0.1";
	}
	colon = strrchr(addr, ':');
	if (colon && strchr(addr, ':') == colon) {
		snprintf(l->host, sizeof(l->host), "%.*s", (int)(colon - addr), addr);
		l->port = atoi(colon + 1);
	} else {
		snprintf(l->host, sizeof(l->host), "%s", addr);
	}
	return 0;
}

static int info_replication(struct redis_conn *c, char *link, char *syncing, char *role, struct drctl_error *err)
{
	redisReply *r;
	int rc = 0;

	if (redis_conn_call(c, &r, err, "INFO", "replication", NULL) != 0)
		return -1;
	link[0] = syncing[0] = role[0] = '\0';
	if (r->type == REDIS_REPLY_STRING) {
		redis_info_field(r->str, "master_link_status", link, 16);
		redis_info_field(r->str, "master_sync_in_progress", syncing, 16);
		redis_info_field(r->str, "role", role, 16);
	} else {
		rc = err_set(err, EXIT_IO, redis_conn_display(c), NULL, "%s gave no INFO replication", redis_conn_display(c));
	}
	freeReplyObject(r);
	return rc;
}

static int replicaof(struct replica_load *l, const char *host, const char *port, struct drctl_error *err)
{
	redisReply *r;

	if (redis_conn_call(l->conn, &r, err, "REPLICAOF", host, port, NULL) != 0)
		return -1;
	freeReplyObject(r);
	return 0;
}

/* The target loaded what it received: the link is up and no sync is going on. */
static int wait_loaded(struct replica_load *l, struct drctl_error *err)
{
	const char *display = redis_conn_display(l->conn);
	int64_t idle_since = redis_now_ms();

	for (;;) {
		char link[16], syncing[16], role[16];
		if (redis_primary_poll(l->primary))
			return err_set(err, EXIT_IO, display, "see the server's log for why it could not load the RDB",
				       "%s received the whole RDB but did not load it (it asked for it again)", display);
		if (info_replication(l->conn, link, syncing, role, err) != 0)
			return -1;
		if (!strcmp(link, "up") && strcmp(syncing, "1") != 0)
			return 0;
		if (!strcmp(syncing, "1"))
			idle_since = redis_now_ms();
		else if (redis_now_ms() - idle_since > l->timeout * 1000)
			return err_set(err, EXIT_IO, display, "see the server's log for why it could not load the RDB",
				       "%s received the whole RDB, but its replication link is %s and it is not loading",
				       display, link[0] ? link : "gone");
		usleep(WAIT_STEP_US);
	}
}

static int stream_and_commit(struct replica_load *l, struct drctl_error *err)
{
	static const struct rdb_callbacks cb = { .on_key_begin = count_key_begin, .on_key_end = count_key_end };
	struct rdb_copy copy = { send_to_replica, l };
	json_t *rdb = json_object_get(l->ctx->section, "rdb");
	struct rdb_parser *parser = rdb_parser_new(&cb, l);
	struct progress progress;
	int rc = -1;

	if (!parser)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	redis_counts_start(&l->counts);
	progress_start(&progress, "redis", (uint64_t)json_integer_value(json_object_get(rdb, "bytes")));
	if (redis_read_rdb(l->ctx->archive, l->ctx->section, parser, &copy, &progress, err) == 0 &&
	    redis_primary_commit(l->primary, err) == 0)
		rc = 0;
	progress_end(&progress);
	rdb_parser_free(parser);
	if (rc != 0)
		err_prefix(err, "the RDB was not committed, so %s kept its data set", redis_conn_display(l->conn));
	return rc;
}

static int load(struct replica_load *l, const char *target_url, struct drctl_error *err)
{
	char port[16], link[16], syncing[16], role[16];
	const char *display = redis_conn_display(l->conn);

	if (listen_address(l, target_url, err) != 0 || info_replication(l->conn, link, syncing, role, err) != 0)
		return -1;
	if (strcmp(role, "master") != 0)
		return err_set(err, EXIT_USAGE, display, "restore into the primary, or make this server a primary (REPLICAOF NO ONE) first",
			       "%s is a replica (role:%s); nothing was changed", display, role);
	if (redis_primary_listen(&l->primary, l->host, l->port, (int)l->timeout, err) != 0)
		return -1;
	snprintf(port, sizeof(port), "%d", redis_primary_port(l->primary));
	log_info("restoring %lld keys from %s into %s by replication: it connects to drctl at %s:%s",
		 (long long)json_integer_value(json_object_get(json_object_get(l->ctx->section, "rdb"), "keys")),
		 l->ctx->backup_id, display, l->host, port);
	if (replicaof(l, l->host, port, err) != 0)
		return -1;
	l->replicating = 1;
	if (redis_primary_begin_sync(l->primary, display, err) != 0 || stream_and_commit(l, err) != 0 ||
	    wait_loaded(l, err) != 0)
		return -1;
	if (replicaof(l, "NO", "ONE", err) != 0)
		return -1;
	l->replicating = 0;
	return redis_counts_compare(l->conn, &l->counts, 1, l->ctx->report, err);
}

int redis_restore_by_replication(struct restore_ctx *ctx, struct redis_conn *conn, const char *target_url,
				 struct drctl_error *err)
{
	struct replica_load l = { .ctx = ctx, .conn = conn, .timeout = 60 };
	double t0 = now_seconds();
	int rc;

	config_get_int(ctx->cfg, "redis", "timeout_seconds", &l.timeout);
	rc = load(&l, target_url, err);
	redis_primary_close(l.primary);
	if (l.replicating) {
		struct drctl_error e;
		err_clear(&e);
		if (replicaof(&l, "NO", "ONE", &e) != 0)
			err_hint(err, "%s may still be a replica of drctl's address %s: run `REPLICAOF NO ONE` on it", redis_conn_display(conn),
				 l.host);
	}
	/* Whatever failed before the end mark, the server kept its data set. */
	if (rc != 0 && err->hint[0] == '\0')
		err_hint(err, "%s kept its data set; fix the cause and run `drctl restore redis --backup %s --method replication` again, "
			      "or use --method commands", redis_conn_display(conn), ctx->backup_id);
	if (rc == 0) {
		json_object_set_new(ctx->report, "method", json_string("replication"));
		json_object_set_new(ctx->report, "keys_restored", json_integer((json_int_t)(l.counts.sent + l.counts.skipped)));
		json_object_set_new(ctx->report, "keys_expired_before_restore", json_integer((json_int_t)l.counts.skipped));
		json_object_set_new(ctx->report, "seconds", json_real(now_seconds() - t0));
		log_info("restored %" PRIu64 " keys into %s by replication in %.1f s (%" PRIu64 " of them already expired, which the server removes); key counts match the manifest",
			 l.counts.sent + l.counts.skipped, redis_conn_display(conn), now_seconds() - t0, l.counts.skipped);
	}
	redis_counts_free(&l.counts);
	return rc;
}
