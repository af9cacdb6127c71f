/*
 * redis_conn: drctl's own Redis connection (see redis_conn.h for why).
 *
 * The socket is blocking with SO_RCVTIMEO/SO_SNDTIMEO set to [redis]
 * timeout_seconds, so plain read()/write() and SSL_read()/SSL_write() get
 * the same timeout without an event loop; only connect() is done
 * non-blocking, to bound it too.  A "try" read (wait == 0) first asks
 * poll() and SSL_pending() whether anything is there, which is what a
 * pipeline needs to collect replies between batches without stalling.
 */
#include "lib/clients/redis_conn.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "lib/core/keyfile.h"
#include "lib/core/log.h"

struct redis_conn {
	int fd;
	SSL_CTX *ssl_ctx;
	SSL *ssl;
	redisReader *reader;
	enum redis_role role;
	long timeout;
	char display[512];
	char user[128];
};

/* ---- URLs ------------------------------------------------------------ */

void redis_url_wipe(struct redis_url *u)
{
	secure_wipe(u->password, sizeof(u->password));
	u->has_password = 0;
}

/* Percent-decoding for the user and password parts (a password may hold
 * '@' or ':'). */
static int url_unescape(const char *in, size_t len, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char ch = in[i];
		if (ch == '%' && i + 2 < len && isxdigit((unsigned char)in[i + 1]) &&
		    isxdigit((unsigned char)in[i + 2])) {
			char hex[3] = { in[i + 1], in[i + 2], 0 };
			ch = (char)strtol(hex, NULL, 16);
			i += 2;
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = ch;
	}
	out[o] = '\0';
	return 0;
}

int redis_url_parse(const char *text, struct redis_url *u, struct drctl_error *err)
{
	const char *p, *at, *hostpart, *slash, *colon;
	char *end;
	long port = 6379;
	size_t hostlen;
	int n;

	memset(u, 0, sizeof(*u));
	u->db = -1;
	if (!text || !*text)
		return err_set(err, EXIT_USAGE, "[redis] url", "set [redis] url (redis://[user@]host:port)",
			       "no Redis URL given");
	if (!strncmp(text, "redis://", 8)) {
		p = text + 8;
	} else if (!strncmp(text, "rediss://", 9)) {
		p = text + 9;
		u->tls = 1;
	} else {
		return err_set(err, EXIT_USAGE, "[redis] url", "write it as redis://[user@]host:port or rediss://... for TLS",
			       "Redis URL must start with redis:// or rediss://");
	}
	slash = strchr(p, '/');
	at = memrchr(p, '@', slash ? (size_t)(slash - p) : strlen(p));
	if (at) {
		const char *userinfo = p, *pc = memchr(userinfo, ':', (size_t)(at - userinfo));
		size_t ulen = pc ? (size_t)(pc - userinfo) : (size_t)(at - userinfo);
		if (url_unescape(userinfo, ulen, u->user, sizeof(u->user)) != 0)
			return err_set(err, EXIT_USAGE, "[redis] url", NULL, "the user name in the Redis URL is too long");
		if (pc) {
			if (url_unescape(pc + 1, (size_t)(at - pc - 1), u->password, sizeof(u->password)) != 0)
				return err_set(err, EXIT_USAGE, "[redis] url", NULL, "the password in the Redis URL is too long");
			u->has_password = 1;
		}
		hostpart = at + 1;
	} else {
		hostpart = p;
	}
	hostlen = slash ? (size_t)(slash - hostpart) : strlen(hostpart);
	if (hostpart[0] == '[') { /* [IPv6]:port */
		const char *close = memchr(hostpart, ']', hostlen);
		if (!close || (size_t)(close - hostpart - 1) >= sizeof(u->host))
			goto bad;
		memcpy(u->host, hostpart + 1, (size_t)(close - hostpart - 1));
		colon = close + 1 < hostpart + hostlen && close[1] == ':' ? close + 1 : NULL;
	} else {
		colon = memchr(hostpart, ':', hostlen);
		n = (int)(colon ? (size_t)(colon - hostpart) : hostlen);
		if (n <= 0 || (size_t)n >= sizeof(u->host))
			goto bad;
		memcpy(u->host, hostpart, (size_t)n);
	}
	if (colon) {
		errno = 0;
		port = strtol(colon + 1, &end, 10);
		if (errno || end != hostpart + hostlen || port < 1 || port > 65535)
			goto bad;
	}
	u->port = (int)port;
	if (slash && slash[1]) {
		long db = strtol(slash + 1, &end, 10);
		if (*end || db < 0 || db > 1000000)
			goto bad;
		u->db = (int)db;
	}
	n = snprintf(u->display, sizeof(u->display), "%s://%s%s%s%s%s:%d", u->tls ? "rediss" : "redis", u->user,
		     u->user[0] ? "@" : "", strchr(u->host, ':') ? "[" : "", u->host,
		     strchr(u->host, ':') ? "]" : "", u->port);
	if (n < 0 || (size_t)n >= sizeof(u->display))
		goto bad;
	return 0;
bad:
	redis_url_wipe(u);
	return err_set(err, EXIT_USAGE, "[redis] url", "write it as redis://[user@]host:port[/db] or rediss://...",
		       "cannot read the Redis URL (host, port or database number)");
}

