/*
 * agents_command: agents controlled through commands, for platforms
 * without Kubernetes ([agents] control = command).
 *
 *   status_command    prints one line per agent: NAME REPLICAS, the
 *                     replicas running now ("#" lines and blank lines are
 *                     skipped)
 *   stop_command      stops agent {name}
 *   start_command     starts agent {name} with {replicas} replicas
 *   restart_command   restarts agent {name}
 *
 * Each command is split on blanks into its argv and run without a shell;
 * {name} and {replicas} are replaced inside each argument, so a value from
 * the status output can never become a new argument or a shell word.  A
 * template without {name} acts on every agent at once.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/core/log.h"
#include "lib/core/process.h"
#include "lib/platform/agents.h"

#define COMMAND_ARGS_MAX 32
#define STATUS_OUTPUT_MAX (256u << 10)

struct command_agents {
	struct agents base;
};

/* Expand the template of [agents] key into argv (strings in buf). */
static int build_argv(const struct config *cfg, const char *key, const char *name, long replicas, char *buf,
		      size_t cap, char **argv, struct drctl_error *err)
{
	const char *tmpl = config_get(cfg, "agents", key);
	char replicas_text[32], *save = NULL, *word, copy[2048];
	size_t used = 0, n = 0;

	if (!tmpl || !*tmpl)
		return err_set(err, EXIT_USAGE, "[agents]", "set it to the command that does it, e.g. `agentctl stop {name}`",
			       "[agents] control = command needs [agents] %s", key);
	snprintf(replicas_text, sizeof(replicas_text), "%ld", replicas);
	snprintf(copy, sizeof(copy), "%s", tmpl);
	for (word = strtok_r(copy, " \t", &save); word; word = strtok_r(NULL, " \t", &save)) {
		char *out = buf + used;
		size_t room = cap - used, k = 0;
		if (n + 1 >= COMMAND_ARGS_MAX)
			return err_set(err, EXIT_USAGE, key, NULL, "[agents] %s has too many words", key);
		for (const char *p = word; *p && k + 1 < room; p++) {
			const char *sub = NULL;
			if (!strncmp(p, "{name}", 6))
				sub = name, p += 5;
			else if (!strncmp(p, "{replicas}", 10))
				sub = replicas_text, p += 9;
			if (sub) {
				size_t l = strlen(sub);
				if (k + l + 1 >= room)
					break;
				memcpy(out + k, sub, l);
				k += l;
			} else {
				out[k++] = *p;
			}
		}
		if (k + 1 >= room)
			return err_set(err, EXIT_USAGE, key, NULL, "[agents] %s is too long once expanded", key);
		out[k] = '\0';
		argv[n++] = out;
		used += k + 1;
	}
	argv[n] = NULL;
	if (n == 0)
		return err_set(err, EXIT_USAGE, key, NULL, "[agents] %s is empty", key);
	return 0;
}

static int run_key(struct agents *a, const char *key, const char *name, long replicas, char *out, size_t cap,
		   struct drctl_error *err)
{
	char buf[4096], what[64], *argv[COMMAND_ARGS_MAX];

	if (build_argv(a->cfg, key, name, replicas, buf, sizeof(buf), argv, err) != 0)
		return -1;
	snprintf(what, sizeof(what), "[agents] %s", key);
	log_debug("running %s for %s", what, name ? name : "every agent");
	return process_run(argv, what, agents_timeout(a->cfg), out, cap, err);
}

static int command_list(struct agents *a, json_t **out, struct drctl_error *err)
{
	char *text = malloc(STATUS_OUTPUT_MAX), *save = NULL, *line;
	json_t *list;

	*out = NULL;
	if (!text)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	if (run_key(a, "status_command", "", 0, text, STATUS_OUTPUT_MAX, err) != 0) {
		free(text);
		return -1;
	}
	list = json_array();
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128];
		long replicas;
		while (isspace((unsigned char)*line))
			line++;
		if (!*line || *line == '#')
			continue;
		if (sscanf(line, "%127s %ld", name, &replicas) != 2 || replicas < 0) {
			err_set(err, EXIT_FAILED, "[agents] status_command", "it must print one line per agent: NAME REPLICAS",
				"[agents] status_command printed a line drctl cannot read: \"%.80s\"", line);
			json_decref(list);
			free(text);
			return -1;
		}
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:I, s:I}", "kind", "agent", "namespace", "",
						      "name", name, "replicas", (json_int_t)replicas, "ready",
						      (json_int_t)replicas));
	}
	free(text);
	*out = list;
	return 0;
}

static int command_scale(struct agents *a, json_t *agent, long replicas, struct drctl_error *err)
{
	const char *name = json_string_value(json_object_get(agent, "name"));
	return run_key(a, replicas == 0 ? "stop_command" : "start_command", name, replicas, NULL, 0, err);
}

static int command_restart(struct agents *a, json_t *agent, struct drctl_error *err)
{
	return run_key(a, "restart_command", json_string_value(json_object_get(agent, "name")), 0, NULL, 0, err);
}

/* Does the status show every target at its wanted replicas?  *lagging
 * names the first that is not. */
static int all_there(json_t *now, json_t *targets, char *lagging, size_t cap)
{
	size_t i, j;
	json_t *t, *cur;

	json_array_foreach(targets, i, t) {
		json_int_t want = json_integer_value(json_object_get(t, "replicas")), have = 0;
		json_array_foreach(now, j, cur)
			if (!strcmp(json_string_value(json_object_get(cur, "name")),
				    json_string_value(json_object_get(t, "name"))))
				have = json_integer_value(json_object_get(cur, "replicas"));
		if (have != want) {
			snprintf(lagging, cap, "%s runs %lld, wanted %lld", json_string_value(json_object_get(t, "name")),
				 (long long)have, (long long)want);
			return 0;
		}
	}
	return 1;
}

static int command_wait(struct agents *a, json_t *targets, double timeout, struct drctl_error *err)
{
	double deadline = now_seconds() + timeout;
	char lagging[256] = "";

	for (;;) {
		json_t *now;
		int there;
		if (command_list(a, &now, err) != 0)
			return -1;
		there = all_there(now, targets, lagging, sizeof(lagging));
		json_decref(now);
		if (there)
			return 0;
		if (process_stop_requested())
			return err_set(err, EXIT_FAILED, "agents", NULL, "stopped while waiting for the agents (%s)", lagging);
		if (now_seconds() >= deadline)
			return err_set(err, EXIT_FAILED, "agents",
				       "see why with the platform's own tools; then resume the run, which waits again",
				       "the agents did not reach their replicas within %.0f s: %s", timeout, lagging);
		usleep(500 * 1000);
	}
}

static void command_close(struct agents *a)
{
	free(a);
}

static const struct agents_ops command_ops = {
	command_list, command_scale, command_wait, command_restart, command_close,
};

int agents_command_open(struct agents **out, const struct config *cfg, struct drctl_error *err)
{
	struct command_agents *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	c->base.ops = &command_ops;
	c->base.cfg = cfg;
	snprintf(c->base.description, sizeof(c->base.description), "agents run by commands ([agents] control = command)");
	*out = &c->base;
	return 0;
}
