/*
 * backup_set: ids, publication order, and telling complete sets from debris.
 * The layout and the order are explained in backup_set.h.
 */
#include "lib/set/backup_set.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "lib/stream/stream.h"

#define SUMS_MAX_BYTES (1u << 20)
#define SIG_MAX_BYTES 4096

void backup_set_new_id(char out[BACKUP_SET_ID_MAX])
{
	unsigned char rnd[2] = {0, 0};
	time_t now = time(NULL);
	struct tm tm;
	char stamp[32];

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	RAND_bytes(rnd, sizeof(rnd));
	snprintf(out, BACKUP_SET_ID_MAX, "%s-%02x%02x", stamp, rnd[0], rnd[1]);
}

int backup_set_id_valid(const char *id)
{
	size_t len = strlen(id);
	if (len < 8 || len >= BACKUP_SET_ID_MAX || !isdigit((unsigned char)id[0]))
		return 0;
	for (const char *p = id; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return 0;
	return 1;
}

void backup_set_path(const char *id, const char *file, char *out, size_t cap)
{
	snprintf(out, cap, "backups/%s/%s", id, file);
}

void backup_set_object_file(const char *component, int encrypted, char *out, size_t cap)
{
	snprintf(out, cap, "%s.tar.zst%s", component, encrypted ? ".age" : "");
}

const char *backup_set_state_name(enum backup_set_state s)
{
	switch (s) {
	case SET_COMPLETE: return "complete";
	case SET_INCOMPLETE: return "incomplete";
	case SET_INVALID: return "invalid";
	}
	return "?";
}

/* Read a small object and its .minisig and verify. */
static int load_signed_with(struct repo *r, const struct minisign_public_key *pk, const char *id, const char *file,
			    size_t max, char **data, size_t *len, char **sig_out, size_t *siglen_out,
			    struct drctl_error *err)
{
	char name[400], signame[512], *sig = NULL;
	size_t siglen = 0;
	int rc;

	backup_set_path(id, file, name, sizeof(name));
	snprintf(signame, sizeof(signame), "%s.minisig", name);
	if (repo_read_all(r, name, max, data, len, err) != 0)
		return -1;
	if (repo_read_all(r, signame, SIG_MAX_BYTES, &sig, &siglen, err) != 0) {
		if (err->code == EXIT_NOT_FOUND)
			err->code = EXIT_INTEGRITY;
		goto fail;
	}
	/* minisign_verify calls a signature that does not verify EXIT_INTEGRITY
	 * itself; anything else it reports (memory) is no verdict on the set. */
	rc = minisign_verify(pk, *data, *len, sig, siglen, name, NULL, 0, err);
	if (rc != 0)
		goto fail;
	if (sig_out) {
		*sig_out = sig;
		*siglen_out = siglen;
	} else {
		free(sig);
	}
	return 0;
fail:
	free(sig);
	free(*data);
	*data = NULL;
	return -1;
}

static int load_signed(struct repo *r, const struct minisign_public_key *pk, const char *id,
		       const char *file, size_t max, char **data, size_t *len, struct drctl_error *err)
{
	return load_signed_with(r, pk, id, file, max, data, len, NULL, NULL, err);
}

int backup_set_read_signed(struct repo *r, const struct minisign_public_key *pk, const char *id, const char *file,
			   char **data, size_t *len, char **sig, size_t *siglen, struct drctl_error *err)
{
	*sig = NULL;
	*siglen = 0;
	return load_signed_with(r, pk, id, file, MANIFEST_MAX_BYTES, data, len, sig, siglen, err);
}

int backup_set_parse_manifest(const char *data, size_t len, const char *id, json_t **manifest,
			      struct drctl_error *err)
{
	json_error_t jerr;
	json_t *m;
	const char *fmt, *mid;

	*manifest = NULL;
	m = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!m || !json_is_object(m)) {
		json_decref(m);
		return err_set(err, EXIT_INTEGRITY, "manifest.json", NULL,
			       "the manifest of %s is not valid JSON (line %d: %s)", id, jerr.line, jerr.text);
	}
	fmt = json_string_value(json_object_get(m, "format"));
	mid = json_string_value(json_object_get(m, "id"));
	if (!fmt || strcmp(fmt, MANIFEST_FORMAT) != 0 || !mid || strcmp(mid, id) != 0 ||
	    !json_is_object(json_object_get(m, "components"))) {
		json_decref(m);
		return err_set(err, EXIT_INTEGRITY, "manifest.json", NULL,
			       "the manifest of %s is not a drctl manifest for that set (format, id or components wrong)", id);
	}
	*manifest = m;
	return 0;
}

