/* pagewalks: page walks in a valgrind lackey trace, for bench/pagewalks.
 *
 *   valgrind --tool=lackey --trace-mem=yes --trace-syscalls=yes --log-fd=9 CMD 9>&1 |
 *       pagewalks [--lines] [--pages FILE]
 *
 * On a machine whose kernel flushes the TLB on every system call (page-table
 * isolation on a CPU without PCID) a program pays one page walk for every
 * distinct 4 KiB page, code or data, it touches between two system calls.
 * A window is that stretch of the trace: the accesses between two system
 * calls. The figure is the sum over windows of the distinct pages touched in
 * each, counting both pages of an access or instruction that straddles a
 * page boundary.
 *
 * With --lines the unit is a 64-byte cache line instead of a page: the sum
 * over windows of the distinct lines touched. Where system calls leave the
 * TLB alone, what a program pays again after each one is the lines the
 * kernel's own work pushed out of the caches; this counts the lines it
 * would fetch if every window began with them all gone, a bound and a
 * measure of its footprint, as the page count is of its page walks.
 *
 * Which lines count:
 *   "I  ADDR,SIZE", " L ADDR,SIZE", " S ADDR,SIZE", " M ADDR,SIZE"
 *       an instruction fetch, load, store or modify: its pages join the window;
 *   "SYSCALL[PID,TID](NR) sys_NAME ( ... ) ..."
 *       (valgrind's --trace-syscalls) ends the window, except for
 *       clock_gettime, gettimeofday, time and getcpu: valgrind hides the vDSO
 *       from its guest, so these show up here as system calls, but natively
 *       they run in user space and flush nothing;
 *   "SYSCALL[PID,TID](NR) ... [async] --> ..."
 *       the completion of a blocking call already counted: not a new window.
 * Every other line (valgrind's "==PID==" messages, the program's own output
 * if it shares the stream) is ignored, and so are access lines that do not
 * parse. Only the first LINE_BUF - 1 bytes of a line are looked at (a system
 * call line can quote a long string); the rest is skipped.
 *
 * The trace is taken as one stream, one thread at a time: right for a
 * single-threaded program, and for one that execs (--trace-children=yes) but
 * does not fork a second live process.
 *
 * Prints one line on stdout:
 *   windows=W pagewalks=P accesses=A skipped=S    (with --lines: lines=P)
 * W the system calls that end a window, P the sum over windows of distinct
 * pages (lines), A the access lines, S the access lines that did not parse.
 * With --pages FILE it also writes, per page (line) touched, "ADDRESS
 * WINDOWS" (its hex address, number of windows it was touched in), sorted
 * by address: the sum of the second column is P, and bench/pagewalks
 * attributes it to mappings.
 *
 * Exit status: 0, or 1 on a read or write error, 2 on bad usage.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_SHIFT 12
#define LINE_SHIFT 6
#define LINE_BUF 4096
#define MAX_ACCESS 4096  /* larger sizes are taken as malformed: lackey's are at most a few hundred */

/* An open-addressing hash table of pages, grown at half full. A slot is in
 * use when its gen equals the table's: bumping gen empties the table at once,
 * which is how each window starts afresh. */
struct table {
    uint64_t *page;
    uint64_t *count;  /* windows the page was seen in (the --pages table) */
    uint32_t *gen;
    size_t mask, used;
    uint32_t cur;
};

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p) {
        fprintf(stderr, "pagewalks: out of memory\n");
        exit(1);
    }
    return p;
}

static void table_init(struct table *t, size_t slots)
{
    t->page = xcalloc(slots, sizeof *t->page);
    t->count = xcalloc(slots, sizeof *t->count);
    t->gen = xcalloc(slots, sizeof *t->gen);
    t->mask = slots - 1;
    t->used = 0;
    t->cur = 1;
}

static size_t slot_of(const struct table *t, uint64_t page)
{
    size_t h = (size_t)((page * 0x9E3779B97F4A7C15ull) >> 20) & t->mask;
    while (t->gen[h] == t->cur && t->page[h] != page)
        h = (h + 1) & t->mask;
    return h;
}

static void table_grow(struct table *t)
{
    struct table old = *t;
    table_init(t, (old.mask + 1) * 2);
    for (size_t i = 0; i <= old.mask; i++) {
        if (old.gen[i] != old.cur)
            continue;
        size_t h = slot_of(t, old.page[i]);
        t->gen[h] = t->cur;
        t->page[h] = old.page[i];
        t->count[h] = old.count[i];
        t->used++;
    }
    free(old.page);
    free(old.count);
    free(old.gen);
}

/* Adds page; returns its slot and whether it was new. */
static size_t table_add(struct table *t, uint64_t page, int *added)
{
    size_t h = slot_of(t, page);
    *added = t->gen[h] != t->cur;
    if (*added) {
        if (2 * (t->used + 1) > t->mask + 1) {
            table_grow(t);
            h = slot_of(t, page);
        }
        t->gen[h] = t->cur;
        t->page[h] = page;
        t->count[h] = 0;
        t->used++;
    }
    return h;
}

