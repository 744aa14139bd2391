/* ring.c -- see ring.h. Everything here runs inside the host's first
 * malloc or in a child just after fork(): raw syscalls and stack buffers
 * only, no stdio, no malloc. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "allocator.h"
#include "clock.h"
#include "log.h"
#include "procfs.h"
#include "ring_sum.h"
#include "request.h"
#include "ring.h"
#include "sizeclass.h"

#define PAGE 4096u
#define MIN_SAMPLES 16

static uint64_t round_up(uint64_t v, uint64_t to)
{
    return (v + to - 1) / to * to;
}

static void sanitize_name(char *out, size_t cap)
{
    extern char *program_invocation_short_name;
    const char *name = program_invocation_short_name;
    size_t n = 0;
    for (; name && *name && n + 1 < cap && n < 32; name++) {
        char c = *name;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '-' || c == '_' || c == '.';
        out[n++] = ok ? c : '_';
    }
    if (n == 0 || out[0] == '.')
        out[n = 0] = '\0', rp_append(out, cap, "prog");
    else
        out[n] = '\0';
}

/* The program's name, reduced to characters that are safe in a file name.
 * Taken once per image: servers rewrite argv[0], where glibc's name
 * points, and a fork()ed child must still be named for its program. */
static const char *program_name(void)
{
    static char name_once[RP_NAME_LEN];
    if (!name_once[0])
        sanitize_name(name_once, sizeof name_once);
    return name_once;
}

/* The ring directory, opened: it must be ours alone, as it holds what
 * our heap did. It is checked through the descriptor the ring is then
 * created in, so the directory checked is the directory used. Returns
 * the descriptor, or -1 after one line on stderr. */
static int open_dir(const char *dir)
{
    struct stat st;
    char uid[21];
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        rp_log("cannot create ", dir, ": ", strerrordesc_np(errno), NULL);
        return -1;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOTDIR || errno == ELOOP)
            rp_log(dir, " is not a directory (set REQPROF_DIR)", NULL);
        else
            rp_log("cannot open ", dir, ": ", strerrordesc_np(errno), NULL);
        return -1;
    }
    if (fstat(fd, &st) < 0) {
        rp_log("cannot examine ", dir, ": ", strerrordesc_np(errno), NULL);
    } else if (st.st_uid != geteuid()) {
        rp_log(dir, " belongs to uid ", rp_fmt_u64(uid, st.st_uid),
               ", not to this process (set REQPROF_DIR to a directory of its own)", NULL);
    } else if (st.st_mode & 077) {
        rp_log(dir, " is open to other users; chmod 700 it, or set REQPROF_DIR", NULL);
    } else {
        return fd;
    }
    close(fd);
    return -1;
}

/* Creates PROG.PID.ring in the directory dirfd (PROG.PID.N.ring when that
 * name is taken); path gets DIR/name. */
