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
 *    a check and a use. It checks the identity fields first (so a foreign
 *    or newer file is named as such rather than as "corrupt"), then sizes,
 *    enums and strings, then the layout with overflow-checked arithmetic,
 *    then what the layout points to. Messages are "PATH: what is wrong".
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

/* ---- identity: is this a version-1 ring of our byte order at all? ---- */

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
        if (h->version != RP_RING_VERSION)
            return fail(err, errlen, name, "bad format version %u (this reader knows %u)",
                        h->version, RP_RING_VERSION);
    }
    if (len < RP_HEADER_SIZE)
        return fail(err, errlen, name, "truncated: file has %zu bytes, less than the %u-byte header",
                    len, RP_HEADER_SIZE);
    if (h->header_size != RP_HEADER_SIZE)
        return fail(err, errlen, name, "bad header_size %u (format 1 has %u)", h->header_size, RP_HEADER_SIZE);
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

/* ---- layout: the three regions the header points to ---- */

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
        return fail(err, errlen, name, "bad sample_size %u (format 1 has %zu)",
                    h->sample_size, sizeof(struct rp_sample));
    if (h->series_count > h->series_cap)
        return fail(err, errlen, name, "series_count %llu exceeds series_cap %u",
                    (ull)h->series_count, h->series_cap);
    return 0;
}

static int check_layout(const struct rp_header *h, const char *name, char *err, size_t errlen)
{
    struct region r[3] = {
        { "class table", h->class_off, h->nclasses, sizeof(uint64_t), 0 },
        { "shards", h->shard_off, h->nshards, h->shard_size, 0 },
        { "series", h->series_off, h->series_cap, h->sample_size, 0 },
    };
    if (check_counts(h, name, err, errlen))
        return -1;
    for (int i = 0; i < 3; i++)
        if (place_region(&r[i], h->file_size, name, err, errlen))
            return -1;
    if (check_disjoint(&r[0], &r[1], name, err, errlen) ||
        check_disjoint(&r[0], &r[2], name, err, errlen) ||
        check_disjoint(&r[1], &r[2], name, err, errlen))
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

/* ---- loading ---- */

/* Validates buf (which the ring takes over, or frees on failure). */
static int load_owned(unsigned char *buf, size_t len, const char *name, int torn,
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
    copy_sanitized(out->prog, h.prog, sizeof out->prog);
    copy_sanitized(out->title, h.title, sizeof out->title);
    copy_sanitized(out->exe, h.exe, sizeof out->exe);
    out->inconsistent = torn || ((h.fold_seq | h.series_seq) & 1);
    out->liveness = judge_liveness(&h);
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
    return load_owned(copy, len, name, 0, out, err, errlen);
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
        rc = load_owned(buf, len, path, torn, out, err, errlen);
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
