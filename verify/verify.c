/*
 * verify: verification of a backup set by sizes, quick and deep (see verify.h).
 */
#include "verify/verify.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "components/component.h"
#include "lib/core/fsutil.h"
#include "lib/core/log.h"
#include "lib/set/backup_set.h"
#include "lib/set/keys.h"
#include "lib/set/set_reader.h"
#include "lib/storage/repo.h"
#include "lib/storage/repo_lock.h"

static void problem(json_t *report, const char *subject, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(json_t *report, const char *subject, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(LOG_ERROR, "%s", msg);
	json_array_append_new(json_object_get(report, "problems"),
			      json_pack("{s:s, s:s}", "subject", subject, "message", msg));
}

/* SHA256SUMS must list exactly the manifest's objects with the same hashes. */
static void check_sums(json_t *manifest, json_t *sums, const char *id, json_t *report)
{
	json_t *components = json_object_get(manifest, "components"), *c, *seen = json_object();
	const char *name, *file;
	json_t *hex;

	json_object_foreach(components, name, c) {
		const char *obj = json_string_value(json_object_get(c, "object"));
		const char *want = json_string_value(json_object_get(c, "object_sha256"));
		const char *listed = json_string_value(json_object_get(sums, obj ? obj : ""));
		if (!obj || !want) {
			problem(report, name, "backups/%s: the manifest has no object for %s", id, name);
			continue;
		}
		json_object_set_new(seen, obj, json_true());
		if (!listed || strcmp(listed, want) != 0)
			problem(report, obj, "backups/%s/SHA256SUMS and manifest.json disagree about %s", id, obj);
	}
	json_object_foreach(sums, file, hex) {
		if (!json_object_get(seen, file))
			problem(report, file, "backups/%s/SHA256SUMS lists %s, which the manifest does not", id, file);
	}
	json_decref(seen);
}

static int hash_object(struct repo *r, const char *name, struct digest *d, struct drctl_error *err)
{
	struct source *src = repo_open_read(r, name, err);
	struct sink *sink;
	int rc;

	if (!src)
		return -1;
	sink = digest_sink_new(NULL, d, err);
	if (!sink) {
		source_close(src);
		return -1;
	}
	rc = stream_copy(src, sink, NULL, err);
	source_close(src);
	if (rc != 0) {
		sink_abort(sink);
		return -1;
	}
	return sink_close(sink, err);
}

/* An error met on an object is a problem of the set only when it proves
 * the data wrong (EXIT_INTEGRITY): then it is recorded and verifying goes
 * on.  Anything else (a key, the disk, memory) says nothing about the set:
 * it stops the verify with its own error, in *stop, and returns -1.
 * context, when not NULL, starts the message. */
static int problem_or_stop(json_t *report, const char *subject, const char *context, struct drctl_error *e,
			   struct drctl_error *stop)
{
	if (e->code != EXIT_INTEGRITY) {
		if (!err_is_set(stop)) {
			*stop = *e;
			if (context)
				err_prefix(stop, "%s", context);
		}
		err_clear(e);
		return -1;
	}
	if (context)
		problem(report, subject, "%s: %s", context, e->message);
	else
		problem(report, subject, "%s", e->message);
	err_clear(e);
	return 0;
}

static void size_problem(json_t *report, const char *name, uint64_t found, json_int_t size)
{
	problem(report, name, "%s is %llu bytes, the signed manifest says %lld (truncated or extended)", name,
		(unsigned long long)found, (long long)size);
}

/* The object is there at the size the signed manifest gives; not read. */
static int verify_object_size(struct set_reader *s, json_t *section, json_t *report, json_t *entry,
			      struct drctl_error *err)
{
	const char *file = json_string_value(json_object_get(section, "object"));
	json_int_t size = json_integer_value(json_object_get(section, "object_size"));
	struct drctl_error e;
	uint64_t found = 0;
	char name[512];
	int there;

	backup_set_path(s->id, file ? file : "?", name, sizeof(name));
	json_object_set_new(entry, "object", json_string(name));
	json_object_set_new(entry, "ok", json_false());
	err_clear(&e);
	there = repo_stat(s->repo, name, &found, &e);
	if (there < 0)
		return problem_or_stop(report, name, NULL, &e, err);
	if (there == 0)
		problem(report, name, "%s is missing, and the signed manifest lists it", name);
	else if ((json_int_t)found != size)
		size_problem(report, name, found, size);
	else
		json_object_set_new(entry, "ok", json_true());
	return 0;
}

static int verify_object_quick(struct set_reader *s, json_t *section, json_t *report, json_t *entry,
			       struct drctl_error *err)
{
	const char *file = json_string_value(json_object_get(section, "object"));
	const char *want = json_string_value(json_object_get(section, "object_sha256"));
	json_int_t size = json_integer_value(json_object_get(section, "object_size"));
	struct drctl_error e;
	struct digest d;
	char name[512];

	backup_set_path(s->id, file ? file : "?", name, sizeof(name));
	json_object_set_new(entry, "object", json_string(name));
	err_clear(&e);
	if (hash_object(s->repo, name, &d, &e) != 0) {
		json_object_set_new(entry, "ok", json_false());
		/* The signed manifest lists it: missing, the set is damaged. */
		if (e.code == EXIT_NOT_FOUND)
			e.code = EXIT_INTEGRITY;
		return problem_or_stop(report, name, NULL, &e, err);
	}
	if ((json_int_t)d.bytes != size) {
		size_problem(report, name, d.bytes, size);
	} else if (!want || strcmp(want, d.sha256_hex) != 0) {
		problem(report, name, "%s has SHA-256 %s, the signed manifest says %s (damaged or replaced)", name,
			d.sha256_hex, want ? want : "?");
	} else {
		log_debug("%s: %llu bytes, SHA-256 %s, as the signed manifest says", name, (unsigned long long)d.bytes,
			  d.sha256_hex);
		json_object_set_new(entry, "ok", json_true());
		json_object_set_new(entry, "sha256", json_string(d.sha256_hex));
		return 0;
	}
	json_object_set_new(entry, "ok", json_false());
	return 0;
}

/* Streams stored as parts (archive_stream.h) are hashed as a whole: the
 * parts of one stream come in order, and the running SHA-256 is compared
 * with the manifest's "streams" entry at the last part. */
struct stream_check {
	char name[ARCHIVE_MEMBER_NAME_MAX + 1];
	EVP_MD_CTX *md;
	unsigned next_part;
	uint64_t bytes;
};

/* Called before a part is read: the first part of a stream starts its digest. */
static void stream_check_begin(struct stream_check *sc, const char *stream)
{
	if (strcmp(sc->name, stream) == 0)
		return;
	snprintf(sc->name, sizeof(sc->name), "%s", stream);
	sc->next_part = 1;
	sc->bytes = 0;
	EVP_DigestInit_ex(sc->md, EVP_sha256(), NULL);
}

/* Called after a part was read (and fed to sc->md). */
static int stream_part_check(struct stream_check *sc, json_t *section, const char *stream,
			     const struct archive_member *m, json_t *report, const char *object)
{
	json_t *expect = json_object_get(json_object_get(section, "streams"), stream);
	json_int_t parts = json_integer_value(json_object_get(expect, "parts"));
	const char *want = json_string_value(json_object_get(expect, "sha256"));
	char part_name[ARCHIVE_MEMBER_NAME_MAX + 16];

	if (!expect || !want)
		return -1;
	archive_stream_part_name(stream, sc->next_part, part_name, sizeof(part_name));
	if (strcmp(part_name, m->name) != 0) {
		problem(report, m->name, "%s: stream %s: expected part %s, found %s", object, stream, part_name, m->name);
		return -1;
	}
	sc->bytes += m->size;
	if ((json_int_t)sc->next_part++ == parts) {
		unsigned char sha[32];
		char hex[65];
		EVP_DigestFinal_ex(sc->md, sha, NULL);
		hex_encode(sha, 32, hex);
		sc->name[0] = '\0';
		if (strcmp(hex, want) != 0 || (json_int_t)sc->bytes != json_integer_value(json_object_get(expect, "size"))) {
			problem(report, stream, "%s: stream %s does not match the signed manifest (size or SHA-256)", object, stream);
			return -1;
		}
	}
	return 0;
}

/* A pass-through that also feeds a stream's running digest. */
struct tee_md_source {
	struct source base;
	struct source *up;
	EVP_MD_CTX *md;
};
static int tee_md_read(struct source *s, void *buf, size_t cap, size_t *got, struct drctl_error *err)
{
	struct tee_md_source *t = (struct tee_md_source *)s;
	if (source_read(t->up, buf, cap, got, err) != 0)
		return -1;
	EVP_DigestUpdate(t->md, buf, *got);
	return 0;
}
static void tee_md_close(struct source *s)
{
	source_close(((struct tee_md_source *)s)->up);
	free(s);
}
static const struct source_ops tee_md_ops = { tee_md_read, tee_md_close };

/* Read one member, hashing it and feeding the component's checker. */
static int check_member_data(struct check_ctx *cctx, const struct component *c, struct archive_in *ai,
			     const struct archive_member *m, struct digest *d, EVP_MD_CTX *stream_md,
			     struct drctl_error *err)
{
	struct source *src = archive_in_member_source(ai);
	if (stream_md) {
		struct tee_md_source *t = calloc(1, sizeof(*t));
		if (!t)
			return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		t->base.ops = &tee_md_ops;
		t->up = src;
		t->md = stream_md;
		src = &t->base;
	}
	src = digest_source_new(src, d, err);
	int rc = 0;

	if (!src)
		return -1;
	if (c && c->check_member)
		rc = c->check_member(cctx, m, src, err);
	/* Whatever the checker left unread still counts for the hash. */
	if (rc == 0)
		rc = stream_pump(src, 65536, NULL, NULL, NULL, err);
	source_close(src);
	return rc;
}

static int verify_object_deep(struct set_reader *s, const char *component, json_t *report, json_t *entry,
			      struct drctl_error *err)
{
	const struct component *c = component_find(component);
	json_t *expected = json_object(), *rec;
	struct object_read o;
	struct archive_member m;
	struct check_ctx cctx = { .cfg = s->cfg, .backup_id = s->id };
	struct stream_check streams = { .md = EVP_MD_CTX_new() };
	struct drctl_error e;
	char where[sizeof(o.name) + ARCHIVE_MEMBER_NAME_MAX + 16];
	size_t i, members = 0;
	int more = -2, ok = 0, rc = 0, problems_before = (int)json_array_size(json_object_get(report, "problems"));

	err_clear(&e);
	if (set_reader_open_component(s, component, &o, &e) != 0) {
		rc = problem_or_stop(report, component, NULL, &e, err);
		goto done;
	}
	ok = 1;
	cctx.section = o.section;
	json_object_set_new(entry, "object", json_string(o.name));
	json_array_foreach(json_object_get(o.section, "members"), i, rec)
		json_object_set(expected, json_string_value(json_object_get(rec, "name")), rec);
	while ((more = archive_in_next(o.archive, &m, &e)) == 1) {
		json_t *want = json_object_get(expected, m.name);
		struct digest d;
		const char *stream;
		if (m.is_dir)
			continue;
		if (!want) {
			problem(report, m.name, "%s holds %s, which the signed manifest does not list", o.name, m.name);
			ok = 0;
			/* still read it, so the object's hash gets checked */
		}
		stream = want ? json_string_value(json_object_get(want, "stream")) : NULL;
		if (stream)
			stream_check_begin(&streams, stream);
		if (check_member_data(&cctx, c, o.archive, &m, &d, stream ? streams.md : NULL, &e) != 0) {
			snprintf(where, sizeof(where), "%s: member %s", o.name, m.name);
			rc = problem_or_stop(report, m.name, where, &e, err);
			ok = 0;
			more = -2;
			break;
		}
		members++;
		if (want) {
			const char *hex = json_string_value(json_object_get(want, "sha256"));
			if ((json_int_t)d.bytes != json_integer_value(json_object_get(want, "size")) ||
			    (stream ? stream_part_check(&streams, o.section, stream, &m, report, o.name) != 0
				    : !hex || strcmp(hex, d.sha256_hex) != 0)) {
				problem(report, m.name, "%s: member %s does not match the signed manifest (size or SHA-256)",
					o.name, m.name);
				ok = 0;
			}
			json_object_del(expected, m.name);
		}
	}
	if (more == -1) {
		rc = problem_or_stop(report, o.name, NULL, &e, err);
		ok = 0;
	}
	if (rc == 0 && more >= 0 && json_object_size(expected) > 0) {
		const char *missing = json_object_iter_key(json_object_iter(expected));
		problem(report, missing, "%s lacks %zu member(s) the manifest lists, e.g. %s", o.name,
			json_object_size(expected), missing);
		ok = 0;
	}
	if (rc == 0 && more >= 0 && c && c->check_finish && c->check_finish(&cctx, &e) != 0) {
		rc = problem_or_stop(report, o.name, o.name, &e, err);
		ok = 0;
	}
	if (rc == 0 && more >= 0) {
		if (set_reader_finish_component(s, &o, &e) != 0) {
			rc = problem_or_stop(report, o.name, NULL, &e, err);
			ok = 0;
		}
	} else {
		set_reader_abandon_component(&o);
	}
	json_object_set_new(entry, "members_checked", json_integer((json_int_t)members));
done:
	EVP_MD_CTX_free(streams.md);
	json_object_set_new(entry, "ok", json_boolean(ok && (int)json_array_size(json_object_get(report, "problems")) == problems_before));
	json_decref(expected);
	return rc;
}

int verify_run(const struct config *cfg, const char *ref, enum verify_depth depth, json_t *report,
	       struct drctl_error *err)
{
	static const char *const depth_names[] = { "sizes", "quick", "deep" };
	int deep = depth == VERIFY_DEEP;
	struct set_reader s;
	json_t *sums = NULL, *objects = json_array(), *problems = json_array(), *section;
	const char *component;
	size_t n_problems;
	struct repo_lock *lock = NULL;
	char command[160];
	struct repo_lock_request shared = { .kind = REPO_LOCK_SHARED, .purpose = "drctl verify", .command = command };
	int rc = -1;

	json_object_set_new(report, "objects", objects);
	json_object_set_new(report, "problems", problems);
	json_object_set_new(report, "depth", json_string(depth_names[depth]));
	json_object_set_new(report, "deep", json_boolean(deep));
	snprintf(command, sizeof(command), "drctl verify %.100s%s", ref ? ref : "latest", deep ? " --deep" : "");
	memset(&s, 0, sizeof(s));
	/* Shared: no prune removes the set while it is read. */
	if (repo_lock_take(cfg, &shared, &lock, err) != 0 || set_reader_open(&s, cfg, ref, err) != 0)
		goto done;
	json_object_set_new(report, "backup", json_string(s.id));
	log_info("verifying backup set %s%s", s.id,
		 deep ? " (deep)" : depth == VERIFY_SIZES ? " (signatures and object sizes)" : "");
	/* Deep verify needs the identity: a key error stops it here, before
	 * any object is read, and is no verdict on the set. */
	if (deep && set_reader_load_identities(&s, err) != 0)
		goto done;
	if (backup_set_load_sums(s.repo, &s.pk, s.id, &sums, err) != 0)
		goto done;
	check_sums(s.manifest, sums, s.id, report);
	json_object_foreach(json_object_get(s.manifest, "components"), component, section) {
		json_t *entry = json_pack("{s:s}", "component", component);
		int stopped;

		json_array_append_new(objects, entry);
		if (deep)
			stopped = verify_object_deep(&s, component, report, entry, err);
		else if (depth == VERIFY_QUICK)
			stopped = verify_object_quick(&s, section, report, entry, err);
		else
			stopped = verify_object_size(&s, section, report, entry, err);
		if (stopped != 0)
			break;
	}
	n_problems = json_array_size(problems);
	json_object_set_new(report, "ok", json_boolean(n_problems == 0 && !err_is_set(err)));
	if (n_problems > 0) {
		json_t *first = json_array_get(problems, 0);
		/* What stopped the verify after a proven problem is logged; the
		 * proven problem is the verdict. */
		if (err_is_set(err)) {
			log_msg(LOG_ERROR, "verification stopped: %s", err->message);
			err_clear(err);
		}
		err_set(err, EXIT_INTEGRITY, json_string_value(json_object_get(first, "subject")),
			"do not restore from this set; use another complete set (`drctl list`) and keep this one for investigation",
			"backup set %s FAILED verification (%zu problem%s); first: %s", s.id, n_problems,
			n_problems == 1 ? "" : "s", json_string_value(json_object_get(first, "message")));
		goto done;
	}
	if (err_is_set(err))
		goto done;
	if (depth != VERIFY_SIZES) /* no hash was checked */
		verify_record_success(cfg, s.id, deep);
	rc = 0;
done:
	if (rc != 0 && !json_object_get(report, "ok"))
		json_object_set_new(report, "ok", json_false());
	json_decref(sums);
	set_reader_close(&s);
	repo_lock_release(lock);
	return rc;
}

static int verified_path(const struct config *cfg, const char *id, char *out, size_t cap)
{
	const char *dir = config_get_path(cfg, "state", "dir");
	if (!dir || !backup_set_id_valid(id))
		return -1;
	snprintf(out, cap, "%s/verified/%s", dir, id);
	return 0;
}

void verify_record_success(const struct config *cfg, const char *id, int deep)
{
	char path[PATH_MAX], when[40], line[128];
	const char *before;
	struct drctl_error e;

	if (verified_path(cfg, id, path, sizeof(path)) != 0)
		return;
	/* A quick pass never downgrades an earlier deep one. */
	before = verify_recorded(cfg, id, when, sizeof(when));
	if (!deep && before && !strcmp(before, "deep"))
		return;
	/* <state dir>/verified/<id>: best effort, since this is a note for
	 * `list`, not part of the backup; replaced whole, never half written. */
	format_utc(now_seconds(), when);
	snprintf(line, sizeof(line), "%s %s\n", deep ? "deep" : "quick", when);
	err_clear(&e);
	if (fs_mkdir_parents(path, 0700, NULL, &e) != 0 || fs_write_atomic(path, line, strlen(line), 0600, &e) != 0)
		log_msg(LOG_DEBUG, "not recording the verification of %s: %s", id, e.message);
}

const char *verify_recorded(const struct config *cfg, const char *id, char *when, size_t cap)
{
	char path[PATH_MAX], kind[16] = "", ts[40] = "";
	FILE *f;

	if (verified_path(cfg, id, path, sizeof(path)) != 0 || !(f = fopen(path, "r")))
		return NULL;
	if (fscanf(f, "%15s %39s", kind, ts) != 2)
		kind[0] = '\0';
	fclose(f);
	snprintf(when, cap, "%s", ts);
	return !strcmp(kind, "deep") ? "deep" : !strcmp(kind, "quick") ? "quick" : NULL;
}
