/*
 * vault_kv: export and import of KV version 2 mounts, key by key.
 *
 * For Vaults without raft storage (no snapshot API) the listed mounts are
 * walked with GET <mount>/metadata/<folder>?list=true (the form Vault's Go
 * client sends; some servers refuse the LIST method), and each key's metadata
 * and current value are written as one JSON line:
 *   {"path","current_version","deleted","data","version_metadata","metadata"}
 * Values are secrets: this file only ever writes them into the archive it is
 * given (the caller refuses to export into an unencrypted one), wipes the
 * serialised lines and the JSON strings it held, and logs paths, never values.
 *
 * Import writes with check-and-set so that nothing written after the backup
 * is overwritten silently: cas 0 for a missing key, cas = the current version
 * otherwise, and a key whose current version is newer than the export is
 * skipped and reported unless --force.  A key already holding the backed-up
 * value is left alone, so an import can be run again after a crash.
 */
#include "lib/clients/vault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/clients/http.h"
#include "lib/clients/vault_private.h"
#include "lib/core/keyfile.h"
#include "lib/core/log.h"

#define KV_LINE_MAX (16u << 20)
#define KV_DEPTH_MAX 64
#define KV_PATH_MAX 2048

/* Overwrite every string a JSON document holds (secret values). */
static void kv_json_wipe(json_t *j)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_string(j)) {
		secure_wipe((char *)json_string_value(j), json_string_length(j));
	} else if (json_is_object(j)) {
		json_object_foreach(j, k, v)
			kv_json_wipe(v);
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			kv_json_wipe(v);
	}
}

void vault_json_wipe_free(json_t *j)
{
	if (j && j->refcount == 1)
		kv_json_wipe(j);
	json_decref(j);
}

void vault_kv_member_name(const char *mount, char *out, size_t cap)
{
	size_t n = strlen(mount);
	while (n > 0 && mount[n - 1] == '/')
		n--;
	if (snprintf(out, cap, "vault/kv/%.*s.jsonl", (int)n, mount) >= (int)cap)
		out[cap - 1] = '\0';
}

int vault_kv_api_path(const char *mount, const char *kind, const char *path, const char *suffix, char *out,
		      size_t cap)
{
	size_t n = strlen(mount), o;
	const char *p = path;

	while (n > 0 && mount[n - 1] == '/')
		n--;
	if (snprintf(out, cap, "%.*s/%s/", (int)n, mount, kind) >= (int)cap)
		return -1;
	o = strlen(out);
	while (*p) {
		char seg[KV_PATH_MAX], esc[KV_PATH_MAX * 3];
		size_t len = strcspn(p, "/");
		if (len >= sizeof(seg))
			return -1;
		memcpy(seg, p, len);
		seg[len] = '\0';
		if (http_escape_segment(seg, esc, sizeof(esc)) != 0 || o + strlen(esc) + 2 >= cap)
			return -1;
		o += (size_t)snprintf(out + o, cap - o, "%s%s", esc, p[len] == '/' ? "/" : "");
		p += len + (p[len] == '/');
	}
	if (snprintf(out + o, cap - o, "%s", suffix) >= (int)(cap - o))
		return -1;
	return 0;
}

