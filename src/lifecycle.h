/* lifecycle.h -- reqprof's life in a process: it starts at the first
 * malloc call or in the library constructor, whichever comes first, with
 * a first sample; a fork()ed child starts over with a ring of its own;
 * exit writes the last sample. Between those, the host's own threads
 * take a sample when one is due (rp_sample_if_due). */
#ifndef REQPROF_LIFECYCLE_H
#define REQPROF_LIFECYCLE_H

#include "ring.h"

/* The ring to count into, starting reqprof if it has not started; NULL
 * when reqprof is off or could not start. Call with rp_self()->busy set. */
struct rp_ring *rp_active_ring(void);

/* The ring, if reqprof is on, without starting it. */
struct rp_ring *rp_current_ring(void);

/* Takes a sample on this thread if one is due (REQPROF_INTERVAL_MS since
 * the last): asked by allocations now and then (shard.h) and by threads
 * going to wait in epoll_wait (sockets.c). Costs a coarse clock read when
 * none is due. Not for contexts that may interrupt malloc: the sample
 * asks the allocator for its statistics, which takes its locks. */
void rp_sample_if_due(void);

#endif
