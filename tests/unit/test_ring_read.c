/* test_ring_read.c -- the ring reader, and the summary built on it,
 * against valid and broken rings.
 *
 * Valid rings come from ring_build.h with known counters, routes, records
 * and marks, so the sums, the merged routes, their percentiles and the
 * standouts are checked exactly. Then every kind of damage the reader
 * must refuse: each case breaks one thing in a fresh copy of a valid ring
 * and checks the load fails with a message that names the file and the
 * fault (a key word of it); damage inside a record or a string is skipped
 * or sanitized instead, and counted. A writer thread updating a route and
 * writing records into a live ring file checks the per-slot seqlocks.
 * Last, seeded random byte flips in the header, the tables and the request
 * areas: the reader may accept or refuse them, but never crash, and what
 * it accepts is summarized and reported (to /dev/null), which the
 * sanitizer build checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../tap.h"
#include "../ring_build.h"
#include "report.h"
#include "ring_read.h"
#include "ring_sum.h"
#include "summary.h"

#define NAME "test.ring"
#define FLIPS 4000
#define LIVE_LOADS 200

static unsigned char *valid;
static size_t valid_len;
static char err[1024];

static struct rp_header *hdr_of(unsigned char *buf)
{
    return (struct rp_header *)buf;
}

static unsigned char *fresh_copy(void)
{
    unsigned char *b = malloc(valid_len);
    if (!b)
        abort();
    memcpy(b, valid, valid_len);
    return b;
}

/* Loads buf[0..len) and checks it fails naming the file and with want in the message. */
static void expect_fail_len(const unsigned char *buf, size_t len, const char *want, const char *what)
{
    struct rp_ring r;
    int rc = rp_ring_load_mem(buf, len, NAME, &r, err, sizeof err);
    if (rc == 0)
        rp_ring_free(&r);
    ok(rc != 0 && strncmp(err, NAME ": ", strlen(NAME) + 2) == 0 && strstr(err, want),
       "%s: refused with \"%s\" (got: %s)", what, want, rc ? err : "accepted");
}

static void expect_fail(const unsigned char *buf, const char *want, const char *what)
{
    expect_fail_len(buf, valid_len, want, what);
}

/* ---- valid rings ---- */

static void test_valid_sums(void)
{
    struct rp_ring r;
    struct rp_totals t;
    struct rp_class_sum *per_class;
    int rc = rp_ring_load_mem(valid, valid_len, NAME, &r, err, sizeof err);
    if (!ok(rc == 0, "a valid ring loads (%s)", rc ? err : "ok"))
        return;
    per_class = calloc(r.hdr.nclasses, sizeof *per_class);
    rp_ring_sum(&r.hdr, r.data, per_class, &t);
    /* see ring_build.h: two threads and a fork parent */
    ok(t.allocs == 24 && t.frees == 15, "allocs %llu frees %llu (want 24, 15)",
       (unsigned long long)t.allocs, (unsigned long long)t.frees);
    ok(t.live_blocks == 12 && t.live_bytes == 9 * 24 + 3 * 4096, "live %llu blocks, %llu bytes (want 12, 12504)",
       (unsigned long long)t.live_blocks, (unsigned long long)t.live_bytes);
    ok(t.inh_blocks == 3 && t.reallocs == 1 && t.failed == 2, "inherited 3, reallocs 1, failed 2");
    ok(per_class[rp_class_of(24)].allocs == 14 && rp_class_live_blocks(&per_class[rp_class_of(24)]) == 9,
       "the 24-byte class: 14 allocs, 9 live");
    ok(rp_ring_classes(&r)[0] == 8 && rp_ring_classes(&r)[r.hdr.nclasses - 1] == UINT64_MAX, "class table read");
    ok(r.hdr.series_count == 10 && rp_ring_series(&r)[9].rss_bytes == 13ull << 20, "series read");
    ok(strcmp(r.prog, "testprog") == 0 && strcmp(r.title, "testprog: worker process") == 0, "strings read");
    ok(r.liveness == RP_LIVE_EXITED && !r.inconsistent, "exited, consistent");
    free(per_class);
    rp_ring_free(&r);
}

static int load_spec(const struct rb_spec *s, struct rp_ring *r)
{
    size_t len;
    unsigned char *buf = rb_build(s, &len);
    int rc = rp_ring_load_mem(buf, len, NAME, r, err, sizeof err);
    free(buf);
    return rc;
}

static void test_liveness(void)
{
    struct rb_spec s = rb_default_spec();
    struct rp_ring r;
    uint64_t ticks;
    ok(rp_proc_start_ticks((uint32_t)getpid(), &ticks) == 0 && ticks > 0, "our own start time is readable");
    s.state = RP_STATE_RUNNING;
    s.pid = (uint32_t)getpid();
    s.proc_start_ticks = ticks;
    ok(load_spec(&s, &r) == 0 && r.liveness == RP_LIVE_RUNNING, "RUNNING and alive: running");
    rp_ring_free(&r);
    s.proc_start_ticks = ticks + 1;
    ok(load_spec(&s, &r) == 0 && r.liveness == RP_LIVE_DIED,
       "RUNNING, pid alive but started at another time: died");
    rp_ring_free(&r);
    s.pid = RP_PID_MAX_LIMIT; /* above any pid_max in use */
    ok(load_spec(&s, &r) == 0 && r.liveness == RP_LIVE_DIED, "RUNNING, pid gone: died");
    rp_ring_free(&r);
    s.state = RP_STATE_EXECED;
    ok(load_spec(&s, &r) == 0 && r.liveness == RP_LIVE_EXECED, "EXECED: execed");
    rp_ring_free(&r);
}

