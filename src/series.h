/* series.h -- the ring's time series: RSS, live bytes and the allocator's
 * own view, a sample at most every interval. The series area is fixed; when it is
 * full, every other sample is dropped and the stride doubles, so the
 * series always covers the whole life of the process, at a resolution
 * that halves as it grows. The newest sample is also kept in hdr->last. */
#ifndef REQPROF_SERIES_H
#define REQPROF_SERIES_H

#include "ring.h"

/* Appends s if it comes at least the stride after the last sample kept
 * (always when final). */
void rp_series_append(struct rp_ring *r, const struct rp_sample *s, int final);

#endif
