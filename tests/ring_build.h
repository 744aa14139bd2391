/* ring_build.h -- valid ring files built in memory, for the reader's tests
 * (tests/unit/test_ring_read.c, and tests/progs/mkring.c for the shell
 * tests). It follows ring_format.h field by field, laid out the way
 * src/ring.c lays a ring out (each region on its own pages), but it does
 * not share the writer's code: a test that built rings with the writer
 * could not catch the writer and reader misreading the format alike.
 *
 * The counters are fixed, so a test knows what a correct reader sums:
 *
 *   slot 0 RETIRED    10 allocs of 100 bytes (usable 112), all freed;
 *                     1 realloc; 2 threads folded
 *   slot 1 SHARED     4 allocs of 20 bytes (usable 24), 1 freed
 *   slot 2 INHERITED  3 blocks of 4000 bytes (usable 4096) when forked
 *   each thread slot  5 allocs of 20 bytes (usable 24), 2 freed; 1 failed
 *
 * With T threads and a fork parent: allocs 14 + 5T, frees 11 + 2T, live
 * blocks 6 + 3T, live bytes (3 + 3T) * 24 + 3 * 4096.
 */
#ifndef REQPROF_RING_BUILD_H
#define REQPROF_RING_BUILD_H

#include <stdlib.h>
#include <string.h>
#include "ring_format.h"
#include "sizeclass.h"

#define RB_PAGE 4096u

struct rb_spec {
    uint32_t pid, ppid, fork_parent;  /* fork_parent 0: slot 2 is FREE */
    uint32_t state;                   /* enum rp_state */
    uint64_t proc_start_ticks;
    uint32_t version;
    uint32_t threads;                 /* thread slots in use, after the three special ones */
    uint32_t free_slots;              /* unused thread slots after those */
    uint32_t series_cap, series_count;
    uint64_t start_real_ns;
    const char *prog, *title;
};

__attribute__((unused))
static struct rb_spec rb_default_spec(void)
{
    return (struct rb_spec){
        .pid = 4242, .ppid = 1, .fork_parent = 4200, .state = RP_STATE_EXITED,
        .version = RP_RING_VERSION, .threads = 2, .free_slots = 1,
        .series_cap = 16, .series_count = 10, .start_real_ns = 1700000000000000000ull,
        .prog = "testprog", .title = "testprog: worker process",
    };
}

static uint64_t rb_round_up(uint64_t v)
{
    return (v + RB_PAGE - 1) / RB_PAGE * RB_PAGE;
}

static struct rp_class_counts *rb_counts(unsigned char *buf, const struct rp_header *h,
                                         uint32_t slot, size_t usable)
{
    return (struct rp_class_counts *)(buf + h->shard_off + (uint64_t)slot * h->shard_size +
                                      RP_SHARD_HEAD_SIZE + rp_class_of(usable) * RP_CLASS_COUNT_SIZE);
}

static struct rp_shard_head *rb_head(unsigned char *buf, const struct rp_header *h, uint32_t slot)
{
    return (struct rp_shard_head *)(buf + h->shard_off + (uint64_t)slot * h->shard_size);
}

static void rb_count(struct rp_class_counts *c, uint64_t allocs, uint64_t frees, uint64_t req, uint64_t usable)
{
    c->allocs += allocs;
    c->frees += frees;
    c->req_bytes += allocs * req;
    c->usable_bytes += allocs * usable;
    c->freed_bytes += frees * usable;
}

static void rb_fill_shards(unsigned char *buf, const struct rp_header *h, const struct rb_spec *s)
{
    rb_head(buf, h, RP_SHARD_SLOT_RETIRED)->kind = RP_SHARD_RETIRED;
    rb_head(buf, h, RP_SHARD_SLOT_RETIRED)->reallocs = 1;
    rb_head(buf, h, RP_SHARD_SLOT_RETIRED)->threads = 2;
    rb_count(rb_counts(buf, h, RP_SHARD_SLOT_RETIRED, 112), 10, 10, 100, 112);
    rb_head(buf, h, RP_SHARD_SLOT_SHARED)->kind = RP_SHARD_SHARED;
    rb_count(rb_counts(buf, h, RP_SHARD_SLOT_SHARED, 24), 4, 1, 20, 24);
    if (s->fork_parent) {
        rb_head(buf, h, RP_SHARD_SLOT_INHERITED)->kind = RP_SHARD_INHERITED;
        rb_count(rb_counts(buf, h, RP_SHARD_SLOT_INHERITED, 4096), 3, 0, 4000, 4096);
    }
    for (uint32_t t = 0; t < s->threads; t++) {
        uint32_t slot = RP_SHARD_FIRST_THREAD + t;
        rb_head(buf, h, slot)->kind = RP_SHARD_THREAD;
        rb_head(buf, h, slot)->tid = s->pid + t;
        rb_head(buf, h, slot)->failed = 1;
        rb_count(rb_counts(buf, h, slot, 24), 5, 2, 20, 24);
    }
}