/* ---- errors ------------------------------------------------------------ */

const char *redis_conn_display(const struct redis_conn *c)
{
	return c->display;
}

static const char *role_acl(enum redis_role role)
{
	return role == REDIS_ROLE_BACKUP ? REDIS_ACL_BACKUP : REDIS_ACL_RESTORE;
}

int redis_conn_reply_error(const struct redis_conn *c, const char *text, const char *what,
			   const char *subject, struct drctl_error *err)
{
	const char *user = c->user[0] ? c->user : "default";
	const char *subj = subject ? subject : c->display;

	if (!strncmp(text, "NOPERM", 6)) {
		/* "... no permissions to run the 'psync' command" (7.0/7.2) or
		 * "... no permissions to access ..." (keys, channels). */
		char rule[96] = "";
		const char *q = strchr(text, '\'');
		const char *q2 = q ? strchr(q + 1, '\'') : NULL;
		if (q && q2 && (size_t)(q2 - q) < sizeof(rule) - 1 && strstr(text, "command"))
			snprintf(rule, sizeof(rule), "+%.*s", (int)(q2 - q - 1), q + 1);
		if (rule[0])
			err_set(err, EXIT_USAGE, subj, NULL,
				"%s: Redis user %s on %s lacks the ACL rule %s (server said: %s)", what, user,
				c->display, rule, text);
		else
			err_set(err, EXIT_USAGE, subj, NULL, "%s: Redis user %s on %s lacks a permission (server said: %s)",
				what, user, c->display, text);
		err_hint(err, "grant it, e.g. `ACL SETUSER %s %s`; the full rights drctl needs for this: %s", user,
			 rule[0] ? rule : "~*", role_acl(c->role));
		return -1;
	}
	if (!strncmp(text, "WRONGPASS", 9) || strstr(text, "invalid password") ||
	    strstr(text, "without any password configured"))
		return err_set(err, EXIT_USAGE, subj,
			       "check [redis] password_file (or the password in the URL) and the user name; `redis-cli --user USER --askpass PING` tests them",
			       "%s: Redis on %s refused the password for user %s (server said: %s)", what, c->display,
			       user, text);
	if (!strncmp(text, "NOAUTH", 6))
		return err_set(err, EXIT_USAGE, subj,
			       "set [redis] password_file (a file of mode 0600 holding the password) and, with ACL users, the user in the URL: redis://USER@host:port",
			       "%s: Redis on %s needs a password and none was configured", what, c->display);
	if (!strncmp(text, "NOMASTERLINK", 12))
		return err_set(err, EXIT_IO, subj,
			       "take the backup from the master, or wait until this replica's link is up (INFO replication: master_link_status:up)",
			       "%s: %s is a replica whose link to its master is down, so it cannot serve a full sync (server said: %s)",
			       what, c->display, text);
	if (!strncmp(text, "LOADING", 7))
		return err_set(err, EXIT_IO, subj, "wait until the server has loaded its data set and run the command again",
			       "%s: Redis on %s is still loading its data set", what, c->display);
	if (!strncmp(text, "READONLY", 8))
		return err_set(err, EXIT_USAGE, subj, "restore into the master, or run REPLICAOF NO ONE on the target first",
			       "%s: %s is a read-only replica", what, c->display);
	if (!strncmp(text, "OOM", 3))
		return err_set(err, EXIT_IO, subj, "raise maxmemory on the target (or use a bigger server) and restore again",
			       "%s: Redis on %s is out of memory (server said: %s)", what, c->display, text);
	return err_set(err, EXIT_FAILED, subj, NULL, "%s: Redis on %s answered: %s", what, c->display, text);
}

