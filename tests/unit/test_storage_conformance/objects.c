/*
 * The storage conformance cases of objects: writing, reading, listing,
 * removing, names; run against every driver by test_storage_conformance.c.
 */
#include "tests/unit/test_storage_conformance/conformance.h"

/* --- the cases ------------------------------------------------------------------ */

static void write_then_read_small(void **state)
{
	struct conformance *t = *state;

	put_text(t, "t/small", "hello, repository\n");
	expect_content(t, "t/small", "hello, repository\n", 18, 0);
	expect_size(t, "t/small", 18);
}

static void write_then_read_empty(void **state)
{
	struct conformance *t = *state;
	static const char *const listed[] = { "empty" };

	put(t, "t/empty", "", 0);
	expect_content(t, "t/empty", "", 0, 0);
	expect_size(t, "t/empty", 0);
	expect_list(t, "t", listed, 1, "after writing an empty object");
}

/* More than one multipart part and one writeback step (8 MiB each), in
 * chunks of uneven sizes from 1 byte to ~1 MiB, read back unevenly too. */
static void write_then_read_large_uneven(void **state)
{
	struct conformance *t = *state;
	const size_t len = (17u << 20) + 4093;
	unsigned char *data = malloc(len);
	struct drctl_error err;
	struct sink *s;
	size_t off = 0, step = 1;

	err_clear(&err);
	assert_non_null(data);
	fill(data, len, 42);
	s = open_writer(t, t->repo, "t/large");
	while (off < len) {
		size_t chunk = (step = step * 48271 % 2147483647) % (1u << 20) + 1;
		if (step % 5 == 0)
			chunk = 1 + step % 3;
		if (chunk > len - off)
			chunk = len - off;
		if (sink_write(s, data + off, chunk, &err) != 0)
			fail_msg("[%s] writing \"t/large\" at byte %zu (a chunk of %zu) failed: %s", DRV(t), off, chunk,
				 err.message);
		off += chunk;
	}
	ok(t, sink_close(s, &err), &err, "closing", "t/large");
	expect_size(t, "t/large", len);
	expect_content(t, "t/large", data, len, 1);
	free(data);
}

#define CONCURRENT_WRITERS 3

struct concurrent_turns {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned turn, done;
};

struct concurrent_writer {
	struct repo *repo;
	struct concurrent_turns *turns;
	char name[32];
	unsigned char *data;
	size_t len;
	unsigned index;
	int rc;
	struct drctl_error err;
};

static void concurrent_take_turn(struct concurrent_writer *w)
{
	pthread_mutex_lock(&w->turns->mu);
	while (w->turns->turn % CONCURRENT_WRITERS != w->index)
		pthread_cond_wait(&w->turns->cv, &w->turns->mu);
	pthread_mutex_unlock(&w->turns->mu);
}

static void concurrent_pass_turn(struct concurrent_writer *w)
{
	pthread_mutex_lock(&w->turns->mu);
	w->turns->turn++;
	pthread_cond_broadcast(&w->turns->cv);
	pthread_mutex_unlock(&w->turns->mu);
}

