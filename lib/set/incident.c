#include "lib/set/incident.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/crypto/age.h"
#include "lib/crypto/minisign.h"
#include "lib/set/keys.h"
#include "lib/storage/repo.h"
#include "lib/stream/stream_thread.h"

#define INCIDENT_MANIFEST_MAX (16u << 20)
#define INCIDENT_SIG_MAX 4096

void incident_path(const char *id, const char *file, char *out, size_t cap)
{
	snprintf(out, cap, "incidents/%s/%s", id, file);
}

int incident_state(const struct config *cfg, const char *id, int *state, struct drctl_error *err)
{
	struct repo *repo = NULL;
	char name[512];
	uint64_t size;
	int rc = -1, has;

	*state = 0;
	if (repo_open(&repo, cfg, err) != 0)
		return -1;
	incident_path(id, "manifest.json", name, sizeof(name));
	if ((has = repo_stat(repo, name, &size, err)) < 0)
		goto done;
	if (has) {
		*state = 2;
	} else {
		incident_path(id, INCIDENT_BUNDLE_FILE, name, sizeof(name));
		if ((has = repo_stat(repo, name, &size, err)) < 0)
			goto done;
		*state = has ? 1 : 0;
	}
	rc = 0;
done:
	repo_close(repo);
	return rc;
}

struct incident_writer {
	struct repo *repo;
	struct archive_out *ao;
	struct digest digest;
	json_t *members;
	json_t *recipients;
	char name[512];
};

static void writer_free(struct incident_writer *w)
{
	repo_close(w->repo);
	json_decref(w->members);
	json_decref(w->recipients);
	free(w);
}

int incident_writer_open(struct incident_writer **out, const struct config *cfg, const char *id,
			 struct drctl_error *err)
{
	struct incident_writer *w = calloc(1, sizeof(*w));
	struct age_recipient *recipients = NULL;
	size_t n = 0;
	struct sink *sink = NULL;
	long level = 3;

	*out = NULL;
	if (!w)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	w->members = json_array();
	w->recipients = json_array();
	if (keys_load_recipients(cfg, &recipients, &n, err) != 0)
		goto fail;
	if (n == 0) {
		err_set(err, EXIT_USAGE, "[encryption] recipients",
			"set [encryption] enabled = true and [encryption] recipients (drctl init writes one)",
			"an incident bundle holds evidence and is only ever written encrypted; no age recipient is configured");
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		char text[128];
		age_recipient_format(&recipients[i], text);
		json_array_append_new(w->recipients, json_string(text));
	}
	if (repo_open(&w->repo, cfg, err) != 0)
		goto fail;
	incident_path(id, INCIDENT_BUNDLE_FILE, w->name, sizeof(w->name));
	sink = repo_open_write(w->repo, w->name, err);
	if (sink)
		sink = digest_sink_new(sink, &w->digest, err);
	if (sink)
		sink = age_writer_new(sink, recipients, n, err);
	if (sink)
		sink = thread_sink_new(sink, err);
	if (!sink)
		goto fail;
	if (config_get_int(cfg, "compression", "level", &level) != 0)
		level = 3;
	w->ao = archive_out_new(sink, (int)level, 1, w->members, err);
	if (!w->ao)
		goto fail;
	free(recipients);
	*out = w;
	return 0;
fail:
	free(recipients);
	writer_free(w);
	return -1;
}

struct archive_out *incident_writer_archive(struct incident_writer *w)
{
	return w->ao;
}

int incident_writer_close(struct incident_writer *w, json_t **bundle, struct drctl_error *err)
{
	int rc = archive_out_close(w->ao, err);

	*bundle = NULL;
	if (rc == 0)
		*bundle = json_pack("{s:s, s:I, s:s, s:O, s:O}", "object", INCIDENT_BUNDLE_FILE, "size",
				    (json_int_t)w->digest.bytes, "sha256", w->digest.sha256_hex, "members", w->members,
				    "recipients", w->recipients);
	else
		err_prefix(err, "writing %s", w->name);
	writer_free(w);
	return rc;
}

void incident_writer_abort(struct incident_writer *w)
{
	if (!w)
		return;
	archive_out_abort(w->ao);
	writer_free(w);
}

int incident_bundle_digest(const struct config *cfg, const char *id, json_t **bundle, struct drctl_error *err)
{
	struct repo *repo = NULL;
	struct source *src = NULL;
	struct digest d;
	char name[512];
	int rc = -1;

	*bundle = NULL;
	if (repo_open(&repo, cfg, err) != 0)
		return -1;
	incident_path(id, INCIDENT_BUNDLE_FILE, name, sizeof(name));
	src = repo_open_read(repo, name, err);
	if (src)
		src = digest_source_new(src, &d, err);
	if (!src || stream_pump(src, 1u << 16, NULL, NULL, NULL, err) != 0)
		goto done;
	*bundle = json_pack("{s:s, s:I, s:s}", "object", INCIDENT_BUNDLE_FILE, "size", (json_int_t)d.bytes, "sha256",
			    d.sha256_hex);
	rc = 0;
done:
	source_close(src);
	repo_close(repo);
	return rc;
}

int incident_publish(const struct config *cfg, const char *id, json_t *manifest, long signed_at,
		     struct drctl_error *err)
{
	struct minisign_secret_key sk;
	struct minisign_signer signer;
	struct minisign_public_key pk;
	struct repo *repo = NULL;
	char name[512], signame[528], tc[256], *text = NULL, *sig = NULL, *old = NULL;
	size_t old_len = 0;
	uint64_t size;
	int rc = -1, has;

	memset(&sk, 0, sizeof(sk));
	if (keys_load_signer(cfg, &sk, &signer, err) != 0 || keys_load_public(cfg, &pk, err) != 0)
		goto done;
	if (repo_open(&repo, cfg, err) != 0)
		goto done;
	incident_path(id, "manifest.json", name, sizeof(name));
	snprintf(signame, sizeof(signame), "%s.minisig", name);
	if (!(text = json_dumps(manifest, JSON_INDENT(2) | JSON_SORT_KEYS)) ||
	    !(sig = realloc(text, strlen(text) + 2))) {
		err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		goto done;
	}
	text = sig;
	sig = NULL;
	strcat(text, "\n");
	if ((has = repo_stat(repo, signame, &size, err)) < 0)
		goto done;
	if (has) {
		/* A first attempt got this far: its signature must be the one of
		 * this very manifest. */
		if (repo_read_all(repo, signame, INCIDENT_SIG_MAX, &old, &old_len, err) != 0 ||
		    minisign_verify(&pk, text, strlen(text), old, old_len, name, NULL, 0, err) != 0) {
			err_prefix(err, "incident %s: the signature already in the repository", id);
			goto done;
		}
	} else {
		snprintf(tc, sizeof(tc), "timestamp:%ld\tfile:manifest.json\tincident:%s", signed_at, id);
		if (minisign_sign(&signer, text, strlen(text), "signature from drctl secret key", tc, &sig, err) != 0 ||
		    repo_write_all(repo, signame, sig, strlen(sig), err) != 0)
			goto done;
	}
	if ((has = repo_stat(repo, name, &size, err)) < 0)
		goto done;
	if (!has && repo_write_all(repo, name, text, strlen(text), err) != 0)
		goto done;
	rc = 0;
done:
	minisign_secret_key_wipe(&sk);
	free(text);
	free(sig);
	free(old);
	repo_close(repo);
	return rc;
}