static int open_new_ring(int dirfd, const char *dir, const char *prog, char *path, size_t cap)
{
    char num[21], name[RP_NAME_LEN];
    for (unsigned attempt = 1; attempt < 100; attempt++) {
        name[0] = '\0';
        rp_append(name, sizeof name, prog);
        rp_append(name, sizeof name, ".");
        rp_append(name, sizeof name, rp_fmt_u64(num, (uint64_t)getpid()));
        if (attempt > 1) {
            rp_append(name, sizeof name, ".");
            rp_append(name, sizeof name, rp_fmt_u64(num, attempt));
        }
        rp_append(name, sizeof name, ".ring");
        path[0] = '\0';
        rp_append(path, cap, dir);
        rp_append(path, cap, "/");
        rp_append(path, cap, name);
        int fd = openat(dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

#define MARKS 64

struct layout {
    uint64_t class_off, shard_off, route_off, record_off, mark_off, series_off, size;
    uint32_t nshards, shard_size, route_size, series_cap;
};

static struct layout plan(const struct rp_settings *s)
{
    struct layout l;
    l.class_off = RP_HEADER_SIZE;
    l.shard_off = round_up(l.class_off + RP_NCLASSES * sizeof(uint64_t), PAGE);
    l.nshards = RP_SHARD_FIRST_THREAD + s->threads;
    l.shard_size = RP_SHARD_HEAD_SIZE + RP_NCLASSES * RP_CLASS_COUNT_SIZE;
    l.route_off = round_up(l.shard_off + (uint64_t)l.nshards * l.shard_size, PAGE);
    l.route_size = RP_ROUTE_HEAD_SIZE + RP_ROUTE_NHIST * RP_NCLASSES * sizeof(uint64_t);
    l.record_off = round_up(l.route_off + (uint64_t)s->routes * l.route_size, PAGE);
    l.mark_off = round_up(l.record_off + (uint64_t)s->records * sizeof(struct rp_record), PAGE);
    l.series_off = round_up(l.mark_off + MARKS * sizeof(struct rp_mark), PAGE);
    l.size = round_up(s->ring_size, PAGE);
    uint64_t need = round_up(l.series_off + MIN_SAMPLES * sizeof(struct rp_sample), PAGE);
    if (l.size < need) {
        char size[21], grown[21];
        rp_log("REQPROF_RING_SIZE=", rp_fmt_u64(size, s->ring_size), " cannot hold the thread shards,"
               " routes and records asked for; using ", rp_fmt_u64(grown, need), NULL);
        l.size = need;
    }
    l.series_cap = (uint32_t)((l.size - l.series_off) / sizeof(struct rp_sample));
    return l;
}

static void write_header(struct rp_ring *r, const struct layout *l, const char *prog,
                         uint32_t fork_parent, const struct rp_settings *s)
{
    struct rp_header *h = r->hdr;
    h->version = RP_RING_VERSION;
    h->header_size = RP_HEADER_SIZE;
    h->endian_check = RP_ENDIAN_CHECK;
    h->file_size = l->size;
    h->state = RP_STATE_RUNNING;
    h->pid = (uint32_t)getpid();
    h->ppid = (uint32_t)getppid();
    h->fork_parent = fork_parent;
    h->proc_start_ticks = rp_proc_start_ticks();
    h->start_real_ns = rp_clock_ns(CLOCK_REALTIME);
    h->start_mono_ns = rp_clock_ns(CLOCK_MONOTONIC);
    h->allocator = rp_next_kind();
    h->usable_method = rp_next_usable_method();
    h->interval_ms = s->interval_ms;
    h->nclasses = RP_NCLASSES;
    h->class_off = l->class_off;
    h->nshards = l->nshards;
    h->shard_size = l->shard_size;
    h->shard_off = l->shard_off;
    h->series_cap = l->series_cap;
    h->sample_size = sizeof(struct rp_sample);
    h->series_off = l->series_off;
    h->series_stride_ms = s->interval_ms;
    h->route_cap = s->routes;
    h->route_size = l->route_size;
    h->route_off = l->route_off;
    h->record_cap = s->records;
    h->record_size = sizeof(struct rp_record);
    h->record_off = l->record_off;
    h->mark_cap = MARKS;
    h->mark_size = sizeof(struct rp_mark);
    h->mark_off = l->mark_off;
    h->http_detect = (uint32_t)s->http_detect;
    h->route_paths = (uint32_t)s->route_paths;
    h->owner_slots = RP_OWNER_SLOTS;
    rp_append((char *)(r->base + l->route_off), RP_ROUTE_LEN, "(other routes)");
    h->routes_used = 1;
    rp_append(h->prog, sizeof h->prog, prog);
    ssize_t n = readlink("/proc/self/exe", h->exe, sizeof h->exe - 1);
    h->exe[n > 0 ? n : 0] = '\0';
    rp_class_table((uint64_t *)(r->base + l->class_off));

    static const uint32_t special[RP_SHARD_FIRST_THREAD] = {
        [RP_SHARD_SLOT_RETIRED] = RP_SHARD_RETIRED,
        [RP_SHARD_SLOT_SHARED] = RP_SHARD_SHARED,
        [RP_SHARD_SLOT_INHERITED] = RP_SHARD_INHERITED,
    };
    for (uint32_t slot = 0; slot < RP_SHARD_FIRST_THREAD; slot++)
        if (slot != RP_SHARD_SLOT_INHERITED || fork_parent)
            ((struct rp_shard_head *)rp_ring_shard(r, slot))->kind = special[slot];
    /* the magic last: a reader never takes a half-written header for a ring */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    memcpy(h->magic, RP_RING_MAGIC, RP_RING_MAGIC_LEN);
}

static void close_exec_predecessors(int dirfd, const struct rp_header *self);

int rp_ring_create(struct rp_ring *r, const struct rp_settings *s, uint32_t fork_parent)
{
    char *path = r->path;
    const char *prog = program_name();
    struct layout l = plan(s);

    memset(r, 0, sizeof *r);
    int dirfd = open_dir(s->dir);
    if (dirfd < 0)
        return -1;
    int fd = open_new_ring(dirfd, s->dir, prog, path, sizeof r->path);
    if (fd < 0) {
        rp_log("cannot create a ring in ", s->dir, ": ", strerrordesc_np(errno), NULL);
        close(dirfd);
        return -1;
    }
    int err = posix_fallocate(fd, 0, (off_t)l.size);
    void *base = err ? MAP_FAILED
        : mmap(NULL, l.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) {
        rp_log("cannot reserve ", path, ": ", strerrordesc_np(err ? err : errno), NULL);
        unlink(path);
        close(fd);
        close(dirfd);
        return -1;
    }
    close(fd);
    r->base = base;
    r->size = l.size;
    r->hdr = base;
    write_header(r, &l, prog, fork_parent, s);
    if (!fork_parent)
        close_exec_predecessors(dirfd, r->hdr);
    close(dirfd);
    return 0;
}

int rp_ring_remove_if_idle_child(const struct rp_ring *r)
{
    struct rp_totals t;
    if (!r->hdr->fork_parent)
        return 0;
    rp_ring_sum(r->hdr, r->base, NULL, &t);
    return t.allocs == 0 && t.frees == 0 && unlink(r->path) == 0;
}

void rp_ring_unmap(struct rp_ring *r)
{
    if (r->base)
        munmap(r->base, r->size);
    memset(r, 0, sizeof *r);
}

int rp_ring_owns_shard(const struct rp_ring *r, const void *p)
{
    uintptr_t a = (uintptr_t)p, first = (uintptr_t)rp_ring_shard(r, RP_SHARD_FIRST_THREAD);
    uintptr_t end = (uintptr_t)rp_ring_shard(r, r->hdr->nshards);
    return a >= first && a < end && (a - first) % r->hdr->shard_size == 0;
}

/* Enough of a header to sum its shards safely: the ring is in our own
 * 0700 directory, but may have been written by another reqprof version. */
static int summable(const struct rp_header *h, uint64_t size)
{
    return memcmp(h->magic, RP_RING_MAGIC, RP_RING_MAGIC_LEN) == 0
        && h->version == RP_RING_VERSION && h->file_size == size
        && h->nclasses > 0 && h->nclasses <= 4096 && h->nshards <= 65536
        && h->shard_size == RP_SHARD_HEAD_SIZE + (uint64_t)h->nclasses * RP_CLASS_COUNT_SIZE
        && h->shard_off >= RP_HEADER_SIZE
        && h->shard_off + (uint64_t)h->nshards * h->shard_size <= size;
}

static void close_if_predecessor(int dirfd, const char *name, const struct rp_header *self)
{
    struct stat st;
    int fd = openat(dirfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return;
    void *base = MAP_FAILED;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= RP_HEADER_SIZE
        && st.st_size <= (off_t)1 << 30)
        base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (base == MAP_FAILED)
        return;
    struct rp_header *h = base;
    if (summable(h, (uint64_t)st.st_size) && h->pid == self->pid
        && h->proc_start_ticks == self->proc_start_ticks && h->state == RP_STATE_RUNNING
        && h->start_mono_ns < self->start_mono_ns) {
        struct rp_totals t;
        rp_ring_sum(h, base, NULL, &t);
        if (t.allocs == 0 && t.frees == 0) {
            unlinkat(dirfd, name, 0);
        } else {
            h->end_real_ns = self->start_real_ns;
            __atomic_store_n(&h->state, RP_STATE_EXECED, __ATOMIC_RELEASE);
        }
    }
    munmap(base, (size_t)st.st_size);
}

static int digits_equal(const char *s, size_t len, const char *num)
{
    return len == strlen(num) && strncmp(s, num, len) == 0;
}

/* Whether name is PROG.PID.ring or PROG.PID.N.ring for this pid. */
static int names_pid(const char *name, const char *pid)
{
    size_t len = strlen(name);
    if (len < 5 || strcmp(name + len - 5, ".ring") != 0)
        return 0;
    size_t end = len - 5, dot = end;
    for (int part = 0; part < 2; part++) {
        while (dot > 0 && name[dot - 1] != '.')
            dot--;
        if (dot == 0)
            return 0;
        if (digits_equal(name + dot, end - dot, pid))
            return 1;
        end = --dot;
    }
    return 0;
}

/* After exec: the ring of the image this process replaced (same pid,
 * same start time) is closed. It is removed if that image made no calls
 * of its own (a fork() child that went straight to exec, as shells do),
 * else marked RP_STATE_EXECED. The directory is read with getdents64
 * into a stack buffer: opendir would take its buffer from the host's
 * heap. */
static void close_exec_predecessors(int dirfd, const struct rp_header *self)
{
    char pid[21], buf[4096] __attribute__((aligned(8)));
    ssize_t n;
    rp_fmt_u64(pid, self->pid);
    while ((n = getdents64(dirfd, buf, sizeof buf)) > 0) {
        for (ssize_t at = 0; at < n;) {
            const struct dirent64 *e = (const struct dirent64 *)(buf + at);
            if (e->d_reclen == 0)
                return;
            at += e->d_reclen;
            if (names_pid(e->d_name, pid))
                close_if_predecessor(dirfd, e->d_name, self);
        }
    }
}
