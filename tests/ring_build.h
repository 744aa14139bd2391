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
 *
 * Requests (format 2). Header: begun 62, ended 60, nested 1, unmatched 2,
 * lost 0, other_route 1, http_conns 7, http_not_http 1, http_detect 1,
 * route_paths 1; records_written and marks_written as in the spec.
 *
 * Routes (rb_routes below; slot 0 and the next nroutes - 1, in table
 * order or reversed). Every request takes 1 ms but one of 2 ms:
 *
 *   route           reqs  allocs (usable)  frees  peaks             left
 *   (other routes)     1     2 x 24            2  1 x 48            1 x 0
 *   GET /a            10    40 x 24           40  5 x 100, 4 x 1000, 1 x 5000   10 x 0
 *   GET /leak          4     8 x 4096          4  4 x 8192          4 x 4096 (1 block each)
 *   POST /b            5     5 x 112           4  5 x 112           4 x 0, 1 x 112 (1 block)
 *
 * so, ranked by left: GET /leak (left 16384), POST /b (112), GET /a
 * (peak max 5000), (other routes); percentiles p50/p90/p99 of peak:
 * GET /a 112/1024/5000 (class bounds, the last capped at the max),
 * GET /leak 8192 (all three), POST /b 112; of left: GET /leak 4096,
 * POST /b 0/112/112 (class 0 of these histograms is exactly 0 bytes), the others 0.
 *
 * Records: the newest min(records_written, record_cap) indexes i are
 * kept, with id i + 1, route rb_routes[1 + i % 3], HTTP (conn 1 + i / 2,
 * status 200, end_reason READ) for odd i, API for even i, peak_bytes
 * 100 i + 50, left_bytes 4096 + i when i % 3 == 1 (GET /leak) else 0.
 * Record torn_record is left half written (seq 2 i + 1). With the
 * defaults (60 written, 48 kept, 58 torn): 47 valid records, indexes 12 to
 * 59 but 58; 15 of them left bytes.
 *
 * Marks: mark k at (k + 1) x 250 ms, after 10 (k + 1) requests, labelled
 * "start", "reload", "config change", "mark 3", ...
 *
 * With no_requests, as a process that never saw one: slot 0 named and
 * empty, no records, no marks, the counters 0.
 */
#ifndef REQPROF_RING_BUILD_H
#define REQPROF_RING_BUILD_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ring_format.h"
#include "sizeclass.h"

#define RB_PAGE 4096u

struct rb_spec {
    uint32_t pid, ppid, fork_parent;  /* fork_parent 0: slot 2 is FREE */
    uint32_t nroutes;                 /* route slots filled, slot 0 included: 1 to RB_NROUTES */
    int reversed;                     /* routes after slot 0 in reverse order */
    uint32_t route_cap, record_cap, mark_cap;
    uint64_t records_written, marks_written;
    uint64_t torn_record;             /* left half written; UINT64_MAX: none */
    int no_requests;                  /* none at all: see above */
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
        .nroutes = 4, .route_cap = 8, .record_cap = 48, .mark_cap = 4,
        .records_written = 60, .marks_written = 3, .torn_record = 58,
    };
}

/* The fixed routes; a group is (requests, bytes) of requests whose peak,
 * or left, was that many bytes. */
struct rb_route {
    const char *name;
    uint64_t requests, allocs, usable, frees, left_blocks;
    uint64_t peak[3][2], left[2][2];
};

#define RB_NROUTES 4
static const struct rb_route rb_routes[RB_NROUTES] = {
    { "(other routes)", 1, 2, 24, 2, 0, { { 1, 48 } }, { { 1, 0 } } },
    { "GET /a", 10, 40, 24, 40, 0, { { 5, 100 }, { 4, 1000 }, { 1, 5000 } }, { { 10, 0 } } },
    { "GET /leak", 4, 8, 4096, 4, 4, { { 4, 8192 } }, { { 4, 4096 } } },
    { "POST /b", 5, 5, 112, 4, 1, { { 5, 112 } }, { { 4, 0 }, { 1, 112 } } },
};