static void test_valid_variants(void)
{
    struct rb_spec s = rb_default_spec();
    struct rp_ring r;
    s.fork_parent = 0;
    ok(load_spec(&s, &r) == 0 && r.hdr.fork_parent == 0, "not forked: slot 2 FREE is fine");
    rp_ring_free(&r);
    s = rb_default_spec();
    s.series_cap = 0;
    s.series_count = 0;
    ok(load_spec(&s, &r) == 0, "no series area");
    rp_ring_free(&r);
    s = rb_default_spec();
    s.title = "evil\033]0;title\007";
    ok(load_spec(&s, &r) == 0 && strcmp(r.title, "evil?]0;title?") == 0,
       "control bytes in a title are replaced: %s", r.title);
    rp_ring_free(&r);

    unsigned char *b = fresh_copy();
    hdr_of(b)->fold_seq = 3;
    ok(rp_ring_load_mem(b, valid_len, NAME, &r, err, sizeof err) == 0 && r.inconsistent,
       "odd fold_seq: loads, marked inconsistent");
    rp_ring_free(&r);
    free(b);
}

/* ---- truncation ---- */

static void test_truncated(void)
{
    size_t cuts[] = { 1, 15, 16, 19, 20, 31, 32,
                      RP_HEADER_SIZE - 1, RP_HEADER_SIZE, RP_HEADER_SIZE + 1, valid_len - 1 };
    size_t bad = 0, first_bad = 0;
    expect_fail_len(valid, 0, "empty file", "empty");
    for (size_t len = 512; len < valid_len; len += 512) {
        struct rp_ring r;
        if (rp_ring_load_mem(valid, len, NAME, &r, err, sizeof err) == 0 || !strstr(err, "truncated")) {
            if (!bad++)
                first_bad = len;
        }
    }
    if (!ok(bad == 0, "truncated every 512 bytes: all refused as truncated"))
        printf("# %zu wrong, the first at %zu bytes\n", bad, first_bad);
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "truncated at %zu", cuts[i]);
        expect_fail_len(valid, cuts[i], "truncated", what);
    }
}

static void test_odd_sizes(void)
{
    unsigned char *b = calloc(1, valid_len + 4096);
    memcpy(b, valid, valid_len);
    expect_fail_len(b, valid_len + 4096, "size mismatch", "4096 bytes beyond file_size");
    hdr_of(b)->file_size = valid_len + 100;
    expect_fail_len(b, valid_len + 100, "not a multiple of 4096", "file_size not a whole number of pages");
    free(b);
}

/* ---- one field at a time ---- */

#define FIELD(f) offsetof(struct rp_header, f), sizeof(((struct rp_header *)0)->f)

struct field_case {
    const char *what;
    size_t off, width;
    uint64_t value;
    const char *want;
};

static const struct field_case field_cases[] = {
    { "bad magic", 0, 1, 'X', "not a reqprof ring (bad magic)" },
    { "magic's last byte", 15, 1, 0, "bad magic" },
    { "newer version", FIELD(version), 3, "newer reqprof (format 3), this reader knows 2" },
    { "version 1", FIELD(version), 1, "older reqprof (format 1), this reader knows 2" },
    { "version 0", FIELD(version), 0, "bad format version 0" },
    { "byte-swapped", FIELD(endian_check), 0x0807060504030201ull, "other byte order" },
    { "wrong endian check", FIELD(endian_check), 0x1234, "bad endian check" },
    { "header_size", FIELD(header_size), 8192, "bad header_size" },
    { "file_size larger", FIELD(file_size), 1048576, "truncated: header says 1048576 bytes" },
    { "file_size smaller", FIELD(file_size), 4096, "size mismatch: header says 4096 bytes" },
    { "state 0", FIELD(state), 0, "bad state 0" },
    { "state 4", FIELD(state), 4, "bad state 4" },
    { "allocator 0", FIELD(allocator), 0, "bad allocator" },
    { "allocator 7", FIELD(allocator), 7, "bad allocator" },
    { "usable_method 9", FIELD(usable_method), 9, "bad usable_method" },
    { "pid 0", FIELD(pid), 0, "bad pid" },
    { "pid huge", FIELD(pid), 0xffffffff, "bad pid" },
    { "ppid huge", FIELD(ppid), 5000000, "bad ppid" },
    { "fork_parent huge", FIELD(fork_parent), 5000000, "bad fork_parent" },
    { "nclasses 0", FIELD(nclasses), 0, "bad nclasses" },
    { "nclasses huge", FIELD(nclasses), 0xffffffff, "bad nclasses" },
    { "nclasses 5000", FIELD(nclasses), 5000, "bad nclasses" },
    { "shard_size", FIELD(shard_size), 64 + 146 * 64, "bad shard_size" },
    { "nshards 2", FIELD(nshards), 2, "bad nshards" },
    { "nshards huge", FIELD(nshards), 0xffffffff, "bad nshards" },
    { "nshards beyond the file", FIELD(nshards), 60000, "shards (offset" },
    { "sample_size", FIELD(sample_size), 64, "bad sample_size" },
    { "series_count > cap", FIELD(series_count), 17, "series_count 17 exceeds series_cap 16" },
    { "series_cap huge", FIELD(series_cap), 0xffffffff, "lies outside the file" },
    { "class_off unaligned", FIELD(class_off), 4097, "not 8-byte aligned" },
    { "class_off in the header", FIELD(class_off), 8, "overlaps the header" },
    { "class_off 0", FIELD(class_off), 0, "overlaps the header" },
    { "class_off overflowing", FIELD(class_off), UINT64_MAX - 7, "lies outside the file" },
    { "class_off past the end", FIELD(class_off), 1ull << 40, "lies outside the file" },
    { "shard_off overflowing", FIELD(shard_off), UINT64_MAX & ~7ull, "lies outside the file" },
    { "shard_off in the header", FIELD(shard_off), 64, "overlaps the header" },
    { "shard_off over the class table", FIELD(shard_off), 4096, "overlap" },
    { "series_off overflowing", FIELD(series_off), UINT64_MAX - 4095, "lies outside the file" },
    { "series_off over the shards", FIELD(series_off), 8192, "overlap" },
    { "series_off unaligned", FIELD(series_off), 4100, "not 8-byte aligned" },
    /* format 2; the default ring: routes at 65536, records at 98304, marks
     * at 110592, series at 114688, 118784 bytes */
    { "http_detect 2", FIELD(http_detect), 2, "bad http_detect 2" },
    { "route_paths huge", FIELD(route_paths), 0xffffffff, "bad route_paths" },
    { "route_size", FIELD(route_size), 3840, "bad route_size 3840 (320 + 3 histograms x 147 classes x 8 is 3848)" },
    { "record_size", FIELD(record_size), 255, "bad record_size 255" },
    { "mark_size", FIELD(mark_size), 0, "bad mark_size 0" },
    { "route_cap too large", FIELD(route_cap), 65537, "bad route_cap 65537" },
    { "record_cap too large", FIELD(record_cap), (1u << 20) + 1, "bad record_cap" },
    { "mark_cap too large", FIELD(mark_cap), 65537, "bad mark_cap" },
    { "routes_used > route_cap", FIELD(routes_used), 9, "routes_used 9 exceeds route_cap 8" },
    { "routes_used huge", FIELD(routes_used), UINT64_MAX, "exceeds route_cap 8" },
    { "route_cap 0, routes used", FIELD(route_cap), 0, "routes_used 4 exceeds route_cap 0" },
    { "route_off past the end", FIELD(route_off), 1ull << 40, "route table (offset 1099511627776" },
    { "route_off overflowing", FIELD(route_off), UINT64_MAX & ~7ull, "route table (offset" },
    { "route_off in the header", FIELD(route_off), 128, "route table at offset 128 overlaps the header" },
    { "route_off unaligned", FIELD(route_off), 65540, "route table offset 65540 is not 8-byte aligned" },
    { "route_off over the shards", FIELD(route_off), 8192, "shards [8192, 65024) and route table" },
    { "route_cap over the records", FIELD(route_cap), 9, "route table [65536, 100168) and record area" },
    { "record_off past the end", FIELD(record_off), 1ull << 20, "record area (offset 1048576, 48 x 256 bytes) lies outside" },
    { "record area ends past the end", FIELD(record_off), 118784 - 4096, "record area (offset" },
    { "record_off over the routes", FIELD(record_off), 65536, "route table [65536, 96320) and record area" },
    { "record_cap beyond the file", FIELD(record_cap), 1u << 20, "record area (offset" },
    { "record_off over the marks", FIELD(record_off), 104448, "record area [104448, 116736) and mark area" },
    { "mark_off over the series", FIELD(mark_off), 114688, "mark area [114688, 115200) and series" },
    { "mark_off over the class table", FIELD(mark_off), 4096, "class table [4096, 5272) and mark area" },
    { "mark_off past the end", FIELD(mark_off), 1ull << 30, "mark area (offset" },
    { "mark_cap beyond the file", FIELD(mark_cap), 65536, "mark area (offset" },
    { "mark_off in the header", FIELD(mark_off), 0, "mark area at offset 0 overlaps the header" },
};

