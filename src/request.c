/* request.c -- see request.h: the request pool, the charging of
 * allocations and frees, and what a request's end writes into the ring.
 *
 * Locking: one spin lock guards the pool, the route index, records,
 * route aggregates and marks; it is taken at a request's begin and end
 * and never on the hot path. A thread that would take it twice (a
 * signal handler that interrupted reqprof's own work on that thread)
 * leaves its request open, to be ended and recorded later.
 *
 * The ring's record and route writes use the seqlock protocol of
 * ring_format.h: seq odd, release fence, the fields, seq even (release).
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "clock.h"
#include "hot.h"
#include "lifecycle.h"
#include "request.h"
#include "shard.h"

#define SLAB_OBJS 32
#define MAX_SLABS 4096

/* On a line of its own, padded (so is rp_http_on, which every socket call
 * reads): every request's begin and end writes it. */
RP_HOT_DATA static union {
    int word;
    char line[64];
} lock_line __attribute__((aligned(64)));
static int fork_took_lock;

static struct rp_req *slabs[MAX_SLABS];
static unsigned nslabs;
RP_HOT_DATA static struct rp_req *free_list;
RP_HOT_DATA static uint64_t next_id = 1;

RP_HOT_DATA static uint32_t *route_index;      /* slot numbers of the ring's routes; 0 = empty */
RP_HOT_DATA static size_t route_index_mask;

/* Each thread keeps the route of its previous request (route_epoch,
 * route_slot, route_name in struct rp_req_thread): a server answers the
 * same few routes over and over, and comparing a name costs less than
 * hashing it. Routes are never taken out of a ring; a fork()ed child has
 * a new one, and a new routes_epoch. */
RP_HOT_DATA static uint32_t routes_epoch = 1;

/* ---- the hot path's part -------------------------------------------------- */

/* The request that takes a call charged to a finished request: the
 * next one pipelined on its connection, or none. */
static struct rp_req *successor(const struct rp_req *q)
{
    struct rp_req *next = q->next;
    return rp_req_is(next, q->next_id) ? next : NULL;
}

RP_HOT_ALLOC static void charge_alloc(struct rp_req *q, const void *p, unsigned cls, size_t usable)
{
    q->allocs++;
    q->bytes_alloc += usable;
    q->class_allocs[cls]++;
    q->touched[cls / 64] |= 1ull << (cls % 64);
    q->own_bytes += usable;
    q->own_blocks++;
    if (q->own_bytes > q->peak_bytes)
        q->peak_bytes = q->own_bytes;
    if (q->owned.n >= RP_OWNER_SLOTS / 4 * 3 || !rp_owners_add(&q->owned, p))
        q->flags |= RP_REQ_OWNERS_APPROX;
}

static inline __attribute__((always_inline)) void charge_free(struct rp_req *q, size_t usable, int own)
{
    q->frees++;
    q->bytes_freed += usable;
    own = own || ((q->flags & RP_REQ_OWNERS_APPROX) && q->own_blocks && q->own_bytes >= usable);
    if (own) {
        q->own_bytes -= usable;
        q->own_blocks--;
    } else {
        q->foreign_frees++;
        q->foreign_bytes += usable;
    }
}

/* ---- the gap between two socket calls ---------------------------------------
 *
 * An event loop's handler often allocates before its first socket call:
 * nginx allocates a connection's read buffer, or an upstream's response
 * buffer, and only then calls recv. Until that call, the thread still
 * charges the request of its previous socket call (another connection),
 * or none after it waited. So the allocations of each gap between two
 * socket calls are remembered (up to RP_GAP_MAX, while they stay live), and
 * when the next call turns out to serve another request, they move to it.
 * After a wait, or a socket call that serves no request, the thread
 * charges rp_limbo, which charges nobody but remembers the gap all the
 * same. Frees are not moved: a free in a gap is charged where the
 * thread is, and a gap's own blocks freed within it just leave the gap.
 * The gap is the thread's (struct rp_req_thread). */