static void *concurrent_writer_main(void *arg)
{
	struct concurrent_writer *w = arg;
	struct concurrent_turns *c = w->turns;
	struct sink *s;
	size_t off = 0, chunk = (1u << 20) + 4093 * (w->index + 1);

	concurrent_take_turn(w);
	s = repo_open_write(w->repo, w->name, &w->err);
	w->rc = s ? 0 : -1;
	concurrent_pass_turn(w);
	while (off < w->len) {
		size_t n = chunk < w->len - off ? chunk : w->len - off;
		concurrent_take_turn(w);
		if (w->rc == 0 && sink_write(s, w->data + off, n, &w->err) != 0)
			w->rc = -1;
		concurrent_pass_turn(w);
		off += n;
	}
	concurrent_take_turn(w);
	if (w->rc == 0)
		w->rc = sink_close(s, &w->err);
	else
		sink_abort(s);
	concurrent_pass_turn(w);
	/* Done: pass every turn that comes until all writers are done. */
	pthread_mutex_lock(&c->mu);
	c->done++;
	pthread_cond_broadcast(&c->cv);
	while (c->done < CONCURRENT_WRITERS) {
		if (c->turn % CONCURRENT_WRITERS == w->index) {
			c->turn++;
			pthread_cond_broadcast(&c->cv);
		} else {
			pthread_cond_wait(&c->cv, &c->mu);
		}
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* Objects written at the same time through one handle (a backup's
 * components, each on its own thread): every one lands whole, none mixed
 * with another, no temporary left.  The writers take turns chunk by chunk,
 * so their opens, writes and closes interleave on every run. */
static void concurrent_writes_through_one_handle(void **state)
{
	struct conformance *t = *state;
	struct concurrent_writer w[CONCURRENT_WRITERS];
	struct concurrent_turns turns = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };
	pthread_t th[CONCURRENT_WRITERS];

	for (unsigned i = 0; i < CONCURRENT_WRITERS; i++) {
		w[i] = (struct concurrent_writer){ .repo = t->repo, .turns = &turns, .index = i };
		snprintf(w[i].name, sizeof(w[i].name), "set/object-%u", i);
		/* Past two S3 parts (5 MiB at the least) so multipart uploads overlap. */
		w[i].len = (11u << 20) + 977 * i;
		w[i].data = malloc(w[i].len);
		assert_non_null(w[i].data);
		fill(w[i].data, w[i].len, 1000 + i);
		err_clear(&w[i].err);
	}
	for (unsigned i = 0; i < CONCURRENT_WRITERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, concurrent_writer_main, &w[i]), 0);
	for (unsigned i = 0; i < CONCURRENT_WRITERS; i++)
		pthread_join(th[i], NULL);
	for (unsigned i = 0; i < CONCURRENT_WRITERS; i++)
		ok(t, w[i].rc, &w[i].err, "writing (beside two other writers)", w[i].name);
	for (unsigned i = 0; i < CONCURRENT_WRITERS; i++) {
		expect_content(t, w[i].name, w[i].data, w[i].len, 1);
		free(w[i].data);
	}
	expect_no_temporaries(t, "after three objects written at the same time");
}

static void invisible_until_closed(void **state)
{
	struct conformance *t = *state;
	static const char *const none[] = { NULL };
	static const char *const listed[] = { "obj" };
	struct drctl_error err;
	struct sink *s = open_writer(t, t->repo, "vis/obj");

	err_clear(&err);
	expect_missing(t, "vis/obj", "after open_write");
	expect_list(t, "vis", none, 0, "after open_write");
	ok(t, sink_write(s, "abcdef", 6, &err), &err, "writing", "vis/obj");
	expect_missing(t, "vis/obj", "after 6 bytes were written, before close");
	expect_list(t, "vis", none, 0, "after 6 bytes were written, before close");
	ok(t, sink_close(s, &err), &err, "closing", "vis/obj");
	expect_size(t, "vis/obj", 6);
	expect_list(t, "vis", listed, 1, "after close");
	expect_no_temporaries(t, "after close");
}

static void abort_leaves_nothing(void **state)
{
	struct conformance *t = *state;
	static const char *const none[] = { NULL };
	static const char *const kept[] = { "kept" };
	struct drctl_error err;
	unsigned char buf[100000];
	struct sink *s;

	err_clear(&err);
	fill(buf, sizeof(buf), 3);
	put_text(t, "ab/kept", "kept");
	s = open_writer(t, t->repo, "ab/gone");
	for (int i = 0; i < 30; i++)
		ok(t, sink_write(s, buf, sizeof(buf), &err), &err, "writing", "ab/gone");
	sink_abort(s);
	expect_missing(t, "ab/gone", "after sink_abort");
	expect_list(t, "ab", kept, 1, "after sink_abort");
	/* Aborted before a byte was written, in a folder of its own. */
	sink_abort(open_writer(t, t->repo, "ab2/never"));
	expect_missing(t, "ab2/never", "after sink_abort of an empty writer");
	expect_list(t, "ab2", none, 0, "after sink_abort of an empty writer");
	expect_no_temporaries(t, "after sink_abort");
}