static void put_le(unsigned char *p, size_t width, uint64_t v)
{
    for (size_t i = 0; i < width; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void test_fields(void)
{
    for (size_t i = 0; i < sizeof field_cases / sizeof field_cases[0]; i++) {
        const struct field_case *c = &field_cases[i];
        unsigned char *b = fresh_copy();
        put_le(b + c->off, c->width, c->value);
        expect_fail(b, c->want, c->what);
        free(b);
    }
}

static void test_strings(void)
{
    static const struct { const char *what; size_t off, size; } f[] = {
        { "prog", offsetof(struct rp_header, prog), RP_NAME_LEN },
        { "title", offsetof(struct rp_header, title), RP_NAME_LEN },
        { "exe", offsetof(struct rp_header, exe), RP_PATH_LEN },
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        char want[64];
        unsigned char *b = fresh_copy();
        memset(b + f[i].off, 'A', f[i].size);
        snprintf(want, sizeof want, "%s is not NUL-terminated", f[i].what);
        expect_fail(b, want, want);
        free(b);
    }
}

/* ---- what the layout points to ---- */

static void test_class_table(void)
{
    unsigned char *b = fresh_copy();
    uint64_t *upper = (uint64_t *)(b + hdr_of(b)->class_off);
    upper[5] = upper[4];
    expect_fail(b, "class table not increasing: class 4", "two equal class bounds");
    free(b);
    b = fresh_copy();
    upper = (uint64_t *)(b + hdr_of(b)->class_off);
    upper[10] = 1;
    expect_fail(b, "not increasing", "a class bound going down");
    free(b);
    b = fresh_copy();
    upper = (uint64_t *)(b + hdr_of(b)->class_off);
    upper[hdr_of(b)->nclasses - 1] = 1ull << 50;
    expect_fail(b, "last class must be unbounded", "last class bounded");
    free(b);
}

static void test_shard_kinds(void)
{
    static const struct { uint32_t slot, kind; const char *want; } c[] = {
        { 0, RP_SHARD_THREAD, "shard 0 has kind 1, expected RETIRED" },
        { 0, RP_SHARD_FREE, "shard 0 has kind 0" },
        { 1, RP_SHARD_RETIRED, "shard 1 has kind 2, expected SHARED" },
        { 2, RP_SHARD_THREAD, "shard 2 has kind 1, expected INHERITED or FREE" },
        { 3, 9, "shard 3 has kind 9, expected THREAD or FREE" },
        { 4, RP_SHARD_INHERITED, "shard 4 has kind 4" },
        { 5, 0xffffffff, "shard 5 has kind 4294967295" },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        unsigned char *b = fresh_copy();
        const struct rp_header *h = hdr_of(b);
        put_le(b + h->shard_off + (uint64_t)c[i].slot * h->shard_size, 4, c[i].kind);
        expect_fail(b, c[i].want, c[i].want);
        free(b);
    }
}

/* ---- format 2: routes, records, marks ---- */

static struct rp_record *record_slot(unsigned char *b, uint64_t index)
{
    const struct rp_header *h = hdr_of(b);
    return (struct rp_record *)(b + h->record_off + index % h->record_cap * h->record_size);
}

static struct rp_route_head *route_slot(unsigned char *b, uint32_t i)
{
    const struct rp_header *h = hdr_of(b);
    return (struct rp_route_head *)(b + h->route_off + (uint64_t)i * h->route_size);
}

static struct rp_mark *mark_slot(unsigned char *b, uint64_t index)
{
    const struct rp_header *h = hdr_of(b);
    return (struct rp_mark *)(b + h->mark_off + index % h->mark_cap * h->mark_size);
}

/* The kept records are indexes from..to but skip, in order, each whole. */
static int records_are(const struct rp_ring *r, uint64_t from, uint64_t to, uint64_t skip)
{
    size_t i = 0;
    for (uint64_t index = from; index <= to; index++) {
        if (index == skip)
            continue;
        if (i >= r->nrecords || r->records[i].index != index || r->records[i].rec->id != index + 1)
            return 0;
        i++;
    }
    return i == r->nrecords;
}

static void test_requests_read(void)
{
    struct rp_ring r;
    int rc = rp_ring_load_mem(valid, valid_len, NAME, &r, err, sizeof err);
    if (!ok(rc == 0, "a format-2 ring loads (%s)", rc ? err : "ok"))
        return;
    ok(r.nroutes == 4 && strcmp(rp_ring_route(&r, 0)->name, "(other routes)") == 0 &&
       strcmp(rp_ring_route(&r, 2)->name, "GET /leak") == 0 && rp_ring_route(&r, 1)->requests == 10,
       "the route table: 4 routes, slot 0 \"(other routes)\"");
    const uint64_t *peak = rp_ring_route_hist(&r, 1, RP_ROUTE_HIST_PEAK);
    ok(peak[rp_class_of(100)] == 5 && peak[rp_class_of(1000)] == 4 && peak[rp_class_of(5000)] == 1 &&
       rp_ring_route_hist(&r, 2, RP_ROUTE_HIST_ALLOCS)[rp_class_of(4096)] == 8 &&
       rp_ring_route_hist(&r, 3, RP_ROUTE_HIST_LEFT)[0] == 4, "route histograms");
    ok(r.nrecords == 47 && r.records_torn == 1, "47 records kept, the one being written skipped (%zu, %llu torn)",
       r.nrecords, (unsigned long long)r.records_torn);
    ok(records_are(&r, 12, 59, 58), "records oldest first with their indexes, 12 to 59 but 58");
    ok(strcmp(r.records[0].rec->route_text, "GET /a") == 0 && r.records[1].rec->source == RP_SRC_HTTP &&
       r.records[1].rec->conn == 7 && r.records[1].rec->left_bytes == 4096 + 13, "record fields");
    ok(r.nmarks == 3 && strcmp(r.marks[0]->label, "start") == 0 && strcmp(r.marks[2]->label, "config change") == 0 &&
       r.marks[1]->requests == 20, "marks, oldest first");
    ok(!r.inconsistent, "consistent");
    rp_ring_free(&r);

    struct rb_spec spec = rb_default_spec();
    spec.marks_written = 6; /* the ring holds 4: the oldest two were overwritten */
    ok(load_spec(&spec, &r) == 0 && r.nmarks == 4 && strcmp(r.marks[0]->label, "config change") == 0 &&
       strcmp(r.marks[3]->label, "mark 5") == 0, "marks wrap around: the newest 4 of 6");
    rp_ring_free(&r);
    spec = rb_default_spec();
    spec.records_written = 30;
    spec.torn_record = UINT64_MAX;
    ok(load_spec(&spec, &r) == 0 && r.nrecords == 30 && r.records_torn == 0 && records_are(&r, 0, 29, UINT64_MAX),
       "a record area not yet full: records 0 to 29");
    rp_ring_free(&r);
}

static void test_percentiles(void)
{
    static const uint64_t upper[] = { 8, 16, 32, UINT64_MAX };
    const struct rp_bounds b = { upper, 4 };
    const uint64_t h1[] = { 1, 0, 98, 1 }, h2[] = { 50, 50, 0, 0 }, h3[] = { 0, 0, 0, 5 }, zero[4] = { 0 };
    const uint64_t huge[] = { UINT64_MAX, UINT64_MAX, 0, 0 };
    ok(rp_percentile(h1, &b, 1000, 50) == 32 && rp_percentile(h1, &b, 1000, 99) == 32,
       "p50 and p99 in the class that holds them");
    ok(rp_percentile(h1, &b, 20, 50) == 20, "capped at the exact max");
    ok(rp_percentile(h2, &b, 16, 50) == 0 && rp_percentile(h2, &b, 16, 90) == 16,
       "the 50th of 100 is the last of class 0, which is exactly 0 bytes");
    ok(rp_percentile(h3, &b, 123456, 50) == 123456, "in the unbounded class: the max");
    ok(rp_percentile(zero, &b, 0, 99) == 0, "no requests: 0");
    ok(rp_percentile(huge, &b, 99, 50) == 0 && rp_percentile(huge, &b, 99, 90) == 16, "counts near 2^64 do not wrap");
}

static const struct rp_route_sum *route_in(const struct rp_route_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].name, name) == 0)
            return &l->v[i];
    return NULL;
}

