/* summary.h -- the report model: what every output format prints.
 *
 * Built once from validated rings, so the formats only choose words and
 * layout and never add anything up themselves: text and JSON cannot
 * disagree on a number. The kept records and marks are the ring's own
 * (rp_ring.records, .marks): the summary ranks and merges, it does not
 * copy them.
 */
#ifndef REQPROF_SUMMARY_H
#define REQPROF_SUMMARY_H

#include <stddef.h>
#include <stdint.h>
#include "ring_read.h"
#include "ring_sum.h"
#include "routes.h"
#include "standouts.h"

/* The request counters of one process (its header), or of all. */
struct rp_requests {
    uint64_t begun, ended, nested, unmatched, lost, other_route;
    uint64_t http_conns, http_not_http;
    uint64_t records_written;
    uint64_t records_kept;          /* valid records read: those listed per process */
    uint64_t records_torn;          /* kept slots skipped: being written or overwritten, or invalid */
};

/* A mark of one process, placed in real time. */
struct rp_mark_ref {
    const struct rp_ring *ring;
    const struct rp_mark *mark;
    uint64_t real_ns;               /* the process's start_real_ns + t_ns */
};

struct rp_proc {
    const struct rp_ring *ring;     /* borrowed: header, strings, liveness, series */
    struct rp_totals totals;
    struct rp_class_sum *classes;   /* ring->hdr.nclasses entries */
    uint64_t peak_rss;              /* largest rss_bytes in the series and the last sample */
    uint64_t end_real_ns;           /* exit or exec time; now while running; the last sample of one that died */
    struct rp_requests requests;
    struct rp_route_list routes;    /* this process's routes (procs empty) */
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
    uint64_t *bound_upper;          /* classes[].upper as an array: what route histograms are kept over */
    struct rp_bounds bounds;
    struct rp_requests requests;    /* all processes */
    struct rp_route_list routes;    /* merged by name over processes */
    const struct rp_route_sum **routes_by_peak; /* routes.n pointers into routes */
    struct rp_standout standouts[2 * RP_STANDOUTS_EACH];
    size_t nstandouts;
    struct rp_mark_ref *marks;      /* every process's, in time order */
    size_t nmarks;
};

/* rings must outlive the summary. Returns 0, or -1 when out of memory. */
int rp_summary_build(struct rp_summary *s, const struct rp_ring *rings, size_t n);
void rp_summary_free(struct rp_summary *s);

/* Whether a class is worth a line: it had allocations or inherited blocks. */
int rp_class_used(const struct rp_class_sum *c);

/* Bytes of allocations beyond what was requested: size-class rounding. */
uint64_t rp_rounding_bytes(const struct rp_totals *t);

#endif
