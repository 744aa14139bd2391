/* lifecycle.h -- reqprof's life in a process: it starts at the first
 * malloc call or in the library constructor, whichever comes first; a
 * fork()ed child starts over with a ring of its own; exit writes the last
 * sample. Between those, a sampler thread takes a sample per interval. */
#ifndef REQPROF_LIFECYCLE_H
#define REQPROF_LIFECYCLE_H

#include "ring.h"

/* The ring to count into, starting reqprof if it has not started; NULL
 * when reqprof is off or could not start. Call with rp_self.busy set. */
struct rp_ring *rp_active_ring(void);

/* The ring, if reqprof is on, without starting it. */
struct rp_ring *rp_current_ring(void);

#endif