static int io_error(struct redis_conn *c, int errnum, const char *doing, struct drctl_error *err)
{
	if (errnum == EAGAIN || errnum == EWOULDBLOCK || errnum == ETIMEDOUT)
		return err_set(err, EXIT_IO, c->display,
			       "check that the server is up and reachable, or raise [redis] timeout_seconds",
			       "no answer from Redis on %s within %ld s while %s", c->display, c->timeout, doing);
	if (errnum == 0)
		return err_set(err, EXIT_IO, c->display,
			       c->ssl ? "check the server's log (it may have restarted, or closed the client for its output buffer limits) and run the command again"
				      : "check the server's log (it may have restarted, or closed the client for its output buffer limits); if the port speaks TLS, use rediss:// and [redis] tls_ca_file",
			       "Redis on %s closed the connection while %s", c->display, doing);
	return err_set(err, EXIT_IO, c->display, "check the server's log and the network, and run the command again",
		       "connection to Redis on %s failed while %s: %s", c->display, doing, strerror(errnum));
}

/* ---- transport ------------------------------------------------------- */

/* OpenSSL writes with write(2), so a peer that went away would raise SIGPIPE
 * and kill drctl.  Ignoring it process-wide would leak into child processes,
 * so it is blocked on this thread around TLS writes and a pending one is
 * consumed afterwards. */
struct sigpipe_guard {
	sigset_t old;
	int was_pending;
};

static void sigpipe_block(struct sigpipe_guard *g)
{
	sigset_t set, pending;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigpending(&pending);
	g->was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &g->old);
}

static void sigpipe_restore(struct sigpipe_guard *g)
{
	sigset_t set, pending;
	struct timespec zero = { 0, 0 };

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigpending(&pending);
	if (!g->was_pending && sigismember(&pending, SIGPIPE))
		sigtimedwait(&set, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* One read: >0 bytes, 0 closed, -1 with err. */
static ssize_t conn_read_once(struct redis_conn *c, void *buf, size_t cap, const char *doing,
			      struct drctl_error *err)
{
	for (;;) {
		if (c->ssl) {
			int n = SSL_read(c->ssl, buf, cap > INT32_MAX ? INT32_MAX : (int)cap);
			int e;
			if (n > 0)
				return n;
			e = SSL_get_error(c->ssl, n);
			if (e == SSL_ERROR_ZERO_RETURN)
				return 0;
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
				if (errno == EINTR)
					continue;
				return io_error(c, EAGAIN, doing, err);
			}
			if (e == SSL_ERROR_SYSCALL) {
				if (errno == EINTR)
					continue;
				return errno ? io_error(c, errno, doing, err) : 0;
			}
			return err_set(err, EXIT_IO, c->display, NULL, "TLS error from %s while %s: %s", c->display, doing,
				       err_openssl_reason());
		} else {
			ssize_t n = read(c->fd, buf, cap);
			if (n >= 0)
				return n;
			if (errno == EINTR)
				continue;
			return io_error(c, errno, doing, err);
		}
	}
}

int redis_conn_write(struct redis_conn *c, const void *buf, size_t len, struct drctl_error *err)
{
	const char *p = buf;

	while (len > 0) {
		size_t chunk = len > (1u << 30) ? (1u << 30) : len;
		if (c->ssl) {
			struct sigpipe_guard g;
			int n;
			sigpipe_block(&g);
			n = SSL_write(c->ssl, p, (int)chunk);
			sigpipe_restore(&g);
			if (n <= 0) {
				int e = SSL_get_error(c->ssl, n);
				if ((e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_SYSCALL) && errno == EINTR)
					continue;
				if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
					return io_error(c, EAGAIN, "sending", err);
				return e == SSL_ERROR_SYSCALL && errno ? io_error(c, errno, "sending", err)
								       : err_set(err, EXIT_IO, c->display, NULL,
										 "TLS error sending to %s: %s", c->display,
										 err_openssl_reason());
			}
			p += n;
			len -= (size_t)n;
		} else {
			ssize_t n = send(c->fd, p, chunk, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return io_error(c, errno == EPIPE ? 0 : errno, "sending", err);
			p += n;
			len -= (size_t)n;
		}
	}
	return 0;
}

int redis_conn_read_raw(struct redis_conn *c, void *buf, size_t cap, size_t *got, struct drctl_error *err)
{
	redisReader *r = c->reader;
	ssize_t n;

	*got = 0;
	/* Bytes the reply parser already took from the socket come first. */
	if (r && r->len > r->pos) {
		size_t have = r->len - r->pos;
		size_t take = have < cap ? have : cap;
		memcpy(buf, r->buf + r->pos, take);
		r->pos += take;
		if (r->pos == r->len) {
			/* Start the reader afresh rather than edit its buffer. */
			redisReaderFree(r);
			c->reader = redisReaderCreate();
			if (!c->reader)
				return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		}
		*got = take;
		return 0;
	}
	n = conn_read_once(c, buf, cap, "receiving data", err);
	if (n < 0)
		return -1;
	*got = (size_t)n;
	return 0;
}

int redis_conn_send(struct redis_conn *c, int argc, const char **argv, const size_t *lens,
		    struct drctl_error *err)
{
	char *cmd = NULL;
	int len = redisFormatCommandArgv(&cmd, argc, argv, lens);
	int rc;

	if (len < 0 || !cmd)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory formatting a Redis command");
	rc = redis_conn_write(c, cmd, (size_t)len, err);
	/* AUTH carries the password: never leave it in freed memory. */
	secure_wipe(cmd, (size_t)len);
	redisFreeCommand(cmd);
	return rc;
}

/* Is there something to read right now? */
static int conn_readable(struct redis_conn *c)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };

	if (c->ssl && SSL_pending(c->ssl) > 0)
		return 1;
	return poll(&pfd, 1, 0) > 0;
}

