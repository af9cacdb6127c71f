/*
 * pg_tool: PostgreSQL's own tools (pg_dump, pg_dumpall, pg_restore) as child
 * processes: their version against the server's, the environment they get
 * (the control connection's parameters, the password in a private file),
 * starting them with pipes, and finishing them with the cause of a failure
 * from their stderr (see pg.h).
 */
#include "lib/clients/pg.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/clients/pg_private.h"
#include "lib/core/process.h"

extern char **environ;

/* ------------------------------------------------------------ versions */

int pg_tool_version(const char *program, char *version, size_t cap, int *major, struct drctl_error *err)
{
	char *argv[] = { (char *)program, "--version", NULL };
	char buf[256];
	const char *p;
	struct pg_tool t;
	struct pg_child_env env = { .envp = environ };
	size_t got = 0;
	ssize_t n;
	int rc;

	if (pg_tool_start(&t, argv, &env, 0, 1, NULL, err) != 0)
		return -1;
	while (got + 1 < sizeof(buf) && (n = read(t.out_fd, buf + got, sizeof(buf) - 1 - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	rc = pg_tool_finish(&t, "version check", program, err);
	if (rc != 0)
		return err_hint(err, "set [postgres] pg_dump / pg_restore to a PostgreSQL client at least as new as the server"), -1;
	p = strstr(buf, ") ");
	if (!p || !isdigit((unsigned char)p[2]))
		return err_set(err, EXIT_USAGE, program, "set [postgres] pg_dump / pg_restore to PostgreSQL's own tools",
			       "%s --version printed something that is not a PostgreSQL version", program);
	p += 2;
	*major = atoi(p);
	snprintf(version, cap, "%.*s", (int)strspn(p, "0123456789."), p);
	return 0;
}

int pg_tool_check(const char *program, PGconn *c, char *version, size_t cap, struct drctl_error *err)
{
	char server[64];
	int major = 0;

	if (pg_tool_version(program, version, cap, &major, err) != 0)
		return -1;
	pg_server_version(c, server, sizeof(server));
	if (major < PQserverVersion(c) / 10000)
		return err_set(err, EXIT_USAGE, program,
			       "install the PostgreSQL client tools of the server's major version or newer (e.g. postgresql-client-16) and point [postgres] pg_dump / pg_restore at them",
			       "%s is version %s but the server is %s: an older %s cannot read a newer server safely; refused",
			       program, version, server, program);
	return 0;
}

/* ------------------------------------------------------------ child tools */

int pg_dbname_arg(const char *dbname, char *out, size_t cap)
{
	size_t n = 0;

	if (cap < 12)
		return -1;
	n = (size_t)snprintf(out, cap, "dbname='");
	for (const char *p = dbname; *p; p++) {
		if (n + 3 >= cap)
			return -1;
		if (*p == '\'' || *p == '\\')
			out[n++] = '\\';
		out[n++] = *p;
	}
	if (n + 2 > cap)
		return -1;
	out[n++] = '\'';
	out[n] = '\0';
	return 0;
}

void pg_tool_sibling(const char *program, const char *name, char *out, size_t cap)
{
	const char *slash = strrchr(program, '/');
	if (slash)
		snprintf(out, cap, "%.*s/%s", (int)(slash - program), program, name);
	else
		snprintf(out, cap, "%s", name);
}

/* Write "*:*:*:*:password" with ':' and '\' escaped, as .pgpass wants. */
static int write_passfile(const char *dir, const char *password, char *path, size_t cap, struct drctl_error *err)
{
	int fd, n = snprintf(path, cap, "%s/pgpass.XXXXXX", dir && *dir ? dir : "/tmp");
	FILE *f;

	if (n < 0 || (size_t)n >= cap)
		return err_set(err, EXIT_USAGE, dir, NULL, "state folder path too long");
	fd = mkstemp(path); /* mode 0600 */
	if (fd < 0) {
		err_set_errno(err, EXIT_IO, errno, dir, "check [state] dir exists and is writable",
			      "cannot create a private password file in %s", dir);
		path[0] = '\0';
		return -1;
	}
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return err_set_errno(err, EXIT_IO, errno, path, NULL, "cannot write %s", path);
	}
	fputs("*:*:*:*:", f);
	for (const char *p = password; *p; p++) {
		if (*p == ':' || *p == '\\')
			fputc('\\', f);
		fputc(*p, f);
	}
	fputc('\n', f);
	if (fclose(f) != 0)
		return err_set_errno(err, EXIT_IO, errno, path, NULL, "cannot write %s", path);
	return 0;
}

static int env_push(char ***envp, size_t *n, size_t *cap, const char *name, const char *value)
{
	char *s;
	if (*n + 2 > *cap) {
		char **grown = realloc(*envp, (*cap = *cap * 2 + 16) * sizeof(char *));
		if (!grown)
			return -1;
		*envp = grown;
	}
	if (value ? asprintf(&s, "%s=%s", name, value) < 0 : !(s = strdup(name)))
		return -1;
	(*envp)[(*n)++] = s;
	(*envp)[*n] = NULL;
	return 0;
}

int pg_child_env_build(PGconn *c, const char *dir, struct pg_child_env *env, struct drctl_error *err)
{
	PQconninfoOption *opts = PQconninfo(c), *o;
	const char *password = NULL;
	size_t n = 0, cap = 0;
	int rc = -1;

	memset(env, 0, sizeof(*env));
	if (!opts)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	/* Our own values replace inherited ones; PGPASSWORD never reaches a child. */
	for (char **e = environ; *e; e++) {
		int ours = !strncmp(*e, "PGPASSWORD=", 11) || !strncmp(*e, "PGDATABASE=", 11) ||
			   !strncmp(*e, "PGSERVICE=", 10) || !strncmp(*e, "PGAPPNAME=", 10);
		for (o = opts; !ours && o->keyword; o++)
			if (o->envvar && o->val && *o->val && !strncmp(*e, o->envvar, strlen(o->envvar)) &&
			    (*e)[strlen(o->envvar)] == '=')
				ours = 1;
		if (!ours && env_push(&env->envp, &n, &cap, *e, NULL) != 0)
			goto oom;
	}
	for (o = opts; o->keyword; o++) {
		if (!o->val || !*o->val || !o->envvar)
			continue;
		if (!strcmp(o->keyword, "password")) {
			password = o->val;
			continue;
		}
		/* dbname: each tool gets its database by -d; service: already applied;
		 * application_name: let each tool name itself. */
		if (!strcmp(o->keyword, "dbname") || !strcmp(o->keyword, "service") ||
		    !strcmp(o->keyword, "application_name") || !strcmp(o->keyword, "passfile"))
			continue;
		if (env_push(&env->envp, &n, &cap, o->envvar, o->val) != 0)
			goto oom;
	}
	if (password && PQconnectionUsedPassword(c)) {
		if (write_passfile(dir, password, env->passfile, sizeof(env->passfile), err) != 0)
			goto done;
		if (env_push(&env->envp, &n, &cap, "PGPASSFILE", env->passfile) != 0)
			goto oom;
	} else {
		for (o = opts; o->keyword; o++)
			if (!strcmp(o->keyword, "passfile") && o->val && *o->val &&
			    env_push(&env->envp, &n, &cap, "PGPASSFILE", o->val) != 0)
				goto oom;
	}
	if (!env->envp && env_push(&env->envp, &n, &cap, "PGCONNECT_TIMEOUT", "15") != 0)
		goto oom;
	rc = 0;
	goto done;
oom:
	err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
done:
	PQconninfoFree(opts);
	if (rc != 0)
		pg_child_env_free(env);
	return rc;
}

void pg_child_env_free(struct pg_child_env *env)
{
	if (env->envp && env->envp != environ) {
		for (char **e = env->envp; *e; e++)
			free(*e);
		free(env->envp);
	}
	env->envp = NULL;
	if (env->passfile[0])
		unlink(env->passfile);
	env->passfile[0] = '\0';
}

int pg_tool_start(struct pg_tool *t, char *const argv[], const struct pg_child_env *env, int want_stdin,
		  int want_stdout, const char *dir, struct drctl_error *err)
{
	posix_spawn_file_actions_t fa;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errfd = -1, rc = -1, e;

	memset(t, 0, sizeof(*t));
	t->pid = -1;
	t->in_fd = t->out_fd = -1;
	t->name = argv[0];
	if (posix_spawn_file_actions_init(&fa) != 0)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	if ((want_stdin && pipe2(in, O_CLOEXEC) != 0) || (want_stdout && pipe2(out, O_CLOEXEC) != 0)) {
		err_set_errno(err, EXIT_FAILED, errno, argv[0], NULL, "cannot create a pipe for %s", argv[0]);
		goto done;
	}
	if (dir) {
		int n = snprintf(t->errfile, sizeof(t->errfile), "%s/pgtool-stderr.XXXXXX", dir);
		if (n < 0 || (size_t)n >= sizeof(t->errfile) || (errfd = mkstemp(t->errfile)) < 0) {
			t->errfile[0] = '\0';
			err_set_errno(err, EXIT_IO, errno, dir, "check [state] dir exists and is writable",
				      "cannot create a file for %s's messages in %s", argv[0], dir);
			goto done;
		}
	}
	if (want_stdin)
		posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (want_stdout)
		posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	else
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (errfd >= 0)
		posix_spawn_file_actions_adddup2(&fa, errfd, 2);
	e = posix_spawnp(&t->pid, argv[0], &fa, NULL, argv, env->envp ? env->envp : environ);
	if (e != 0) {
		t->pid = -1;
		err_set_errno(err, EXIT_USAGE, e, argv[0],
			      "install PostgreSQL's client tools or set [postgres] pg_dump / pg_restore to their full path",
			      "cannot run %s", argv[0]);
		goto done;
	}
	/* SIGINT/SIGTERM of a scenario run are passed on to it. */
	process_track(t->pid);
	if (want_stdin) {
		t->in_fd = in[1];
		in[1] = -1;
	}
	if (want_stdout) {
		t->out_fd = out[0];
		out[0] = -1;
	}
	rc = 0;
done:
	posix_spawn_file_actions_destroy(&fa);
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	if (errfd >= 0)
		close(errfd);
	if (rc != 0 && t->errfile[0]) {
		unlink(t->errfile);
		t->errfile[0] = '\0';
	}
	return rc;
}

/* The last non-empty line of the tool's stderr (bounded read of the tail). */
static void last_error_line(const char *path, char *out, size_t cap)
{
	char buf[4096];
	ssize_t n;
	int fd = path[0] ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	off_t size;
	char *line, *end;

	out[0] = '\0';
	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	lseek(fd, size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	/* Prefer the first "error:" line of the tail: pg_dump prints the cause
	 * first and the consequences ("connection lost") after it. */
	line = strstr(buf, "error: ");
	if (!line) {
		end = buf + n;
		while (end > buf && (end[-1] == '\n' || end[-1] == ' '))
			*--end = '\0';
		line = strrchr(buf, '\n');
		line = line ? line + 1 : buf;
	}
	pg_one_line(line, out, cap);
	if (strlen(out) > 300)
		out[300] = '\0';
}

int pg_tool_finish(struct pg_tool *t, const char *what, const char *subject, struct drctl_error *err)
{
	int status = 0, rc = 0;
	char line[512];

	if (t->in_fd >= 0)
		close(t->in_fd);
	if (t->out_fd >= 0)
		close(t->out_fd);
	t->in_fd = t->out_fd = -1;
	if (t->pid > 0) {
		while (waitpid(t->pid, &status, 0) < 0 && errno == EINTR)
			;
		process_untrack(t->pid);
		t->pid = -1;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			last_error_line(t->errfile, line, sizeof(line));
			if (WIFSIGNALED(status))
				rc = err_set(err, EXIT_FAILED, subject, NULL, "%s (%s) was killed by signal %d%s%s", t->name,
					     what, WTERMSIG(status), *line ? ": " : "", line);
			else
				rc = err_set(err, EXIT_FAILED, subject, NULL, "%s (%s) failed with exit status %d%s%s",
					     t->name, what, WEXITSTATUS(status), *line ? ": " : "", line);
		}
	}
	if (t->errfile[0]) {
		unlink(t->errfile);
		t->errfile[0] = '\0';
	}
	return rc;
}

int pg_tool_exited(const struct pg_tool *t)
{
	siginfo_t info;

	if (t->pid <= 0)
		return 1;
	memset(&info, 0, sizeof(info));
	/* WNOWAIT: only look; pg_tool_finish reaps it and reads its status. */
	if (waitid(P_PID, (id_t)t->pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0)
		return errno == ECHILD;
	return info.si_pid == t->pid;
}

void pg_tool_kill(struct pg_tool *t)
{
	struct drctl_error ignored;
	if (t->pid > 0)
		kill(t->pid, SIGTERM);
	err_clear(&ignored);
	pg_tool_finish(t, "stopped", NULL, &ignored);
}