/* The mount must be KV version 2 (sys/mounts says options.version "2"). */
static int kv_check_mount(struct vault_client *vc, const char *mount, struct drctl_error *err)
{
	char key[512];
	json_t *resp = NULL, *m;
	const char *type, *ver;
	struct drctl_error e;
	int rc = -1;

	err_clear(&e);
	snprintf(key, sizeof(key), "%s%s", mount, mount[strlen(mount) - 1] == '/' ? "" : "/");
	if (vault_json(vc, "GET", "sys/mounts", NULL, 0, NULL, &resp, &e) != 0) {
		if (e.code == EXIT_USAGE) { /* no read on sys/mounts: the listing will tell */
			log_warn("cannot read sys/mounts to check that %s is KV version 2: %s", mount, e.message);
			return 0;
		}
		*err = e;
		return -1;
	}
	m = json_object_get(json_object_get(resp, "data"), key);
	if (!m)
		m = json_object_get(resp, key);
	type = json_string_value(json_object_get(m, "type"));
	ver = json_string_value(json_object_get(json_object_get(m, "options"), "version"));
	if (!m) {
		err_set(err, EXIT_USAGE, mount, "fix [vault] kv_mounts (list the mounts with `vault secrets list`)",
			"Vault at %s has no mount %s", vault_client_address(vc), key);
		goto done;
	}
	if (!type || strcmp(type, "kv") != 0 || !ver || strcmp(ver, "2") != 0) {
		err_set(err, EXIT_USAGE, mount, "list only KV version 2 mounts in [vault] kv_mounts (`vault kv enable-versioning` upgrades a KV v1 mount)",
			"mount %s on Vault at %s is not KV version 2 (type %s, version %s)", key, vault_client_address(vc),
			type ? type : "?", ver ? ver : "1");
		goto done;
	}
	rc = 0;
done:
	json_decref(resp);
	return rc;
}

struct kv_export {
	struct vault_client *vc;
	const char *mount;
	struct archive_out *ao;
	long keys, deleted, folders;
};

static int kv_export_key(struct kv_export *x, const char *path, struct drctl_error *err)
{
	char api[KV_PATH_MAX * 3 + 64];
	json_t *meta = NULL, *data = NULL, *line = NULL;
	json_t *d, *vm;
	char *text = NULL;
	long status = 0;
	int rc = -1;

	if (vault_kv_api_path(x->mount, "metadata", path, "", api, sizeof(api)) != 0) {
		err_set(err, EXIT_FAILED, path, NULL, "KV path %s is too long", path);
		goto done;
	}
	if (vault_json(x->vc, "GET", api, NULL, VAULT_CALL_OK_404, &status, &meta, err) != 0)
		goto done;
	if (status == 404) { /* deleted between the listing and now */
		rc = 0;
		goto done;
	}
	vault_kv_api_path(x->mount, "data", path, "", api, sizeof(api));
	/* A deleted current version is 404 with the envelope and data.data null. */
	if (vault_json(x->vc, "GET", api, NULL, VAULT_CALL_OK_404, &status, &data, err) != 0)
		goto done;
	d = json_object_get(json_object_get(data, "data"), "data");
	vm = json_object_get(json_object_get(data, "data"), "metadata");
	line = json_pack("{s:s, s:O, s:b, s:O, s:O, s:O}", "path", path, "current_version",
			 json_object_get(json_object_get(meta, "data"), "current_version") ?: json_null(),
			 "deleted", !json_is_object(d), "data", json_is_object(d) ? d : json_null(),
			 "version_metadata", vm ? vm : json_null(), "metadata",
			 json_object_get(meta, "data") ?: json_null());
	if (!line || !(text = json_dumps(line, JSON_COMPACT))) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		goto done;
	}
	if (archive_out_stream_write(x->ao, text, strlen(text), err) != 0 ||
	    archive_out_stream_write(x->ao, "\n", 1, err) != 0)
		goto done;
	x->keys++;
	if (!json_is_object(d))
		x->deleted++;
	rc = 0;
done:
	if (text) {
		secure_wipe(text, strlen(text));
		free(text);
	}
	json_decref(line);
	vault_json_wipe_free(data);
	json_decref(meta);
	return rc;
}

