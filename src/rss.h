/* rss.h -- taking one sample of the process: its RSS from /proc, its live
 * blocks from the ring's shards, and the allocator's own view of its heap
 * (glibc's mallinfo2; other allocators' stats are not read yet, and their
 * heap_* fields say RP_HEAP_UNKNOWN). */
#ifndef REQPROF_RSS_H
#define REQPROF_RSS_H

#include "ring.h"

/* How to fill a sample's heap_* fields. */
enum rp_heap_ask {
    RP_HEAP_ASK,    /* ask the allocator, unless it has been slow lately (rss.c) */
    RP_HEAP_REPEAT, /* the previous sample's: at exit, which may run in a signal
                     * handler that interrupted malloc, whose arena lock
                     * mallinfo2 would wait for */
    RP_HEAP_NONE,   /* RP_HEAP_UNKNOWN: REQPROF_HEAP_STATS=0 */
};

void rp_sample_take(struct rp_ring *r, struct rp_sample *out, enum rp_heap_ask heap);

#endif
