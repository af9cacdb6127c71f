/*
 * restore: `drctl restore COMPONENT`: find a complete, signed set, stream the
 * component's object back (repository -> hash -> age -> tar.zst), hand the
 * members to the component's restore, and check the object's hash against the
 * signed manifest at the end.
 */
#ifndef DRCTL_RESTORE_H
#define DRCTL_RESTORE_H

#include <jansson.h>
#include <stdint.h>

#include "components/component.h"
#include "lib/core/config.h"
#include "lib/core/error.h"

/* report: filled with what was done (id, component, target, counts). */
int restore_run(const struct config *cfg, const char *component, const struct restore_options *opts,
		json_t *report, struct drctl_error *err);

#endif