static void dead_writer_leaves_nothing_visible(void **state)
{
	struct conformance *t = *state;
	static const char *const kept[] = { "kept" };
	static const char *const none[] = { NULL };
	struct drctl_error err;

	put_text(t, "dead/kept", "kept");
	leave_dead_writer(t, "dead/half", 3u << 20);
	expect_missing(t, "dead/half", "after its writer was killed halfway");
	expect_list(t, "dead", kept, 1, "after a writer was killed halfway");
	/* The name is usable again. */
	put_text(t, "dead/half", "second try");
	expect_content(t, "dead/half", "second try", 10, 0);
	/* And remove_dir takes the debris with it. */
	leave_dead_writer(t, "dead2/half", 1u << 20);
	err_clear(&err);
	ok(t, repo_remove_dir(t->repo, "dead2", &err), &err, "remove_dir", "dead2");
	expect_list(t, "dead2", none, 0, "after remove_dir of a folder holding only a killed writer's debris");
	ok(t, repo_remove_dir(t->repo, "dead", &err), &err, "remove_dir", "dead");
	expect_no_temporaries(t, "after remove_dir of every folder a killed writer wrote into");
}

static void list_is_sorted_and_hides_temporaries(void **state)
{
	struct conformance *t = *state;
	/* Written in this order... */
	static const char *const written[] = { "b", "a", "B", "a b", "a+b", "\xc3\xa4", "10", "9", "sub/x", "a=b", "a%b" };
	/* ...listed bytewise: digits < upper case < lower case < UTF-8 lead bytes,
	 * and "a" before "a b"; a folder appears as its own name, once. */
	static const char *const sorted[] = { "10", "9", "B", "a", "a b", "a%b", "a+b", "a=b", "b", "sub", "\xc3\xa4" };
	static const char *const none[] = { NULL };
	char name[64];
	struct drctl_error err;
	struct sink *pending;

	err_clear(&err);
	for (size_t i = 0; i < sizeof(written) / sizeof(written[0]); i++) {
		snprintf(name, sizeof(name), "l/%s", written[i]);
		put_text(t, name, written[i]);
	}
	put_text(t, "l/sub/y", "y");
	pending = open_writer(t, t->repo, "l/pending");
	ok(t, sink_write(pending, "partial", 7, &err), &err, "writing", "l/pending");
	leave_dead_writer(t, "l/crashed", 4096);
	expect_list(t, "l", sorted, sizeof(sorted) / sizeof(sorted[0]),
		    "with one writer open and one killed halfway in the folder");
	sink_abort(pending);
	expect_list(t, "l-missing", none, 0, "for a folder that was never written");
	expect_list(t, "l/a", none, 0, "for the name of an object (not a folder)");
}

/* More children than one page of an S3 listing (1000 keys), objects and
 * folders mixed: every one listed once, in order; remove_dir takes them all. */
static void list_and_remove_dir_go_past_one_page(void **state)
{
	struct conformance *t = *state;
	static const char *const none[] = { NULL };
	enum { OBJECTS = 1150, FOLDERS = 30 };
	const char **want = calloc(OBJECTS + FOLDERS, sizeof(*want));
	char (*names)[32] = calloc(OBJECTS + FOLDERS, sizeof(*names));
	char name[64];
	size_t n = 0;

	assert_non_null(want);
	assert_non_null(names);
	for (int i = 0; i < OBJECTS; i++) {
		snprintf(names[n], sizeof(names[n]), "o%05d", i);
		snprintf(name, sizeof(name), "many/%s", names[n]);
		put_text(t, name, names[n]);
		want[n] = names[n];
		n++;
	}
	for (int i = 0; i < FOLDERS; i++) {
		snprintf(names[n], sizeof(names[n]), "p%03d", i);
		snprintf(name, sizeof(name), "many/%s/inside", names[n]);
		put_text(t, name, "x");
		want[n] = names[n];
		n++;
	}
	expect_list(t, "many", want, n, "with 1150 objects and 30 folders in the folder");
	{
		struct drctl_error err;
		err_clear(&err);
		ok(t, repo_remove_dir(t->repo, "many", &err), &err, "remove_dir", "many");
	}
	expect_list(t, "many", none, 0, "after remove_dir of the folder of 1180 children");
	expect_missing(t, "many/o01149", "after remove_dir of its folder");
	free(want);
	free(names);
}

