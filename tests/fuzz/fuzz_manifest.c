/*
 * Fuzz the manifest and SHA256SUMS parsers: bytes read from a repository
 * before anything else trusts them.  The first input byte picks the parser.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/set/backup_set.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct drctl_error err;
	json_t *out = NULL;

	if (size < 1)
		return 0;
	err_clear(&err);
	if (data[0] & 1) {
		char *text = malloc(size);
		memcpy(text, data + 1, size - 1);
		text[size - 1] = '\0';
		if (backup_set_parse_sums(text, &out, &err) == 0) {
			const char *k;
			json_t *v;
			json_object_foreach(out, k, v)
				if (strlen(json_string_value(v)) != 64 || strchr(k, '/'))
					abort();
		}
		free(text);
	} else if (backup_set_parse_manifest((const char *)data + 1, size - 1, "20261129T020000Z-3f9a", &out, &err) == 0) {
		if (!json_is_object(json_object_get(out, "components")))
			abort();
	}
	json_decref(out);
	return 0;
}
