/*
 * redis_primary: the primary's side of a full synchronisation (see the
 * header for the protocol).  One replica at a time; blocking sockets with
 * timeouts, because the payload is produced by a pump that writes as it
 * reads.
 */
#include "lib/clients/redis_primary.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/rand.h>

#define MARK_LEN 40          /* the EOF mark and the replication id, as Redis makes them */
#define CMD_MAX_ARGS 16
#define CMD_BUF 8192

struct redis_primary {
	int listen_fd, fd;
	int port;
	int timeout_ms;
	char mark[MARK_LEN + 1];
	char buf[CMD_BUF];
	size_t len;
	char display[256];
};

static int set_timeouts(int fd, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
	return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Not a secret: a delimiter that must not occur by chance at the payload's end. */
static int random_mark(char out[MARK_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[MARK_LEN / 2];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	for (size_t i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[MARK_LEN] = '\0';
	return 0;
}

int redis_primary_listen(struct redis_primary **out, const char *host, int port, int timeout_seconds,
			 struct drctl_error *err)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	struct addrinfo *ai = NULL;
	struct redis_primary *p;
	struct sockaddr_storage bound;
	socklen_t blen = sizeof(bound);
	char service[16];
	int one = 1, e;

	*out = NULL;
	snprintf(service, sizeof(service), "%d", port);
	if ((e = getaddrinfo(host, service, &hints, &ai)) != 0)
		return err_set(err, EXIT_USAGE, host, "set [redis] replication_address to an address of this machine",
			       "cannot resolve %s to listen on for the Redis replica: %s", host, gai_strerror(e));
	p = calloc(1, sizeof(*p));
	if (!p) {
		freeaddrinfo(ai);
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	}
	p->fd = p->listen_fd = -1;
	p->timeout_ms = timeout_seconds * 1000;
	p->listen_fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (p->listen_fd < 0 || setsockopt(p->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(p->listen_fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(p->listen_fd, 4) != 0 ||
	    getsockname(p->listen_fd, (struct sockaddr *)&bound, &blen) != 0) {
		err_set_errno(err, EXIT_IO, errno, host, "set [redis] replication_address to an address and free port of this machine",
			      "cannot listen on %s port %d for the Redis replica", host, port);
		freeaddrinfo(ai);
		redis_primary_close(p);
		return -1;
	}
	freeaddrinfo(ai);
	p->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
						     : ((struct sockaddr_in *)&bound)->sin_port);
	if (random_mark(p->mark) != 0) {
		redis_primary_close(p);
		return err_set(err, EXIT_FAILED, NULL, NULL, "no random bytes for the replication mark (OpenSSL RAND_bytes)");
	}
	*out = p;
	return 0;
}

int redis_primary_port(const struct redis_primary *p)
{
	return p->port;
}

static int send_all(struct redis_primary *p, const void *buf, size_t len, struct drctl_error *err)
{
	for (size_t off = 0; off < len;) {
		ssize_t w = send(p->fd, (const char *)buf + off, len - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return err_set_errno(err, EXIT_IO, errno, p->display, NULL,
					     errno == EAGAIN ? "%s stopped reading the RDB sent to it" : "cannot send the RDB to %s",
					     p->display);
		off += (size_t)w;
	}
	return 0;
}

/* One RESP array of bulk strings from the buffer: argc, or 0 when it is not
 * all there yet, -1 when it is not RESP. */
static int parse_command(struct redis_primary *p, char *argv[CMD_MAX_ARGS], size_t *used)
{
	char *s = p->buf, *end = p->buf + p->len, *nl;
	long n;
	int argc = 0;

	if (p->len == 0)
		return 0;
	if (*s != '*')
		return -1;
	if (!(nl = memchr(s, '\n', (size_t)(end - s))))
		return 0;
	n = strtol(s + 1, NULL, 10);
	if (n < 1 || n > CMD_MAX_ARGS)
		return -1;
	s = nl + 1;
	for (; argc < n; argc++) {
		long blen;
		if (s >= end || !(nl = memchr(s, '\n', (size_t)(end - s))))
			return 0;
		if (*s != '$' || (blen = strtol(s + 1, NULL, 10)) < 0 || blen > CMD_BUF / 2)
			return -1;
		s = nl + 1;
		if (end - s < blen + 2)
			return 0;
		argv[argc] = s;
		s[blen] = '\0'; /* over the \r */
		s += blen + 2;
	}
	*used = (size_t)(s - p->buf);
	return argc;
}

static int read_more(struct redis_primary *p, struct drctl_error *err)
{
	ssize_t r;

	if (p->len == sizeof(p->buf))
		return err_set(err, EXIT_IO, p->display, NULL, "%s sent an over-long replication handshake", p->display);
	do
		r = recv(p->fd, p->buf + p->len, sizeof(p->buf) - p->len, 0);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return err_set_errno(err, EXIT_IO, r == 0 ? ECONNRESET : errno, p->display, NULL,
				     "%s broke off the replication handshake", p->display);
	p->len += (size_t)r;
	return 0;
}

/* Answer the handshake until PSYNC: 1 done, -1 error. */
static int handshake(struct redis_primary *p, struct drctl_error *err)
{
	int eof_capable = 0;

	for (;;) {
		char *argv[CMD_MAX_ARGS], line[128];
		size_t used = 0;
		int argc = parse_command(p, argv, &used);
		if (argc < 0)
			return err_set(err, EXIT_IO, p->display, NULL, "%s spoke something other than RESP on the replication link",
				       p->display);
		if (argc == 0) {
			if (read_more(p, err) != 0)
				return -1;
			continue;
		}
		if (!strcasecmp(argv[0], "PSYNC")) {
			if (!eof_capable)
				return err_set(err, EXIT_USAGE, p->display, "use [redis] restore_method = commands",
					       "%s did not offer the \"eof\" replication capability (Redis 2.8.18 and newer do)",
					       p->display);
			snprintf(line, sizeof(line), "+FULLRESYNC %s 0\r\n$EOF:%s\r\n", p->mark, p->mark);
			memmove(p->buf, p->buf + used, p->len - used);
			p->len -= used;
			return send_all(p, line, strlen(line), err) == 0 ? 1 : -1;
		}
		if (!strcasecmp(argv[0], "PING"))
			snprintf(line, sizeof(line), "+PONG\r\n");
		else if (!strcasecmp(argv[0], "REPLCONF") || !strcasecmp(argv[0], "AUTH"))
			snprintf(line, sizeof(line), "+OK\r\n");
		else
			snprintf(line, sizeof(line), "-ERR drctl only serves a full synchronisation\r\n");
		for (int i = 1; i + 1 < argc; i++)
			if (!strcasecmp(argv[0], "REPLCONF") && !strcasecmp(argv[i], "capa") && !strcasecmp(argv[i + 1], "eof"))
				eof_capable = 1;
		memmove(p->buf, p->buf + used, p->len - used);
		p->len -= used;
		if (send_all(p, line, strlen(line), err) != 0)
			return -1;
	}
}

int redis_primary_begin_sync(struct redis_primary *p, const char *display, struct drctl_error *err)
{
	struct pollfd pfd = { .fd = p->listen_fd, .events = POLLIN };
	int n;

	snprintf(p->display, sizeof(p->display), "%s", display);
	do
		n = poll(&pfd, 1, p->timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return err_set(err, EXIT_IO, display,
			       "set [redis] replication_address to an address of this machine that the server reaches, or use [redis] restore_method = commands",
			       "%s did not connect back to drctl on port %d within %d s to replicate", display, p->port,
			       p->timeout_ms / 1000);
	p->fd = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (p->fd < 0 || set_timeouts(p->fd, p->timeout_ms) != 0)
		return err_set_errno(err, EXIT_IO, errno, display, NULL, "cannot accept the replication link of %s", display);
	return handshake(p, err) == 1 ? 0 : -1;
}

int redis_primary_send(struct redis_primary *p, const void *buf, size_t len, struct drctl_error *err)
{
	return send_all(p, buf, len, err);
}

int redis_primary_commit(struct redis_primary *p, struct drctl_error *err)
{
	return send_all(p, p->mark, MARK_LEN, err);
}

int redis_primary_poll(struct redis_primary *p)
{
	struct pollfd pfd[2] = { { .fd = p->fd, .events = POLLIN }, { .fd = p->listen_fd, .events = POLLIN } };
	char drop[4096];

	if (poll(pfd, 2, 0) <= 0)
		return 0;
	if (pfd[0].revents & POLLIN)
		while (recv(p->fd, drop, sizeof(drop), MSG_DONTWAIT) > 0)
			;
	return (pfd[1].revents & POLLIN) != 0;
}

void redis_primary_close(struct redis_primary *p)
{
	if (!p)
		return;
	if (p->fd >= 0)
		close(p->fd);
	if (p->listen_fd >= 0)
		close(p->listen_fd);
	free(p);
}