static void stat_gives_the_size(void **state)
{
	struct conformance *t = *state;
	static const size_t sizes[] = { 0, 1, 4095, 4096, 65537, 1000003 };
	unsigned char *buf = malloc(1000003);
	char name[64];

	assert_non_null(buf);
	fill(buf, 1000003, 9);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(name, sizeof(name), "st/%zu", sizes[i]);
		put(t, name, buf, sizes[i]);
	}
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(name, sizeof(name), "st/%zu", sizes[i]);
		expect_size(t, name, sizes[i]);
	}
	free(buf);
	expect_missing(t, "st/none", "for a name never written");
}

static void remove_dir_removes_a_set_and_nothing_else(void **state)
{
	struct conformance *t = *state;
	static const char *const left[] = { "set2", "set_" };
	static const char *const none[] = { NULL };
	static const char *const set2[] = { "a", "sub" };
	struct drctl_error err;

	err_clear(&err);
	put_text(t, "backups/set/a", "a");
	put_text(t, "backups/set/b", "b");
	put_text(t, "backups/set/sub/c", "c");
	put_text(t, "backups/set/sub/deeper/d", "d");
	leave_dead_writer(t, "backups/set/e", 8192);
	/* Names that share the prefix "backups/set" must survive. */
	put_text(t, "backups/set2/a", "a2");
	put_text(t, "backups/set2/sub/c", "c2");
	put_text(t, "backups/set_/x", "x");
	ok(t, repo_remove_dir(t->repo, "backups/set", &err), &err, "remove_dir", "backups/set");
	expect_list(t, "backups", left, 2, "after remove_dir \"backups/set\"");
	expect_list(t, "backups/set", none, 0, "after remove_dir \"backups/set\"");
	expect_list(t, "backups/set/sub", none, 0, "after remove_dir \"backups/set\"");
	expect_missing(t, "backups/set/a", "after remove_dir \"backups/set\"");
	expect_missing(t, "backups/set/sub/deeper/d", "after remove_dir \"backups/set\"");
	expect_list(t, "backups/set2", set2, 2, "after remove_dir of its neighbour \"backups/set\"");
	expect_content(t, "backups/set2/sub/c", "c2", 2, 0);
	expect_content(t, "backups/set_/x", "x", 1, 0);
	ok(t, repo_remove_dir(t->repo, "backups/never", &err), &err, "remove_dir of a missing folder", "backups/never");
	/* An object's name is no folder: nothing is removed. */
	ok(t, repo_remove_dir(t->repo, "backups/set_/x", &err), &err, "remove_dir of an object's name", "backups/set_/x");
	expect_content(t, "backups/set_/x", "x", 1, 0);
}

static void odd_names_round_trip(void **state)
{
	struct conformance *t = *state;
	/* What a file system and S3 keys both carry; listed bytewise. */
	static const char *const names[] = {
		"a..b",
		"amp&dollar$",
		"at@hash#",
		"caf\xc3\xa9 \xe5\x90\x8d\xe5\x89\x8d \xf0\x9f\x93\xa6",
		"equals=sign",
		"paren(1)[2]{3}",
		"per%cent%2F",
		"plus+sign",
		"quote'single\"double",
		"tilde~comma,semi;colon:",
		"trailing.dot.",
		"with space",
		"\xc3\xbcnic\xc3\xb6\x64\x65",
	};
	const size_t n = sizeof(names) / sizeof(names[0]);
	char name[128];

	for (size_t i = n; i-- > 0;) {
		snprintf(name, sizeof(name), "odd/%s", names[i]);
		put_text(t, name, names[i]);
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "odd/%s", names[i]);
		expect_content(t, name, names[i], strlen(names[i]), 0);
		expect_size(t, name, strlen(names[i]));
	}
	expect_list(t, "odd", names, n, "after writing odd names");
}