int backup_set_load_manifest(struct repo *r, const struct minisign_public_key *pk, const char *id,
			     json_t **manifest, struct drctl_error *err)
{
	char *data = NULL;
	size_t len = 0;
	int rc;

	*manifest = NULL;
	if (load_signed(r, pk, id, "manifest.json", MANIFEST_MAX_BYTES, &data, &len, err) != 0) {
		if (err->code == EXIT_NOT_FOUND && strstr(err->message, "manifest.json is missing")) {
			err_clear(err);
			return err_set(err, EXIT_NOT_FOUND, id,
				       "this set was interrupted before it was published; use another set (`drctl list`) and remove debris with `drctl prune`",
				       "backup set %s is incomplete: it has no signed manifest", id);
		}
		return -1;
	}
	rc = backup_set_parse_manifest(data, len, id, manifest, err);
	free(data);
	return rc;
}

int backup_set_parse_sums(char *data, json_t **sums, struct drctl_error *err)
{
	char *line, *save = NULL;
	json_t *out = json_object();

	*sums = NULL;
	for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t n = strlen(line);
		if (n < 67 || n > 300 || line[64] != ' ' || line[65] != ' ' ||
		    strspn(line, "0123456789abcdef") != 64 || strchr(line + 66, '/') ||
		    json_object_get(out, line + 66)) {
			json_decref(out);
			return err_set(err, EXIT_INTEGRITY, "SHA256SUMS", NULL,
				       "SHA256SUMS has a malformed or repeated line");
		}
		line[64] = '\0';
		json_object_set_new(out, line + 66, json_string(line));
	}
	*sums = out;
	return 0;
}

int backup_set_load_sums(struct repo *r, const struct minisign_public_key *pk, const char *id,
			 json_t **sums, struct drctl_error *err)
{
	char *data = NULL;
	size_t len = 0;
	int rc;

	*sums = NULL;
	if (load_signed(r, pk, id, "SHA256SUMS", SUMS_MAX_BYTES, &data, &len, err) != 0)
		return -1;
	if (memchr(data, '\0', len)) {
		free(data);
		return err_set(err, EXIT_INTEGRITY, "SHA256SUMS", NULL, "SHA256SUMS of %s holds a NUL byte", id);
	}
	rc = backup_set_parse_sums(data, sums, err);
	free(data);
	return rc;
}

static int publish_signed(struct repo *r, const struct minisign_signer *signer, const char *id,
			  const char *file, const char *data, size_t len, int data_first,
			  struct drctl_error *err)
{
	char name[400], signame[512], tc[256], *sig = NULL;
	int rc = -1;

	backup_set_path(id, file, name, sizeof(name));
	snprintf(signame, sizeof(signame), "%s.minisig", name);
	snprintf(tc, sizeof(tc), "timestamp:%ld\tfile:%s\thashed", (long)time(NULL), file);
	if (minisign_sign(signer, data, len, "signature from drctl secret key", tc, &sig, err) != 0)
		return -1;
	if (data_first) {
		if (repo_write_all(r, name, data, len, err) != 0 ||
		    repo_write_all(r, signame, sig, strlen(sig), err) != 0)
			goto done;
	} else {
		/* The signature first, so the data object's arrival is the
		 * moment the set becomes complete. */
		if (repo_write_all(r, signame, sig, strlen(sig), err) != 0 ||
		    repo_write_all(r, name, data, len, err) != 0)
			goto done;
	}
	rc = 0;
done:
	free(sig);
	return rc;
}

int backup_set_publish(struct repo *r, const struct minisign_signer *signer, const char *id,
		       json_t *manifest, struct drctl_error *err)
{
	json_t *components = json_object_get(manifest, "components"), *c;
	const char *cname;
	char *sums = NULL, *text = NULL;
	size_t sums_len = 0, cap = 0;
	int rc = -1;

	json_object_foreach(components, cname, c) {
		const char *file = json_string_value(json_object_get(c, "object"));
		const char *hex = json_string_value(json_object_get(c, "object_sha256"));
		size_t need;
		if (!file || !hex)
			continue;
		need = sums_len + strlen(hex) + strlen(file) + 4;
		if (need > cap) {
			char *n = realloc(sums, cap = need * 2);
			if (!n) {
				err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
				goto done;
			}
			sums = n;
		}
		sums_len += (size_t)sprintf(sums + sums_len, "%s  %s\n", hex, file);
	}
	if (publish_signed(r, signer, id, "SHA256SUMS", sums ? sums : "", sums_len, 1, err) != 0)
		goto done;
	text = json_dumps(manifest, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!text) {
		err_set(err, EXIT_FAILED, NULL, NULL, "cannot serialize the manifest");
		goto done;
	}
	{
		size_t tl = strlen(text);
		char *withnl = realloc(text, tl + 2);
		if (!withnl) {
			err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
			goto done;
		}
		text = withnl;
		text[tl] = '\n';
		text[tl + 1] = '\0';
	}
	rc = publish_signed(r, signer, id, "manifest.json", text, strlen(text), 0, err);
done:
	free(sums);
	free(text);
	return rc;
}