static int pcts(const struct rp_route_sum *r, uint64_t p50, uint64_t p90, uint64_t p99, uint64_t l50, uint64_t l90,
                uint64_t l99)
{
    return r && r->peak_p50 == p50 && r->peak_p90 == p90 && r->peak_p99 == p99 && r->left_p50 == l50 &&
           r->left_p90 == l90 && r->left_p99 == l99;
}

static void test_summary_one(void)
{
    struct rp_ring r;
    struct rp_summary s;
    if (!ok(rp_ring_load_mem(valid, valid_len, NAME, &r, err, sizeof err) == 0 && rp_summary_build(&s, &r, 1) == 0,
            "summary of one ring"))
        return;
    const struct rp_requests *q = &s.requests;
    ok(q->begun == 62 && q->ended == 60 && q->nested == 1 && q->unmatched == 2 && q->lost == 0 &&
       q->other_route == 1 && q->http_conns == 7 && q->http_not_http == 1 && q->records_written == 60 &&
       q->records_kept == 47 && q->records_torn == 1, "request counters");
    ok(s.routes.n == 4 && strcmp(s.routes.v[0].name, "GET /leak") == 0 && strcmp(s.routes.v[1].name, "POST /b") == 0 &&
       strcmp(s.routes.v[2].name, "GET /a") == 0 && strcmp(s.routes.v[3].name, "(other routes)") == 0,
       "routes ranked by left bytes, then peak");
    ok(strcmp(s.routes_by_peak[0]->name, "GET /leak") == 0 && strcmp(s.routes_by_peak[1]->name, "GET /a") == 0 &&
       strcmp(s.routes_by_peak[2]->name, "POST /b") == 0, "and by peak");
    ok(pcts(route_in(&s.routes, "GET /a"), 112, 1024, 5000, 0, 0, 0), "GET /a: peak 112/1024/5000, left 0");
    ok(pcts(route_in(&s.routes, "GET /leak"), 8192, 8192, 8192, 4096, 4096, 4096), "GET /leak: peak 8192, left 4096");
    ok(pcts(route_in(&s.routes, "POST /b"), 112, 112, 112, 0, 112, 112), "POST /b: left 0/112/112");
    ok(pcts(route_in(&s.routes, "(other routes)"), 48, 48, 48, 0, 0, 0), "(other routes): peak 48");
    const struct rp_route_sum *leak = route_in(&s.routes, "GET /leak");
    ok(leak->left_sum == 16384 && leak->leaky == 4 && leak->left_blocks == 4 && leak->bytes_alloc == 8 * 4096 &&
       leak->duration_sum_ns == 5000000 && leak->nprocs == 1 && leak->procs[0].pid == 4242 &&
       leak->procs[0].requests == 4 && leak->hist[rp_class_of(4096)] == 8, "GET /leak's sums and its process");
    ok(s.nstandouts == 20 && s.standouts[0].ref->index == 55 && strcmp(s.standouts[0].why, "left") == 0 &&
       s.standouts[9].ref->index == 28 && s.standouts[10].ref->index == 59 &&
       strcmp(s.standouts[10].why, "peak") == 0 && s.standouts[19].ref->index == 45,
       "standouts: 10 by left bytes (55 .. 28), 10 more by peak (59 .. 45)");
    ok(s.nmarks == 3 && strcmp(s.marks[1].mark->label, "reload") == 0 &&
       s.marks[1].real_ns == 1700000000000000000ull + 500000000, "marks in real time");
    rp_summary_free(&s);
    rp_ring_free(&r);
}

