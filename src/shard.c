/* shard.c -- claiming, sharing and retiring per-thread shards; see shard.h.
 *
 * A thread claims the first free slot with a compare-and-swap on its
 * kind, once. At thread exit a pthread key destructor folds its counters
 * into the RETIRED slot and frees the slot for the next thread, so a
 * server that starts and ends thousands of threads needs only as many
 * slots as it has threads at once. Folding is guarded by fold_seq in the
 * header so a reader never sums a shard both in its slot and in RETIRED.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "hot.h"
#include "lifecycle.h"
#include "ring.h"
#include "request.h"
#include "ring_sum.h"
#include "shard.h"

__thread struct rp_thread rp_thread_state __attribute__((tls_model("initial-exec")));
RP_HOT_DATA ptrdiff_t rp_thread_offset;

/* rp_self's first call in the process: any thread's, as the offset is
 * the same in all. Here rp_thread_state is reached through the GOT. */
__attribute__((noinline, cold)) ptrdiff_t rp_thread_offset_first(void)
{
    ptrdiff_t at = (char *)&rp_thread_state - (char *)__builtin_thread_pointer();
    __atomic_store_n(&rp_thread_offset, at, __ATOMIC_RELAXED);
    return at;
}

/* A thread that found no free slot counts in the shared one, and looks
 * for a slot again every RETRY_EVERY calls: threads exit and free theirs. */
#define RETRY_EVERY 4096
static __thread unsigned retry_in __attribute__((tls_model("initial-exec")));
static __thread int overflowed __attribute__((tls_model("initial-exec")));
static pthread_key_t exit_key;
static int fold_lock;

static struct rp_shard_head *head_of(unsigned char *shard)
{
    return (struct rp_shard_head *)shard;
}

static void add64(uint64_t *p, uint64_t v)
{
    __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}

