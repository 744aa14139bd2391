/* allocator.c -- see allocator.h. */
#include <dlfcn.h>
#include <string.h>
#include "allocator.h"
#include "hot.h"
#include "log.h"

RP_HOT_DATA struct rp_next rp_next;
RP_HOT_DATA int rp_next_is_glibc;
static int resolving;

static void *next_sym(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

/* The allocator is glibc's when next.malloc lives in libc.so.6. */
static int lives_in_glibc(void *fn)
{
    Dl_info info;
    if (!dladdr(fn, &info) || !info.dli_fname)
        return 0;
    const char *base = strrchr(info.dli_fname, '/');
    base = base ? base + 1 : info.dli_fname;
    return strncmp(base, "libc.so", 7) == 0;
}

int rp_next_resolve(void)
{
    struct rp_next n;
    static int failed;

    if (__atomic_load_n(&rp_next.malloc, __ATOMIC_ACQUIRE))
        return 0;
    if (failed || __atomic_exchange_n(&resolving, 1, __ATOMIC_ACQ_REL))
        return -1;
    n.malloc = (void *(*)(size_t))next_sym("malloc");
    n.free = (void (*)(void *))next_sym("free");
    n.calloc = (void *(*)(size_t, size_t))next_sym("calloc");
    n.realloc = (void *(*)(void *, size_t))next_sym("realloc");
    n.memalign = (void *(*)(size_t, size_t))next_sym("memalign");
    n.posix_memalign = (int (*)(void **, size_t, size_t))next_sym("posix_memalign");
    n.aligned_alloc = (void *(*)(size_t, size_t))next_sym("aligned_alloc");
    n.valloc = (void *(*)(size_t))next_sym("valloc");
    n.pvalloc = (void *(*)(size_t))next_sym("pvalloc");
    n.malloc_usable_size = (size_t (*)(void *))next_sym("malloc_usable_size");
    n.free_sized = (void (*)(void *, size_t))next_sym("free_sized");
    n.free_aligned_sized = (void (*)(void *, size_t, size_t))next_sym("free_aligned_sized");

    dlerror(); /* the optional symbols that are missing must not leave the host a stale error */
    if (!n.malloc || !n.free || !n.calloc || !n.realloc || !n.memalign || !n.posix_memalign
        || !n.aligned_alloc || !n.malloc_usable_size) {
        failed = 1;
        rp_log("cannot find the next allocator's malloc family (dlsym RTLD_NEXT); "
               "allocations will fail once the boot pool is spent", NULL);
        return -1;
    }
    rp_next_is_glibc = lives_in_glibc((void *)n.malloc);
    void *(*m)(size_t) = n.malloc;
    n.malloc = NULL;
    rp_next = n;
    __atomic_store_n(&rp_next.malloc, m, __ATOMIC_RELEASE);
    return 0;
}

enum rp_allocator rp_next_kind(void)
{
    return rp_next_is_glibc ? RP_ALLOC_GLIBC : RP_ALLOC_OTHER;
}

enum rp_usable_method rp_next_usable_method(void)
{
    return rp_next_is_glibc ? RP_USABLE_GLIBC_HEADER : RP_USABLE_CALL;
}