int redis_conn_read_reply(struct redis_conn *c, redisReply **reply, int wait, struct drctl_error *err)
{
	char buf[65536];

	*reply = NULL;
	for (;;) {
		void *r = NULL;
		ssize_t n;
		if (redisReaderGetReply(c->reader, &r) != REDIS_OK)
			return err_set(err, EXIT_IO, c->display, "is this a Redis server (and TLS set the same on both ends)?",
				       "protocol error from %s: %s", c->display, c->reader->errstr);
		if (r) {
			*reply = r;
			return 1;
		}
		if (!wait && !conn_readable(c))
			return 0;
		n = conn_read_once(c, buf, sizeof(buf), "waiting for a reply", err);
		if (n < 0)
			return -1;
		if (n == 0)
			return io_error(c, 0, "waiting for a reply", err);
		if (redisReaderFeed(c->reader, buf, (size_t)n) != REDIS_OK)
			return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory reading a Redis reply");
	}
}

int redis_conn_call(struct redis_conn *c, redisReply **reply, struct drctl_error *err, const char *arg0, ...)
{
	const char *argv[16];
	size_t lens[16];
	int argc = 0;
	va_list ap;
	redisReply *r;

	*reply = NULL;
	va_start(ap, arg0);
	for (const char *a = arg0; a && argc < 16; a = va_arg(ap, const char *)) {
		argv[argc] = a;
		lens[argc++] = strlen(a);
	}
	va_end(ap);
	if (redis_conn_send(c, argc, argv, lens, err) != 0 || redis_conn_read_reply(c, &r, 1, err) != 1)
		return -1;
	if (r->type == REDIS_REPLY_ERROR) {
		char what[64];
		snprintf(what, sizeof(what), "%s", arg0);
		for (char *p = what; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		redis_conn_reply_error(c, r->str, what, NULL, err);
		freeReplyObject(r);
		return -1;
	}
	*reply = r;
	return 0;
}

int redis_conn_keyspace(struct redis_conn *c, json_t *per_db, uint64_t *total, char *summary, size_t cap,
			struct drctl_error *err)
{
	redisReply *r;
	size_t used = 0;

	*total = 0;
	if (summary && cap)
		summary[0] = '\0';
	if (redis_conn_call(c, &r, err, "INFO", "keyspace", NULL) != 0)
		return -1;
	/* one line a database that has keys: "db0:keys=12,expires=0,avg_ttl=0" */
	for (const char *line = r->type == REDIS_REPLY_STRING ? r->str : ""; (line = strstr(line, "\ndb"));) {
		unsigned db;
		unsigned long long keys = 0;
		line++;
		if (sscanf(line, "db%u:keys=%llu", &db, &keys) != 2)
			continue;
		*total += keys;
		if (per_db) {
			char name[16];
			snprintf(name, sizeof(name), "%u", db);
			json_object_set_new(per_db, name, json_integer((json_int_t)keys));
		}
		if (summary && used < cap) {
			int n = snprintf(summary + used, cap - used, "%sdb%u=%llu", used ? ", " : "", db, keys);
			used = n > 0 && (size_t)n < cap - used ? used + (size_t)n : cap;
		}
	}
	freeReplyObject(r);
	return 0;
}

int redis_conn_key_count(struct redis_conn *c, unsigned long long *total, struct drctl_error *err)
{
	uint64_t n = 0;
	int rc = redis_conn_keyspace(c, NULL, &n, NULL, 0, err);

	*total = n;
	return rc;
}

/* ---- connecting ----------------------------------------------------------- */

static int tcp_connect(struct redis_conn *c, const struct redis_url *u, struct drctl_error *err)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
	char port[16];
	int rc, last = 0;
	struct timeval tv = { .tv_sec = c->timeout };

	snprintf(port, sizeof(port), "%d", u->port);
	rc = getaddrinfo(u->host, port, &hints, &res);
	if (rc != 0)
		return err_set(err, EXIT_IO, c->display, "check the host name in [redis] url (or --target)",
			       "cannot resolve %s: %s", u->host, gai_strerror(rc));
	for (ai = res; ai; ai = ai->ai_next) {
		struct pollfd pfd;
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
		int soerr = 0, one = 1;
		socklen_t sl = sizeof(soerr);
		if (fd < 0) {
			last = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
			last = errno;
			close(fd);
			continue;
		}
		pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
		rc = poll(&pfd, 1, (int)(c->timeout * 1000));
		if (rc <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr) {
			last = rc == 0 ? ETIMEDOUT : soerr ? soerr : errno;
			close(fd);
			continue;
		}
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		c->fd = fd;
		break;
	}
	freeaddrinfo(res);
	if (c->fd < 0)
		return err_set(err, EXIT_IO, c->display,
			       "check that Redis runs there and that the port in [redis] url (or --target) is right",
			       "cannot connect to Redis on %s: %s", c->display,
			       last == ETIMEDOUT ? "timed out" : strerror(last));
	return 0;
}