/* Publication backwards: the manifest first, so a removal that is
 * interrupted leaves an incomplete set (which prune removes later), never one
 * that looks complete with objects missing; then the signatures and
 * SHA256SUMS, the objects, and the folder with any temporaries. */
int backup_set_remove(struct repo *r, const char *id, struct drctl_error *err)
{
	static const char *const published_last_first[] = {
		"manifest.json", "manifest.json.minisig", "SHA256SUMS", "SHA256SUMS.minisig",
	};
	char dir[256], name[512], **objects = NULL;
	size_t n_objects = 0, step = 0;
	int rc = -1;

	if (!backup_set_id_valid(id))
		return err_set(err, EXIT_USAGE, id, NULL, "%s is not a backup set id", id);
	snprintf(dir, sizeof(dir), "backups/%s", id);
	for (; step < sizeof(published_last_first) / sizeof(published_last_first[0]); step++) {
		backup_set_path(id, published_last_first[step], name, sizeof(name));
		if (repo_remove(r, name, err) != 0)
			goto done;
	}
	if (repo_list(r, dir, &objects, &n_objects, err) != 0)
		goto done;
	for (size_t i = 0; i < n_objects; i++) {
		backup_set_path(id, objects[i], name, sizeof(name));
		if (repo_remove(r, name, err) != 0)
			goto done;
	}
	rc = repo_remove_dir(r, dir, err);
done:
	if (rc != 0 && step == 0) {
		err_prefix(err, "backup set %s was not removed (nothing of it was touched)", id);
	} else if (rc != 0) {
		err_prefix(err, "removing backup set %s stopped after its manifest was removed: it is incomplete now", id);
		err_hint(err, "fix the cause and run `drctl prune` again: it removes the rest of %s once it is older than [retention] incomplete_grace", id);
	}
	repo_names_free(objects, n_objects);
	return rc;
}

int backup_set_retained_until(struct repo *r, const char *id, time_t *until, struct drctl_error *err)
{
	char dir[256], name[512], **objects = NULL;
	size_t n_objects = 0;
	int rc = -1;

	*until = 0;
	if (!backup_set_id_valid(id))
		return err_set(err, EXIT_USAGE, id, NULL, "%s is not a backup set id", id);
	snprintf(dir, sizeof(dir), "backups/%s", id);
	if (repo_list(r, dir, &objects, &n_objects, err) != 0)
		goto done;
	/* Every object: one left behind a delete marker would keep the set's
	 * bytes but not the set. */
	for (size_t i = 0; i < n_objects; i++) {
		time_t t;
		int held;
		backup_set_path(id, objects[i], name, sizeof(name));
		if ((held = repo_retained_until(r, name, &t, err)) < 0)
			goto done;
		if (held && t > *until)
			*until = t;
	}
	rc = *until != 0;
done:
	if (rc < 0)
		err_prefix(err, "reading the retention of backup set %s", id);
	repo_names_free(objects, n_objects);
	return rc;
}

void backup_set_list_free(struct backup_set_info *sets, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_decref(sets[i].manifest);
	free(sets);
}

int backup_set_list(struct repo *r, const struct minisign_public_key *pk,
		    struct backup_set_info **sets, size_t *n, struct drctl_error *err)
{
	char **ids = NULL;
	size_t count = 0, out_n = 0;
	struct backup_set_info *out;