/* The longest name, of the longest components, round-trips everywhere. */
static void longest_name_round_trips(void **state)
{
	struct conformance *t = *state;
	char name[REPO_NAME_MAX + 1];
	size_t len = 0;

	len += (size_t)snprintf(name, sizeof(name), "lg");
	while (len + 1 + REPO_COMPONENT_MAX <= REPO_NAME_MAX) {
		name[len++] = '/';
		memset(name + len, 'c', REPO_COMPONENT_MAX);
		len += REPO_COMPONENT_MAX;
	}
	name[len++] = '/';
	memset(name + len, 'e', REPO_NAME_MAX - len);
	len = REPO_NAME_MAX;
	name[len] = '\0';
	put_text(t, name, "longest");
	expect_content(t, name, "longest", 7, 0);
	expect_size(t, name, 7);
}

/* Every operation refuses the name, before it reaches the store. */
static void expect_refused(struct conformance *t, const char *name)
{
	const char *accepted = NULL;
	struct drctl_error err;
	struct source *src;
	struct sink *s;
	uint64_t size;
	char **names;
	size_t n;

	err_clear(&err);
	if ((s = repo_open_write(t->repo, name, &err)) != NULL) {
		sink_abort(s);
		accepted = "open_write";
	} else if (err.code != EXIT_FAILED || !strstr(err.message, "invalid repository object name")) {
		fail_msg("[%s] open_write of \"%.80s\" fails with code %d (%s), expected %d and \"invalid repository object name\"",
			 DRV(t), name, err.code, err.message, EXIT_FAILED);
	} else if ((src = repo_open_read(t->repo, name, &err)) != NULL) {
		source_close(src);
		accepted = "open_read";
	} else if (repo_stat(t->repo, name, &size, &err) != -1) {
		accepted = "stat";
	} else if (repo_list(t->repo, name, &names, &n, &err) != -1) {
		repo_names_free(names, n);
		accepted = "list";
	} else if (repo_remove_dir(t->repo, name, &err) != -1) {
		accepted = "remove_dir";
	}
	if (accepted)
		fail_msg("[%s] %s accepts the name \"%.80s\"", DRV(t), accepted, name);
}

static void bad_names_are_refused(void **state)
{
	struct conformance *t = *state;
	static const char *const bad[] = {
		"", "/abs", "/etc/passwd", "../escape", "ref/../../escape", "ref/..", "./x", "ref/./x", "ref//x", "ref/",
		"ref/.hidden", "ref/x" REPO_RESERVED_MARK "1", "ref/new\nline", "ref/del\x7f", "ref/\xff", "ref/\xc0\xaf",
		"ref/\xed\xa0\x80",
	};
	static const char *const only_good[] = { "good" };
	char too_long[REPO_NAME_MAX + 2], long_component[REPO_COMPONENT_MAX + 6];

	put_text(t, "ref/good", "good");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_refused(t, bad[i]);
	memset(too_long, 'x', sizeof(too_long) - 1);
	memcpy(too_long, "ref/", 4);
	too_long[sizeof(too_long) - 1] = '\0';
	expect_refused(t, too_long);
	memset(long_component, 'x', sizeof(long_component) - 1);
	memcpy(long_component, "ref/", 4);
	long_component[sizeof(long_component) - 1] = '\0';
	expect_refused(t, long_component);
	expect_list(t, "ref", only_good, 1, "after the refused names");
	expect_content(t, "ref/good", "good", 4, 0);
}