struct rp_req rp_limbo;

static void gap_note(struct rp_req_thread *t, struct rp_req *q, const void *p, unsigned cls, size_t usable)
{
    if (t->gap_from != q || t->gap_n == RP_GAP_MAX)
        return;
    t->gap[t->gap_n++] = (struct rp_gap_alloc){ p, usable, cls };
}

static void gap_forget(struct rp_req_thread *t, const void *p)
{
    for (unsigned i = 0; i < t->gap_n; i++)
        if (t->gap[i].p == p) {
            t->gap[i] = t->gap[--t->gap_n];
            return;
        }
}

static void uncharge_alloc(struct rp_req *q, const struct rp_gap_alloc *g)
{
    q->allocs--;
    q->bytes_alloc -= g->usable;
    q->class_allocs[g->cls]--;
    q->own_bytes -= g->usable;
    q->own_blocks--;
}

/* Kept out of line so that rp_req_switch's common case, another socket
 * call for the request the thread serves, saves no registers. Only a
 * thread that has served an HTTP request (serves_http) charges rp_limbo
 * between socket calls, so an event loop that serves no HTTP keeps the
 * hot path's single branch. */
RP_HOT_HEAD static __attribute__((noinline)) void switch_request(struct rp_thread *me, struct rp_req *to)
{
    struct rp_req_thread *t = &me->rq;
    struct rp_req *from = t->gap_from;
    uint64_t from_id = t->gap_from_id;
    int from_open = from == &rp_limbo || rp_req_is(from, from_id);
    if (to && to != from && to->state == RP_REQ_OPEN && from_open) {
        for (unsigned i = 0; i < t->gap_n; i++) {
            const struct rp_gap_alloc *g = &t->gap[i];
            if (from != &rp_limbo) {
                if (!rp_owners_remove(&from->owned, g->p))
                    continue;
                uncharge_alloc(from, g);
            }
            charge_alloc(to, g->p, g->cls, g->usable);
        }
    }
    if (to && to->source == RP_SRC_HTTP)
        t->serves_http = 1;
    me->req = t->gap_from = to ? to : t->serves_http ? &rp_limbo : NULL;
    t->gap_from_id = to ? to->id : 0;
    t->gap_n = 0;
    /* a finished request is over once its thread moves on: to waiting,
     * or to another request's socket call (its clean-up came before) */
    if (from != to && from_open && from != &rp_limbo && from->finished)
        rp_req_end(from, from_id, from->closed_ns ? RP_END_CLOSE : RP_END_IDLE);
}

RP_HOT_IO void rp_req_switch(struct rp_req *to)
{
    struct rp_thread *me = rp_self();
    if (to == me->rq.gap_from && rp_req_is(to, me->rq.gap_from_id)) {
        /* another socket call for the request it serves: as below, with
         * nothing to move and nothing ended */
        me->req = to;
        me->rq.gap_n = 0;
        return;
    }
    switch_request(me, to);
}

void rp_req_thread_exit(void)
{
    struct rp_req_thread *t = &rp_self()->rq;
    struct rp_req *q = t->gap_from;
    if (q != &rp_limbo && rp_req_is(q, t->gap_from_id) && q->closed_ns)
        rp_req_end(q, t->gap_from_id, RP_END_CLOSE);
}

RP_HOT_ALLOC void rp_req_alloc(struct rp_req_thread *t, struct rp_req *q, const void *p, unsigned cls, size_t usable)
{
    if (q == &rp_limbo) {
        gap_note(t, q, p, cls, usable);
        return;
    }
    if (q->state != RP_REQ_OPEN)
        return;
    if (q->finished) {
        if ((q = successor(q)))
            charge_alloc(q, p, cls, usable);
        return;
    }
    gap_note(t, q, p, cls, usable);
    charge_alloc(q, p, cls, usable);   /* last, so that nothing need be kept across it */
}

/* A free of a block that is not q's own, q finished: its successor's, if
 * it has one (pipelining), else q's. Out of line, and out of the
 * allocation group: rare, and rp_req_free stays small without it. */