static int kv_export_folder(struct kv_export *x, const char *folder, int depth, struct drctl_error *err)
{
	char api[KV_PATH_MAX * 3 + 64];
	json_t *resp = NULL, *k;
	long status = 0;
	size_t i;
	int rc = -1;

	if (depth > KV_DEPTH_MAX)
		return err_set(err, EXIT_FAILED, folder, NULL, "KV folders nested deeper than %d at %s", KV_DEPTH_MAX, folder);
	if (vault_kv_api_path(x->mount, "metadata", folder, "?list=true", api, sizeof(api)) != 0)
		return err_set(err, EXIT_FAILED, folder, NULL, "KV path %s is too long", folder);
	if (vault_json(x->vc, "GET", api, NULL, VAULT_CALL_OK_404, &status, &resp, err) != 0)
		goto done;
	if (status == 404) { /* an empty mount or folder */
		rc = 0;
		goto done;
	}
	x->folders++;
	json_array_foreach(json_object_get(json_object_get(resp, "data"), "keys"), i, k) {
		const char *name = json_string_value(k);
		char child[KV_PATH_MAX];
		size_t n;
		if (!name || !*name || name[0] == '/' || !strcmp(name, ".") || !strcmp(name, "./") ||
		    !strcmp(name, "..") || !strcmp(name, "../")) {
			/* Not addressable through the HTTP API (paths get normalised). */
			log_warn("KV %s: skipping the unaddressable key \"%s%s\"", x->mount, folder, name ? name : "");
			continue;
		}
		if (snprintf(child, sizeof(child), "%s%s", folder, name) >= (int)sizeof(child)) {
			err_set(err, EXIT_FAILED, name, NULL, "KV path %s%s is too long", folder, name);
			goto done;
		}
		n = strlen(child);
		if (child[n - 1] == '/' ? kv_export_folder(x, child, depth + 1, err) != 0 : kv_export_key(x, child, err) != 0)
			goto done;
	}
	rc = 0;
done:
	json_decref(resp);
	return rc;
}

int vault_kv_export(struct vault_client *vc, const char *mount, struct archive_out *ao, json_t *streams,
		    json_t **facts, struct drctl_error *err)
{
	struct kv_export x = { .vc = vc, .mount = mount, .ao = ao };
	char member[512], started[32];

	*facts = NULL;
	if (kv_check_mount(vc, mount, err) != 0)
		return -1;
	vault_kv_member_name(mount, member, sizeof(member));
	format_utc(now_seconds(), started);
	if (archive_out_stream_begin(ao, member, 0600, streams, err) != 0)
		return -1;
	if (kv_export_folder(&x, "", 0, err) != 0) {
		err_prefix(err, "export of KV mount %s from %s", mount, vault_client_address(vc));
		return -1;
	}
	if (archive_out_stream_end(ao, err) != 0)
		return -1;
	log_info("vault KV mount %s: %ld keys exported (%ld with a deleted current version)", mount, x.keys, x.deleted);
	*facts = json_pack("{s:s, s:s, s:s, s:i, s:i, s:i}", "mount", mount, "member", member, "exported_at", started,
			   "keys", (int)x.keys, "deleted", (int)x.deleted, "folders", (int)x.folders);
	return *facts ? 0 : err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
}

/* --- lines ---------------------------------------------------------------------- */

typedef int (*kv_line_fn)(void *ctx, json_t *line, struct drctl_error *err);

struct vault_kv_lines {
	char *buf;
	size_t len, cap;
	long count;
	kv_line_fn fn;
	void *ctx;
};

struct vault_kv_lines *vault_kv_lines_new(struct drctl_error *err)
{
	struct vault_kv_lines *l = calloc(1, sizeof(*l));
	if (!l)
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	return l;
}

void vault_kv_lines_free(struct vault_kv_lines *l)
{
	if (!l)
		return;
	if (l->buf) {
		secure_wipe(l->buf, l->cap);
		free(l->buf);
	}
	free(l);
}

static int kv_line(struct vault_kv_lines *l, char *text, size_t n, struct drctl_error *err)
{
	json_error_t jerr;
	json_t *j = json_loadb(text, n, 0, &jerr);
	int rc = 0;

	l->count++;
	if (!json_is_object(j) || !json_is_string(json_object_get(j, "path")))
		rc = err_set(err, EXIT_INTEGRITY, NULL, NULL, "KV export line %ld is not a key record%s%s", l->count,
			     j ? "" : ": ", j ? "" : jerr.text);
	else if (l->fn)
		rc = l->fn(l->ctx, j, err);
	vault_json_wipe_free(j);
	return rc;
}

