/* interpose.c -- the malloc family, as the host sees it.
 *
 * Every entry point forwards to the next allocator (allocator.h) and then
 * counts what happened (shard.h). Nothing is written into or in front of
 * the host's blocks: the host gets the same sizes and alignments from the
 * same allocator it would have had. Until the next allocator is known
 * (dlsym is looking it up, and calls calloc), requests are served from
 * the boot pool, whose blocks free() recognises and ignores.
 *
 * A realloc counts as one free (of the old block) and one allocation (of
 * the new one), and once in the shard's reallocs.
 *
 * errno: the next allocator sets it on failure and we return its result
 * untouched; the counting paths make no system call on the way, and the
 * slow ones (log.c, ring.c, a due sample in lifecycle.c) restore it.
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include "allocator.h"
#include "bootpool.h"
#include "hot.h"
#include "shard.h"

#define EXPORT __attribute__((visibility("default")))

/* The allocation group (hot.h) starts on a page of its own: this object
 * is the first of the link with functions in it (Makefile.am's order),
 * and an alignment stated before any of them aligns its part of the
 * section without padding inside it. rp_hot_start marks where it
 * starts, and the empty group rp_9_end where the last one ends, for
 * bench/hotcheck: local symbols, which the library's table keeps. */
__asm__(".section .text.sorted.rp_1_alloc,\"ax\",@progbits\n\t.p2align 12\nrp_hot_start:\n\t.previous\n"
        ".section .text.sorted.rp_9_end,\"ax\",@progbits\nrp_hot_end:\n\t.previous");

#define unlikely(x) __builtin_expect(!!(x), 0)

/* Not in glibc before 2.39: declared here so the host can find ours. */
void free_sized(void *p, size_t size);
void free_aligned_sized(void *p, size_t align, size_t size);

/* Whether the next allocator is unknown still: the caller uses the pool. */
static inline int not_ready(void)
{
    return unlikely(!__atomic_load_n(&rp_next.malloc, __ATOMIC_ACQUIRE)) && rp_next_resolve() < 0;
}

static inline void *count_alloc(void *p, size_t req)
{
    if (__builtin_expect(p != NULL, 1))
        rp_count_alloc(p, rp_usable(p), req);
    else
        rp_count_failed();
    return p;
}

static inline void count_free(void *p)
{
    rp_count_free(p, rp_usable(p));
}

static size_t page_size(void)
{
    static size_t page;
    if (!page)
        page = (size_t)sysconf(_SC_PAGESIZE);
    return page;
}

RP_HOT_ALLOC EXPORT void *malloc(size_t size)
{
    if (not_ready())
        return rp_boot_alloc(size, 16);
    return count_alloc(rp_next.malloc(size), size);
}

/* free() when anything is out of the ordinary: no shard yet, not glibc,
 * a block of the boot pool. */
static __attribute__((noinline)) void free_unusual(void *p)
{
    if (unlikely(rp_boot_owns(p)) || not_ready())
        return;
    count_free(p);
    rp_next.free(p);
}

/* A free the thread's request is charged with, then the real one. */
RP_HOT_ALLOC static __attribute__((noinline)) void free_charged(struct rp_thread *me, struct rp_req *q, void *p, size_t usable)
{
    rp_req_free(&me->rq, q, p, usable);
    rp_next.free(p);
}

/* Every call free makes is its last, so it saves no registers (10 of
 * its 50 instructions). A thread has its shard only once the next
 * allocator is known. */
RP_HOT_ALLOC EXPORT void free(void *p)
{
    if (!p)                 /* frequent: OpenSSL frees NULL many times a request */
        return;
    struct rp_thread *me = rp_self();
    unsigned char *s = me->shard;
    if (unlikely(!s || !rp_next_is_glibc || rp_boot_owns(p)))
        return free_unusual(p);
    size_t usable = rp_glibc_usable(p);
    rp_shard_count_free(s, usable);
    struct rp_req *q = me->req;
    if (unlikely(q != NULL))
        return free_charged(me, q, p, usable);
    rp_next.free(p);
}

