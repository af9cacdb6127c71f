/*
 * Fuzz the textfile merge: the old file in node_exporter's folder is read
 * back before a push replaces it, and whoever can write that folder can put
 * anything there.  The merged file must hold only drctl's own families,
 * each line a HELP, a TYPE or a sample ending in '\n' with no control
 * character, and merging it again must change nothing (the kept lines are
 * themselves kept).  The first input byte picks the group.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/report/metrics.h"

static void check_lines(const char *text)
{
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		if (!nl || (strncmp(p, "drctl_", 6) != 0 && strncmp(p, "# HELP drctl_", 13) != 0 &&
			    strncmp(p, "# TYPE drctl_", 13) != 0))
			abort();
		for (const char *c = p; c < nl; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				abort();
		p = nl + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct metrics_rendering r;
	struct drctl_error err;
	const char *kind;
	json_t *samples;
	char *previous, *merged, *again;

	if (size < 1)
		return 0;
	kind = data[0] & 1 ? "backup" : "verify";
	samples = metrics_samples_new();
	err_clear(&err);
	if (!strcmp(kind, "backup")) {
		metrics_sample(samples, "drctl_backup_last_status", 1);
		metrics_sample_labelled(samples, "drctl_backup_size_bytes", "component", "postgres", 1);
	} else {
		metrics_sample(samples, "drctl_verify_last_status", 0);
	}
	if (metrics_render(kind, samples, &r, &err) != 0)
		abort();
	previous = malloc(size);
	memcpy(previous, data + 1, size - 1);
	previous[size - 1] = '\0';
	for (size_t g = 0; g < r.n_groups; g++) {
		merged = metrics_textfile_merge(kind, previous, &r.groups[g]);
		if (!merged)
			abort();
		check_lines(merged);
		again = metrics_textfile_merge(kind, merged, &r.groups[g]);
		if (!again || strcmp(again, merged) != 0)
			abort();
		free(again);
		free(merged);
	}
	free(previous);
	metrics_rendering_free(&r);
	json_decref(samples);
	return 0;
}
