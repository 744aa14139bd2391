/* clock.h -- a clock's time as nanoseconds, the one form reqprof keeps
 * times in (ring header, samples, records). */
#ifndef REQPROF_CLOCK_H
#define REQPROF_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t rp_clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