	*sets = NULL;
	*n = 0;
	if (repo_list(r, "backups", &ids, &count, err) != 0)
		return -1;
	out = calloc(count ? count : 1, sizeof(*out));
	if (!out) {
		repo_names_free(ids, count);
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	}
	/* ids are sorted ascending; newest first means walking backwards. */
	for (size_t i = count; i-- > 0;) {
		struct backup_set_info *s = &out[out_n];
		struct drctl_error e;
		uint64_t size;
		char name[512];

		if (!backup_set_id_valid(ids[i]))
			continue;
		out_n++;
		snprintf(s->id, sizeof(s->id), "%s", ids[i]);
		err_clear(&e);
		backup_set_path(ids[i], "manifest.json", name, sizeof(name));
		if (repo_stat(r, name, &size, &e) == 0) {
			s->state = SET_INCOMPLETE;
			snprintf(s->reason, sizeof(s->reason), "no signed manifest (interrupted or still running)");
			continue;
		}
		if (backup_set_load_manifest(r, pk, ids[i], &s->manifest, &e) != 0) {
			/* Invalid only on proof (a signature or format check that
			 * failed); a manifest that could not be read is no verdict. */
			if (e.code != EXIT_INTEGRITY) {
				*err = e;
				backup_set_list_free(out, out_n);
				repo_names_free(ids, count);
				return -1;
			}
			s->state = SET_INVALID;
			snprintf(s->reason, sizeof(s->reason), "%s", e.message);
			continue;
		}
		s->state = SET_COMPLETE;
	}
	repo_names_free(ids, count);
	*sets = out;
	*n = out_n;
	return 0;
}

/* 1 when `list` shows a set of this id (complete or not), 0 when not: what
 * is in the repository is asked of the driver, never of a file system. */
static int backup_set_listed(struct repo *r, const char *id, struct drctl_error *err)
{
	char **ids;
	size_t count;
	int found = 0;

	if (repo_list(r, "backups", &ids, &count, err) != 0)
		return -1;
	for (size_t i = 0; i < count && !found; i++)
		found = !strcmp(ids[i], id);
	repo_names_free(ids, count);
	return found;
}

int backup_set_resolve(struct repo *r, const struct minisign_public_key *pk, const char *ref,
		       char id[BACKUP_SET_ID_MAX], struct drctl_error *err)
{
	struct backup_set_info *sets;
	size_t n;
	int rc = -1;

	if (!ref || !strcmp(ref, "latest")) {
		const struct backup_set_info *invalid = NULL;
		size_t n_invalid = 0;
		if (backup_set_list(r, pk, &sets, &n, err) != 0)
			return -1;
		for (size_t i = 0; i < n && rc != 0; i++) {
			if (sets[i].state == SET_COMPLETE) {
				snprintf(id, BACKUP_SET_ID_MAX, "%s", sets[i].id);
				rc = 0;
			} else if (sets[i].state == SET_INVALID && n_invalid++ == 0) {
				invalid = &sets[i];
			}
		}
		/* Sets whose signature fails are a verdict, not an empty repository. */
		if (rc != 0 && invalid)
			err_set(err, EXIT_INTEGRITY, invalid->id,
				"if the sets were signed with another key, point [signing] public_key_file at its public key; otherwise do not trust them (`drctl list` shows each set's state)",
				"no complete backup set in %s: %zu set%s fail%s verification, the newest (%s): %s", r->description,
				n_invalid, n_invalid == 1 ? "" : "s", n_invalid == 1 ? "s" : "", invalid->id, invalid->reason);
		else if (rc != 0)
			err_set(err, EXIT_NOT_FOUND, r->description, "run `drctl backup` first (and `drctl list` to see what is there)",
				"no complete backup set in %s", r->description);
		backup_set_list_free(sets, n);
		return rc;
	}
	if (!backup_set_id_valid(ref))
		return err_set(err, EXIT_USAGE, ref, "use an id from `drctl list`, or `latest`",
			       "\"%s\" is not a backup set id", ref);
	{
		char name[512];
		uint64_t size;
		int st;
		backup_set_path(ref, "manifest.json", name, sizeof(name));
		st = repo_stat(r, name, &size, err);
		if (st < 0)
			return -1;
		if (st == 0) {
			int listed = backup_set_listed(r, ref, err);
			if (listed < 0)
				return -1;
			if (!listed)
				return err_set(err, EXIT_NOT_FOUND, ref, "see `drctl list` for the sets there are",
					       "backup set %s does not exist in %s", ref, r->description);
			return err_set(err, EXIT_NOT_FOUND, ref,
				       "this set was interrupted before it was published; use another set (`drctl list`) and remove debris with `drctl prune`",
				       "backup set %s is incomplete: it has no signed manifest", ref);
		}
	}
	snprintf(id, BACKUP_SET_ID_MAX, "%s", ref);
	return 0;
}
