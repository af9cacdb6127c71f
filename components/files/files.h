/*
 * files: the configured paths ([files] paths: certificates, configuration),
 * stored under their absolute path without the leading "/".  Capture in
 * capture.c, restore into a target folder in restore.c.
 */
#ifndef DRCTL_COMPONENTS_FILES_H
#define DRCTL_COMPONENTS_FILES_H

#include "components/component.h"

int files_configured(const struct config *cfg);
int files_capture(struct capture_ctx *ctx, struct drctl_error *err);
int files_restore(struct restore_ctx *ctx, struct drctl_error *err);

#endif
