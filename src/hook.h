/* hook.h -- what the interposed socket calls (sockets.c) and TLS calls
 * (tls.c) share: each forwards to the next definition of its function,
 * looked up on first use, and tells conn.c what happened while keeping
 * the real call's errno.
 *
 * A file that includes this names its table of next definitions `next`
 * (a struct with one pointer per function, by the function's name):
 * NEXT(fn) is next.fn, looked up on first use.
 */
#ifndef REQPROF_HOOK_H
#define REQPROF_HOOK_H

#include <dlfcn.h>
#include "conn.h"
#include "shard.h"

#define EXPORT __attribute__((visibility("default")))

/* dlsym is safe to call from here (it may call calloc, which the boot
 * pool serves until malloc is known). A race looks the same symbol up
 * twice and stores the same pointer. */
static inline void *next_symbol(void **slot, const char *name)
{
    void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (!f) {
        f = dlsym(RTLD_NEXT, name);
        __atomic_store_n(slot, f, __ATOMIC_RELEASE);
    }
    return f;
}

#define NEXT(fn) ((__typeof__(next.fn))next_symbol((void **)&next.fn, #fn))

static inline int detecting(void)
{
    return __builtin_expect(__atomic_load_n(&rp_http_on, __ATOMIC_RELAXED), 0);
}

/* conn.c's bookkeeping keeps errno as the real call left it. */
#define KEEP_ERRNO(stmt) do { int *errno_ = rp_errno(), saved_ = *errno_; stmt; *errno_ = saved_; } while (0)

#endif