/* nginx: a master and a worker with the routes in another order, one of
 * them missing, merged by name. */
static void test_summary_merged(void)
{
    struct rb_spec spec = rb_default_spec();
    struct rp_ring r[2];
    struct rp_summary s;
    if (!ok(load_spec(&spec, &r[0]) == 0, "ring A"))
        return;
    spec.pid = 4243;
    spec.nroutes = 3;
    spec.reversed = 1;
    spec.start_real_ns += 100000000;
    if (!ok(load_spec(&spec, &r[1]) == 0 && strcmp(rp_ring_route(&r[1], 1)->name, "GET /leak") == 0,
            "ring B: GET /leak in slot 1, no POST /b") ||
        !ok(rp_summary_build(&s, r, 2) == 0, "summary of two rings")) {
        rp_ring_free(&r[0]);
        return;
    }
    ok(s.requests.ended == 120 && s.requests.records_kept == 94 && s.requests.records_torn == 2,
       "request counters summed");
    const struct rp_route_sum *a = route_in(&s.routes, "GET /a"), *b = route_in(&s.routes, "POST /b");
    const struct rp_route_sum *leak = route_in(&s.routes, "GET /leak");
    ok(s.routes.n == 4 && a && a->requests == 20 && a->allocs == 80 && a->peak_max == 5000 && a->nprocs == 2 &&
       a->procs[0].pid == 4242 && a->procs[0].requests == 10 && a->procs[1].pid == 4243 &&
       a->procs[1].requests == 10, "GET /a merged: 20 requests, 10 in each process");
    ok(b && b->requests == 5 && b->nprocs == 1 && b->procs[0].pid == 4242, "POST /b: only in A");
    ok(leak && leak->left_sum == 32768 && strcmp(s.routes.v[0].name, "GET /leak") == 0, "GET /leak first, left doubled");
    ok(pcts(a, 112, 1024, 5000, 0, 0, 0) && pcts(leak, 8192, 8192, 8192, 4096, 4096, 4096),
       "percentiles of merged histograms");
    ok(s.procs[0].routes.n == 4 && s.procs[1].routes.n == 3 && s.procs[1].routes.v[0].nprocs == 0 &&
       s.procs[1].requests.ended == 60, "per-process routes and counters");
    ok(s.nstandouts == 20 && s.standouts[0].ring == &r[0] && s.standouts[1].ring == &r[1] &&
       s.standouts[1].ref->index == 55 && s.standouts[10].ring == &r[0] && s.standouts[10].ref->index == 59 &&
       strcmp(s.standouts[10].why, "peak") == 0, "standouts across processes, ties in ring order");
    ok(s.nmarks == 6 && s.marks[0].ring == &r[0] && s.marks[1].ring == &r[1] &&
       strcmp(s.marks[5].mark->label, "config change") == 0 && s.marks[5].ring == &r[1], "marks of both in time order");
    rp_summary_free(&s);
    rp_ring_free(&r[0]);
    rp_ring_free(&r[1]);
}

