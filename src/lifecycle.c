/* lifecycle.c -- see lifecycle.h.
 *
 * Locks: none on the hot path. Starting is guarded by a state word (other
 * threads wait while one thread starts reqprof; the starting thread's own
 * nested calls are passed through by rp_self()->busy). Samples are taken by
 * the host's threads (rp_sample_if_due) and at exit under a spin lock,
 * which a fork()ed child re-creates unlocked along with everything else.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "allocator.h"
#include "clock.h"
#include "conn.h"
#include "hot.h"
#include "lifecycle.h"
#include "log.h"
#include "procfs.h"
#include "request.h"
#include "ring_sum.h"
#include "rss.h"
#include "series.h"
#include "settings.h"
#include "shard.h"

enum { NEW, STARTING, ON, OFF };

RP_HOT_DATA static int state = NEW;
RP_HOT_DATA static struct rp_ring ring;
static struct rp_settings settings;
static int sample_lock;
static int exited;                                  /* the final sample is taken, or given up */
static struct rp_class_sum live_at_fork[RP_NCLASSES]; /* the parent's, for the child */

static const char *env(const char *name)
{
    return getenv(name);
}

static int start(void)
{
    rp_log_init();
    if (rp_next_resolve() < 0)
        return OFF;
    rp_settings_load(&settings, env);
    if (!settings.enabled)
        return OFF;
    if (rp_ring_create(&ring, &settings, 0) < 0)
        return OFF;
    if (rp_shards_init() < 0) {
        rp_log("cannot create a pthread key; counting off", NULL);
        return OFF;
    }
    rp_conn_settings(settings.http_detect, settings.route_paths);
    return ON;
}