static int tls_start(struct redis_conn *c, const struct config *cfg, const struct redis_url *u,
		     struct drctl_error *err)
{
	const char *ca = config_get_path(cfg, "redis", "tls_ca_file");
	const char *cert = config_get_path(cfg, "redis", "tls_cert_file");
	const char *key = config_get_path(cfg, "redis", "tls_key_file");
	const char *name = config_get(cfg, "redis", "tls_server_name");
	struct in6_addr ip;
	int is_ip;

	if (!name || !*name)
		name = u->host;
	is_ip = inet_pton(AF_INET, name, &ip) == 1 || inet_pton(AF_INET6, name, &ip) == 1;
	c->ssl_ctx = SSL_CTX_new(TLS_client_method());
	if (!c->ssl_ctx)
		return err_set(err, EXIT_FAILED, NULL, NULL, "cannot set up TLS: %s", err_openssl_reason());
	SSL_CTX_set_min_proto_version(c->ssl_ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(c->ssl_ctx, SSL_VERIFY_PEER, NULL);
	if (ca ? SSL_CTX_load_verify_locations(c->ssl_ctx, ca, NULL) != 1
	       : SSL_CTX_set_default_verify_paths(c->ssl_ctx) != 1)
		return err_set(err, EXIT_USAGE, ca ? ca : "system CA store", "set [redis] tls_ca_file to the PEM bundle of the CA that signed the server's certificate",
			       "cannot load the CA certificates %s: %s", ca ? ca : "of the system", err_openssl_reason());
	if (cert || key) {
		struct stat st;
		if (!cert || !key)
			return err_set(err, EXIT_USAGE, "[redis] tls_cert_file", "set both [redis] tls_cert_file and tls_key_file, or neither",
				       "a TLS client certificate needs both its certificate and its key");
		if (stat(key, &st) == 0 && (st.st_mode & 077))
			return err_set(err, EXIT_USAGE, key, "chmod 600 the key file",
				       "TLS client key %s is readable by others (mode %03o); refused", key,
				       (unsigned)(st.st_mode & 0777));
		if (SSL_CTX_use_certificate_chain_file(c->ssl_ctx, cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(c->ssl_ctx, key, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(c->ssl_ctx) != 1)
			return err_set(err, EXIT_USAGE, cert, "check [redis] tls_cert_file and tls_key_file (PEM, matching pair)",
				       "cannot use the TLS client certificate %s with key %s: %s", cert, key,
				       err_openssl_reason());
	}
	c->ssl = SSL_new(c->ssl_ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1)
		return err_set(err, EXIT_FAILED, NULL, NULL, "cannot set up TLS: %s", err_openssl_reason());
	if (is_ip) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), name);
	} else {
		SSL_set_tlsext_host_name(c->ssl, name);
		SSL_set1_host(c->ssl, name);
	}
	if (SSL_connect(c->ssl) != 1) {
		long v = SSL_get_verify_result(c->ssl);
		if (v != X509_V_OK)
			return err_set(err, EXIT_IO, c->display,
				       "set [redis] tls_ca_file to the CA that signed the server's certificate, and [redis] tls_server_name to a name the certificate holds",
				       "TLS: the certificate of %s is not trusted for name %s: %s", c->display, name,
				       X509_verify_cert_error_string(v));
		return err_set(err, EXIT_IO, c->display,
			       "is TLS on at that port (use redis:// for a plain port, rediss:// for a TLS port)? does the server require a client certificate ([redis] tls_cert_file)?",
			       "TLS handshake with %s failed: %s", c->display, err_openssl_reason());
	}
	return 0;
}

