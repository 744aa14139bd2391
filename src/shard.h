/* shard.h -- per-thread counters, and the hot path that bumps them.
 *
 * Each thread that allocates claims a shard: a slot of the ring holding
 * one rp_class_counts line per size class. Only its owner writes it, with
 * plain stores, so a malloc or free costs the real allocator, a usable-
 * size read and three increments on one cache line: no lock, no atomic
 * read-modify-write, no syscall. Readers sum the shards while we run.
 * Once per REQPROF_INTERVAL_MS at most, one allocation also takes the
 * process's sample (lifecycle.h): the one exception, timed and bounded.
 *
 * When the thread serves a request (request.h), the call is also charged
 * to it: a load and a predicted branch when it does not.
 *
 * The rare cases take the slow path (shard.c): a thread's first call, the
 * calls made while reqprof itself is working (busy), a thread past its
 * exit destructor, more threads than slots (they share one shard updated
 * with atomic adds), and reqprof switched off or not initialised.
 */
#ifndef REQPROF_SHARD_H
#define REQPROF_SHARD_H

#include <errno.h>
#include <stddef.h>
#include "lifecycle.h"
#include "request.h"
#include "ring_format.h"
#include "sizeclass.h"

/* What reqprof's hot paths keep per thread (the slow paths' few
 * thread-locals are in shard.c and api.c). */
struct rp_thread {
    unsigned char *shard;  /* this thread's own shard, or NULL: take the slow path */
    struct rp_req *req;    /* the request this thread's calls are charged to, or NULL (request.h) */
    int busy;              /* reqprof is working on this thread: pass calls through uncounted */
    int exited;            /* the thread's exit destructor has released its shard */
    int *errno_at;         /* the thread's errno, once rp_errno has asked */
    struct rp_req_thread rq; /* request.c's part */
};

/* The thread's struct rp_thread. A thread-local variable of a shared
 * library is reached through the GOT, which holds its offset from the
 * thread pointer, and the GOT is a page of its own (RELRO): one more
 * page walk in every stretch between two system calls that reqprof runs
 * in (hot.h). The offset is the same in every thread, so it is copied
 * onto the hot data page the first time it is needed, and the thread's
 * state is then found from the thread pointer alone. 0 means not yet
 * known: on x86-64 thread-locals are below the thread pointer and on
 * aarch64 at least 16 bytes above it, so none is at 0; where one may be
 * (RISC-V, whose thread pointer is where the thread-locals start),
 * rp_self is right all the same, through the GOT every time. What the hot paths
 * keep per thread is in the one struct so that one offset finds it. */
extern __thread struct rp_thread rp_thread_state __attribute__((tls_model("initial-exec")));
extern ptrdiff_t rp_thread_offset;
ptrdiff_t rp_thread_offset_first(void);

static inline struct rp_thread *rp_self(void)
{
    ptrdiff_t at = __atomic_load_n(&rp_thread_offset, __ATOMIC_RELAXED);
    if (__builtin_expect(at == 0, 0))
        at = rp_thread_offset_first();
    __asm__("" : "+r"(at)); /* one path on: else GCC copies the caller's rest for the rare one */
    return (struct rp_thread *)((char *)__builtin_thread_pointer() + at);
}

/* The thread's errno. `errno` is a call into libc (__errno_location) at
 * every use, and the socket hooks keep errno around their bookkeeping on
 * every call; a thread's errno does not move, so its address is asked
 * once and kept beside the thread's other hot fields; me is rp_self(). */
static inline int *rp_errno(struct rp_thread *me)
{
    int *e = me->errno_at;
    if (__builtin_expect(e == NULL, 0))
        me->errno_at = e = &errno;
    return e;
}

static inline struct rp_class_counts *rp_shard_class(unsigned char *shard, unsigned cls)
{
    return (struct rp_class_counts *)(shard + RP_SHARD_HEAD_SIZE + (size_t)cls * RP_CLASS_COUNT_SIZE);
}

void rp_count_alloc_slow(size_t usable, size_t req);
void rp_count_free_slow(size_t usable);
void rp_count_failed(void);
void rp_count_realloc(void);

/* How often an allocation asks whether a sample is due (lifecycle.h):
 * every RP_SAMPLE_CHECK allocations of a size class, a test of the count
 * just bumped. */
#define RP_SAMPLE_CHECK 1024

static inline void rp_shard_add_alloc(struct rp_class_counts *c, size_t usable, size_t req)
{
    c->allocs++;
    c->req_bytes += req;
    c->usable_bytes += usable;
    if (__builtin_expect((c->allocs & (RP_SAMPLE_CHECK - 1)) == 0, 0))
        rp_sample_if_due();
}

static inline void rp_shard_add_free(struct rp_class_counts *c, size_t usable)
{
    c->frees++;
    c->freed_bytes += usable;
}

/* Block p of `usable` bytes was handed out for a request of `req` bytes. */
static inline void rp_count_alloc(const void *p, size_t usable, size_t req)
{
    struct rp_thread *me = rp_self();
    unsigned char *s = me->shard;
    unsigned cls = rp_class_of(usable);
    if (__builtin_expect(s == NULL, 0)) {
        rp_count_alloc_slow(usable, req);
    } else {
        rp_shard_add_alloc(rp_shard_class(s, cls), usable, req);
    }
    if (__builtin_expect(me->req != NULL, 0))
        rp_req_alloc(&me->rq, me->req, p, cls, usable);
}

/* A free counted in the thread's own shard s. */
static inline void rp_shard_count_free(unsigned char *s, size_t usable)
{
    rp_shard_add_free(rp_shard_class(s, rp_class_of(usable)), usable);
}

/* Block p of `usable` bytes was given back. */
static inline void rp_count_free(const void *p, size_t usable)
{
    struct rp_thread *me = rp_self();
    unsigned char *s = me->shard;
    if (__builtin_expect(s == NULL, 0)) {
        rp_count_free_slow(usable);
    } else {
        rp_shard_count_free(s, usable);
    }
    if (__builtin_expect(me->req != NULL, 0))
        rp_req_free(&me->rq, me->req, p, usable);
}

/* Called once the ring exists: registers the thread-exit destructor. */
int rp_shards_init(void);

/* Sums r's shards (ring_sum.h) as the writer: waits out a fold in
 * progress, so an exiting thread is counted exactly once. */
struct rp_ring;
struct rp_class_sum;
struct rp_totals;
void rp_shards_sum(const struct rp_ring *r, struct rp_class_sum *per_class, struct rp_totals *t);

/* In a child after fork(): the parent's shards are not ours any more. */
void rp_shards_after_fork(void);

#endif