struct record_case {
    const char *what;
    size_t off, width;
    uint64_t value;
};

/* Damage inside record 20 makes it skipped and counted, never refused. */
static void test_bad_records(void)
{
    static const struct record_case c[] = {
        { "route index = route_cap", offsetof(struct rp_record, route), 4, 8 },
        { "route index huge", offsetof(struct rp_record, route), 4, 0xffffffff },
        { "source 0", offsetof(struct rp_record, source), 2, 0 },
        { "source 3", offsetof(struct rp_record, source), 2, 3 },
        { "end_reason 0", offsetof(struct rp_record, end_reason), 2, 0 },
        { "end_reason 9", offsetof(struct rp_record, end_reason), 2, 9 },
        { "seq of a newer record (overwritten)", 0, 8, 2 * (20 + 48) + 2 },
        { "seq 0 (never written)", 0, 8, 0 },
        { "seq odd (being written)", 0, 8, 2 * 20 + 1 },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        unsigned char *b = fresh_copy();
        struct rp_ring r;
        put_le((unsigned char *)record_slot(b, 20) + c[i].off, c[i].width, c[i].value);
        int rc = rp_ring_load_mem(b, valid_len, NAME, &r, err, sizeof err);
        ok(rc == 0 && r.nrecords == 46 && r.records_torn == 2 && records_are(&r, 12, 59, 58) == 0 &&
           r.records[8].index == 21, "record with %s: skipped and counted (%s)", c[i].what, rc ? err : "loaded");
        if (rc == 0)
            rp_ring_free(&r);
        free(b);
    }
}

/* Counters are numbers: any value loads. */
static void test_counters_any(void)
{
    static const struct { const char *what; size_t off, width; uint64_t value; size_t records, marks; } c[] = {
        { "records_written huge", FIELD(records_written), UINT64_MAX, 0, 3 },
        { "records_written 0", FIELD(records_written), 0, 0, 3 },
        { "marks_written huge", FIELD(marks_written), UINT64_MAX - 1, 47, 0 },
        { "record_cap 0", FIELD(record_cap), 0, 0, 3 },
        { "mark_cap 0", FIELD(mark_cap), 0, 47, 0 },
        { "routes_used 0", FIELD(routes_used), 0, 47, 3 },
        { "req_ended huge", FIELD(req_ended), UINT64_MAX, 47, 3 },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        unsigned char *b = fresh_copy();
        struct rp_ring r;
        struct rp_summary s;
        put_le(b + c[i].off, c[i].width, c[i].value);
        int rc = rp_ring_load_mem(b, valid_len, NAME, &r, err, sizeof err);
        ok(rc == 0 && r.nrecords == c[i].records && r.nmarks == c[i].marks && rp_summary_build(&s, &r, 1) == 0,
           "%s: loads, %zu records, %zu marks (%s)", c[i].what, c[i].records, c[i].marks, rc ? err : "loaded");
        if (rc == 0) {
            rp_summary_free(&s);
            rp_ring_free(&r);
        }
        free(b);
    }
}

static int all_are(const char *s, char c, size_t n)
{
    size_t i;
    for (i = 0; s[i]; i++)
        if (s[i] != c)
            return 0;
    return i == n;
}

static void test_request_strings(void)
{
    unsigned char *b = fresh_copy();
    struct rp_ring r;
    struct rp_summary s;
    memset(route_slot(b, 1)->name, 'A', RP_ROUTE_LEN);
    memcpy(route_slot(b, 2)->name, "GET /\x7f\x80\033[2J", 12);
    memset(record_slot(b, 30)->route_text, 0x1b, RP_ROUTE_LEN);
    memset(mark_slot(b, 1)->label, 'B', sizeof mark_slot(b, 1)->label);
    int rc = rp_ring_load_mem(b, valid_len, NAME, &r, err, sizeof err);
    free(b);
    if (!ok(rc == 0, "unterminated and unprintable strings in the request areas: loads (%s)", rc ? err : "ok"))
        return;
    ok(all_are(rp_ring_route(&r, 1)->name, 'A', RP_ROUTE_LEN - 1), "a route name without NUL: cut to 127 bytes");
    ok(strcmp(rp_ring_route(&r, 2)->name, "GET /???[2J") == 0, "control bytes in a route name: '?' (%s)",
       rp_ring_route(&r, 2)->name);
    ok(r.records[30 - 12].index == 30 && all_are(r.records[30 - 12].rec->route_text, '?', RP_ROUTE_LEN - 1),
       "a record's route text: sanitized and terminated");
    ok(all_are(r.marks[1]->label, 'B', 95), "a mark label without NUL: cut to 95 bytes");
    if (ok(rp_summary_build(&s, &r, 1) == 0, "and summarized")) {
        ok(s.routes.n == 4 && route_in(&s.routes, rp_ring_route(&r, 1)->name), "the long name is a route");
        rp_summary_free(&s);
    }
    rp_ring_free(&r);

    b = fresh_copy();
    route_slot(b, 1)->seq = 7;
    ok(rp_ring_load_mem(b, valid_len, NAME, &r, err, sizeof err) == 0 && r.inconsistent,
       "a route caught mid-update (odd seq): loads, marked inconsistent");
    rp_ring_free(&r);
    free(b);
}

/* ---- a live ring: a writer updating a route and writing records ---- */

struct live {
    unsigned char *map;
    struct rb_spec spec;
    int stop;
    uint64_t written;
};

