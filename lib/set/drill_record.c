/*
 * drill_record: see drill_record.h.
 */
#include "lib/set/drill_record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SIG_MAX_BYTES 4096

void drill_record_name(const char *run, int sig, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s/record.json%s", DRILL_RECORDS_FOLDER, run, sig ? ".minisig" : "");
}

static int object_exists(struct repo *r, const char *name, int *exists, struct drctl_error *err)
{
	uint64_t size;
	int rc = repo_stat(r, name, &size, err);
	if (rc < 0)
		return -1;
	*exists = rc;
	return 0;
}

int drill_record_publish(struct repo *r, const struct minisign_signer *signer, const char *run, json_t *record,
			 int *already, struct drctl_error *err)
{
	char name[REPO_NAME_MAX], signame[REPO_NAME_MAX], tc[REPO_NAME_MAX + 64], *text = NULL, *sig = NULL;
	size_t len = 0;
	int have_record = 0, have_sig = 0, rc = -1;

	*already = 0;
	drill_record_name(run, 0, name, sizeof(name));
	drill_record_name(run, 1, signame, sizeof(signame));
	if (object_exists(r, name, &have_record, err) != 0 || object_exists(r, signame, &have_sig, err) != 0)
		return -1;
	if (have_record && have_sig) {
		*already = 1;
		return 0;
	}
	if (have_record) {
		/* A crash between the two objects: sign what is there. */
		*already = 1;
		if (repo_read_all(r, name, DRILL_RECORD_MAX_BYTES, &text, &len, err) != 0)
			return -1;
	} else {
		json_object_set_new(record, "format", json_string(DRILL_RECORD_FORMAT));
		json_object_set_new(record, "run", json_string(run));
		text = json_dumps(record, JSON_INDENT(2) | JSON_SORT_KEYS);
		if (!text)
			return err_set(err, EXIT_FAILED, NULL, NULL, "cannot encode the drill record");
		len = strlen(text);
		if (repo_write_all(r, name, text, len, err) != 0)
			goto done;
	}
	snprintf(tc, sizeof(tc), "timestamp:%ld\tfile:%s\thashed", (long)time(NULL), name);
	if (minisign_sign(signer, text, len, "signature from drctl secret key", tc, &sig, err) != 0)
		goto done;
	if (repo_write_all(r, signame, sig, strlen(sig), err) != 0)
		goto done;
	rc = 0;
done:
	free(text);
	free(sig);
	return rc;
}

/* One record, read and checked; the reason it is not trusted into `why`. */
static json_t *load_one(struct repo *r, const struct minisign_public_key *pk, const char *run, char *why,
			size_t cap)
{
	char name[REPO_NAME_MAX], signame[REPO_NAME_MAX], *text = NULL, *sig = NULL;
	size_t len = 0, siglen = 0;
	json_t *rec = NULL;
	struct drctl_error e;

	err_clear(&e);
	drill_record_name(run, 0, name, sizeof(name));
	drill_record_name(run, 1, signame, sizeof(signame));
	if (repo_read_all(r, name, DRILL_RECORD_MAX_BYTES, &text, &len, &e) != 0) {
		snprintf(why, cap, "record.json cannot be read: %s", e.message);
		goto done;
	}
	if (repo_read_all(r, signame, SIG_MAX_BYTES, &sig, &siglen, &e) != 0) {
		snprintf(why, cap, "%s", e.code == EXIT_NOT_FOUND ? "record.json has no signature" : e.message);
		goto done;
	}
	if (minisign_verify(pk, text, len, sig, siglen, name, NULL, 0, &e) != 0) {
		snprintf(why, cap, "the signature does not verify: %s", e.message);
		goto done;
	}
	rec = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(rec) ||
	    strcmp(json_string_value(json_object_get(rec, "format")) ?: "", DRILL_RECORD_FORMAT) != 0) {
		snprintf(why, cap, "signed, but not a %s record", DRILL_RECORD_FORMAT);
		json_decref(rec);
		rec = NULL;
	} else if (strcmp(json_string_value(json_object_get(rec, "run")) ?: "", run) != 0) {
		snprintf(why, cap, "signed, but the record of run %s (copied into another run's folder)",
			 json_string_value(json_object_get(rec, "run")) ?: "?");
		json_decref(rec);
		rec = NULL;
	}
done:
	free(text);
	free(sig);
	return rec;
}

int drill_record_list(struct repo *r, const struct minisign_public_key *pk, json_t **out, struct drctl_error *err)
{
	char **runs = NULL;
	size_t n = 0;

	*out = NULL;
	if (repo_list(r, DRILL_RECORDS_FOLDER, &runs, &n, err) != 0)
		return -1;
	*out = json_array();
	/* Run ids start with their UTC time: name order is time order. */
	for (size_t i = 0; i < n; i++) {
		char why[1024] = "";
		json_t *rec = load_one(r, pk, runs[i], why, sizeof(why));
		if (rec)
			json_array_append_new(*out, json_pack("{s:s, s:b, s:o}", "run", runs[i], "valid", 1, "record", rec));
		else
			json_array_append_new(*out, json_pack("{s:s, s:b, s:s}", "run", runs[i], "valid", 0, "reason", why));
	}
	repo_names_free(runs, n);
	return 0;
}