/* AUTH with the URL's password, else the configuration's (`ref`, NULL for
 * [redis] password); `as_password` (with `as_user`, "" for the default user)
 * replaces both when not NULL. */
static int conn_auth(struct redis_conn *c, const struct config *cfg, struct redis_url *u,
		     const struct config_secret_ref *ref, const char *as_user, const char *as_password, int *refused,
		     struct drctl_error *err)
{
	char *secret = NULL;
	const char *password = NULL;
	const char *argv[3];
	size_t lens[3];
	redisReply *r = NULL;
	int argc = 0, rc = -1, got;

	if (as_password) {
		snprintf(u->user, sizeof(u->user), "%s", as_user ? as_user : "");
		snprintf(c->user, sizeof(c->user), "%s", u->user);
		password = as_password;
	} else if (u->has_password) {
		password = u->password;
	} else {
		got = config_get_secret(cfg, ref ? ref->section : "redis", ref ? ref->key : "password", &secret, err);
		if (got < 0)
			goto done;
		password = got ? secret : NULL;
	}
	if (!password) {
		if (u->user[0]) {
			char hint[160];
			snprintf(hint, sizeof(hint), "set [%s] %s_file to the user's password file (mode 0600)",
				 ref ? ref->section : "redis", ref ? ref->key : "password");
			err_set(err, EXIT_USAGE, c->display, hint, "Redis user %s is named in the URL but no password is configured",
				u->user);
			goto done;
		}
		rc = 0;
		goto done;
	}
	argv[argc] = "AUTH";
	lens[argc++] = 4;
	if (u->user[0]) {
		argv[argc] = u->user;
		lens[argc++] = strlen(u->user);
	}
	argv[argc] = password;
	lens[argc++] = strlen(password);
	if (redis_conn_send(c, argc, argv, lens, err) != 0 || redis_conn_read_reply(c, &r, 1, err) != 1)
		goto done;
	if (r->type == REDIS_REPLY_ERROR) {
		if (refused)
			*refused = !strncmp(r->str, "WRONGPASS", 9) || strstr(r->str, "invalid password") ||
				   strstr(r->str, "without any password configured");
		redis_conn_reply_error(c, r->str, "AUTH", NULL, err);
		goto done;
	}
	rc = 0;
done:
	if (r)
		freeReplyObject(r);
	config_secret_free(secret);
	return rc;
}

static int conn_open(struct redis_conn **out, const struct config *cfg, const char *url, enum redis_role role,
		     const struct config_secret_ref *ref, const char *as_user, const char *as_password, int *refused,
		     struct drctl_error *err)
{
	struct redis_url u;
	struct redis_conn *c = NULL;
	long timeout = 60;
	int rc = -1;