struct rp_ring *rp_active_ring(void)
{
    int s = __atomic_load_n(&state, __ATOMIC_ACQUIRE);
    if (s == NEW) {
        int expect = NEW;
        if (__atomic_compare_exchange_n(&state, &expect, STARTING, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            __atomic_store_n(&state, start(), __ATOMIC_RELEASE);
    }
    while ((s = __atomic_load_n(&state, __ATOMIC_ACQUIRE)) == STARTING)
        sched_yield();
    return s == ON ? &ring : NULL;
}

RP_HOT_ALLOC struct rp_ring *rp_current_ring(void)
{
    return __atomic_load_n(&state, __ATOMIC_ACQUIRE) == ON ? &ring : NULL;
}

/* The due check's clock: coarse is enough for an interval, and cheaper. */
static uint64_t coarse_ns(void)
{
    return rp_clock_ns(CLOCK_MONOTONIC_COARSE);
}

/* When the next sample is due (coarse_ns), UINT64_MAX for never: read
 * by every check, written under the sample lock. */
RP_HOT_DATA static uint64_t next_sample_ns = UINT64_MAX;

/* Takes a sample into the ring; the caller holds the sample lock. */
static void sample_locked(enum rp_heap_ask heap, int final)
{
    struct rp_sample s;
    if (final)
        __atomic_store_n(&exited, 1, __ATOMIC_RELAXED);
    rp_sample_take(&ring, &s, heap);
    rp_proc_title(ring.hdr->title, sizeof ring.hdr->title);
    rp_series_append(&ring, &s, final);
    uint64_t next = settings.interval_ms && !final ? coarse_ns() + settings.interval_ms * 1000000ull
                                                   : UINT64_MAX;
    __atomic_store_n(&next_sample_ns, next, __ATOMIC_RELAXED);
}

/* A sample between start and exit, unless another thread is taking one
 * (which does as well) or the interval is 0. It reads /proc, and open
 * and read are cancellation points: the host's thread must not be
 * cancelled there, holding the lock. */
static void sample_now(enum rp_heap_ask heap)
{
    int cancel;
    if (!settings.interval_ms || __atomic_exchange_n(&sample_lock, 1, __ATOMIC_ACQUIRE))
        return;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
    if (!__atomic_load_n(&exited, __ATOMIC_RELAXED) && rp_current_ring())
        sample_locked(heap, 0);
    pthread_setcancelstate(cancel, NULL);
    __atomic_store_n(&sample_lock, 0, __ATOMIC_RELEASE);
}

static enum rp_heap_ask heap_stats(void)
{
    return settings.heap_stats ? RP_HEAP_ASK : RP_HEAP_NONE;
}

/* The last sample, at exit. No sample starts after this one; a thread
 * may be taking one (mallinfo2 on a large heap takes milliseconds): exit
 * waits up to FINAL_WAIT_NS for it, then gives up its own sample rather
 * than hang the host. */
#define FINAL_WAIT_NS 100000000u

static void final_sample(void)
{
    __atomic_store_n(&next_sample_ns, UINT64_MAX, __ATOMIC_RELAXED);
    uint64_t give_up = coarse_ns() + FINAL_WAIT_NS;
    while (__atomic_exchange_n(&sample_lock, 1, __ATOMIC_ACQUIRE)) {
        if (coarse_ns() > give_up) {
            __atomic_store_n(&exited, 1, __ATOMIC_RELAXED);
            return;
        }
        sched_yield();
    }
    if (!exited)
        sample_locked(RP_HEAP_REPEAT, 1);
    __atomic_store_n(&sample_lock, 0, __ATOMIC_RELEASE);
}

/* There is no sampler thread: a thread of ours would make a
 * single-threaded server multi-threaded, and glibc then takes its slower
 * paths on every cancellable system call and in malloc (nginx: some 330
 * instructions a request, a fork()ed worker inheriting the state from a
 * master that had the thread). The host's own threads take the samples,
 * when one is due, as they allocate (shard.h asks every
 * RP_SAMPLE_CHECK allocations of a class) and as they go to wait in
 * epoll_wait; a process also takes one as it forks. One that does none
 * of these is not sampled until it does, or until it exits: it allocates
 * nothing meanwhile. */
RP_HOT_ALLOC void rp_sample_if_due(void)
{
    if (coarse_ns() < __atomic_load_n(&next_sample_ns, __ATOMIC_RELAXED))
        return;
    struct rp_thread *me = rp_self();
    if (me->busy)
        return;
    int saved_errno = errno;
    me->busy = 1;
    sample_now(heap_stats());
    me->busy = 0;
    errno = saved_errno;
}

/* In the parent, just before fork(): what is live now is what the child
 * will inherit. Taken here because the parent's ring is shared, not
 * copied: by the time the child runs, the parent may have freed it.
 * From here until our parent or child handler, the forking thread's calls
 * pass uncounted: other libraries' fork handlers run in that window, and
 * in the child they would count into the parent's ring, which is shared. */
static int busy_at_fork;

static void before_fork(void)
{
    struct rp_totals t;
    struct rp_thread *me = rp_self();
    busy_at_fork = me->busy;
    if (!rp_current_ring())
        return;
    me->busy = 1;
    /* fork may be called from a signal handler that interrupted malloc:
     * the allocator is not asked (its locks) */
    sample_now(RP_HEAP_REPEAT);
    rp_shards_sum(&ring, live_at_fork, &t);
    rp_requests_before_fork();
}

static void after_fork_parent(void)
{
    if (rp_current_ring())
        rp_requests_after_fork_parent();
    rp_self()->busy = busy_at_fork;
}

static void write_inherited(void)
{
    unsigned char *inh = rp_ring_shard(&ring, RP_SHARD_SLOT_INHERITED);
    for (unsigned c = 0; c < RP_NCLASSES; c++) {
        struct rp_class_counts *cc = rp_shard_class(inh, c);
        cc->allocs = rp_class_live_blocks(&live_at_fork[c]);
        cc->usable_bytes = rp_class_live_bytes(&live_at_fork[c]);
        cc->req_bytes = rp_class_live_req(&live_at_fork[c]);
    }
}

static void after_fork_child(void)
{
    struct rp_ring parent = ring;
    if (__atomic_load_n(&state, __ATOMIC_ACQUIRE) != ON)
        return;
    int saved_errno = errno;
    rp_shards_after_fork(); /* first: from here on, no count lands in the parent's ring */
    sample_lock = 0;
    if (rp_ring_create(&ring, &settings, parent.hdr->pid) < 0) {
        state = OFF;
        next_sample_ns = UINT64_MAX;
        rp_conn_settings(0, 0);
    } else {
        write_inherited();
    }
    rp_requests_after_fork_child();
    rp_conns_after_fork_child();
    rp_ring_unmap(&parent);
    /* the allocator may be asked here: glibc's fork re-creates the arena
     * locks in the child of a multi-threaded parent, and a single-threaded
     * one takes none */
    if (state == ON)
        sample_now(heap_stats());
    rp_self()->busy = busy_at_fork;
    errno = saved_errno;
}

/* _Fork() runs no fork handlers: it is for signal handlers and for
 * children that go straight to exec, where making a ring is not safe.
 * Its child stops counting (until it execs) instead of counting into
 * the parent's ring, which it shares. Looked up at start, as dlsym is
 * not async-signal-safe. */
static pid_t (*next_Fork)(void);

__attribute__((visibility("default")))
pid_t _Fork(void)
{
    if (!next_Fork)
        next_Fork = (pid_t (*)(void))dlsym(RTLD_NEXT, "_Fork");
    pid_t pid = next_Fork();
    if (pid == 0) {
        __atomic_store_n(&state, OFF, __ATOMIC_RELEASE);
        next_sample_ns = UINT64_MAX;
        rp_conn_settings(0, 0);
        struct rp_thread *me = rp_self();
        me->shard = NULL;
        me->req = NULL;
    }
    return pid;
}

__attribute__((constructor))
static void reqprof_start(void)
{
    rp_clock_init();
    next_Fork = (pid_t (*)(void))dlsym(RTLD_NEXT, "_Fork");
    struct rp_thread *me = rp_self();
    me->busy = 1;
    if (rp_active_ring()) {
        pthread_atfork(before_fork, after_fork_parent, after_fork_child);
        sample_now(heap_stats());
    }
    me->busy = 0;
}

/* Marks the ring as ended by exit, or removes it if it holds nothing. */
static void mark_exited(struct rp_ring *r)
{
    if (rp_ring_remove_if_idle_child(r))
        return;
    r->hdr->end_real_ns = rp_clock_ns(CLOCK_REALTIME);
    __atomic_store_n(&r->hdr->state, RP_STATE_EXITED, __ATOMIC_RELEASE);
}

__attribute__((destructor))
static void reqprof_exit(void)
{
    struct rp_ring *r = rp_current_ring();
    /* a vfork()ed child or a _Fork() child shares or copied the parent's ring */
    if (!r || r->hdr->pid != (uint32_t)getpid())
        return;
    struct rp_thread *me = rp_self();
    int busy = me->busy;
    me->busy = 1;
    rp_conn_settings(0, 0);   /* what runs after us (other destructors) opens no request */
    rp_requests_at_exit();
    final_sample();
    mark_exited(r);
    me->busy = busy;
}

/* A process that leaves through _exit() (shells do) runs no destructor,
 * so its ring is marked here. _exit() may be called from a signal
 * handler that interrupted malloc, so no sample is taken (mallinfo2
 * could wait for a lock the interrupted call holds). A vfork()ed child
 * shares its parent's memory, ring included: its pid tells it apart. */
__attribute__((visibility("default")))
void _exit(int status)
{
    struct rp_ring *r = rp_current_ring();
    if (r && r->hdr->pid == (uint32_t)getpid())
        mark_exited(r);
    syscall(SYS_exit_group, status);
    __builtin_unreachable();
}

__attribute__((visibility("default")))
void _Exit(int status)
{
    _exit(status);
}
