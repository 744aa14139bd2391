/* routes.h -- the routes of the report: one process's route table, or
 * the same routes merged over processes by name (nginx's master and
 * workers each have a table of their own), with the percentiles of their
 * per-request peak and left bytes.
 *
 * Histograms are kept over one list of class upper bounds for the whole
 * report (the summary's merged classes), so that routes of rings with
 * different class tables still add up class by class.
 */
#ifndef REQPROF_ROUTES_H
#define REQPROF_ROUTES_H

#include <stddef.h>
#include <stdint.h>
#include "ring_read.h"

/* The class bounds every route histogram is kept over, ascending. */
struct rp_bounds {
    const uint64_t *upper;
    size_t n;
};

/* A process that served a merged route. */
struct rp_route_proc {
    uint32_t pid;
    uint64_t requests;
};

struct rp_route_sum {
    char name[RP_ROUTE_LEN];        /* sanitized by the reader */
    uint64_t requests, allocs, frees, bytes_alloc, bytes_freed, foreign_frees, foreign_bytes;
    uint64_t peak_sum, peak_max, left_sum, left_max, left_blocks, leaky;
    uint64_t duration_sum_ns, duration_max_ns, approx, unanswered;
    uint64_t *hist;                 /* RP_ROUTE_NHIST x bounds.n counts; histogram h at hist + h * n */
    /* "at most": the upper bound of the class holding the percentile,
     * capped at the exact max; 0 without requests */
    uint64_t peak_p50, peak_p90, peak_p99;
    uint64_t left_p50, left_p90, left_p99;
    struct rp_route_proc *procs;    /* merged routes: processes with requests > 0, in report order */
    size_t nprocs;
};

/* Ranked by left_sum, then peak_max, descending; ties by name. Only
 * routes with requests are listed. */
struct rp_route_list {
    struct rp_route_sum *v;
    size_t n;
};

/* The routes of one ring, folded by name (a name twice in one table
 * counts once). Returns 0, or -1 when out of memory. */
int rp_routes_of_ring(struct rp_route_list *out, const struct rp_ring *r, const struct rp_bounds *b);

/* The routes of n processes merged by name; pids[i] goes with lists[i]. */
int rp_routes_merge(struct rp_route_list *out, const struct rp_route_list *lists, const uint32_t *pids,
                    size_t n, const struct rp_bounds *b);

/* The list's routes ranked by peak_max, then peak_sum, descending; ties by
 * name. Returns a malloc'ed array of l->n pointers into l, or NULL when
 * out of memory. */
const struct rp_route_sum **rp_routes_by_peak(const struct rp_route_list *l);

void rp_routes_free(struct rp_route_list *l);

/* The pct-th percentile of the counts hist[0 .. b->n): the upper bound of
 * the class that holds it, capped at max; 0 when hist is all zero. */
uint64_t rp_percentile(const uint64_t *hist, const struct rp_bounds *b, uint64_t max, unsigned pct);

/* total / requests, 0 without requests: for "per request" columns. */
double rp_per_request(uint64_t total, uint64_t requests);

#endif