	*out = NULL;
	if (!url)
		url = config_get(cfg, "redis", "url");
	if (redis_url_parse(url, &u, err) != 0)
		return -1;
	if (config_get_int(cfg, "redis", "timeout_seconds", &timeout) != 0 || timeout <= 0)
		timeout = 60;
	c = calloc(1, sizeof(*c));
	if (!c) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		goto done;
	}
	c->fd = -1;
	c->role = role;
	c->timeout = timeout;
	snprintf(c->display, sizeof(c->display), "%s", u.display);
	snprintf(c->user, sizeof(c->user), "%s", u.user);
	c->reader = redisReaderCreate();
	if (!c->reader) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		goto done;
	}
	if (tcp_connect(c, &u, err) != 0)
		goto done;
	if ((u.tls || config_get(cfg, "redis", "tls_ca_file")) && tls_start(c, cfg, &u, err) != 0)
		goto done;
	if (conn_auth(c, cfg, &u, ref, as_user, as_password, refused, err) != 0)
		goto done;
	log_debug("connected to Redis on %s%s", c->display, c->ssl ? " (TLS)" : "");
	*out = c;
	c = NULL;
	rc = 0;
done:
	redis_url_wipe(&u);
	redis_conn_close(c);
	return rc;
}

int redis_conn_open(struct redis_conn **out, const struct config *cfg, const char *url,
		    enum redis_role role, struct drctl_error *err)
{
	return conn_open(out, cfg, url, role, NULL, NULL, NULL, NULL, err);
}

int redis_conn_open_auth(struct redis_conn **out, const struct config *cfg, const char *url,
			 const struct config_secret_ref *password, enum redis_role role, struct drctl_error *err)
{
	return conn_open(out, cfg, url, role, password, NULL, NULL, NULL, err);
}

int redis_conn_open_as(struct redis_conn **out, const struct config *cfg, const char *url, const char *user,
		       const char *password, struct drctl_error *err)
{
	return conn_open(out, cfg, url, REDIS_ROLE_RESTORE, NULL, user ? user : "", password, NULL, err);
}

int redis_conn_login_works(const struct config *cfg, const char *url, const char *user, const char *password,
			   struct drctl_error *err)
{
	struct redis_conn *c = NULL;
	struct drctl_error e;
	int refused = 0;

	err_clear(&e);
	if (conn_open(&c, cfg, url, REDIS_ROLE_RESTORE, NULL, user ? user : "", password, &refused, &e) == 0) {
		redis_conn_close(c);
		return 1;
	}
	if (refused)
		return 0;
	*err = e;
	return -1;
}

void redis_conn_shutdown(struct redis_conn *c)
{
	if (c && c->fd >= 0)
		shutdown(c->fd, SHUT_RDWR);
}

void redis_conn_close(struct redis_conn *c)
{
	if (!c)
		return;
	if (c->ssl) {
		struct sigpipe_guard g;
		sigpipe_block(&g);
		SSL_shutdown(c->ssl);
		sigpipe_restore(&g);
		SSL_free(c->ssl);
	}
	SSL_CTX_free(c->ssl_ctx);
	if (c->fd >= 0)
		close(c->fd);
	if (c->reader)
		redisReaderFree(c->reader);
	free(c);
}

/* ---- INFO ------------------------------------------------------------- */

int redis_info_field(const char *info, const char *field, char *out, size_t cap)
{
	size_t flen = strlen(field);

	for (const char *line = info; line && *line;) {
		const char *eol = strpbrk(line, "\r\n");
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		if (len > flen && !strncmp(line, field, flen) && line[flen] == ':') {
			int n = snprintf(out, cap, "%.*s", (int)(len - flen - 1), line + flen + 1);
			return n >= 0 && (size_t)n < cap ? 0 : -1;
		}
		line = eol ? eol + strspn(eol, "\r\n") : NULL;
	}
	return -1;
}

int redis_rdb_version_for(const char *v)
{
	int major = 0, minor = 0;

	if (!v || sscanf(v, "%d.%d", &major, &minor) < 1)
		return 0;
	if (major > 7 || (major == 7 && minor >= 4))
		return 12;
	if (major == 7)
		return minor >= 2 ? 11 : 10;
	if (major >= 5)
		return 9;
	if (major == 4)
		return 8;
	return 7;
}
