/* clock.h -- a clock's time as nanoseconds, the one form reqprof keeps
 * times in (ring header, samples, records).
 *
 * Every request's begin and end reads the clock. libc's clock_gettime
 * calls the vDSO's through a pointer in the loader's data: its own code
 * and that data are two pages the call touches besides the vDSO's, each a
 * page walk after a system call (hot.h). So the vDSO's function is looked
 * up once (rp_clock_init) and called directly; without one (valgrind
 * offers no vDSO, and other kernels may name it otherwise), or if it
 * fails, libc's is called. */
#ifndef REQPROF_CLOCK_H
#define REQPROF_CLOCK_H

#include <stdint.h>
#include <time.h>

typedef int (*rp_clock_fn)(clockid_t id, struct timespec *ts);
extern rp_clock_fn rp_vdso_clock_gettime;

void rp_clock_init(void);

static inline uint64_t rp_clock_ns(clockid_t id)
{
    struct timespec ts;
    rp_clock_fn vdso = __atomic_load_n(&rp_vdso_clock_gettime, __ATOMIC_RELAXED);
    if (!vdso || vdso(id, &ts) != 0)
        clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
