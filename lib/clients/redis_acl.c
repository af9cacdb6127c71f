/*
 * redis_acl: what the secret rotation does to Redis users, and what the
 * incident evidence reads of the clients.
 *
 * An ACL user can hold several passwords at once (Redis 6+, `ACL SETUSER`),
 * which is what lets a rotation add the new one, prove it, and only then
 * remove the old: agents that still hold the old password keep working
 * until they restart.  Passwords are added and removed by their SHA-256
 * (`#<hex>`, `!<hex>`), which is also how `ACL GETUSER` lists them, so only
 * `CONFIG SET requirepass` (Redis without ACL users) carries a clear
 * password, which Redis keeps out of its slow log and MONITOR.
 *
 * ACL changes live in the server's memory: redis_persist writes them where
 * the server reads them when it starts (ACL SAVE into its aclfile, else
 * CONFIG REWRITE of its configuration file).
 */
#include "lib/clients/redis_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "lib/core/keyfile.h"
#include "lib/stream/stream.h"

void redis_password_hash(const char *password, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)password, strlen(password), md);
	hex_encode(md, sizeof(md), out);
	secure_wipe(md, sizeof(md));
}

/* The value of `key` in a map reply (RESP2, hiredis 0.14: a flat array). */
static redisReply *map_get(redisReply *r, const char *key)
{
	if (!r || (r->type != REDIS_REPLY_ARRAY))
		return NULL;
	for (size_t i = 0; i + 1 < r->elements; i += 2)
		if ((r->element[i]->type == REDIS_REPLY_STRING || r->element[i]->type == REDIS_REPLY_STATUS) &&
		    !strcmp(r->element[i]->str, key))
			return r->element[i + 1];
	return NULL;
}

int redis_acl_passwords(struct redis_conn *c, const char *user, json_t **hashes, int *nopass, struct drctl_error *err)
{
	redisReply *r = NULL, *flags, *pw;
	int rc = -1;

	*hashes = NULL;
	*nopass = 0;
	if (redis_conn_call(c, &r, err, "ACL", "GETUSER", user, NULL) != 0) {
		err_prefix(err, "ACL GETUSER %s", user);
		return -1;
	}
	if (r->type == REDIS_REPLY_NIL) {
		err_set(err, EXIT_NOT_FOUND, user, "create the user (ACL SETUSER) or fix [rotation] redis_users",
			"Redis on %s has no ACL user %s", redis_conn_display(c), user);
		goto done;
	}
	flags = map_get(r, "flags");
	pw = map_get(r, "passwords");
	if (!pw || pw->type != REDIS_REPLY_ARRAY) {
		err_set(err, EXIT_FAILED, user, NULL, "ACL GETUSER %s on %s gave no password list", user, redis_conn_display(c));
		goto done;
	}
	for (size_t i = 0; flags && flags->type == REDIS_REPLY_ARRAY && i < flags->elements; i++)
		if (flags->element[i]->str && !strcmp(flags->element[i]->str, "nopass"))
			*nopass = 1;
	*hashes = json_array();
	for (size_t i = 0; i < pw->elements; i++)
		if (pw->element[i]->type == REDIS_REPLY_STRING)
			json_array_append_new(*hashes, json_string(pw->element[i]->str));
	rc = 0;
done:
	freeReplyObject(r);
	return rc;
}

int redis_acl_add_password(struct redis_conn *c, const char *user, const char *password, struct drctl_error *err)
{
	char hash[65], rule[67];
	redisReply *r = NULL;
	int rc;

	redis_password_hash(password, hash);
	snprintf(rule, sizeof(rule), "#%s", hash);
	rc = redis_conn_call(c, &r, err, "ACL", "SETUSER", user, rule, NULL);
	if (rc != 0)
		err_prefix(err, "adding the new password of Redis user %s", user);
	freeReplyObject(r);
	return rc;
}

int redis_acl_keep_only(struct redis_conn *c, const char *user, const char *keep_hash, int *removed,
			struct drctl_error *err)
{
	json_t *hashes = NULL, *h;
	const char **argv = NULL;
	size_t *lens = NULL, i, argc = 0;
	char (*rules)[67] = NULL;
	redisReply *r = NULL;
	int nopass = 0, rc = -1, found = 0;

