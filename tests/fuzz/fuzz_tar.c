/*
 * Fuzz the archive reader (zstd + tar through libarchive, and drctl's member
 * rules): every member it accepts must have a safe name.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/stream/archive_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct drctl_error err;
	struct archive_in *ai;
	struct archive_member m;
	char buf[4096];
	int rc;

	err_clear(&err);
	ai = archive_in_new(memory_source_new(data, size, &err), "fuzz", &err);
	if (!ai)
		return 0;
	while ((rc = archive_in_next(ai, &m, &err)) == 1) {
		size_t got;
		struct drctl_error check;
		err_clear(&check);
		if (m.name[0] == '/' || archive_member_name_check(m.name, &check) != 0)
			abort(); /* an unsafe name got through */
		do {
			if (archive_in_read(ai, buf, sizeof(buf), &got, &err) != 0)
				break;
		} while (got > 0);
		if (err_is_set(&err))
			break;
	}
	archive_in_close(ai);
	return 0;
}
