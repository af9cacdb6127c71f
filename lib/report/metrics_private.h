/*
 * metrics_private: what metrics.c (the table, rendering) shares with
 * metrics_publish.c (the Pushgateway, the textfile collector).
 */
#ifndef DRCTL_REPORT_METRICS_PRIVATE_H
#define DRCTL_REPORT_METRICS_PRIVATE_H

#include <stddef.h>

/* Longest label value: it becomes part of a URL and of a file name. */
#define METRICS_LABEL_VALUE_MAX 128

struct metrics_family {
	const char *name;
	const char *kind;        /* the job kind that publishes it */
	const char *label;       /* its one label, or NULL */
	int label_is_group;      /* the label is part of the grouping key */
	int success_only;        /* left out of a failed run's push */
	const char *help;
};

extern const struct metrics_family metrics_families[];
extern const size_t metrics_family_count;

const struct metrics_family *metrics_family_find(const char *name);
int metrics_kind_valid(const char *kind);

/* A growing text; failed is set (and stays) when memory ran out. */
struct metrics_buf {
	char *data;
	size_t len, cap;
	int failed;
};

void metrics_buf_printf(struct metrics_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void metrics_buf_append(struct metrics_buf *b, const char *s, size_t len);
/* "# HELP name text" and "# TYPE name gauge". */
void metrics_buf_family_header(struct metrics_buf *b, const struct metrics_family *f);

#endif
