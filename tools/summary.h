/* summary.h -- the report model: what every output format prints.
 *
 * Built once from validated rings, so the formats only choose words and
 * layout and never add anything up themselves: text and JSON cannot
 * disagree on a number.
 */
#ifndef REQPROF_SUMMARY_H
#define REQPROF_SUMMARY_H

#include <stddef.h>
#include <stdint.h>
#include "ring_read.h"
#include "ring_sum.h"

struct rp_proc {
    const struct rp_ring *ring;     /* borrowed: header, strings, liveness, series */
    struct rp_totals totals;
    struct rp_class_sum *classes;   /* ring->hdr.nclasses entries */
    uint64_t peak_rss;              /* largest rss_bytes in the series and the last sample */
    uint64_t end_real_ns;           /* exit or exec time; now while running; the last sample of one that died */
};

/* One size class of the merged histogram. Rings normally share one class
 * table; if two do not, their classes are kept apart by upper bound. */
struct rp_merged_class {
    uint64_t upper;                 /* largest usable size; the smallest is the previous class's upper + 1 */
    struct rp_class_sum sum;
};

struct rp_summary {
    struct rp_proc *procs;
    size_t nprocs;
    struct rp_totals totals;        /* all processes */
    struct rp_merged_class *classes;
    size_t nclasses;
    uint64_t start_real_ns;         /* earliest start */
    uint64_t end_real_ns;           /* latest end */
};

/* rings must outlive the summary. Returns 0, or -1 when out of memory. */
int rp_summary_build(struct rp_summary *s, const struct rp_ring *rings, size_t n);
void rp_summary_free(struct rp_summary *s);

/* Whether a class is worth a line: it had allocations or inherited blocks. */
int rp_class_used(const struct rp_class_sum *c);

/* Bytes of allocations beyond what was requested: size-class rounding. */
uint64_t rp_rounding_bytes(const struct rp_totals *t);

#endif