int vault_kv_lines_feed(struct vault_kv_lines *l, const void *buf, size_t len, struct drctl_error *err)
{
	const char *p = buf;

	while (len > 0) {
		const char *nl = memchr(p, '\n', len);
		size_t take = nl ? (size_t)(nl - p) : len;
		if (l->len + take > KV_LINE_MAX)
			return err_set(err, EXIT_INTEGRITY, NULL, NULL, "KV export line %ld is longer than %u MiB", l->count + 1,
				       KV_LINE_MAX >> 20);
		if (l->len + take + 1 > l->cap && secure_grow(&l->buf, &l->cap, l->len, l->len + take + 1) != 0)
			return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		memcpy(l->buf + l->len, p, take);
		l->len += take;
		p += take;
		len -= take;
		if (nl) {
			p++;
			len--;
			if (kv_line(l, l->buf, l->len, err) != 0)
				return -1;
			secure_wipe(l->buf, l->len);
			l->len = 0;
		}
	}
	return 0;
}

long vault_kv_lines_finish(struct vault_kv_lines *l, struct drctl_error *err)
{
	if (l->len > 0)
		return err_set(err, EXIT_INTEGRITY, NULL, NULL, "KV export ends in the middle of line %ld (truncated)",
			       l->count + 1);
	return l->count;
}

/* --- import -------------------------------------------------------------------- */

