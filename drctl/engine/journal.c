#include "drctl/engine/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "lib/core/fsutil.h"
#include "lib/core/log.h"

struct journal {
	int fd;
	char path[4096];
	long long next_seq;
	off_t good_end; /* where the whole records end; a torn tail lies beyond */
};

static unsigned long record_crc(const char *text, size_t len)
{
	return crc32(crc32(0L, Z_NULL, 0), (const Bytef *)text, (uInt)len);
}

/* Parse the file's bytes into records; stops at the first record that is
 * not whole.  Returns 0, with *good_end the offset just past the last whole
 * record and *torn when bytes follow it; -1 when a bad record is followed by
 * more lines (damage, not a torn write). */
static int parse_records(const char *buf, size_t len, const char *path, json_t *records, off_t *good_end, int *torn,
			 struct drctl_error *err)
{
	size_t pos = 0;

	*torn = 0;
	*good_end = 0;
	while (pos < len) {
		const char *line = buf + pos, *nl = memchr(line, '\n', len - pos);
		size_t line_len = nl ? (size_t)(nl - line) : len - pos;
		unsigned long want;
		char hex[9];
		json_t *rec = NULL;
		int whole = 0;

		if (nl && line_len > 9 && line[8] == ' ') {
			memcpy(hex, line, 8);
			hex[8] = '\0';
			want = strtoul(hex, NULL, 16);
			if (record_crc(line + 9, line_len - 9) == want) {
				rec = json_loadb(line + 9, line_len - 9, 0, NULL);
				whole = json_is_object(rec);
			}
		}
		if (!whole) {
			json_decref(rec);
			if (nl && memchr(nl + 1, '\n', len - pos - line_len - 1))
				return err_set(err, EXIT_INTEGRITY, path,
					       "the journal is damaged in the middle, not just torn at its end; keep it for investigation and start a new run",
					       "record %zu of journal %s is damaged and more records follow it",
					       json_array_size(records) + 1, path);
			*torn = 1;
			return 0;
		}
		json_array_append_new(records, rec);
		pos += line_len + 1;
		*good_end = (off_t)pos;
	}
	return 0;
}

static int read_file(const char *path, char **buf, size_t *len, struct drctl_error *err)
{
	FILE *f = fopen(path, "rb");
	long size;

	*buf = NULL;
	*len = 0;
	if (!f)
		return err_set_errno(err, errno == ENOENT ? EXIT_NOT_FOUND : EXIT_IO, errno, path,
				     "`drctl scenario status` lists the runs", "cannot open journal %s", path);
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return err_set_errno(err, EXIT_IO, errno, path, NULL, "cannot read journal %s", path);
	}
	*buf = malloc((size_t)size + 1);
	if (!*buf) {
		fclose(f);
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	}
	*len = fread(*buf, 1, (size_t)size, f);
	fclose(f);
	return 0;
}

int journal_read(const char *path, json_t **records, int *torn, struct drctl_error *err)
{
	char *buf;
	size_t len;
	off_t good_end;
	int rc;

	*records = NULL;
	if (read_file(path, &buf, &len, err) != 0)
		return -1;
	*records = json_array();
	rc = parse_records(buf, len, path, *records, &good_end, torn, err);
	free(buf);
	if (rc != 0) {
		json_decref(*records);
		*records = NULL;
	}
	return rc;
}

int journal_create(struct journal **out, const char *path, json_t *first, struct drctl_error *err)
{
	struct journal *j = calloc(1, sizeof(*j));
	char tmp[4200];
	int fd;

	*out = NULL;
	if (!j)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	snprintf(j->path, sizeof(j->path), "%s", path);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	j->next_seq = 1;
	j->fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (j->fd < 0) {
		err_set_errno(err, EXIT_IO, errno, path, NULL, "cannot create journal %s", path);
		free(j);
		return -1;
	}
	if (journal_append(j, first, err) != 0)
		goto fail;
	/* link(2) fails when the journal exists: a run id is used once. */
	if (link(tmp, path) != 0) {
		err_set_errno(err, EXIT_IO, errno, path, NULL, "cannot create journal %s", path);
		goto fail;
	}
	unlink(tmp);
	if (fs_fsync_dir_of(path) != 0) {
		err_set_errno(err, EXIT_IO, errno, path, NULL, "cannot sync the folder of journal %s", path);
		journal_close(j);
		return -1;
	}
	*out = j;
	return 0;
fail:
	fd = j->fd;
	j->fd = -1;
	close(fd);
	unlink(tmp);
	free(j);
	return -1;
}

