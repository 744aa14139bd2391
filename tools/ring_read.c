/* ring_read.c -- loading one ring file as untrusted input.
 *
 * A ring may be truncated, foreign, written by another version, half
 * written by a writer that is still starting, or damaged on purpose; the
 * reader must answer each with one clear message and never crash. So:
 *
 *  - The file is copied with pread into memory we own. Mapping it would be
 *    cheaper, but a writer (or anyone) truncating the file under a mapping
 *    turns our next load into SIGBUS; pread just returns less.
 *
 *  - The copy is a seqlock read: the writer makes fold_seq or series_seq
 *    odd while it moves counters from a thread's shard into the retired
 *    one or compacts the series. If either is odd, or differs between the
 *    start and the end of the copy, we copy again; after a few tries we
 *    keep the last copy and flag it (the counters are monotonic, so an
 *    unlucky copy is a little off, not garbage).
 *
 *  - Validation works on that private copy, so nothing can change between
 *    a check and a use. It checks the identity fields first (so a foreign,
 *    older or newer file is named as such rather than as "corrupt"), then
 *    sizes, enums and strings, then the layout with overflow-checked
 *    arithmetic, then what the layout points to. Messages are "PATH: what
 *    is wrong".
 *
 *  - The request areas have seqlocks of their own, per slot. A route is
 *    updated in place at every request end, so on a busy server the
 *    whole-file copy would rarely catch every route quiet: instead, after
 *    the copy, each route in use of a running ring is read again on its
 *    own (its seq, the route, its seq again) until it was quiet. Records
 *    and marks are written once per slot, but a busy server overwrites
 *    thousands while the file is copied, so their areas are read again
 *    too, a chunk at a time, three times in a row: a slot's bytes from
 *    the middle read are kept when its seq is the same in the first and
 *    the last (a single read may fetch a seq after the bytes it guards:
 *    the kernel's copy need not go in order). records_written and
 *    marks_written are read after that, so they say which records the
 *    slots should hold. A record whose seq is not 2 * index + 2 was being
 *    written or had been overwritten: it is skipped and counted, not an
 *    error.
 *
 *  - Route names, record route texts and mark labels are sanitized in
 *    place; a record that points outside the route table or has an
 *    unknown source or end reason is skipped like a torn one.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ring_read.h"

#define COPY_ATTEMPTS 8
#define ALIGN 8 /* every region holds u64s: natural alignment */
#define REREAD_CHUNK 65536 /* bytes of records or marks read again at a time */

typedef unsigned long long ull; /* for printf: uint64_t is unsigned long here, but say what we mean */

