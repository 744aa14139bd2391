/* ring_sum.h -- adding up a ring's shards. The writer (for its samples)
 * and the reader (for its report) use this same code, so a sample and a
 * report of the same moment agree. */
#ifndef REQPROF_RING_SUM_H
#define REQPROF_RING_SUM_H

#include <stdint.h>
#include "ring_format.h"

struct rp_class_sum {
    uint64_t allocs, frees, req_bytes, usable_bytes, freed_bytes; /* this image's own calls */
    uint64_t inh_blocks, inh_bytes, inh_req_bytes;                /* live in the parent at fork() */
};

struct rp_totals {
    uint64_t allocs, frees, req_bytes, usable_bytes, freed_bytes;
    uint64_t reallocs, failed;
    uint64_t inh_blocks, inh_bytes, inh_req_bytes;
    uint64_t live_blocks, live_bytes; /* exact */
    uint64_t live_req_bytes;          /* estimated: see rp_class_live_req() */
};

/* Sums the shards of the ring mapped or copied at base. The caller has
 * checked h's layout fields against the file's size (the writer built
 * them; the reader validated them). per_class, when not NULL, receives
 * h->nclasses entries. */
void rp_ring_sum(const struct rp_header *h, const unsigned char *base,
                 struct rp_class_sum *per_class, struct rp_totals *t);

/* Live blocks and usable bytes of a class, never below zero (a block
 * allocated while reqprof was not counting may still be freed). */
uint64_t rp_class_live_blocks(const struct rp_class_sum *c);
uint64_t rp_class_live_bytes(const struct rp_class_sum *c);

/* Requested bytes of a class's live blocks. Frees do not know what was
 * requested (that would need a table on the hot path), so freed blocks
 * are taken to have had the class's mean requested/usable ratio. Within
 * one class usable sizes differ by at most a quarter, so the error is
 * small; reports label the figure as estimated. */
uint64_t rp_class_live_req(const struct rp_class_sum *c);

#endif