int journal_open(struct journal **out, const char *path, json_t **records, int *torn, struct drctl_error *err)
{
	struct journal *j;
	char *buf;
	size_t len;

	*out = NULL;
	*records = NULL;
	if (read_file(path, &buf, &len, err) != 0)
		return -1;
	j = calloc(1, sizeof(*j));
	*records = json_array();
	if (!j || parse_records(buf, len, path, *records, j ? &j->good_end : &(off_t){ 0 }, torn, err) != 0) {
		if (!j)
			err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
		free(buf);
		free(j);
		json_decref(*records);
		*records = NULL;
		return -1;
	}
	free(buf);
	snprintf(j->path, sizeof(j->path), "%s", path);
	j->next_seq = (long long)json_array_size(*records) + 1;
	j->fd = open(path, O_WRONLY | O_CLOEXEC);
	if (j->fd < 0) {
		err_set_errno(err, EXIT_IO, errno, path, NULL, "cannot open journal %s for writing", path);
		goto fail;
	}
	if (*torn) {
		/* The torn tail is cut off so the next record starts on a line of
		 * its own; what it said never happened as far as the run knows. */
		log_warn("journal %s: its last record was torn (a crash while it was written); ignoring it", path);
		if (ftruncate(j->fd, j->good_end) != 0 || fsync(j->fd) != 0) {
			err_set_errno(err, EXIT_IO, errno, path, NULL, "cannot cut the torn record off journal %s", path);
			goto fail;
		}
	}
	if (lseek(j->fd, 0, SEEK_END) < 0) {
		err_set_errno(err, EXIT_IO, errno, path, NULL, "cannot seek in journal %s", path);
		goto fail;
	}
	*out = j;
	return 0;
fail:
	journal_close(j);
	json_decref(*records);
	*records = NULL;
	return -1;
}

int journal_append(struct journal *j, json_t *record, struct drctl_error *err)
{
	char when[32], *text, *line;
	size_t len;
	int n;
	ssize_t w;

	format_utc(now_seconds(), when);
	json_object_set_new(record, "seq", json_integer(j->next_seq));
	json_object_set_new(record, "at", json_string(when));
	json_object_set_new(record, "t", json_real(now_seconds()));
	text = json_dumps(record, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		return err_set(err, EXIT_FAILED, NULL, NULL, "cannot encode a journal record");
	len = strlen(text);
	if (len > JOURNAL_RECORD_MAX) {
		free(text);
		return err_set(err, EXIT_FAILED, j->path, NULL, "a journal record is too large (%zu bytes)", len);
	}
	n = asprintf(&line, "%08lx %s\n", record_crc(text, len), text);
	free(text);
	if (n < 0)
		return err_set(err, EXIT_FAILED, NULL, NULL, "out of memory");
	/* One write: a crash leaves the record whole or torn, never two
	 * records interleaved. */
	w = write(j->fd, line, (size_t)n);
	free(line);
	if (w != n)
		return err_set_errno(err, EXIT_IO, w < 0 ? errno : EIO, j->path,
				     "check the state folder's disk; the run can be resumed once it is writable",
				     "cannot write journal %s", j->path);
	if (fsync(j->fd) != 0)
		return err_set_errno(err, EXIT_IO, errno, j->path, NULL, "cannot sync journal %s", j->path);
	j->next_seq++;
	return 0;
}

void journal_close(struct journal *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	free(j);
}