__attribute__((format(printf, 4, 5)))
static int fail(char *err, size_t errlen, const char *name, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(err, errlen, "%s: ", name);
    if (n >= 0 && (size_t)n < errlen) {
        va_start(ap, fmt);
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int check_size_limit(uint64_t size, const char *name, char *err, size_t errlen)
{
    if (size > RP_RING_MAX_FILE)
        return fail(err, errlen, name, "too large for a ring: %llu bytes (at most %llu)",
                    (ull)size, (ull)RP_RING_MAX_FILE);
    return 0;
}

/* ---- identity: is this a ring of our version and byte order at all? ---- */

static int check_identity(const struct rp_header *h, size_t len, const char *name,
                          char *err, size_t errlen)
{
    size_t have = len < RP_RING_MAGIC_LEN ? len : RP_RING_MAGIC_LEN;
    if (len == 0)
        return fail(err, errlen, name, "empty file");
    if (memcmp(h->magic, RP_RING_MAGIC, have) != 0)
        return fail(err, errlen, name, "not a reqprof ring (bad magic)");
    /* A byte-swapped endian word is a clearer diagnosis than the
     * byte-swapped version number it would otherwise be taken for. */
    if (len >= offsetof(struct rp_header, file_size) &&
        h->endian_check == __builtin_bswap64(RP_ENDIAN_CHECK))
        return fail(err, errlen, name, "written with the other byte order (endian check is swapped)");
    if (len >= offsetof(struct rp_header, header_size)) {
        if (h->version > RP_RING_VERSION)
            return fail(err, errlen, name, "written by a newer reqprof (format %u), this reader knows %u",
                        h->version, RP_RING_VERSION);
        if (h->version >= 1 && h->version < RP_RING_VERSION)
            return fail(err, errlen, name, "written by an older reqprof (format %u), this reader knows %u",
                        h->version, RP_RING_VERSION);
        if (h->version != RP_RING_VERSION)
            return fail(err, errlen, name, "bad format version %u (this reader knows %u)",
                        h->version, RP_RING_VERSION);
    }
    if (len < RP_HEADER_SIZE)
        return fail(err, errlen, name, "truncated: file has %zu bytes, less than the %u-byte header",
                    len, RP_HEADER_SIZE);
    if (h->header_size != RP_HEADER_SIZE)
        return fail(err, errlen, name, "bad header_size %u (format %u has %u)", h->header_size,
                    RP_RING_VERSION, RP_HEADER_SIZE);
    if (h->endian_check != RP_ENDIAN_CHECK)
        return fail(err, errlen, name, "bad endian check 0x%016llx", (ull)h->endian_check);
    return 0;
}

static int check_file_size(const struct rp_header *h, size_t len, const char *name,
                           char *err, size_t errlen)
{
    if (h->file_size > len)
        return fail(err, errlen, name, "truncated: header says %llu bytes, file has %zu",
                    (ull)h->file_size, len);
    if (h->file_size < len)
        return fail(err, errlen, name, "size mismatch: header says %llu bytes, file has %zu",
                    (ull)h->file_size, len);
    if (h->file_size % 4096)
        return fail(err, errlen, name, "bad file_size %llu: not a multiple of 4096", (ull)h->file_size);
    return 0;
}

/* ---- scalar fields ---- */

static int check_enums(const struct rp_header *h, const char *name, char *err, size_t errlen)
{
    if (h->state != RP_STATE_RUNNING && h->state != RP_STATE_EXITED && h->state != RP_STATE_EXECED)
        return fail(err, errlen, name, "bad state %u", h->state);
    if (h->allocator != RP_ALLOC_GLIBC && h->allocator != RP_ALLOC_OTHER)
        return fail(err, errlen, name, "bad allocator %u", h->allocator);
    if (h->usable_method != RP_USABLE_GLIBC_HEADER && h->usable_method != RP_USABLE_CALL)
        return fail(err, errlen, name, "bad usable_method %u", h->usable_method);
    if (h->http_detect > 1)
        return fail(err, errlen, name, "bad http_detect %u (0 or 1)", h->http_detect);
    if (h->route_paths > 1)
        return fail(err, errlen, name, "bad route_paths %u (0 or 1)", h->route_paths);
    return 0;
}

static int check_pids(const struct rp_header *h, const char *name, char *err, size_t errlen)
{
    if (h->pid == 0 || h->pid > RP_PID_MAX_LIMIT)
        return fail(err, errlen, name, "bad pid %u", h->pid);
    if (h->ppid > RP_PID_MAX_LIMIT)
        return fail(err, errlen, name, "bad ppid %u", h->ppid);
    if (h->fork_parent > RP_PID_MAX_LIMIT)
        return fail(err, errlen, name, "bad fork_parent %u", h->fork_parent);
    return 0;
}

static int check_string(const char *field, size_t size, const char *what, const char *name,
                        char *err, size_t errlen)
{
    if (!memchr(field, '\0', size))
        return fail(err, errlen, name, "%s is not NUL-terminated within its %zu bytes", what, size);
    return 0;
}

static int check_strings(const struct rp_header *h, const char *name, char *err, size_t errlen)
{
    if (check_string(h->prog, sizeof h->prog, "prog", name, err, errlen) ||
        check_string(h->title, sizeof h->title, "title", name, err, errlen) ||
        check_string(h->exe, sizeof h->exe, "exe", name, err, errlen))
        return -1;
    return 0;
}

/* The strings end up on terminals and in JSON: keep printable ASCII only,
 * so a title cannot carry escape sequences or invalid UTF-8. */
static void copy_sanitized(char *dst, const char *src, size_t size)
{
    size_t i;
    for (i = 0; i + 1 < size && src[i]; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    dst[i] = '\0';
}

/* ---- layout: the six regions the header points to ---- */

struct region {
    const char *what;
    uint64_t off, count, elem; /* from the header */
    uint64_t end;              /* off + count * elem, once placed */
};

static int place_region(struct region *r, uint64_t file_size, const char *name,
                        char *err, size_t errlen)
{
    uint64_t len;
    if (r->off % ALIGN)
        return fail(err, errlen, name, "%s offset %llu is not %d-byte aligned", r->what, (ull)r->off, ALIGN);
    if (__builtin_mul_overflow(r->count, r->elem, &len) ||
        __builtin_add_overflow(r->off, len, &r->end) || r->end > file_size)
        return fail(err, errlen, name, "%s (offset %llu, %llu x %llu bytes) lies outside the file (%llu bytes)",
                    r->what, (ull)r->off, (ull)r->count, (ull)r->elem, (ull)file_size);
    if (len && r->off < RP_HEADER_SIZE)
        return fail(err, errlen, name, "%s at offset %llu overlaps the header", r->what, (ull)r->off);
    return 0;
}

static int check_disjoint(const struct region *a, const struct region *b, const char *name,
                          char *err, size_t errlen)
{
    if (a->off == a->end || b->off == b->end)
        return 0;
    if (a->off < b->end && b->off < a->end)
        return fail(err, errlen, name, "%s [%llu, %llu) and %s [%llu, %llu) overlap",
                    a->what, (ull)a->off, (ull)a->end, b->what, (ull)b->off, (ull)b->end);
    return 0;
}

static int check_counts(const struct rp_header *h, const char *name, char *err, size_t errlen)
{
    if (h->nclasses < 1 || h->nclasses > RP_RING_MAX_CLASSES)
        return fail(err, errlen, name, "bad nclasses %u (1..%u)", h->nclasses, RP_RING_MAX_CLASSES);
    if ((uint64_t)h->shard_size != RP_SHARD_HEAD_SIZE + (uint64_t)h->nclasses * RP_CLASS_COUNT_SIZE)
        return fail(err, errlen, name, "bad shard_size %u (64 + %u classes x 64 is %llu)", h->shard_size,
                    h->nclasses, (ull)(RP_SHARD_HEAD_SIZE + (uint64_t)h->nclasses * RP_CLASS_COUNT_SIZE));
    if (h->nshards < RP_SHARD_FIRST_THREAD || h->nshards > RP_RING_MAX_SHARDS)
        return fail(err, errlen, name, "bad nshards %u (%u..%u)", h->nshards,
                    RP_SHARD_FIRST_THREAD, RP_RING_MAX_SHARDS);
    if (h->sample_size != sizeof(struct rp_sample))
        return fail(err, errlen, name, "bad sample_size %u (format %u has %zu)",
                    h->sample_size, RP_RING_VERSION, sizeof(struct rp_sample));
    if (h->series_count > h->series_cap)
        return fail(err, errlen, name, "series_count %llu exceeds series_cap %u",
                    (ull)h->series_count, h->series_cap);
    return 0;
}

/* After check_counts: nclasses is sane, so route_size cannot overflow. */
static int check_request_counts(const struct rp_header *h, const char *name, char *err, size_t errlen)
{
    uint64_t route_size = RP_ROUTE_HEAD_SIZE + (uint64_t)RP_ROUTE_NHIST * h->nclasses * sizeof(uint64_t);
    if (h->route_size != route_size)
        return fail(err, errlen, name, "bad route_size %u (%u + 3 histograms x %u classes x 8 is %llu)",
                    h->route_size, RP_ROUTE_HEAD_SIZE, h->nclasses, (ull)route_size);
    if (h->record_size != sizeof(struct rp_record))
        return fail(err, errlen, name, "bad record_size %u (format %u has %zu)",
                    h->record_size, RP_RING_VERSION, sizeof(struct rp_record));
    if (h->mark_size != sizeof(struct rp_mark))
        return fail(err, errlen, name, "bad mark_size %u (format %u has %zu)",
                    h->mark_size, RP_RING_VERSION, sizeof(struct rp_mark));
    if (h->route_cap > RP_RING_MAX_ROUTES)
        return fail(err, errlen, name, "bad route_cap %u (at most %u)", h->route_cap, RP_RING_MAX_ROUTES);
    if (h->record_cap > RP_RING_MAX_RECORDS)
        return fail(err, errlen, name, "bad record_cap %u (at most %u)", h->record_cap, RP_RING_MAX_RECORDS);
    if (h->mark_cap > RP_RING_MAX_MARKS)
        return fail(err, errlen, name, "bad mark_cap %u (at most %u)", h->mark_cap, RP_RING_MAX_MARKS);
    if (h->routes_used > h->route_cap)
        return fail(err, errlen, name, "routes_used %llu exceeds route_cap %u",
                    (ull)h->routes_used, h->route_cap);
    return 0;
}

static int check_layout(const struct rp_header *h, const char *name, char *err, size_t errlen)
{
    struct region r[] = {
        { "class table", h->class_off, h->nclasses, sizeof(uint64_t), 0 },
        { "shards", h->shard_off, h->nshards, h->shard_size, 0 },
        { "route table", h->route_off, h->route_cap, h->route_size, 0 },
        { "record area", h->record_off, h->record_cap, h->record_size, 0 },
        { "mark area", h->mark_off, h->mark_cap, h->mark_size, 0 },
        { "series", h->series_off, h->series_cap, h->sample_size, 0 },
    };
    const size_t n = sizeof r / sizeof r[0];
    if (check_counts(h, name, err, errlen) || check_request_counts(h, name, err, errlen))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (place_region(&r[i], h->file_size, name, err, errlen))
            return -1;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (check_disjoint(&r[i], &r[j], name, err, errlen))
                return -1;
    return 0;
}

/* ---- what the layout points to ---- */

static int check_class_table(const struct rp_header *h, const unsigned char *buf, const char *name,
                             char *err, size_t errlen)
{
    const uint64_t *upper = (const uint64_t *)(buf + h->class_off);
    for (uint32_t c = 1; c < h->nclasses; c++)
        if (upper[c] <= upper[c - 1])
            return fail(err, errlen, name, "class table not increasing: class %u ends at %llu, class %u at %llu",
                        c - 1, (ull)upper[c - 1], c, (ull)upper[c]);
    if (upper[h->nclasses - 1] != UINT64_MAX)
        return fail(err, errlen, name, "class table: the last class must be unbounded (ends at %llu)",
                    (ull)upper[h->nclasses - 1]);
    return 0;
}

static const char *kinds_for_slot(uint32_t slot)
{
    switch (slot) {
    case RP_SHARD_SLOT_RETIRED:   return "RETIRED";
    case RP_SHARD_SLOT_SHARED:    return "SHARED";
    case RP_SHARD_SLOT_INHERITED: return "INHERITED or FREE";
    default:                      return "THREAD or FREE";
    }
}

static int kind_fits_slot(uint32_t kind, uint32_t slot)
{
    switch (slot) {
    case RP_SHARD_SLOT_RETIRED:   return kind == RP_SHARD_RETIRED;
    case RP_SHARD_SLOT_SHARED:    return kind == RP_SHARD_SHARED;
    case RP_SHARD_SLOT_INHERITED: return kind == RP_SHARD_INHERITED || kind == RP_SHARD_FREE;
    default:                      return kind == RP_SHARD_THREAD || kind == RP_SHARD_FREE;
    }
}

static int check_shards(const struct rp_header *h, const unsigned char *buf, const char *name,
                        char *err, size_t errlen)
{
    for (uint32_t s = 0; s < h->nshards; s++) {
        const struct rp_shard_head *sh = (const struct rp_shard_head *)
            (buf + h->shard_off + (uint64_t)s * h->shard_size);
        if (!kind_fits_slot(sh->kind, s))
            return fail(err, errlen, name, "shard %u has kind %u, expected %s",
                        s, sh->kind, kinds_for_slot(s));
    }
    return 0;
}

static int validate(const struct rp_header *h, const unsigned char *buf, size_t len, const char *name,
                    char *err, size_t errlen)
{
    if (check_identity(h, len, name, err, errlen) ||
        check_file_size(h, len, name, err, errlen) ||
        check_enums(h, name, err, errlen) ||
        check_pids(h, name, err, errlen) ||
        check_strings(h, name, err, errlen) ||
        check_layout(h, name, err, errlen) ||
        check_class_table(h, buf, name, err, errlen) ||
        check_shards(h, buf, name, err, errlen))
        return -1;
    return 0;
}

/* ---- liveness ---- */

int rp_proc_start_ticks(uint32_t pid, uint64_t *ticks)
{
    char path[32], buf[2048];
    snprintf(path, sizeof path, "/proc/%u/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    /* Field 2 is the command name in parentheses and may itself hold
     * spaces and ')': count fields from the last ')'. */
    const char *p = strrchr(buf, ')');
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    if (!p)
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(p + 1, &end, 10);
    if (end == p + 1 || errno)
        return -1;
    *ticks = v;
    return 0;
}

static enum rp_liveness judge_liveness(const struct rp_header *h)
{
    uint64_t ticks;
    if (h->state == RP_STATE_EXITED)
        return RP_LIVE_EXITED;
    if (h->state == RP_STATE_EXECED)
        return RP_LIVE_EXECED;
    if (rp_proc_start_ticks(h->pid, &ticks) == 0 && ticks == h->proc_start_ticks)
        return RP_LIVE_RUNNING;
    return RP_LIVE_DIED;
}

const char *rp_liveness_name(enum rp_liveness l)
{
    switch (l) {
    case RP_LIVE_RUNNING: return "running";
    case RP_LIVE_EXITED:  return "exited";
    case RP_LIVE_DIED:    return "died";
    case RP_LIVE_EXECED:  return "execed";
    }
    return "?";
}

/* ---- the request areas of a live ring, read again (see the top) ---- */

/* Exactly len bytes at off, or -1 (an error, or the file shrank). */
static int pread_exact(int fd, void *buf, size_t len, uint64_t off)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, (unsigned char *)buf + got, len - got, (off_t)(off + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

/* Route i again, until its seq was even and the same before and after.
 * Returns -1 when it never was: the copy's bytes stay. */
static int reread_route(int fd, struct rp_ring *r, uint32_t i, unsigned char *tmp)
{
    const struct rp_header *h = &r->hdr;
    uint64_t off = h->route_off + (uint64_t)i * h->route_size;
    uint64_t seq_off = off + offsetof(struct rp_route_head, seq);
    for (int attempt = 0; attempt < COPY_ATTEMPTS; attempt++) {
        uint64_t before, after;
        if (attempt)
            sched_yield(); /* an update takes a fraction of a microsecond */
        if (pread_exact(fd, &before, sizeof before, seq_off))
            return -1;
        if (before & 1)
            continue;
        if (pread_exact(fd, tmp, h->route_size, off) || pread_exact(fd, &after, sizeof after, seq_off))
            return -1;
        if (before == after) {
            memcpy(r->data + off, tmp, h->route_size);
            return 0;
        }
    }
    return -1;
}

static int reread_routes(int fd, struct rp_ring *r)
{
    int rc = 0;
    unsigned char *tmp = malloc(r->hdr.route_size ? r->hdr.route_size : 1);
    if (!tmp)
        return -1;
    for (uint32_t i = 0; i < r->nroutes; i++)
        if (reread_route(fd, r, i, tmp))
            rc = -1;
    free(tmp);
    return rc;
}

/* One chunk of k slots at off, read three times. A slot whose seq is the
 * same in the first and the last read was not written meanwhile, so the
 * middle read holds it whole; any other slot gets seq 1, which no slot
 * has when complete: it is counted as torn. */
static int reread_chunk(int fd, struct rp_ring *r, uint64_t off, uint32_t k, uint32_t size,
                        unsigned char *const read[3])
{
    for (int i = 0; i < 3; i++)
        if (pread_exact(fd, read[i], (size_t)k * size, off))
            return -1;
    for (uint32_t j = 0; j < k; j++) {
        unsigned char *slot = r->data + off + (uint64_t)j * size;
        uint64_t before, after, torn = 1;
        memcpy(&before, read[0] + (size_t)j * size, sizeof before);
        memcpy(&after, read[2] + (size_t)j * size, sizeof after);
        if (before == after)
            memcpy(slot, read[1] + (size_t)j * size, size);
        else
            memcpy(slot, &torn, sizeof torn);
    }
    return 0;
}

/* Records or marks (seq at offset 0): n slots of size bytes at area, then
 * the count of those written, at written_off in the header, into *written. */
static int reread_slots(int fd, struct rp_ring *r, uint64_t area, uint32_t n, uint32_t size,
                        uint64_t written_off, uint64_t *written)
{
    uint32_t per = REREAD_CHUNK / size;
    unsigned char *read[3] = { malloc(REREAD_CHUNK), malloc(REREAD_CHUNK), malloc(REREAD_CHUNK) };
    int rc = read[0] && read[1] && read[2] ? 0 : -1;
    for (uint32_t first = 0; rc == 0 && first < n; first += per)
        rc = reread_chunk(fd, r, area + (uint64_t)first * size, n - first < per ? n - first : per, size, read);
    if (rc == 0)
        rc = pread_exact(fd, written, sizeof *written, written_off);
    for (int i = 0; i < 3; i++)
        free(read[i]);
    return rc;
}

/* Returns -1 when the file could not be read again or a route never
 * settled: the copy is then kept as it is and called inconsistent. */
static int reread_live(int fd, struct rp_ring *r)
{
    struct rp_header *h = &r->hdr;
    int rc = reread_routes(fd, r);
    if (reread_slots(fd, r, h->record_off, h->record_cap, h->record_size,
                     offsetof(struct rp_header, records_written), &h->records_written) ||
        reread_slots(fd, r, h->mark_off, h->mark_cap, h->mark_size,
                     offsetof(struct rp_header, marks_written), &h->marks_written))
        rc = -1;
    return rc;
}

/* ---- the request areas: what is kept, sanitized ---- */

static int record_valid(const struct rp_header *h, const struct rp_record *rec, uint64_t index)
{
    return rec->seq == 2 * index + 2 && rec->route < h->route_cap &&
           (rec->source == RP_SRC_API || rec->source == RP_SRC_HTTP) &&
           rec->end_reason >= RP_END_API && rec->end_reason <= RP_END_THREAD;
}

static uint64_t kept_of(uint64_t written, uint32_t cap)
{
    return written < cap ? written : cap;
}

static int index_records(struct rp_ring *r)
{
    const struct rp_header *h = &r->hdr;
    uint64_t kept = kept_of(h->records_written, h->record_cap);
    r->records = malloc((kept ? kept : 1) * sizeof *r->records);
    if (!r->records)
        return -1;
    for (uint64_t index = h->records_written - kept; index < h->records_written; index++) {
        struct rp_record *rec = (struct rp_record *)
            (r->data + h->record_off + index % h->record_cap * h->record_size);
        if (!record_valid(h, rec, index)) {
            r->records_torn++;
            continue;
        }
        copy_sanitized(rec->route_text, rec->route_text, sizeof rec->route_text);
        r->records[r->nrecords++] = (struct rp_record_ref){ index, rec };
    }
    return 0;
}

/* A torn mark is left out without a count: marks are rare and only
 * labels in a timeline. */
static int index_marks(struct rp_ring *r)
{
    const struct rp_header *h = &r->hdr;
    uint64_t kept = kept_of(h->marks_written, h->mark_cap);
    r->marks = malloc((kept ? kept : 1) * sizeof *r->marks);
    if (!r->marks)
        return -1;
    for (uint64_t index = h->marks_written - kept; index < h->marks_written; index++) {
        struct rp_mark *m = (struct rp_mark *)(r->data + h->mark_off + index % h->mark_cap * h->mark_size);
        if (m->seq != 2 * index + 2)
            continue;
        copy_sanitized(m->label, m->label, sizeof m->label);
        r->marks[r->nmarks++] = m;
    }
    return 0;
}

/* Sanitizes the names of the routes in use; says whether one was caught
 * mid-update (odd seq). */
static int settle_routes(struct rp_ring *r)
{
    int odd = 0;
    for (uint32_t i = 0; i < r->nroutes; i++) {
        struct rp_route_head *route = (struct rp_route_head *)
            (r->data + r->hdr.route_off + (uint64_t)i * r->hdr.route_size);
        copy_sanitized(route->name, route->name, sizeof route->name);
        odd |= (int)(route->seq & 1);
    }
    return odd;
}

/* ---- loading ---- */

/* Validates buf (which the ring takes over, or frees on failure). fd,
 * when not -1, is the file it was copied from, to read the request areas
 * of a running ring again. */
static int load_owned(unsigned char *buf, size_t len, const char *name, int torn, int fd,
                      struct rp_ring *out, char *err, size_t errlen)
{
    struct rp_header h = { 0 };
    memcpy(&h, buf, len < sizeof h ? len : sizeof h);
    memset(out, 0, sizeof *out);
    if (validate(&h, buf, len, name, err, errlen)) {
        free(buf);
        return -1;
    }
    if (!(out->name = strdup(name))) {
        free(buf);
        return fail(err, errlen, name, "out of memory");
    }
    out->data = buf;
    out->size = len;
    out->hdr = h;
    out->nroutes = (uint32_t)h.routes_used; /* at most route_cap: validated */
    copy_sanitized(out->prog, h.prog, sizeof out->prog);
    copy_sanitized(out->title, h.title, sizeof out->title);
    copy_sanitized(out->exe, h.exe, sizeof out->exe);
    if (fd >= 0 && h.state == RP_STATE_RUNNING && reread_live(fd, out))
        torn = 1;
    if (settle_routes(out))
        torn = 1;
    out->inconsistent = torn || ((h.fold_seq | h.series_seq) & 1);
    out->liveness = judge_liveness(&h);
    if (index_records(out) || index_marks(out)) {
        rp_ring_free(out);
        return fail(err, errlen, name, "out of memory");
    }
    return 0;
}

int rp_ring_load_mem(const void *buf, size_t len, const char *name,
                     struct rp_ring *out, char *err, size_t errlen)
{
    err[0] = '\0';
    if (check_size_limit(len, name, err, errlen))
        return -1;
    unsigned char *copy = malloc(len ? len : 1);
    if (!copy)
        return fail(err, errlen, name, "out of memory");
    memcpy(copy, buf, len);
    return load_owned(copy, len, name, 0, -1, out, err, errlen);
}

struct seqs {
    uint64_t series, fold;
};

static int read_seqs(int fd, struct seqs *s)
{
    if (pread(fd, &s->series, 8, offsetof(struct rp_header, series_seq)) != 8 ||
        pread(fd, &s->fold, 8, offsetof(struct rp_header, fold_seq)) != 8)
        return -1;
    return 0;
}

/* Copies up to size bytes; fewer when the file shrank under us. */
static ssize_t copy_all(int fd, unsigned char *buf, size_t size)
{
    size_t got = 0;
    while (got < size) {
        ssize_t n = pread(fd, buf + got, size - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* One copy of the file. *stable says whether the writer was quiet the
 * whole time: both sequence counters even and unchanged, nothing shrank. */
static int copy_once(int fd, const char *path, unsigned char **buf, size_t *len, int *stable,
                     char *err, size_t errlen)
{
    struct stat st;
    struct seqs before, after;
    if (fstat(fd, &st))
        return fail(err, errlen, path, "%s", strerror(errno));
    if (check_size_limit((uint64_t)st.st_size, path, err, errlen))
        return -1;
    *buf = malloc(st.st_size ? (size_t)st.st_size : 1);
    if (!*buf)
        return fail(err, errlen, path, "out of memory for %lld bytes", (long long)st.st_size);
    int seqs_ok = read_seqs(fd, &before) == 0;
    ssize_t n = copy_all(fd, *buf, (size_t)st.st_size);
    if (n < 0) {
        free(*buf);
        return fail(err, errlen, path, "read: %s", strerror(errno));
    }
    seqs_ok = seqs_ok && read_seqs(fd, &after) == 0;
    *len = (size_t)n;
    *stable = !seqs_ok || (n == st.st_size && before.series == after.series && before.fold == after.fold &&
                           !((before.series | before.fold) & 1));
    return 0;
}

/* Copies until the writer was quiet during a copy, or gives up and says so. */
static int copy_stable(int fd, const char *path, unsigned char **buf, size_t *len, int *torn,
                       char *err, size_t errlen)
{
    int stable = 0;
    for (int attempt = 0; attempt < COPY_ATTEMPTS; attempt++) {
        if (attempt) {
            free(*buf);
            sched_yield(); /* let a fold in progress finish: it takes microseconds */
        }
        if (copy_once(fd, path, buf, len, &stable, err, errlen))
            return -1;
        if (stable)
            break;
    }
    *torn = !stable;
    return 0;
}

/* Opens path for reading only if it is a regular file: a FIFO would
 * block, a device could be endless or have side effects on open. */
static int open_regular(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st))
        return fail(err, errlen, path, "%s", strerror(errno));
    if (!S_ISREG(st.st_mode))
        return fail(err, errlen, path, S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return fail(err, errlen, path, "%s", strerror(errno));
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) { /* replaced since the stat */
        close(fd);
        return fail(err, errlen, path, "not a regular file");
    }
    return fd;
}

/* The header alone, checked as far as it goes: enough to choose rings by
 * pid before loading them. */
int rp_ring_peek(const char *path, struct rp_header *h, char *err, size_t errlen)
{
    unsigned char page[RP_HEADER_SIZE];
    err[0] = '\0';
    memset(h, 0, sizeof *h);
    int fd = open_regular(path, err, errlen);
    if (fd < 0)
        return -1;
    ssize_t n = pread(fd, page, sizeof page, 0);
    int saved = errno;
    close(fd);
    if (n < 0)
        return fail(err, errlen, path, "read: %s", strerror(saved));
    memcpy(h, page, (size_t)n < sizeof *h ? (size_t)n : sizeof *h);
    if (check_identity(h, (size_t)n, path, err, errlen) || check_pids(h, path, err, errlen))
        return -1;
    return 0;
}

static int state_changed(int fd, uint32_t was)
{
    uint32_t now;
    return pread(fd, &now, sizeof now, offsetof(struct rp_header, state)) == sizeof now && now != was;
}

int rp_ring_load(const char *path, struct rp_ring *out, char *err, size_t errlen)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    int torn, rc = -1;
    err[0] = '\0';
    memset(out, 0, sizeof *out); /* so that freeing a failed load is harmless */
    int fd = open_regular(path, err, errlen);
    if (fd < 0)
        return -1;
    /* A writer that exits between our copy and our look at /proc would
     * be called "died". Once it is gone its file is final: if the state
     * there changed since the copy, one more copy settles it. */
    for (int pass = 0; pass < 2; pass++) {
        if (pass)
            rp_ring_free(out);
        rc = -1;
        if (copy_stable(fd, path, &buf, &len, &torn, err, errlen))
            break;
        rc = load_owned(buf, len, path, torn, fd, out, err, errlen);
        if (rc || out->liveness != RP_LIVE_DIED || !state_changed(fd, out->hdr.state))
            break;
    }
    close(fd);
    return rc;
}

void rp_ring_free(struct rp_ring *r)
{
    free(r->name);
    free(r->data);
    free(r->records);
    free(r->marks);
    memset(r, 0, sizeof *r);
}

const uint64_t *rp_ring_classes(const struct rp_ring *r)
{
    return (const uint64_t *)(r->data + r->hdr.class_off);
}

const struct rp_sample *rp_ring_series(const struct rp_ring *r)
{
    return (const struct rp_sample *)(r->data + r->hdr.series_off);
}

const struct rp_route_head *rp_ring_route(const struct rp_ring *r, uint32_t i)
{
    return (const struct rp_route_head *)(r->data + r->hdr.route_off + (uint64_t)i * r->hdr.route_size);
}

const uint64_t *rp_ring_route_hist(const struct rp_ring *r, uint32_t i, int h)
{
    return (const uint64_t *)((const unsigned char *)rp_ring_route(r, i) + RP_ROUTE_HEAD_SIZE +
                              (uint64_t)h * r->hdr.nclasses * sizeof(uint64_t));
}
