/* report.h -- the output formats. Each prints a built rp_summary and
 * nothing else: reading, validating and summing happened before. */
#ifndef REQPROF_REPORT_H
#define REQPROF_REPORT_H

#include <stdio.h>
#include "summary.h"

/* The one-screen summary a person reads. */
void rp_report_text(FILE *out, const struct rp_summary *s);

/* The same data for programs; errors are the messages of the rings that
 * could not be read (also printed on stderr). */
void rp_report_json(FILE *out, const struct rp_summary *s, char *const *errors, size_t nerrors);

#endif