static void table_clear(struct table *t)
{
    t->used = 0;
    if (++t->cur == 0) {  /* gen wrapped: old stamps could look current */
        memset(t->gen, 0, (t->mask + 1) * sizeof *t->gen);
        t->cur = 1;
    }
}

static struct table window, all;
static int want_pages;
static unsigned unit_shift = PAGE_SHIFT;  /* LINE_SHIFT with --lines */
static uint64_t windows, touched, accesses, skipped;  /* touched: the sum over windows of distinct units */

static void touch(uint64_t page)
{
    int added;
    table_add(&window, page, &added);
    if (!added)
        return;
    touched++;
    if (want_pages) {
        size_t h = table_add(&all, page, &added);  /* may grow the table: count is read after */
        all.count[h]++;
    }
}

/* "ADDR,SIZE" after the kind letter: the pages of bytes ADDR .. ADDR+SIZE-1 */
static void access_line(const char *s)
{
    char *end;
    errno = 0;
    uint64_t addr = strtoull(s, &end, 16);
    if (end == s || *end != ',' || errno) {
        skipped++;
        return;
    }
    const char *num = end + 1;
    uint64_t size = strtoull(num, &end, 10);
    if (end == num || size == 0 || size > MAX_ACCESS || errno) {
        skipped++;
        return;
    }
    accesses++;
    uint64_t first = addr >> unit_shift, last = (addr + size - 1) >> unit_shift;
    for (uint64_t p = first; p <= last && p >= first; p++)  /* p >= first: no wrap at the top */
        touch(p);
}

/* "SYSCALL[PID,TID](NR) NAME ...": whether it ends a window */
static int ends_window(const char *s)
{
    static const char *const vdso[] = {
        "sys_clock_gettime", "sys_gettimeofday", "sys_time", "sys_getcpu",
    };
    const char *p = strstr(s, ") ");
    if (!p)
        return 0;
    p += 2;
    size_t len = strcspn(p, " (\n");
    if (len == 3 && memcmp(p, "...", 3) == 0)
        return 0;
    for (size_t i = 0; i < sizeof vdso / sizeof *vdso; i++)
        if (len == strlen(vdso[i]) && memcmp(p, vdso[i], len) == 0)
            return 0;
    return len > 0;
}

static int by_page(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Writes "ADDRESS WINDOWS" per page, sorted; 0 on success. */
static int write_pages(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "pagewalks: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    uint64_t *pairs = xcalloc(2 * (all.used + 1), sizeof *pairs);
    size_t n = 0;
    for (size_t i = 0; i <= all.mask; i++)
        if (all.gen[i] == all.cur) {
            pairs[2 * n] = all.page[i];
            pairs[2 * n + 1] = all.count[i];
            n++;
        }
    qsort(pairs, n, 2 * sizeof *pairs, by_page);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%llx %llu\n", (unsigned long long)(pairs[2 * i] << unit_shift),
                (unsigned long long)pairs[2 * i + 1]);
    free(pairs);
    if (ferror(f) | fclose(f)) {
        fprintf(stderr, "pagewalks: cannot write %s\n", path);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *pages_path = NULL;
    int i = 1;
    if (i < argc && strcmp(argv[i], "--lines") == 0) {
        unit_shift = LINE_SHIFT;
        i++;
    }
    if (i + 1 < argc && strcmp(argv[i], "--pages") == 0) {
        pages_path = argv[i + 1];
        i += 2;
    }
    if (i != argc) {
        fprintf(stderr, "usage: pagewalks [--lines] [--pages FILE] < LACKEY_TRACE\n");
        return 2;
    }
    want_pages = pages_path != NULL;
    table_init(&window, 1 << 12);
    if (want_pages)
        table_init(&all, 1 << 14);

    static char inbuf[1 << 20];  /* fewer reads from the pipe */
    setvbuf(stdin, inbuf, _IOFBF, sizeof inbuf);
    char line[LINE_BUF];
    int partial = 0;  /* the rest of a line longer than the buffer */
    while (fgets(line, sizeof line, stdin)) {
        int was_partial = partial;
        partial = strchr(line, '\n') == NULL && !feof(stdin);
        if (was_partial)
            continue;
        const char *s = line + (line[0] == ' ');
        if ((s[0] == 'I' || s[0] == 'L' || s[0] == 'S' || s[0] == 'M') && s[1] == ' ') {
            access_line(s + 2);
        } else if (strncmp(line, "SYSCALL[", 8) == 0 && ends_window(line)) {
            windows++;
            table_clear(&window);
        }
    }
    if (ferror(stdin)) {
        fprintf(stderr, "pagewalks: read error on standard input: %s\n", strerror(errno));
        return 1;
    }
    if (pages_path && write_pages(pages_path) != 0)
        return 1;
    printf("windows=%llu %s=%llu accesses=%llu skipped=%llu\n",
           (unsigned long long)windows, unit_shift == LINE_SHIFT ? "lines" : "pagewalks",
           (unsigned long long)touched,
           (unsigned long long)accesses, (unsigned long long)skipped);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "pagewalks: cannot write standard output\n");
        return 1;
    }
    return 0;
}