	*removed = 0;
	if (redis_acl_passwords(c, user, &hashes, &nopass, err) != 0)
		return -1;
	json_array_foreach(hashes, i, h)
		if (!strcmp(json_string_value(h), keep_hash))
			found = 1;
	if (!found) {
		err_set(err, EXIT_FAILED, user, NULL,
			"Redis user %s does not hold the new password any more; the old ones were left as they are", user);
		goto done;
	}
	argv = calloc(json_array_size(hashes) + 4, sizeof(*argv));
	lens = calloc(json_array_size(hashes) + 4, sizeof(*lens));
	rules = calloc(json_array_size(hashes) + 2, sizeof(*rules));
	if (!argv || !lens || !rules) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		goto done;
	}
	argv[argc++] = "ACL";
	argv[argc++] = "SETUSER";
	argv[argc++] = user;
	if (nopass) {
		/* "nopass" lets any password in: reset the list to the new one. */
		argv[argc++] = "resetpass";
		snprintf(rules[0], sizeof(rules[0]), "#%s", keep_hash);
		argv[argc++] = rules[0];
		*removed = (int)json_array_size(hashes);
	} else {
		json_array_foreach(hashes, i, h) {
			if (!strcmp(json_string_value(h), keep_hash))
				continue;
			snprintf(rules[*removed], sizeof(rules[0]), "!%s", json_string_value(h));
			argv[argc++] = rules[(*removed)++];
		}
	}
	if (argc == 3) { /* only the new one: nothing to remove */
		rc = 0;
		goto done;
	}
	for (i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	if (redis_conn_send(c, (int)argc, argv, lens, err) != 0 || redis_conn_read_reply(c, &r, 1, err) != 1)
		goto done;
	if (r->type == REDIS_REPLY_ERROR) {
		redis_conn_reply_error(c, r->str, "ACL SETUSER (removing the old passwords)", user, err);
		goto done;
	}
	rc = 0;
done:
	freeReplyObject(r);
	free(argv);
	free(lens);
	free(rules);
	json_decref(hashes);
	return rc;
}

int redis_set_requirepass(struct redis_conn *c, const char *password, struct drctl_error *err)
{
	redisReply *r = NULL;
	int rc = redis_conn_call(c, &r, err, "CONFIG", "SET", "requirepass", password, NULL);
	if (rc != 0)
		err_prefix(err, "CONFIG SET requirepass");
	freeReplyObject(r);
	return rc;
}

int redis_persist(struct redis_conn *c, const char *mode, char *done_how, size_t cap, struct drctl_error *err)
{
	redisReply *r = NULL;
	struct drctl_error e;
	int automatic = !mode || !strcmp(mode, "auto");

	done_how[0] = '\0';
	if (mode && !strcmp(mode, "none")) {
		snprintf(done_how, cap, "not written to disk ([rotation] redis_persist = none)");
		return 0;
	}
	err_clear(&e);
	if (automatic || !strcmp(mode, "aclfile")) {
		if (redis_conn_call(c, &r, &e, "ACL", "SAVE", NULL) == 0) {
			freeReplyObject(r);
			snprintf(done_how, cap, "saved with ACL SAVE into the server's aclfile");
			return 0;
		}
		if (!automatic || !strstr(e.message, "ACL file")) {
			*err = e;
			return -1;
		}
	}
	err_clear(&e);
	if (redis_conn_call(c, &r, &e, "CONFIG", "REWRITE", NULL) == 0) {
		freeReplyObject(r);
		snprintf(done_how, cap, "saved with CONFIG REWRITE into the server's configuration file");
		return 0;
	}
	if (!automatic || !strstr(e.message, "without a config file")) {
		*err = e;
		return -1;
	}
	snprintf(done_how, cap, "in the server's memory only: it has neither an aclfile nor a configuration file, so a restart "
				"from its command line would bring the old password back");
	return 0;
}

int redis_clients_kill_user(struct redis_conn *c, const char *user, long long *killed, struct drctl_error *err)
{
	redisReply *r = NULL;

	*killed = 0;
	if (redis_conn_call(c, &r, err, "CLIENT", "KILL", "USER", user, NULL) != 0) {
		err_prefix(err, "CLIENT KILL USER %s", user);
		return -1;
	}
	if (r->type == REDIS_REPLY_INTEGER)
		*killed = r->integer;
	freeReplyObject(r);
	return 0;
}

int redis_client_list(struct redis_conn *c, char **text, struct drctl_error *err)
{
	redisReply *r = NULL;

	*text = NULL;
	if (redis_conn_call(c, &r, err, "CLIENT", "LIST", NULL) != 0)
		return -1;
	*text = strdup(r->type == REDIS_REPLY_STRING ? r->str : "");
	freeReplyObject(r);
	return *text ? 0 : err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
}