RP_HOT EXPORT void *calloc(size_t n, size_t size)
{
    size_t total;
    int overflow = __builtin_mul_overflow(n, size, &total);
    if (not_ready()) {
        if (overflow) {
            errno = ENOMEM;
            return NULL;
        }
        return rp_boot_alloc(total, 16);
    }
    return count_alloc(rp_next.calloc(n, size), total);
}

/* A pool block cannot be given to the next allocator: copy it out. */
static void *move_out_of_pool(void *p, size_t size)
{
    size_t old = rp_boot_size(p);
    void *q = not_ready() ? rp_boot_alloc(size, 16) : count_alloc(rp_next.malloc(size), size);
    if (q)
        memcpy(q, p, old < size ? old : size);
    return q;
}

RP_HOT EXPORT void *realloc(void *p, size_t size)
{
    if (p && unlikely(rp_boot_owns(p)))
        return move_out_of_pool(p, size);
    if (not_ready())
        return p ? NULL : rp_boot_alloc(size, 16);
    if (!p)
        return count_alloc(rp_next.realloc(NULL, size), size);
    size_t old = rp_usable(p);
    void *q = rp_next.realloc(p, size);
    if (q) {
        rp_count_free(p, old);
        rp_count_alloc(q, rp_usable(q), size);
        rp_count_realloc();
    } else if (size == 0) {
        rp_count_free(p, old); /* glibc's realloc(p, 0) frees p and returns NULL */
    } else {
        rp_count_failed();
    }
    return q;
}

EXPORT void *reallocarray(void *p, size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(p, total);
}

RP_HOT_ALLOC EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
    if (not_ready()) {
        void *p = rp_boot_alloc(size, align);
        if (!p)
            return ENOMEM;
        *out = p;
        return 0;
    }
    int err = rp_next.posix_memalign(out, align, size);
    if (err == 0)
        rp_count_alloc(*out, rp_usable(*out), size);
    else
        rp_count_failed();
    return err;
}

EXPORT void *aligned_alloc(size_t align, size_t size)
{
    if (not_ready())
        return rp_boot_alloc(size, align);
    return count_alloc(rp_next.aligned_alloc(align, size), size);
}

EXPORT void *memalign(size_t align, size_t size)
{
    if (not_ready())
        return rp_boot_alloc(size, align);
    return count_alloc(rp_next.memalign(align, size), size);
}

EXPORT void *valloc(size_t size)
{
    if (not_ready())
        return rp_boot_alloc(size, page_size());
    if (rp_next.valloc)
        return count_alloc(rp_next.valloc(size), size);
    return count_alloc(rp_next.memalign(page_size(), size), size);
}

EXPORT void *pvalloc(size_t size)
{
    size_t page = page_size(), rounded;
    if (__builtin_add_overflow(size, page - 1, &rounded)) {
        errno = ENOMEM;
        return NULL;
    }
    rounded &= ~(page - 1);
    if (not_ready())
        return rp_boot_alloc(rounded, page);
    if (rp_next.pvalloc)
        return count_alloc(rp_next.pvalloc(size), size);
    return count_alloc(rp_next.memalign(page, rounded), size);
}

EXPORT size_t malloc_usable_size(void *p)
{
    if (!p)
        return 0;
    if (rp_boot_owns(p))
        return rp_boot_size(p);
    if (not_ready())
        return 0;
    return rp_next.malloc_usable_size(p);
}

EXPORT void free_sized(void *p, size_t size)
{
    if (!p || unlikely(rp_boot_owns(p)) || not_ready())
        return;
    count_free(p);
    if (rp_next.free_sized)
        rp_next.free_sized(p, size);
    else
        rp_next.free(p);
}

EXPORT void free_aligned_sized(void *p, size_t align, size_t size)
{
    if (!p || unlikely(rp_boot_owns(p)) || not_ready())
        return;
    count_free(p);
    if (rp_next.free_aligned_sized)
        rp_next.free_aligned_sized(p, align, size);
    else
        rp_next.free(p);
}