static void reading_a_missing_object_is_not_found(void **state)
{
	struct conformance *t = *state;
	struct drctl_error err;
	char *buf;
	size_t len;

	expect_missing(t, "nowhere/nothing", "in an empty repository");
	put_text(t, "somewhere/something", "x");
	expect_missing(t, "somewhere/something-else", "beside an object");
	expect_missing(t, "somewhere", "for a folder's name");
	err_clear(&err);
	if (repo_read_all(t->repo, "nowhere/nothing", 1024, &buf, &len, &err) == 0 || err.code != EXIT_NOT_FOUND)
		fail_msg("[%s] repo_read_all of a missing object: exit code %d (%s), expected %d", DRV(t), err.code,
			 err.message, EXIT_NOT_FOUND);
}

/* What repo.h promises for a name that exists: the new object replaces it
 * whole when its sink closes; until then readers see the old one. */
static void writing_an_existing_name_replaces_it_whole(void **state)
{
	struct conformance *t = *state;
	struct drctl_error err;
	struct sink *s, *a, *b;
	size_t len;
	char *got;

	err_clear(&err);
	put_text(t, "ow/obj", "old");
	s = open_writer(t, t->repo, "ow/obj");
	ok(t, sink_write(s, "new, longer", 11, &err), &err, "writing", "ow/obj");
	expect_content(t, "ow/obj", "old", 3, 0);
	expect_size(t, "ow/obj", 3);
	ok(t, sink_close(s, &err), &err, "closing", "ow/obj");
	expect_content(t, "ow/obj", "new, longer", 11, 0);
	expect_size(t, "ow/obj", 11);
	/* An aborted rewrite leaves the object as it was. */
	s = open_writer(t, t->repo, "ow/obj");
	ok(t, sink_write(s, "discarded", 9, &err), &err, "writing", "ow/obj");
	sink_abort(s);
	expect_content(t, "ow/obj", "new, longer", 11, 0);
	/* Two writers of one name: the object is one of them, whole. */
	a = open_writer(t, t->repo, "ow/two");
	b = open_writer(t, t->repo, "ow/two");
	ok(t, sink_write(a, "from writer A", 13, &err), &err, "writing", "ow/two (A)");
	ok(t, sink_write(b, "from B", 6, &err), &err, "writing", "ow/two (B)");
	ok(t, sink_close(b, &err), &err, "closing", "ow/two (B)");
	ok(t, sink_close(a, &err), &err, "closing", "ow/two (A)");
	expect_no_temporaries(t, "after rewrites closed and aborted");
	got = get(t, "ow/two", &len, 0);
	if (!((len == 13 && !memcmp(got, "from writer A", 13)) || (len == 6 && !memcmp(got, "from B", 6)))) {
		char shown[64];
		snprintf(shown, sizeof(shown), "%.*s", (int)(len < 40 ? len : 40), got);
		free(got);
		fail_msg("[%s] after two writers of \"ow/two\", it reads \"%s\" (%zu bytes): neither writer's object whole",
			 DRV(t), shown, len);
	}
	free(got);
}

const struct CMUnitTest conformance_object_cases[] = {
	CASE(write_then_read_small),
	CASE(write_then_read_empty),
	CASE(write_then_read_large_uneven),
	CASE(concurrent_writes_through_one_handle),
	CASE(invisible_until_closed),
	CASE(abort_leaves_nothing),
	CASE(dead_writer_leaves_nothing_visible),
	CASE(list_is_sorted_and_hides_temporaries),
	CASE(list_and_remove_dir_go_past_one_page),
	CASE(stat_gives_the_size),
	CASE(remove_dir_removes_a_set_and_nothing_else),
	CASE(odd_names_round_trip),
	CASE(longest_name_round_trips),
	CASE(bad_names_are_refused),
	CASE(reading_a_missing_object_is_not_found),
	CASE(writing_an_existing_name_replaces_it_whole),
};

const size_t conformance_object_case_count = sizeof(conformance_object_cases) / sizeof(conformance_object_cases[0]);
