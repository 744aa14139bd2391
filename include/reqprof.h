/* reqprof.h -- request markers for hosts profiled by reqprof.
 *
 * A server calls these around the work of one request, so that reqprof
 * (LD_PRELOAD=libreqprof.so) charges what the thread allocates and frees
 * meanwhile to that request and its route:
 *
 *     reqprof_request_begin("GET /users");
 *     ... serve it ...
 *     reqprof_request_end();
 *
 *     reqprof_mark("reload");            // a process-wide event in the timeline
 *
 * Nothing to link: the functions find libreqprof.so in the process with
 * dlsym() at their first call (per translation unit) and do nothing when
 * it is not there, so a host built with this header runs unchanged, at the
 * cost of a load and a branch, without reqprof. (Weak symbols would save
 * the dlsym but silently miss the library in code not built as PIC/PIE.)
 * The first call must not be made from a signal handler: dlsym is not
 * async-signal-safe. See reqprof(3).
 */
#ifndef REQPROF_H
#define REQPROF_H

#include <dlfcn.h>

#ifdef __cplusplus
extern "C" {
#endif

#define REQPROF_API_SYMBOL "reqprof_api_v1"

/* What libreqprof.so exports under REQPROF_API_SYMBOL. Version 1; new
 * members go at the end. */
struct reqprof_api {
    unsigned size;                               /* sizeof the library's struct */
    int (*request_begin)(const char *route);
    int (*request_end)(void);
    int (*mark)(const char *label);
};

/* The library's table, or NULL. Looked up once; a benign race between
 * threads looks it up twice. */
static inline const struct reqprof_api *reqprof_api_(void)
{
    static const struct reqprof_api *api;
    static int looked;
    if (!__atomic_load_n(&looked, __ATOMIC_ACQUIRE)) {
        __atomic_store_n(&api, (const struct reqprof_api *)dlsym(RTLD_DEFAULT, REQPROF_API_SYMBOL),
                         __ATOMIC_RELAXED);
        __atomic_store_n(&looked, 1, __ATOMIC_RELEASE);
    }
    return __atomic_load_n(&api, __ATOMIC_RELAXED);
}

/* Begins a request on this thread under the route tag (NULL or "" counts
 * as "(untagged)"; longer than 127 bytes is cut). A request already open
 * on the thread is ended first and the nesting counted. Returns 1 when a
 * request was begun, 0 when reqprof is absent or off. */
static inline int reqprof_request_begin(const char *route)
{
    const struct reqprof_api *api = reqprof_api_();
    return api ? api->request_begin(route) : 0;
}

/* Ends this thread's request and records it. Returns 1, or 0 when no
 * request was open (counted as unmatched) or reqprof is absent or off. */
static inline int reqprof_request_end(void)
{
    const struct reqprof_api *api = reqprof_api_();
    return api ? api->request_end() : 0;
}

/* Records a process-wide event ("reload", "config change"; longer than 95
 * bytes is cut). Returns 1 when recorded, 0 when reqprof is absent or off. */
static inline int reqprof_mark(const char *label)
{
    const struct reqprof_api *api = reqprof_api_();
    return api ? api->mark(label) : 0;
}

#ifdef __cplusplus
}
#endif

#endif