/* RFC 3339 UTC ("2026-11-29T02:00:00.123456Z") to seconds; -1 if unreadable. */
static double kv_time(const char *s)
{
	struct tm tm = { 0 };
	const char *rest;
	double frac = 0;

	if (!s || !(rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
		return -1;
	if (*rest == '.')
		frac = strtod(rest, NULL);
	return (double)timegm(&tm) + frac;
}

struct kv_import {
	struct vault_client *vc;
	const char *mount;
	double exported_at;
	int force;
	long written, unchanged, deleted;
	json_t *skipped, *conflicts;
};

static int kv_import_line(void *ctx, json_t *line, struct drctl_error *err)
{
	struct kv_import *im = ctx;
	const char *path = json_string_value(json_object_get(line, "path"));
	json_t *data = json_object_get(line, "data"), *meta = NULL, *cur = NULL, *body = NULL, *resp = NULL;
	char api[KV_PATH_MAX * 3 + 64];
	long status = 0, cas = 0;
	struct drctl_error e;
	int rc = -1;

	if (json_is_true(json_object_get(line, "deleted")) || !json_is_object(data)) {
		im->deleted++;
		return 0;
	}
	if (vault_kv_api_path(im->mount, "metadata", path, "", api, sizeof(api)) != 0)
		return err_set(err, EXIT_FAILED, path, NULL, "KV path %s is too long", path);
	if (vault_json(im->vc, "GET", api, NULL, VAULT_CALL_OK_404, &status, &meta, err) != 0)
		goto done;
	if (status != 404) {
		json_t *md = json_object_get(meta, "data");
		char ver[32];
		cas = (long)json_integer_value(json_object_get(md, "current_version"));
		snprintf(ver, sizeof(ver), "%ld", cas);
		vault_kv_api_path(im->mount, "data", path, "", api, sizeof(api));
		if (vault_json(im->vc, "GET", api, NULL, VAULT_CALL_OK_404, &status, &cur, err) != 0)
			goto done;
		if (status != 404 && json_equal(json_object_get(json_object_get(cur, "data"), "data"), data)) {
			im->unchanged++;
			rc = 0;
			goto done;
		}
		if (!im->force) {
			double t = kv_time(json_string_value(
				json_object_get(json_object_get(json_object_get(md, "versions"), ver), "created_time")));
			if (t > im->exported_at) {
				log_warn("KV %s%s: version %ld was written after the backup; not overwritten (--force overwrites)",
					 im->mount, path, cas);
				json_array_append_new(im->skipped, json_pack("{s:s, s:i}", "path", path, "current_version", (int)cas));
				rc = 0;
				goto done;
			}
		}
	}
	body = json_pack("{s:{s:i}, s:O}", "options", "cas", (int)cas, "data", data);
	vault_kv_api_path(im->mount, "data", path, "", api, sizeof(api));
	err_clear(&e);
	if (vault_json(im->vc, "POST", api, body, 0, &status, &resp, &e) != 0) {
		if (status == 400 && strstr(e.message, "check-and-set")) {
			/* Written by someone else between our read and our write. */
			log_warn("KV %s%s changed while restoring; not overwritten", im->mount, path);
			json_array_append_new(im->conflicts, json_pack("{s:s}", "path", path));
			rc = 0;
			goto done;
		}
		*err = e;
		goto done;
	}
	im->written++;
	rc = 0;
done:
	json_decref(resp);
	if (body) {
		json_object_del(body, "data"); /* borrowed from the line, wiped with it */
		json_decref(body);
	}
	vault_json_wipe_free(cur);
	json_decref(meta);
	return rc;
}

#define KV_IMPORT_MAX (256u << 20)

int vault_kv_import(struct vault_client *vc, const char *mount, struct source *lines, const char *exported_at,
		    int force, json_t *report, struct drctl_error *err)
{
	struct kv_import im = { .vc = vc, .mount = mount, .force = force, .exported_at = kv_time(exported_at),
				.skipped = json_array(), .conflicts = json_array() };
	struct vault_kv_lines *l = vault_kv_lines_new(err);
	char mount_slash[512], *all = NULL;
	size_t all_len = 0;
	int rc = -1;

	snprintf(mount_slash, sizeof(mount_slash), "%s%s", mount, mount[strlen(mount) - 1] == '/' ? "" : "/");
	im.mount = mount_slash;
	if (!l)
		goto done;
	if (im.exported_at < 0 && !force) {
		err_set(err, EXIT_INTEGRITY, mount, NULL, "the manifest has no export time for KV mount %s", mount);
		goto done;
	}
	if (kv_check_mount(vc, mount, err) != 0)
		goto done;
	l->fn = kv_import_line;
	l->ctx = &im;
	/* Read the whole export before writing anything: its SHA-256 is checked
	 * against the signed manifest only at its end, and no value may reach
	 * Vault from an export that is not proven.  KV exports are small (a
	 * bounded size, refused beyond). */
	{
		struct sink *mem = memory_sink_new(&all, &all_len, KV_IMPORT_MAX, err);
		if (!mem)
			goto done;
		if (stream_copy(lines, mem, NULL, err) != 0) {
			sink_abort(mem);
			goto done;
		}
		if (sink_close(mem, err) != 0)
			goto done;
	}
	if (vault_kv_lines_feed(l, all, all_len, err) != 0)
		goto done;
	if (vault_kv_lines_finish(l, err) < 0)
		goto done;
	log_info("vault KV mount %s: %ld written, %ld already equal, %zu newer kept, %zu conflicts, %ld deleted in the backup",
		 mount, im.written, im.unchanged, json_array_size(im.skipped), json_array_size(im.conflicts), im.deleted);
	rc = 0;
done:
	json_object_set_new(report, "mount", json_string(mount));
	json_object_set_new(report, "written", json_integer(im.written));
	json_object_set_new(report, "unchanged", json_integer(im.unchanged));
	json_object_set_new(report, "deleted_in_backup", json_integer(im.deleted));
	json_object_set_new(report, "skipped_newer", im.skipped);
	json_object_set_new(report, "conflicts", im.conflicts);
	if (all) {
		secure_wipe(all, all_len);
		free(all);
	}
	vault_kv_lines_free(l);
	return rc;
}
