/* rss.c -- see rss.h. */
#include <fcntl.h>
#include <malloc.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "allocator.h"
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

static void read_heap(struct rp_sample *s)
{
    s->heap_mapped = s->heap_in_use = s->heap_free = s->heap_releasable = RP_HEAP_UNKNOWN;
#ifdef HAVE_MALLINFO2
    if (rp_next_is_glibc) {
        struct mallinfo2 mi = mallinfo2();
        s->heap_mapped = mi.arena + mi.hblkhd;
        s->heap_in_use = mi.uordblks + mi.hblkhd;
        s->heap_free = mi.fordblks;
        s->heap_releasable = mi.keepcost;
    }
#endif
}

void rp_sample_take(struct rp_ring *r, struct rp_sample *out, int final)
{
    struct rp_totals t;
    struct timespec ts;

    memset(out, 0, sizeof *out);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    out->t_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec - r->hdr->start_mono_ns;
    read_rss(out);
    rp_shards_sum(r, NULL, &t);
    out->live_bytes = t.live_bytes;
    out->live_req_bytes = t.live_req_bytes;
    out->live_blocks = t.live_blocks;
    out->allocs = t.allocs;
    out->frees = t.frees;
    if (final) {
        out->heap_mapped = r->hdr->last.heap_mapped;
        out->heap_in_use = r->hdr->last.heap_in_use;
        out->heap_free = r->hdr->last.heap_free;
        out->heap_releasable = r->hdr->last.heap_releasable;
    } else {
        read_heap(out);
    }
}
