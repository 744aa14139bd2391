/* test_ring_read.c -- the ring reader against valid and broken rings.
 *
 * Valid rings come from ring_build.h with known counters, so the sums are
 * checked exactly. Then every kind of damage the reader must refuse: each
 * case breaks one thing in a fresh copy of a valid ring and checks the
 * load fails with a message that names the file and the fault (a key word
 * of it). Last, seeded random byte flips in the header and the tables: the
 * reader may accept or refuse them, but never crash, which the sanitizer
 * build checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../tap.h"
#include "../ring_build.h"
#include "ring_read.h"
#include "ring_sum.h"

#define NAME "test.ring"
#define FLIPS 4000

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
    { "newer version", FIELD(version), 2, "newer reqprof (format 2), this reader knows 1" },
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
    switch (rng() % 4) {
    case 0:
    case 1:
        return rng() % sizeof(struct rp_header);
    case 2:
        return h->class_off + rng() % (h->nclasses * sizeof(uint64_t));
    default:
        return h->shard_off + (rng() % h->nshards) * h->shard_size + rng() % RP_SHARD_HEAD_SIZE;
    }
}

static void test_random_flips(void)
{
    size_t accepted = 0, unnamed = 0;
    const struct rp_header *h = hdr_of(valid);
    for (int i = 0; i < FLIPS; i++) {
        unsigned char *b = fresh_copy();
        struct rp_ring r;
        int flips = 1 + (int)(rng() % 4);
        while (flips--)
            b[random_spot(h)] ^= (unsigned char)(1u << (rng() % 8));
        if (rp_ring_load_mem(b, valid_len, NAME, &r, err, sizeof err) == 0) {
            struct rp_totals t;
            struct rp_class_sum *pc = calloc(r.hdr.nclasses, sizeof *pc);
            rp_ring_sum(&r.hdr, r.data, pc, &t); /* what is accepted must be safe to sum */
            free(pc);
            rp_ring_free(&r);
            accepted++;
        } else if (strncmp(err, NAME ": ", strlen(NAME) + 2) != 0 || strlen(err) < strlen(NAME) + 8) {
            unnamed++;
        }
        free(b);
    }
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
    test_random_flips();
    test_files();
    free(valid);
    return done_testing();
}