static __attribute__((noinline)) void free_after_answer(struct rp_req *q, const void *p, size_t usable)
{
    struct rp_req *next = successor(q);
    if (next)
        charge_free(next, usable, rp_owners_remove(&next->owned, p));
    else
        charge_free(q, usable, 0);
}

/* A finished request keeps the frees of its own blocks (its clean-up);
 * other frees go to its successor, when there is one. */
RP_HOT_ALLOC void rp_req_free(struct rp_req_thread *t, struct rp_req *q, const void *p, size_t usable)
{
    if (t->gap_n)
        gap_forget(t, p);
    if (q == &rp_limbo || q->state != RP_REQ_OPEN)   /* limbo's own page is not touched */
        return;
    int own = rp_owners_remove(&q->owned, p);
    if (!own && q->finished)
        free_after_answer(q, p, usable);
    else
        charge_free(q, usable, own);
}

/* ---- the lock and the pool ------------------------------------------------ */

/* The lock's wait, out of line: it is taken uncontended nearly always. */
static __attribute__((noinline)) int lock_contended(struct rp_req_thread *t, int patient)
{
    for (int tries = 0; __atomic_exchange_n(&lock_line.word, 1, __ATOMIC_ACQUIRE); tries++) {
        if (!patient && tries > 10000) {
            __atomic_signal_fence(__ATOMIC_SEQ_CST);
            t->lock_held = 0;
            return 0;
        }
        sched_yield();
    }
    return 1;
}

/* lock_held is set before the lock is taken and cleared after it is
 * released, with signal fences between: a signal handler on this thread
 * that wants the lock sees lock_held whenever this thread might hold it,
 * and gives up instead of spinning on itself. */
RP_HOT_REQUEST static int lock(struct rp_req_thread *t, int patient)
{
    if (t->lock_held)
        return 0;
    t->lock_held = 1;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (__builtin_expect(!__atomic_exchange_n(&lock_line.word, 1, __ATOMIC_ACQUIRE), 1))
        return 1;
    return lock_contended(t, patient);
}

static void unlock(struct rp_req_thread *t)
{
    __atomic_store_n(&lock_line.word, 0, __ATOMIC_RELEASE);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    t->lock_held = 0;
}