/* As the library does: seq odd, the fields, seq even (release), as fast
 * as it can: far busier than a server, so a route is often never quiet
 * for the microseconds a read of it takes, and the copy must say so. */
static void *live_writer(void *arg)
{
    struct live *l = arg;
    struct rp_header *h = (struct rp_header *)l->map;
    struct rp_route_head *route = (struct rp_route_head *)(l->map + h->route_off + h->route_size);
    uint64_t *peak = (uint64_t *)((unsigned char *)route + RP_ROUTE_HEAD_SIZE) + RP_ROUTE_HIST_PEAK * h->nclasses;
    uint64_t i = h->records_written;
    while (!__atomic_load_n(&l->stop, __ATOMIC_RELAXED)) {
        __atomic_store_n(&route->seq, route->seq + 1, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_RELEASE);
        route->requests++;
        route->allocs += 4;
        peak[rp_class_of(100)]++;
        __atomic_store_n(&route->seq, route->seq + 1, __ATOMIC_RELEASE);

        struct rp_record rec = rb_record(&l->spec, i);
        struct rp_record *slot = (struct rp_record *)(l->map + h->record_off + i % h->record_cap * h->record_size);
        __atomic_store_n(&slot->seq, 2 * i + 1, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_RELEASE);
        memcpy((unsigned char *)slot + 8, (unsigned char *)&rec + 8, sizeof rec - 8);
        __atomic_store_n(&slot->seq, 2 * i + 2, __ATOMIC_RELEASE);
        __atomic_store_n(&h->records_written, ++i, __ATOMIC_RELEASE);
    }
    l->written = i;
    return NULL;
}

/* A whole route: its allocs and peak histogram match its requests. */
static int live_route_whole(const struct rp_ring *r)
{
    const struct rp_route_head *route = rp_ring_route(r, 1);
    const uint64_t *peak = rp_ring_route_hist(r, 1, RP_ROUTE_HIST_PEAK);
    uint64_t n = 0;
    for (uint32_t c = 0; c < r->hdr.nclasses; c++)
        n += peak[c];
    return route->allocs == 4 * route->requests && n == route->requests;
}

/* Whole records: each is the one its index says. */
static int live_records_whole(const struct rp_ring *r)
{
    for (size_t i = 0; i < r->nrecords; i++) {
        const struct rp_record *rec = r->records[i].rec;
        uint64_t index = r->records[i].index;
        if (rec->id != index + 1 || rec->peak_bytes != 100 * index + 50 ||
            strcmp(rec->route_text, rb_routes[1 + index % 3].name) != 0)
            return 0;
    }
    return 1;
}

