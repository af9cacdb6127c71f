/*
 * yaml_emit: a JSON tree (jansson) written as YAML, for people to read and
 * for kubectl and Prometheus to load.
 *
 * Block style throughout; arrays of scalars in flow style on one line
 * (`command: ["drctl", "backup"]`); a string is written plain only when no
 * YAML 1.1 or 1.2 reader can take it for anything but that string (so
 * "0400", "yes", "500m" and "on" are quoted), as a literal block (`|`) when
 * it holds line breaks, and double-quoted otherwise.  Object keys keep their
 * insertion order, which jansson preserves.
 */
#ifndef DRCTL_SCHEDULES_YAML_EMIT_H
#define DRCTL_SCHEDULES_YAML_EMIT_H

#include <jansson.h>
#include <stdio.h>

/* Write `doc` as the body of one YAML document (no `---` line). */
void yaml_emit(FILE *f, const json_t *doc);

/* Is `s` safe as a plain scalar (read back as this very string)? */
int yaml_plain_ok(const char *s);

#endif
