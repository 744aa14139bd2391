/* rss.c -- see rss.h.
 *
 * mallinfo2 walks every free chunk of every arena, holding each arena's
 * lock: on a heap of two million free chunks that is 35 ms in which the
 * host's mallocs on that arena wait. So it is timed: when a call takes
 * more than SLOW_NS, the next samples repeat its figures instead of
 * asking again, twice as many after each slow call, up to MAX_SKIP; a
 * fast call resets that. REQPROF_HEAP_STATS=0 never asks. */
#include <fcntl.h>
#include <malloc.h>
#include <string.h>
#include <unistd.h>
#include "allocator.h"
#include "clock.h"
#include "procfs.h"
#include "ring_sum.h"
#include "rss.h"
#include "shard.h"

static uint64_t next_number(const char **p)
{
    uint64_t v = 0;
    while (**p == ' ')
        (*p)++;
    for (; **p >= '0' && **p <= '9'; (*p)++)
        v = v * 10 + (uint64_t)(**p - '0');
    return v;
}

/* /proc/self/statm: size resident shared text lib data dt, in pages. */
static void read_rss(struct rp_sample *s)
{
    char buf[256];
    const char *p = buf;
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    rp_proc_read("/proc/self/statm", buf, sizeof buf);
    next_number(&p);
    s->rss_bytes = next_number(&p) * page;
    s->rss_file_bytes = next_number(&p) * page;
}

#define SLOW_NS 2000000u
#define MAX_SKIP 64u

static unsigned skip_next, skip_after_slow = 1;

static void repeat_heap(const struct rp_ring *r, struct rp_sample *s)
{
    s->heap_mapped = r->hdr->last.heap_mapped;
    s->heap_in_use = r->hdr->last.heap_in_use;
    s->heap_free = r->hdr->last.heap_free;
    s->heap_releasable = r->hdr->last.heap_releasable;
}

static void read_heap(const struct rp_ring *r, struct rp_sample *s, enum rp_heap_ask heap)
{
    s->heap_mapped = s->heap_in_use = s->heap_free = s->heap_releasable = RP_HEAP_UNKNOWN;
    if (heap == RP_HEAP_NONE || !rp_next_is_glibc)
        return;
    if (heap == RP_HEAP_REPEAT) {
        repeat_heap(r, s);
        return;
    }
    if (skip_next > 0) {
        skip_next--;
        repeat_heap(r, s);
        return;
    }
#ifdef HAVE_MALLINFO2
    uint64_t start = rp_clock_ns(CLOCK_MONOTONIC);
    struct mallinfo2 mi = mallinfo2();
    if (rp_clock_ns(CLOCK_MONOTONIC) - start > SLOW_NS) {
        skip_next = skip_after_slow;
        skip_after_slow = skip_after_slow < MAX_SKIP ? 2 * skip_after_slow : MAX_SKIP;
    } else {
        skip_after_slow = 1;
    }
    s->heap_mapped = mi.arena + mi.hblkhd;
    s->heap_in_use = mi.uordblks + mi.hblkhd;
    s->heap_free = mi.fordblks;
    s->heap_releasable = mi.keepcost;
#endif
}

void rp_sample_take(struct rp_ring *r, struct rp_sample *out, enum rp_heap_ask heap)
{
    struct rp_totals t;

    memset(out, 0, sizeof *out);
    out->t_ns = rp_clock_ns(CLOCK_MONOTONIC) - r->hdr->start_mono_ns;
    read_rss(out);
    rp_shards_sum(r, NULL, &t);
    out->live_bytes = t.live_bytes;
    out->live_req_bytes = t.live_req_bytes;
    out->live_blocks = t.live_blocks;
    out->allocs = t.allocs;
    out->frees = t.frees;
    read_heap(r, out, heap);
}
