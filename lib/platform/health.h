/*
 * health: the checks a scenario runs at its end, and `drctl health` alone.
 *
 *   postgres  connect, SELECT 1, not in recovery (a primary), unless the
 *             caller expects a standby
 *   redis     PING, and ROLE (master expected)
 *   vault     sys/health: initialized, unsealed, active
 *   agent     each agent's HTTP health URL ([agents] health_url, with
 *             {name} replaced by the agent's name), 200 expected
 *
 * Each configured check runs with a timeout ([health] timeout_seconds);
 * each result is {"check", "target", "ok", "detail", "seconds"}.  Nothing
 * secret is in a result: targets are shown without passwords.
 */
#ifndef DRCTL_PLATFORM_HEALTH_H
#define DRCTL_PLATFORM_HEALTH_H

#include <stdio.h>

#include <jansson.h>

#include "lib/core/config.h"
#include "lib/core/error.h"

struct health_options {
	const char *database;  /* the database to check (default: the first of [postgres] databases) */
	json_t *agents;        /* the agents, as agents_list gives them, for the URL checks; may be NULL */
	int expect_standby;    /* PostgreSQL in recovery is then the healthy state */
	/* The default user's password instead of [redis] password (a rotated
	 * requirepass, as Vault holds it now); may be NULL. */
	const char *redis_password;
};

/* Every configured check; 0 when all pass, else -1 with err naming the
 * first failure (the results hold all of them). */
int health_check_all(const struct config *cfg, const struct health_options *o, json_t **results,
		     struct drctl_error *err);
/* The results as a table for people. */
void health_print(FILE *out, json_t *results);

#endif
