/* standouts.h -- the requests that stand out: among the kept records of
 * every process, those that left the most bytes live, then those with the
 * highest peak. */
#ifndef REQPROF_STANDOUTS_H
#define REQPROF_STANDOUTS_H

#include <stddef.h>
#include "ring_read.h"

#define RP_STANDOUTS_EACH 10 /* at most this many for each reason */

struct rp_standout {
    const struct rp_ring *ring;     /* the process's ring */
    const struct rp_record_ref *ref;
    const char *why;                /* "left" or "peak" */
};

/* Fills out, which has room for 2 * RP_STANDOUTS_EACH, from the n rings:
 * up to RP_STANDOUTS_EACH records with the largest left_bytes (> 0),
 * largest first, then up to RP_STANDOUTS_EACH others with the largest
 * peak_bytes (> 0). Ties go to the larger other figure, then the ring
 * listed first, then the older record. Returns how many. */
size_t rp_standouts(struct rp_standout *out, const struct rp_ring *rings, size_t n);

#endif
