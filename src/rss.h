/* rss.h -- taking one sample of the process: its RSS from /proc, its live
 * blocks from the ring's shards, and the allocator's own view of its heap
 * (glibc's mallinfo2; other allocators' stats are not read yet, and their
 * heap_* fields say RP_HEAP_UNKNOWN). */
#ifndef REQPROF_RSS_H
#define REQPROF_RSS_H

#include "ring.h"

/* With final set, the allocator is not asked (exit() may run in a signal
 * handler that interrupted malloc, whose arena lock mallinfo2 would wait
 * for): the heap figures are those of the previous sample. */
void rp_sample_take(struct rp_ring *r, struct rp_sample *out, int final);

#endif