static void add_slab(void)
{
    if (nslabs == MAX_SLABS)
        return;
    void *m = mmap(NULL, SLAB_OBJS * sizeof(struct rp_req), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return;
    struct rp_req *slab = m;
    for (int i = SLAB_OBJS - 1; i >= 0; i--) {
        slab[i].next_free = free_list;
        free_list = &slab[i];
    }
    slabs[nslabs++] = slab;
}

static uint32_t thread_id(struct rp_req_thread *t)
{
    if (!t->tid)
        t->tid = (uint32_t)syscall(SYS_gettid);
    return t->tid;
}

/* CLOCK_MONOTONIC since r's start (0 without a ring). */
static inline __attribute__((always_inline)) uint64_t ring_now_ns(const struct rp_ring *r)
{
    uint64_t now = rp_clock_ns(CLOCK_MONOTONIC);
    return r && now > r->hdr->start_mono_ns ? now - r->hdr->start_mono_ns : 0;
}

RP_HOT_REQUEST uint64_t rp_req_now_ns(void)
{
    return ring_now_ns(rp_current_ring());
}

void rp_req_count(size_t field)
{
    struct rp_ring *r = rp_current_ring();
    if (r)
        __atomic_fetch_add((uint64_t *)((unsigned char *)r->hdr + field), 1, __ATOMIC_RELAXED);
}

/* A counter only ever written under the lock: a plain increment, stored
 * whole for readers. Not an atomic add: on x86 that waits for every store
 * before it to reach the cache, and at a request's end those are the
 * record's, on lines that are cold by design (the record ring is larger
 * than any cache); perf put more than half of rp_req_end's time there. */
static void count_locked(uint64_t *counter)
{
    __atomic_store_n(counter, *counter + 1, __ATOMIC_RELAXED);
}

RP_HOT_REQUEST struct rp_req *rp_req_begin(uint16_t source)
{
    struct rp_ring *r = rp_current_ring();
    if (!r)
        return NULL;
    struct rp_thread *me = rp_self();
    struct rp_req_thread *t = &me->rq;
    int *errno_at = rp_errno(me), saved_errno = *errno_at;
    uint64_t now = ring_now_ns(r);
    struct rp_req *q = NULL;
    if (lock(t, 1)) {
        if (!free_list)
            add_slab();
        q = free_list;
        if (q) {
            free_list = q->next_free;
            /* rp_req_end left class_allocs and owned empty */
            memset(q, 0, offsetof(struct rp_req, class_allocs));
            q->route[0] = '\0';
            q->next = NULL;
            q->source = source;
            q->fd = -1;
            q->tid = thread_id(t);
            q->start_ns = now;
            q->state = RP_REQ_OPEN;
            __atomic_store_n(&q->id, next_id++, __ATOMIC_RELEASE);
            count_locked(&r->hdr->req_begun);
        }
        unlock(t);
    }
    *errno_at = saved_errno;
    return q;
}

_Static_assert(RP_ROUTE_LEN <= 256, "route_len is a uint8_t");

/* Route names are copied and compared here, 8 bytes at a time, not with
 * memcpy and strcmp: those are calls into libc through the GOT, two pages
 * of their own at every request's begin and end (hot.h). The last word
 * overlaps the one before it; a text shorter than 8 bytes (no route is
 * shorter than "GET /" and its NUL, but a tag may be) goes 4 bytes, or a
 * byte, at a time. */
static inline uint64_t load8(const char *p)
{
    uint64_t w;
    __builtin_memcpy(&w, p, 8);
    return w;
}

static inline uint32_t load4(const char *p)
{
    uint32_t w;
    __builtin_memcpy(&w, p, 4);
    return w;
}

RP_HOT_REQUEST static void copy_text(char *dst, const char *src, size_t n)
{
    if (n >= 8) {
        for (size_t i = 0; i + 8 < n; i += 8) {
            uint64_t w = load8(src + i);
            __builtin_memcpy(dst + i, &w, 8);
        }
        uint64_t last = load8(src + n - 8);
        __builtin_memcpy(dst + n - 8, &last, 8);
    } else if (n >= 4) {
        uint32_t first = load4(src), last = load4(src + n - 4);
        __builtin_memcpy(dst, &first, 4);
        __builtin_memcpy(dst + n - 4, &last, 4);
    } else {
        if (n > 0)
            dst[0] = src[0];
        if (n > 1)
            dst[1] = src[1];
        if (n > 2)
            dst[2] = src[2];
    }
}

static int same_text(const char *a, const char *b, size_t n)
{
    if (n >= 8) {
        for (size_t i = 0; i + 8 < n; i += 8)
            if (load8(a + i) != load8(b + i))
                return 0;
        return load8(a + n - 8) == load8(b + n - 8);
    }
    if (n >= 4)
        return load4(a) == load4(b) && load4(a + n - 4) == load4(b + n - 4);
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

RP_HOT_REQUEST void rp_req_set_route(struct rp_req *q, const char *route, size_t len)
{
    if (len >= RP_ROUTE_LEN)
        len = RP_ROUTE_LEN - 1;
    copy_text(q->route, route, len);
    q->route[len] = '\0';
    q->route_len = (uint8_t)len;
}

static int owners_dirty(const struct rp_req *q)
{
    return q->owned.n || (q->flags & RP_REQ_OWNERS_APPROX);
}

/* Under the lock: q is no request any more, and nobody charges it. Its
 * class counts are cleared here, a few touched ones, so that the next
 * begin need not clear them all. */
RP_HOT_REQUEST static void retire(struct rp_req *q)
{
    for (unsigned w = 0; w < sizeof q->touched / sizeof q->touched[0]; w++)
        for (uint64_t bits = q->touched[w]; bits; bits &= bits - 1)
            q->class_allocs[w * 64 + (unsigned)__builtin_ctzll(bits)] = 0;
    q->state = RP_REQ_FREE;
    __atomic_store_n(&q->id, 0, __ATOMIC_RELEASE);
}

/* Under the lock: q goes back to the pool; its own-block table is empty. */
static void give_back(struct rp_req *q)
{
    q->next_free = free_list;
    free_list = q;
}

/* ---- routes and records --------------------------------------------------- */

static unsigned char *route_at(struct rp_ring *r, uint32_t slot)
{
    return r->base + r->hdr->route_off + (size_t)slot * r->hdr->route_size;
}

static size_t name_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return (size_t)h;
}

static int index_ready(struct rp_ring *r)
{
    if (route_index)
        return 1;
    size_t cap = 1;
    while (cap < 2 * (size_t)r->hdr->route_cap)
        cap <<= 1;
    void *m = mmap(NULL, cap * sizeof *route_index, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return 0;
    route_index = m;
    route_index_mask = cap - 1;
    return 1;
}

/* The route slot for name, filled in if it is new; RP_ROUTE_OTHER when
 * the table is full. A new slot's name is written before routes_used
 * counts it, so a reader never sees a counted slot without its name. */
static uint32_t route_slot(struct rp_ring *r, const char *name)
{
    struct rp_header *h = r->hdr;
    if (!index_ready(r))
        return RP_ROUTE_OTHER;
    size_t i = name_hash(name) & route_index_mask;
    for (uint32_t slot; (slot = route_index[i]) != 0; i = (i + 1) & route_index_mask)
        if (strcmp((const char *)route_at(r, slot), name) == 0)
            return slot;
    if (h->routes_used >= h->route_cap) {
        rp_req_count(offsetof(struct rp_header, req_other_route));
        return RP_ROUTE_OTHER;
    }
    uint32_t slot = (uint32_t)h->routes_used;
    memcpy(route_at(r, slot), name, strlen(name) + 1);
    __atomic_store_n(&h->routes_used, slot + 1, __ATOMIC_RELEASE);
    route_index[i] = slot;
    return slot;
}

static void seq_begin(uint64_t *seq, uint64_t odd)
{
    __atomic_store_n(seq, odd, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

static void seq_end(uint64_t *seq, uint64_t even)
{
    __atomic_store_n(seq, even, __ATOMIC_RELEASE);
}

static void bump_max(uint64_t *max, uint64_t v)
{
    if (v > *max)
        *max = v;
}

/* The bucket of a request's peak or left bytes (ring_format.h): class 0
 * is exactly 0 bytes. */
static unsigned dist_bucket(uint64_t bytes)
{
    unsigned c = rp_class_of(bytes);
    return bytes == 0 ? 0 : c > 0 ? c : 1;
}

static void add_to_route(struct rp_ring *r, uint32_t slot, const struct rp_req *q, uint64_t duration)
{
    unsigned char *base = route_at(r, slot);
    struct rp_route_head *rt = (struct rp_route_head *)base;
    uint64_t *hist = (uint64_t *)(base + RP_ROUTE_HEAD_SIZE);
    uint32_t n = r->hdr->nclasses;

    seq_begin(&rt->seq, rt->seq + 1);
    rt->requests++;
    rt->allocs += q->allocs;
    rt->frees += q->frees;
    rt->bytes_alloc += q->bytes_alloc;
    rt->bytes_freed += q->bytes_freed;
    rt->foreign_frees += q->foreign_frees;
    rt->foreign_bytes += q->foreign_bytes;
    rt->peak_sum += q->peak_bytes;
    bump_max(&rt->peak_max, q->peak_bytes);
    rt->left_sum += q->own_bytes;
    bump_max(&rt->left_max, q->own_bytes);
    rt->left_blocks += q->own_blocks;
    rt->leaky += q->own_blocks > 0;
    rt->duration_sum_ns += duration;
    bump_max(&rt->duration_max_ns, duration);
    rt->approx += (q->flags & RP_REQ_OWNERS_APPROX) != 0;
    rt->unanswered += (q->flags & RP_REQ_NO_RESPONSE) != 0;
    for (unsigned w = 0; w < sizeof q->touched / sizeof q->touched[0]; w++)
        for (uint64_t bits = q->touched[w]; bits; bits &= bits - 1) {
            unsigned c = w * 64 + (unsigned)__builtin_ctzll(bits);
            hist[RP_ROUTE_HIST_ALLOCS * n + c] += q->class_allocs[c];
        }
    hist[RP_ROUTE_HIST_PEAK * n + dist_bucket(q->peak_bytes)]++;
    hist[RP_ROUTE_HIST_LEFT * n + dist_bucket(q->own_bytes)]++;
    seq_end(&rt->seq, rt->seq + 1);
}

static void write_record(struct rp_ring *r, const struct rp_req *q, uint32_t slot,
                         enum rp_req_end why, uint64_t end_ns)
{
    struct rp_header *h = r->hdr;
    uint64_t i = h->records_written;
    struct rp_record *rec = (struct rp_record *)(r->base + h->record_off
                                                 + (i % h->record_cap) * sizeof *rec);
    seq_begin(&rec->seq, 2 * i + 1);
    rec->id = q->id;
    rec->tid = q->tid;
    rec->route = slot;
    rec->source = q->source;
    rec->end_reason = (uint16_t)why;
    rec->status = q->status;
    rec->flags = q->flags;
    rec->start_ns = q->start_ns;
    rec->end_ns = end_ns;
    rec->allocs = q->allocs;
    rec->frees = q->frees;
    rec->bytes_alloc = q->bytes_alloc;
    rec->bytes_freed = q->bytes_freed;
    rec->foreign_frees = q->foreign_frees;
    rec->foreign_bytes = q->foreign_bytes;
    rec->peak_bytes = q->peak_bytes;
    rec->left_bytes = q->own_bytes;
    rec->left_blocks = q->own_blocks;
    rec->conn = q->conn;
    /* the tag and its NUL only: what follows in the field is not read, and
     * the record's last cache line, as cold as the rest, is not touched
     * for a tag shorter than 64 bytes */
    copy_text(rec->route_text, q->route, (size_t)q->route_len + 1);
    seq_end(&rec->seq, 2 * i + 2);
    __atomic_store_n(&h->records_written, i + 1, __ATOMIC_RELEASE);
}

RP_HOT_REQUEST void rp_req_end(struct rp_req *q, uint64_t id, enum rp_req_end why)
{
    if (!q)
        return;
    struct rp_thread *me = rp_self();
    struct rp_req_thread *t = &me->rq;
    if (me->req == q && (id == 0 || q->id == id))
        me->req = NULL;
    if (t->gap_from == q) {
        t->gap_from = NULL;
        t->gap_n = 0;
    }
    struct rp_ring *r = rp_current_ring();
    int *errno_at = rp_errno(me), saved_errno = *errno_at; /* mapping the route index makes a system call */
    uint64_t end_ns = q->closed_ns ? q->closed_ns : ring_now_ns(r);
    if (!lock(t, why != RP_END_EXIT)) {
        /* a signal handler that interrupted this thread's own use of the
         * lock: the request stays open and ends later; at exit, with the
         * lock held elsewhere for too long, it is lost */
        if (why == RP_END_EXIT && rp_req_is(q, id ? id : q->id))
            rp_req_count(offsetof(struct rp_header, req_lost));
        *errno_at = saved_errno;
        return;
    }
    int ended = q->state == RP_REQ_OPEN && (id == 0 || q->id == id);
    if (ended) {
        if (r) {
            if (!q->route[0])
                rp_req_set_route(q, "(untagged)", 10);
            uint32_t slot = t->route_slot;
            if (t->route_epoch != routes_epoch || !same_text(t->route_name, q->route, q->route_len + 1u)) {
                slot = route_slot(r, q->route);
                if (slot != RP_ROUTE_OTHER) {
                    t->route_epoch = routes_epoch;
                    t->route_slot = slot;
                    copy_text(t->route_name, q->route, q->route_len + 1u);
                }
            }
            uint64_t duration = end_ns > q->start_ns ? end_ns - q->start_ns : 0;
            write_record(r, q, slot, why, end_ns);
            add_to_route(r, slot, q, duration);
            count_locked(&r->hdr->req_ended);
        }
        retire(q);
        if (!owners_dirty(q))
            give_back(q);
    }
    unlock(t);
    /* a table with blocks left (8 KiB) is cleared outside the lock */
    if (ended && owners_dirty(q)) {
        rp_owners_clear(&q->owned);
        q->flags = 0;
        if (lock(t, 1)) {     /* else the object is left out of the pool, never misused */
            give_back(q);
            unlock(t);
        }
    }
    *errno_at = saved_errno;
}

int rp_req_mark(const char *label)
{
    struct rp_ring *r = rp_current_ring();
    struct rp_req_thread *t = &rp_self()->rq;
    if (!r || !lock(t, 1))
        return 0;
    struct rp_header *h = r->hdr;
    uint64_t i = h->marks_written;
    struct rp_mark *m = (struct rp_mark *)(r->base + h->mark_off + (i % h->mark_cap) * sizeof *m);
    seq_begin(&m->seq, 2 * i + 1);
    m->t_ns = ring_now_ns(r);
    m->tid = thread_id(t);
    m->requests = h->req_ended;
    size_t len = label ? strnlen(label, sizeof m->label - 1) : 0;
    memcpy(m->label, label ? label : "", len);
    memset(m->label + len, 0, sizeof m->label - len);
    seq_end(&m->seq, 2 * i + 2);
    __atomic_store_n(&h->marks_written, i + 1, __ATOMIC_RELEASE);
    unlock(t);
    return 1;
}

/* ---- exit and fork -------------------------------------------------------- */

/* Ends every open request (of source `source`, or any with 0). */
static void end_open(uint16_t source, enum rp_req_end why)
{
    unsigned n = __atomic_load_n(&nslabs, __ATOMIC_ACQUIRE);
    for (unsigned s = 0; s < n; s++)
        for (int i = 0; i < SLAB_OBJS; i++) {
            struct rp_req *q = &slabs[s][i];
            uint64_t id = __atomic_load_n(&q->id, __ATOMIC_ACQUIRE);
            if (id && q->state == RP_REQ_OPEN && (!source || q->source == source))
                rp_req_end(q, id, why);
        }
}

void rp_requests_at_exit(void)
{
    end_open(0, RP_END_EXIT);
}

void rp_requests_end_http(void)
{
    end_open(RP_SRC_HTTP, RP_END_CLOSE);
}

void rp_requests_before_fork(void)
{
    fork_took_lock = lock(&rp_self()->rq, 1);
}

void rp_requests_after_fork_parent(void)
{
    if (fork_took_lock)
        unlock(&rp_self()->rq);
}

void rp_requests_after_fork_child(void)
{
    /* the free list came with the parent's memory; what the parent had
     * open joins it. Objects that were free are not written, so the child
     * copies none of their pages. */
    for (unsigned s = 0; s < nslabs; s++)
        for (int i = 0; i < SLAB_OBJS; i++) {
            struct rp_req *q = &slabs[s][i];
            if (!q->id)
                continue;
            if (owners_dirty(q))
                rp_owners_clear(&q->owned);
            retire(q);
            give_back(q);
        }
    if (route_index)
        memset(route_index, 0, (route_index_mask + 1) * sizeof *route_index);
    routes_epoch++;
    struct rp_thread *me = rp_self();
    me->req = NULL;
    me->rq.gap_from = NULL;
    me->rq.gap_n = 0;
    me->rq.tid = 0;
    lock_line.word = 0;       /* whoever held it in the parent is not in the child */
    me->rq.lock_held = 0;
}