static void test_live(const char *dir)
{
    char path[256];
    struct live l = { .spec = rb_default_spec() };
    size_t len, loads, failed = 0, torn_routes = 0, torn_records = 0, inconsistent = 0, advanced = 0, kept = 0;
    pthread_t t;
    l.spec.state = RP_STATE_RUNNING;
    l.spec.torn_record = UINT64_MAX;
    l.spec.series_cap = 40000; /* 4 MiB, as by default: the copy takes long enough to go stale */
    unsigned char *buf = rb_build(&l.spec, &len);
    snprintf(path, sizeof path, "%s/live.ring", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (!ok(fd >= 0 && write(fd, buf, len) == (ssize_t)len, "a live ring file"))
        return;
    l.map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    free(buf);
    if (!ok(l.map != MAP_FAILED && pthread_create(&t, NULL, live_writer, &l) == 0, "its writer runs"))
        return;
    /* the loads start once the writer does: on a busy machine a new
     * thread can wait longer than 200 loads take */
    const struct rp_header *h = (const struct rp_header *)l.map;
    for (int tries = 0; __atomic_load_n(&h->records_written, __ATOMIC_ACQUIRE) <= 60 && tries < 10000; tries++)
        usleep(1000);
    for (loads = 0; loads < LIVE_LOADS; loads++) {
        struct rp_ring r;
        if (rp_ring_load(path, &r, err, sizeof err)) {
            failed++;
            continue;
        }
        torn_routes += !r.inconsistent && !live_route_whole(&r); /* inconsistent: it says so */
        torn_records += !live_records_whole(&r);
        kept += r.nrecords > 0;
        inconsistent += (size_t)r.inconsistent;
        advanced += r.hdr.records_written > 60;
        rp_ring_free(&r);
    }
    __atomic_store_n(&l.stop, 1, __ATOMIC_RELAXED);
    pthread_join(t, NULL);
    munmap(l.map, len);
    unlink(path);
    ok(failed == 0 && torn_routes == 0 && torn_records == 0 && advanced > 0,
       "%zu live loads while %llu requests ended: every record whole, every route whole unless the copy says "
       "it is inconsistent (%zu failed, %zu torn routes, %zu torn records; %zu inconsistent, %zu saw the writer's "
       "progress)", loads, (unsigned long long)l.written - 60, failed, torn_routes, torn_records, inconsistent,
       advanced);
    /* the writer overwrites all 48 slots in microseconds: only a read
     * close to records_written keeps any, and how many do depends on the
     * machine's load, so it is reported, not tested */
    printf("# %zu of %zu live loads kept records\n", kept, loads);
}

/* A running ring whose route stays mid-update: the reader retries that
 * route, then keeps the copy and says it is inconsistent. */
static void test_live_stuck(const char *dir)
{
    char path[256];
    struct rb_spec spec = rb_default_spec();
    struct rp_ring r;
    size_t len;
    spec.state = RP_STATE_RUNNING;
    unsigned char *buf = rb_build(&spec, &len);
    route_slot(buf, 2)->seq = 9;
    snprintf(path, sizeof path, "%s/stuck.ring", dir);
    FILE *f = fopen(path, "wb");
    ok(f && fwrite(buf, 1, len, f) == len && fclose(f) == 0, "a running ring with a route stuck mid-update");
    free(buf);
    ok(rp_ring_load(path, &r, err, sizeof err) == 0 && r.inconsistent && r.nrecords == 47 &&
       rp_ring_route(&r, 2)->requests == 4, "loads after retries, marked inconsistent, records read again");
    rp_ring_free(&r);
    unlink(path);
}

/* ---- random damage ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Flips land in the header's fields, the class table and the shard heads:
 * the bytes whose values the reader interprets. Counters take any value. */
static size_t random_spot(const struct rp_header *h)
{
    switch (rng() % 7) {
    case 0:
    case 1:
        return rng() % sizeof(struct rp_header);
    case 2:
        return h->class_off + rng() % (h->nclasses * sizeof(uint64_t));
    case 3:
        return h->shard_off + (rng() % h->nshards) * h->shard_size + rng() % RP_SHARD_HEAD_SIZE;
    case 4: /* a route in use: its head, or its histograms */
        return h->route_off + (rng() % h->routes_used) * h->route_size +
               (rng() % 2 ? rng() % RP_ROUTE_HEAD_SIZE : rng() % h->route_size);
    case 5:
        return h->record_off + rng() % ((uint64_t)h->record_cap * h->record_size);
    default:
        return h->mark_off + rng() % ((uint64_t)h->mark_cap * h->mark_size);
    }
}

/* What is accepted must be safe to sum, summarize and report. */
static void use_all(const struct rp_ring *r, FILE *devnull)
{
    struct rp_totals t;
    struct rp_summary s;
    struct rp_class_sum *pc = calloc(r->hdr.nclasses, sizeof *pc);
    rp_ring_sum(&r->hdr, r->data, pc, &t);
    free(pc);
    if (rp_summary_build(&s, r, 1) == 0) {
        rp_report_text(devnull, &s);
        rp_report_json(devnull, &s, NULL, 0);
        rp_summary_free(&s);
    }
}

static void test_random_flips(void)
{
    size_t accepted = 0, unnamed = 0;
    const struct rp_header *h = hdr_of(valid);
    FILE *devnull = fopen("/dev/null", "w");
    for (int i = 0; i < FLIPS; i++) {
        unsigned char *b = fresh_copy();
        struct rp_ring r;
        int flips = 1 + (int)(rng() % 4);
        while (flips--)
            b[random_spot(h)] ^= (unsigned char)(1u << (rng() % 8));
        if (rp_ring_load_mem(b, valid_len, NAME, &r, err, sizeof err) == 0) {
            use_all(&r, devnull);
            rp_ring_free(&r);
            accepted++;
        } else if (strncmp(err, NAME ": ", strlen(NAME) + 2) != 0 || strlen(err) < strlen(NAME) + 8) {
            unnamed++;
        }
        free(b);
    }
    fclose(devnull);
    ok(unnamed == 0, "%d random flips: no crash, every refusal explained (%zu accepted)", FLIPS, accepted);
}

/* ---- from files ---- */

static void test_files(void)
{
    char dir[] = "/tmp/test_ring_read.XXXXXX", path[256], fifo[256];
    struct rp_ring r;
    if (!ok(mkdtemp(dir) != NULL, "temporary directory"))
        return;
    snprintf(path, sizeof path, "%s/a.ring", dir);
    snprintf(fifo, sizeof fifo, "%s/fifo.ring", dir);
    FILE *f = fopen(path, "wb");
    fwrite(valid, 1, valid_len, f);
    fclose(f);

    ok(rp_ring_load(path, &r, err, sizeof err) == 0 && r.hdr.pid == 4242 && strcmp(r.name, path) == 0,
       "a ring file loads (%s)", err[0] ? err : path);
    rp_ring_free(&r);
    struct rp_header h;
    ok(rp_ring_peek(path, &h, err, sizeof err) == 0 && h.pid == 4242, "its header can be peeked at");

    /* a writer stuck folding: the reader retries, then keeps the last copy */
    int fd = open(path, O_WRONLY);
    uint64_t odd = 1;
    ok(pwrite(fd, &odd, sizeof odd, offsetof(struct rp_header, fold_seq)) == sizeof odd, "fold_seq made odd");
    close(fd);
    ok(rp_ring_load(path, &r, err, sizeof err) == 0 && r.inconsistent,
       "a ring mid-fold loads, marked inconsistent");
    rp_ring_free(&r);

    ok(truncate(path, 4096) == 0, "file truncated to its header");
    ok(rp_ring_load(path, &r, err, sizeof err) != 0 && strstr(err, "truncated: header says"),
       "truncated file refused: %s", err);
    ok(rp_ring_load(dir, &r, err, sizeof err) != 0 && strstr(err, "is a directory"), "a directory: %s", err);
    ok(mkfifo(fifo, 0600) == 0 && rp_ring_load(fifo, &r, err, sizeof err) != 0 &&
       strstr(err, "not a regular file"), "a FIFO, without blocking: %s", err);
    ok(rp_ring_load("/dev/zero", &r, err, sizeof err) != 0 && strstr(err, "not a regular file"),
       "/dev/zero: %s", err);
    ok(rp_ring_load("/nonexistent/x.ring", &r, err, sizeof err) != 0 && strstr(err, "No such file"),
       "a missing file: %s", err);
    test_live_stuck(dir);
    test_live(dir);
    unlink(fifo);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    struct rb_spec spec = rb_default_spec();
    valid = rb_build(&spec, &valid_len);
    if (!valid)
        return 1;
    test_valid_sums();
    test_liveness();
    test_valid_variants();
    test_truncated();
    test_odd_sizes();
    test_fields();
    test_strings();
    test_class_table();
    test_shard_kinds();
    test_requests_read();
    test_percentiles();
    test_summary_one();
    test_summary_merged();
    test_bad_records();
    test_counters_any();
    test_request_strings();
    test_random_flips();
    test_files();
    free(valid);
    return done_testing();
}