static unsigned char *claim(struct rp_ring *r)
{
    struct rp_header *h = r->hdr;
    for (uint32_t slot = RP_SHARD_FIRST_THREAD; slot < h->nshards; slot++) {
        unsigned char *s = rp_ring_shard(r, slot);
        uint32_t expect = RP_SHARD_FREE;
        if (__atomic_load_n(&head_of(s)->kind, __ATOMIC_RELAXED) != RP_SHARD_FREE
            || !__atomic_compare_exchange_n(&head_of(s)->kind, &expect, RP_SHARD_THREAD, 0,
                                            __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            continue;
        head_of(s)->tid = (uint32_t)syscall(SYS_gettid);
        if (!overflowed)
            add64(&h->threads_seen, 1);
        rp_self()->shard = s;
        pthread_setspecific(exit_key, s);
        return s;
    }
    retry_in = RETRY_EVERY;
    if (!overflowed) {
        overflowed = 1;
        add64(&h->threads_seen, 1);
        add64(&h->shard_overflows, 1);
        add64(&head_of(rp_ring_shard(r, RP_SHARD_SLOT_SHARED))->threads, 1);
    }
    return NULL;
}

/* The shard the slow path counts into: a new slot of this thread's own
 * (the caller then takes the fast path), the shared slot, or NULL when
 * reqprof is off or this call comes from reqprof itself. */
static unsigned char *slow_shard(int *shared)
{
    struct rp_thread *me = rp_self();
    struct rp_ring *r;
    *shared = 0;
    if (me->busy)
        return NULL;
    int saved_errno = errno; /* starting reqprof makes system calls */
    me->busy = 1;
    r = rp_active_ring();
    unsigned char *s = NULL;
    if (r && !me->exited) {
        if (retry_in)
            retry_in--;
        else
            s = claim(r);
    }
    if (r && !s) {
        s = rp_ring_shard(r, RP_SHARD_SLOT_SHARED);
        *shared = 1;
    }
    me->busy = 0;
    errno = saved_errno;
    return s;
}

void rp_count_alloc_slow(size_t usable, size_t req)
{
    int shared;
    unsigned char *s = slow_shard(&shared);
    if (!s)
        return;
    struct rp_class_counts *c = rp_shard_class(s, rp_class_of(usable));
    if (!shared) {
        rp_shard_add_alloc(c, usable, req);
        return;
    }
    add64(&c->allocs, 1);
    add64(&c->req_bytes, req);
    add64(&c->usable_bytes, usable);
}

void rp_count_free_slow(size_t usable)
{
    int shared;
    unsigned char *s = slow_shard(&shared);
    if (!s)
        return;
    struct rp_class_counts *c = rp_shard_class(s, rp_class_of(usable));
    if (!shared) {
        rp_shard_add_free(c, usable);
        return;
    }
    add64(&c->frees, 1);
    add64(&c->freed_bytes, usable);
}

static void count_head(size_t field)
{
    int shared = 0;
    unsigned char *s = rp_self()->shard;
    if (!s)
        s = slow_shard(&shared);
    if (!s)
        return;
    uint64_t *p = (uint64_t *)(s + field);
    if (shared)
        add64(p, 1);
    else
        ++*p;
}

void rp_count_failed(void)
{
    count_head(offsetof(struct rp_shard_head, failed));
}

void rp_count_realloc(void)
{
    count_head(offsetof(struct rp_shard_head, reallocs));
}

static void lock_folds(void)
{
    while (__atomic_exchange_n(&fold_lock, 1, __ATOMIC_ACQUIRE))
        sched_yield();
}

static void unlock_folds(void)
{
    __atomic_store_n(&fold_lock, 0, __ATOMIC_RELEASE);
}

static void fold_into_retired(struct rp_ring *r, unsigned char *s)
{
    struct rp_header *h = r->hdr;
    unsigned char *ret = rp_ring_shard(r, RP_SHARD_SLOT_RETIRED);
    lock_folds();
    __atomic_store_n(&h->fold_seq, h->fold_seq + 1, __ATOMIC_RELEASE);
    for (uint32_t c = 0; c < h->nclasses; c++) {
        uint64_t *dst = (uint64_t *)rp_shard_class(ret, c), *src = (uint64_t *)rp_shard_class(s, c);
        for (size_t i = 0; i < RP_CLASS_COUNT_SIZE / sizeof(uint64_t); i++)
            dst[i] += src[i];
    }
    head_of(ret)->reallocs += head_of(s)->reallocs;
    head_of(ret)->failed += head_of(s)->failed;
    head_of(ret)->threads++;
    memset(s + sizeof(uint32_t), 0, (size_t)h->shard_size - sizeof(uint32_t));
    __atomic_store_n(&head_of(s)->kind, RP_SHARD_FREE, __ATOMIC_RELEASE);
    __atomic_store_n(&h->fold_seq, h->fold_seq + 1, __ATOMIC_RELEASE);
    unlock_folds();
}

/* The pthread key destructor: runs as the thread exits. Later calls on
 * this thread (other keys' destructors, glibc's own teardown) go to the
 * shared slot. */
static void on_thread_exit(void *arg)
{
    struct rp_ring *r = rp_current_ring();
    rp_req_thread_exit();
    rp_self()->shard = NULL;
    rp_self()->exited = 1;
    if (r && rp_ring_owns_shard(r, arg))
        fold_into_retired(r, arg);
}

void rp_shards_sum(const struct rp_ring *r, struct rp_class_sum *per_class, struct rp_totals *t)
{
    const uint64_t *seq = &r->hdr->fold_seq;
    for (int tries = 0;; tries++) {
        uint64_t before = __atomic_load_n(seq, __ATOMIC_ACQUIRE);
        if (!(before & 1) || tries > 100) {
            rp_ring_sum(r->hdr, r->base, per_class, t);
            if (__atomic_load_n(seq, __ATOMIC_ACQUIRE) == before || tries > 100)
                return;
        }
        sched_yield();
    }
}

int rp_shards_init(void)
{
    return pthread_key_create(&exit_key, on_thread_exit) == 0 ? 0 : -1;
}

void rp_shards_after_fork(void)
{
    rp_self()->shard = NULL;
    retry_in = 0;
    overflowed = 0;
    fold_lock = 0;
    pthread_setspecific(exit_key, NULL);
}