/* A sample every 100 ms, RSS growing by 1 MiB each; the heap figures are
 * unknown in every third sample, as with an allocator that offers none. */
static struct rp_sample rb_sample(uint32_t i)
{
    int unknown = i % 3 == 2;
    return (struct rp_sample){
        .t_ns = (uint64_t)i * 100000000u, .rss_bytes = (4ull + i) << 20, .rss_file_bytes = 1 << 20,
        .live_bytes = 1000u * i, .live_req_bytes = 900u * i, .live_blocks = 10u * i,
        .allocs = 20u * i, .frees = 10u * i,
        .heap_mapped = unknown ? RP_HEAP_UNKNOWN : 2ull << 20,
        .heap_in_use = unknown ? RP_HEAP_UNKNOWN : 1ull << 20,
        .heap_free = unknown ? RP_HEAP_UNKNOWN : 1ull << 20,
        .heap_releasable = unknown ? RP_HEAP_UNKNOWN : 4096,
    };
}

static void rb_fill_series(unsigned char *buf, struct rp_header *h, const struct rb_spec *s)
{
    struct rp_sample *series = (struct rp_sample *)(buf + h->series_off);
    for (uint32_t i = 0; i < s->series_count; i++)
        series[i] = rb_sample(i);
    h->series_count = s->series_count;
    h->samples_taken = s->series_count;
    h->series_stride_ms = 100;
    h->last = rb_sample(s->series_count ? s->series_count - 1 : 0);
}

/* Returns a calloc'ed ring of *len bytes, or NULL when out of memory. */
__attribute__((unused))
static unsigned char *rb_build(const struct rb_spec *s, size_t *len)
{
    struct rp_header h = { 0 };
    memcpy(h.magic, RP_RING_MAGIC, RP_RING_MAGIC_LEN);
    h.version = s->version;
    h.header_size = RP_HEADER_SIZE;
    h.endian_check = RP_ENDIAN_CHECK;
    h.state = s->state;
    h.pid = s->pid;
    h.ppid = s->ppid;
    h.fork_parent = s->fork_parent;
    h.proc_start_ticks = s->proc_start_ticks;
    h.start_real_ns = s->start_real_ns;
    h.start_mono_ns = 1000;
    h.end_real_ns = s->state == RP_STATE_RUNNING ? 0 : s->start_real_ns + s->series_count * 100000000ull;
    h.allocator = RP_ALLOC_GLIBC;
    h.usable_method = RP_USABLE_GLIBC_HEADER;
    h.interval_ms = 100;
    h.nclasses = RP_NCLASSES;
    h.class_off = RP_HEADER_SIZE;
    h.nshards = RP_SHARD_FIRST_THREAD + s->threads + s->free_slots;
    h.shard_size = RP_SHARD_HEAD_SIZE + RP_NCLASSES * RP_CLASS_COUNT_SIZE;
    h.shard_off = rb_round_up(h.class_off + RP_NCLASSES * sizeof(uint64_t));
    h.series_cap = s->series_cap;
    h.sample_size = sizeof(struct rp_sample);
    h.series_off = rb_round_up(h.shard_off + (uint64_t)h.nshards * h.shard_size);
    h.file_size = rb_round_up(h.series_off + (uint64_t)h.series_cap * h.sample_size);
    h.threads_seen = s->threads + 2;
    strncpy(h.prog, s->prog, sizeof h.prog - 1);
    strncpy(h.title, s->title, sizeof h.title - 1);
    strncpy(h.exe, "/usr/bin/testprog", sizeof h.exe - 1);

    unsigned char *buf = calloc(1, h.file_size);
    if (!buf)
        return NULL;
    rp_class_table((uint64_t *)(buf + h.class_off));
    rb_fill_shards(buf, &h, s);
    rb_fill_series(buf, &h, s);
    memcpy(buf, &h, sizeof h);
    *len = h.file_size;
    return buf;
}

#endif