/* The slot of rb_routes[k] in the table, or slot 0 when it is not there. */
static uint32_t rb_route_slot(const struct rb_spec *s, uint32_t k)
{
    if (k == 0 || k >= s->nroutes)
        return 0;
    return s->reversed ? s->nroutes - k : k;
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

/* Adds groups of (requests, bytes) into a route's sum, max and histogram. */
static void rb_groups(const uint64_t (*g)[2], int n, uint64_t *sum, uint64_t *max, uint64_t *hist,
                      uint64_t *leaky)
{
    for (int i = 0; i < n; i++) {
        if (!g[i][0])
            continue;
        *sum += g[i][0] * g[i][1];
        if (g[i][1] > *max)
            *max = g[i][1];
        hist[rp_class_of(g[i][1])] += g[i][0];
        if (leaky && g[i][1])
            *leaky += g[i][0];
    }
}

static void rb_fill_route(unsigned char *buf, const struct rp_header *h, uint32_t slot, const struct rb_route *d)
{
    unsigned char *at = buf + h->route_off + (uint64_t)slot * h->route_size;
    struct rp_route_head *r = (struct rp_route_head *)at;
    uint64_t *hist = (uint64_t *)(at + RP_ROUTE_HEAD_SIZE);
    strncpy(r->name, d->name, sizeof r->name - 1);
    r->seq = 2 * (d->requests + 1); /* even: one update per request, and the filling */
    r->requests = d->requests;
    r->allocs = d->allocs;
    r->frees = d->frees;
    r->bytes_alloc = d->allocs * d->usable;
    r->bytes_freed = d->frees * d->usable;
    r->left_blocks = d->left_blocks;
    r->duration_sum_ns = (d->requests + 1) * 1000000;
    r->duration_max_ns = 2000000;
    hist[RP_ROUTE_HIST_ALLOCS * h->nclasses + rp_class_of(d->usable)] = d->allocs;
    rb_groups(d->peak, 3, &r->peak_sum, &r->peak_max, hist + RP_ROUTE_HIST_PEAK * h->nclasses, NULL);
    rb_groups(d->left, 2, &r->left_sum, &r->left_max, hist + RP_ROUTE_HIST_LEFT * h->nclasses, &r->leaky);
}

static void rb_fill_routes(unsigned char *buf, struct rp_header *h, const struct rb_spec *s)
{
    if (s->no_requests) {
        strcpy(((struct rp_route_head *)(buf + h->route_off))->name, rb_routes[0].name);
        h->routes_used = 1;
        return;
    }
    for (uint32_t k = 0; k < s->nroutes; k++)
        rb_fill_route(buf, h, rb_route_slot(s, k), &rb_routes[k]);
    h->routes_used = s->nroutes;
}

static struct rp_record rb_record(const struct rb_spec *s, uint64_t i)
{
    uint32_t k = 1 + (uint32_t)(i % 3);
    int http = i % 2 == 1;
    struct rp_record r = {
        .seq = i == s->torn_record ? 2 * i + 1 : 2 * i + 2, .id = i + 1, .tid = s->pid,
        .route = rb_route_slot(s, k), .source = http ? RP_SRC_HTTP : RP_SRC_API,
        .end_reason = http ? RP_END_READ : RP_END_API, .status = http ? 200 : 0,
        .start_ns = i * 10000000, .end_ns = i * 10000000 + 1000000,
        .allocs = 3, .frees = 2, .peak_bytes = 100 * i + 50,
        .left_bytes = k == 2 ? 4096 + i : 0, .left_blocks = k == 2, .conn = http ? 1 + i / 2 : 0,
    };
    r.bytes_alloc = r.peak_bytes;
    r.bytes_freed = r.peak_bytes - r.left_bytes;
    strncpy(r.route_text, rb_routes[k].name, sizeof r.route_text - 1);
    return r;
}

static void rb_fill_records(unsigned char *buf, struct rp_header *h, const struct rb_spec *s)
{
    struct rp_record *slots = (struct rp_record *)(buf + h->record_off);
    uint64_t kept = s->records_written < s->record_cap ? s->records_written : s->record_cap;
    for (uint64_t i = s->records_written - kept; i < s->records_written; i++)
        slots[i % s->record_cap] = rb_record(s, i);
    h->records_written = s->records_written;
}

static void rb_fill_marks(unsigned char *buf, struct rp_header *h, const struct rb_spec *s)
{
    static const char *const label[] = { "start", "reload", "config change" };
    struct rp_mark *slots = (struct rp_mark *)(buf + h->mark_off);
    uint64_t kept = s->marks_written < s->mark_cap ? s->marks_written : s->mark_cap;
    for (uint64_t k = s->marks_written - kept; k < s->marks_written; k++) {
        struct rp_mark *m = &slots[k % s->mark_cap];
        *m = (struct rp_mark){ .seq = 2 * k + 2, .t_ns = (k + 1) * 250000000, .tid = s->pid,
                               .requests = 10 * (k + 1) };
        if (k < 3)
            strncpy(m->label, label[k], sizeof m->label - 1);
        else
            snprintf(m->label, sizeof m->label, "mark %llu", (unsigned long long)k);
    }
    h->marks_written = s->marks_written;
}

static void rb_fill_requests(struct rp_header *h)
{
    h->req_begun = 62;
    h->req_ended = 60;
    h->req_nested = 1;
    h->req_unmatched = 2;
    h->req_other_route = 1;
    h->http_conns = 7;
    h->http_not_http = 1;
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
    h.route_cap = s->route_cap;
    h.route_size = RP_ROUTE_HEAD_SIZE + RP_ROUTE_NHIST * RP_NCLASSES * sizeof(uint64_t);
    h.route_off = rb_round_up(h.shard_off + (uint64_t)h.nshards * h.shard_size);
    h.record_cap = s->record_cap;
    h.record_size = sizeof(struct rp_record);
    h.record_off = rb_round_up(h.route_off + (uint64_t)h.route_cap * h.route_size);
    h.mark_cap = s->mark_cap;
    h.mark_size = sizeof(struct rp_mark);
    h.mark_off = rb_round_up(h.record_off + (uint64_t)h.record_cap * h.record_size);
    h.series_cap = s->series_cap;
    h.sample_size = sizeof(struct rp_sample);
    h.series_off = rb_round_up(h.mark_off + (uint64_t)h.mark_cap * h.mark_size);
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
    rb_fill_routes(buf, &h, s);
    h.http_detect = 1;
    h.route_paths = 1;
    h.owner_slots = 64;
    if (!s->no_requests) {
        rb_fill_records(buf, &h, s);
        rb_fill_marks(buf, &h, s);
        rb_fill_requests(&h);
    }
    memcpy(buf, &h, sizeof h);
    *len = h.file_size;
    return buf;
}

#endif
