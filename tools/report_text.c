/* report_text.c -- the summary a person reads: one screen, top to bottom
 * from "what ran" to "where the bytes are" to "how it moved":
 *
 *   a header line       how many processes, in which state, over what time
 *   the process table   one row per process
 *   totals              all processes together
 *   size classes        a histogram of allocations by usable size, with
 *                       what is still live and requested-vs-usable bytes
 *   over time           per process, RSS and live bytes as sparklines and
 *                       the allocator's own view at the last sample
 *   requests            the request counters in one line (or one line
 *                       saying none were seen, and how to get some)
 *   routes              merged over processes, ranked by what they leave
 *                       live; then by peak, when that order differs
 *   by process          which process served how many (several processes)
 *   standouts           the few requests that left or peaked the most
 *   marks               the process-wide marks, in time order
 *
 * Long lists are cut to a screen's worth with "... N more": the JSON
 * report has every row.
 * Bytes are shown in binary units (KiB, MiB); counts exactly. Figures that
 * are estimates say so. Formatting helpers return small structs by value
 * so that several can appear in one printf.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "report.h"

#define ROLE_WIDTH  22
#define BAR_WIDTH   30
#define SPARK_WIDTH 40
#define ROUTE_WIDTH 26
#define ROUTE_ROWS  15 /* routes ranked by left bytes */
#define PEAK_ROWS   5  /* routes ranked by peak */
#define PROC_ROWS   15
#define STANDOUT_ROWS 3 /* of each reason */
#define MARK_ROWS   10

typedef unsigned long long ull;

struct text {
    char s[32];
};

/* 1536 -> "1.5 KiB"; below 1 KiB exact: "512 B". */
static struct text human(uint64_t v)
{
    static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    struct text t;
    double d = (double)v;
    int u = -1;
    if (v < 1024) {
        snprintf(t.s, sizeof t.s, "%llu B", (ull)v);
        return t;
    }
    while (d >= 1024 && u < 5) {
        d /= 1024;
        u++;
    }
    snprintf(t.s, sizeof t.s, "%.1f %s", d, unit[u]);
    return t;
}

/* A class bound, exact and short: 1280 -> "1280", 4096 -> "4K", UINT64_MAX -> "inf". */
static struct text bound(uint64_t v)
{
    static const char *const suffix[] = { "", "K", "M", "G", "T" };
    struct text t;
    int u = 0;
    if (v == UINT64_MAX) {
        snprintf(t.s, sizeof t.s, "inf");
        return t;
    }
    while (v >= 1024 && v % 1024 == 0 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf(t.s, sizeof t.s, "%llu%s", (ull)v, suffix[u]);
    return t;
}

static struct text duration(uint64_t ns)
{
    struct text t;
    ull s = ns / 1000000000u;
    if (s < 60)
        snprintf(t.s, sizeof t.s, "%.1fs", (double)ns / 1e9);
    else if (s < 3600)
        snprintf(t.s, sizeof t.s, "%llum%02llus", s / 60, s % 60);
    else if (s < 86400)
        snprintf(t.s, sizeof t.s, "%lluh%02llum", s / 3600, s / 60 % 60);
    else
        snprintf(t.s, sizeof t.s, "%llud%02lluh", s / 86400, s / 3600 % 24);
    return t;
}

static struct text local_time(uint64_t real_ns)
{
    struct text t;
    struct tm tm;
    time_t sec = (time_t)(real_ns / 1000000000u);
    if (!localtime_r(&sec, &tm) || !strftime(t.s, sizeof t.s, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(t.s, sizeof t.s, "?");
    return t;
}

/* A request's length: "850 us", "12.3 ms", "2.50 s". */
static struct text span(uint64_t ns)
{
    struct text t;
    if (ns < 1000000)
        snprintf(t.s, sizeof t.s, "%llu us", (ull)(ns / 1000));
    else if (ns < 1000000000)
        snprintf(t.s, sizeof t.s, "%.1f ms", (double)ns / 1e6);
    else
        snprintf(t.s, sizeof t.s, "%.2f s", (double)ns / 1e9);
    return t;
}

static const char *role(const struct rp_ring *r)
{
    return r->title[0] ? r->title : r->prog[0] ? r->prog : "?";
}

/* ---- header and process table ---- */

static void print_header(FILE *out, const struct rp_summary *s)
{
    const enum rp_liveness order[] = { RP_LIVE_RUNNING, RP_LIVE_EXITED, RP_LIVE_DIED, RP_LIVE_EXECED };
    size_t count[sizeof order / sizeof order[0]] = { 0 };
    const char *sep = "";
    for (size_t i = 0; i < s->nprocs; i++)
        count[s->procs[i].ring->liveness]++;
    fprintf(out, "reqprof-report: %zu process%s (", s->nprocs, s->nprocs == 1 ? "" : "es");
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        if (!count[order[i]])
            continue;
        fprintf(out, "%s%zu %s", sep, count[order[i]], rp_liveness_name(order[i]));
        sep = ", ";
    }
    struct text from = local_time(s->start_real_ns), to = local_time(s->end_real_ns);
    uint64_t span = s->end_real_ns > s->start_real_ns ? s->end_real_ns - s->start_real_ns : 0;
    /* the end's date only when it differs from the start's */
    fprintf(out, "), %s .. %s (%s)\n", from.s, strncmp(from.s, to.s, 11) ? to.s : to.s + 11,
            duration(span).s);
}

static void print_processes(FILE *out, const struct rp_summary *s)
{
    int torn = 0;
    fprintf(out, "\n%7s %7s  %-*s %-8s %4s %10s %10s %10s %10s %10s %10s\n", "PID", "PPID", ROLE_WIDTH, "ROLE",
            "STATE", "THR", "ALLOCS", "FREES", "LIVE BLKS", "LIVE", "PEAK RSS", "RSS");
    for (size_t i = 0; i < s->nprocs; i++) {
        const struct rp_proc *p = &s->procs[i];
        const struct rp_header *h = &p->ring->hdr;
        char state[16];
        snprintf(state, sizeof state, "%s%s", rp_liveness_name(p->ring->liveness),
                 p->ring->inconsistent ? "*" : "");
        torn |= p->ring->inconsistent;
        fprintf(out, "%7u %7u  %-*.*s %-8s %4llu %10llu %10llu %10llu %10s %10s %10s\n", h->pid, h->ppid,
                ROLE_WIDTH, ROLE_WIDTH, role(p->ring), state, (ull)h->threads_seen, (ull)p->totals.allocs,
                (ull)p->totals.frees, (ull)p->totals.live_blocks, human(p->totals.live_bytes).s,
                human(p->peak_rss).s, human(h->last.rss_bytes).s);
    }
    if (torn)
        fprintf(out, "  * read while threads kept exiting, the series was being compacted or a route was being "
                     "updated: one thread's counts, or a route's last request, may be missed or counted twice\n");
}

/* ---- totals ---- */

static void print_totals(FILE *out, const struct rp_summary *s)
{
    const struct rp_totals *t = &s->totals;
    uint64_t rounding = rp_rounding_bytes(t);
    fprintf(out, "\nTotals\n");
    fprintf(out, "  %-22s %12llu\n", "allocations", (ull)t->allocs);
    fprintf(out, "  %-22s %12llu\n", "frees", (ull)t->frees);
    fprintf(out, "  %-22s %12llu\n", "reallocs", (ull)t->reallocs);
    fprintf(out, "  %-22s %12llu\n", "failed", (ull)t->failed);
    fprintf(out, "  %-22s %12s\n", "requested bytes", human(t->req_bytes).s);
    fprintf(out, "  %-22s %12s\n", "usable bytes", human(t->usable_bytes).s);
    fprintf(out, "  %-22s %12s", "size-class rounding", human(rounding).s);
    if (t->req_bytes)
        fprintf(out, "  (%.1f%% of requested)", 100.0 * (double)rounding / (double)t->req_bytes);
    fprintf(out, "\n  %-22s %12s  in %llu blocks\n", "live bytes", human(t->live_bytes).s, (ull)t->live_blocks);
    fprintf(out, "  %-22s %12s  (estimated)\n", "live requested bytes", human(t->live_req_bytes).s);
    if (t->inh_blocks)
        fprintf(out, "  %-22s %12s  in %llu blocks, live in the parent at fork()\n", "inherited at fork",
                human(t->inh_bytes).s, (ull)t->inh_blocks);
}

/* ---- size classes ---- */

static void print_bar(FILE *out, uint64_t v, uint64_t max)
{
    int n = max ? (int)((double)v / (double)max * BAR_WIDTH + 0.5) : 0;
    if (v && n == 0)
        n = 1; /* every class that had allocations shows */
    fprintf(out, "%-*.*s", BAR_WIDTH, n, "##############################");
}

static void print_classes(FILE *out, const struct rp_summary *s)
{
    uint64_t max = 0;
    for (size_t i = 0; i < s->nclasses; i++)
        if (s->classes[i].sum.allocs > max)
            max = s->classes[i].sum.allocs;
    fprintf(out, "\nSize classes by usable size (bar: allocations)\n");
    fprintf(out, "  %-14s %-*s %10s %10s %10s %10s %10s\n", "CLASS", BAR_WIDTH, "", "ALLOCS", "LIVE BLKS",
            "LIVE", "REQUESTED", "USABLE");
    for (size_t i = 0; i < s->nclasses; i++) {
        const struct rp_class_sum *c = &s->classes[i].sum;
        char label[2 * sizeof(struct text) + 8];
        if (!rp_class_used(c))
            continue;
        if (i == 0)
            snprintf(label, sizeof label, "[0, %s]", bound(s->classes[i].upper).s);
        else
            snprintf(label, sizeof label, "(%s, %s%c", bound(s->classes[i - 1].upper).s,
                     bound(s->classes[i].upper).s, s->classes[i].upper == UINT64_MAX ? ')' : ']');
        fprintf(out, "  %-14s ", label);
        print_bar(out, c->allocs, max);
        fprintf(out, " %10llu %10llu %10s %10s %10s\n", (ull)c->allocs, (ull)rp_class_live_blocks(c),
                human(rp_class_live_bytes(c)).s, human(c->req_bytes).s, human(c->usable_bytes).s);
    }
}

/* ---- over time ---- */

static uint64_t rss_of(const struct rp_sample *p) { return p->rss_bytes; }
static uint64_t live_of(const struct rp_sample *p) { return p->live_bytes; }

/* The points to draw: the kept series, then the last sample when it is
 * newer (the series keeps one per stride_ms; the last sample is the latest). */
static size_t npoints(const struct rp_ring *r)
{
    const struct rp_header *h = &r->hdr;
    if (h->samples_taken == 0)
        return 0;
    if (h->series_count && rp_ring_series(r)[h->series_count - 1].t_ns >= h->last.t_ns)
        return h->series_count;
    return h->series_count + 1;
}

static const struct rp_sample *point(const struct rp_ring *r, size_t i)
{
    return i < r->hdr.series_count ? &rp_ring_series(r)[i] : &r->hdr.last;
}

static uint64_t peak_of(const struct rp_ring *r, size_t n, uint64_t (*get)(const struct rp_sample *))
{
    uint64_t max = 0;
    for (size_t i = 0; i < n; i++)
        if (get(point(r, i)) > max)
            max = get(point(r, i));
    return max;
}

/* One character per column, scaled from 0 to max: a baseline of zero
 * shows growth as it is, not magnified. Columns are equal spans of time,
 * as samples are not evenly spaced (a process is sampled when it
 * allocates or waits); a column shows the highest sample in it, or the
 * one before it when it holds none. Times that go backwards (a ring
 * that lies) only crowd the last column. */
static void print_sparkline(FILE *out, const char *what, const struct rp_ring *r, size_t n,
                            uint64_t (*get)(const struct rp_sample *))
{
    static const char level[] = "_.:-=+*#";
    uint64_t max = peak_of(r, n, get);
    uint64_t t0 = point(r, 0)->t_ns, t1 = point(r, n - 1)->t_ns;
    double span = t1 > t0 ? (double)(t1 - t0) : 0;
    size_t cols = n < SPARK_WIDTH ? n : SPARK_WIDTH, i = 0;
    uint64_t held = get(point(r, 0));
    fprintf(out, "    %-5s [", what);
    for (size_t c = 0; c < cols; c++) {
        uint64_t end = t0 + (uint64_t)(span * (double)(c + 1) / (double)cols), v = 0;
        int any = 0;
        for (; i < n && (c + 1 == cols || point(r, i)->t_ns <= end); i++, any = 1) {
            held = get(point(r, i));
            v = held > v ? held : v;
        }
        v = any ? v : held;
        size_t lv = max ? (size_t)((double)v / (double)max * 7 + 0.5) : 0;
        fputc(level[lv > 7 ? 7 : lv], out);
    }
    fprintf(out, "]%*s %s -> %s, peak %s\n", (int)(SPARK_WIDTH - cols), "", human(get(point(r, 0))).s,
            human(get(point(r, n - 1))).s, human(max).s);
}

static void print_heap(FILE *out, const struct rp_ring *r)
{
    const struct rp_sample *l = &r->hdr.last;
    const struct { const char *name; uint64_t v; } f[] = {
        { "mapped", l->heap_mapped }, { "in use", l->heap_in_use },
        { "free", l->heap_free },     { "releasable", l->heap_releasable },
    };
    const char *sep = "";
    fprintf(out, "    heap  ");
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (f[i].v == RP_HEAP_UNKNOWN)
            continue;
        fprintf(out, "%s%s %s", sep, f[i].name, human(f[i].v).s);
        sep = ", ";
    }
    if (*sep)
        fprintf(out, " (the allocator's own view, last sample)\n");
    else
        fprintf(out, "the allocator (%s) offers no statistics\n",
                r->hdr.allocator == RP_ALLOC_GLIBC ? "glibc" : "not glibc");
}

static void print_proc_series(FILE *out, const struct rp_ring *r)
{
    const struct rp_header *h = &r->hdr;
    size_t n = npoints(r);
    fprintf(out, "  pid %u (%.*s): ", h->pid, ROLE_WIDTH, role(r));
    if (n == 0) {
        fprintf(out, "no samples yet\n");
        return;
    }
    if (h->interval_ms)
        fprintf(out, "%llu samples, at most one per %u ms; %llu kept, stride %llu ms\n",
                (ull)h->samples_taken, h->interval_ms, (ull)h->series_count, (ull)h->series_stride_ms);
    else
        fprintf(out, "sampled only at exit\n");
    print_sparkline(out, "rss", r, n, rss_of);
    print_sparkline(out, "live", r, n, live_of);
    print_heap(out, r);
}

static void print_series(FILE *out, const struct rp_summary *s)
{
    fprintf(out, "\nRSS and live bytes over time\n");
    for (size_t i = 0; i < s->nprocs; i++)
        print_proc_series(out, s->procs[i].ring);
}

/* ---- requests ---- */

static int detection_off(const struct rp_summary *s)
{
    for (size_t i = 0; i < s->nprocs; i++)
        if (!s->procs[i].ring->hdr.http_detect)
            return 1;
    return 0;
}

static void print_none_seen(FILE *out, const struct rp_summary *s)
{
    if (detection_off(s))
        fprintf(out, "\nRequests: none seen. HTTP detection was off (REQPROF_HTTP=0); turn it on, or mark "
                     "requests with reqprof_request_begin() from reqprof.h (reqprof(3)).\n");
    else
        fprintf(out, "\nRequests: none seen. No HTTP/1.x request arrived on an accepted connection and nothing "
                     "called reqprof_request_begin() from reqprof.h (reqprof(3)).\n");
}

/* Counters that are usually 0, on a line of their own when one is not. */
static void print_unusual(FILE *out, const struct rp_requests *q)
{
    const struct { uint64_t v; const char *what; } f[] = {
        { q->records_torn, "records torn (being written as they were read)" },
        { q->nested, "begun with one open (nested)" },
        { q->unmatched, "ends with none open" },
        { q->lost, "lost (ended with no record)" },
        { q->other_route, "under \"(other routes)\" (the route table was full)" },
    };
    const char *sep = "  ";
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (!f[i].v)
            continue;
        fprintf(out, "%s%llu %s", sep, (ull)f[i].v, f[i].what);
        sep = ", ";
    }
    if (sep[0] == ',')
        fputc('\n', out);
}

static void print_requests(FILE *out, const struct rp_summary *s)
{
    const struct rp_requests *q = &s->requests;
    fprintf(out, "\nRequests: %llu ended (%llu begun) in %zu route%s; %llu HTTP connection%s, %llu not HTTP; "
                 "%llu records kept of %llu written\n",
            (ull)q->ended, (ull)q->begun, s->routes.n, s->routes.n == 1 ? "" : "s", (ull)q->http_conns,
            q->http_conns == 1 ? "" : "s", (ull)q->http_not_http, (ull)q->records_kept, (ull)q->records_written);
    print_unusual(out, q);
}

/* ---- routes ---- */

static void print_route_head(FILE *out, const char *title)
{
    fprintf(out, "\n%s\n", title);
    fprintf(out, "  %-*s %8s %9s %9s %9s %9s %9s %9s %9s %9s %9s %6s\n", ROUTE_WIDTH, "ROUTE", "REQS", "ALLOC/REQ",
            "LEFT", "LEFT/REQ", "LEFT p50", "LEFT p99", "LEFT max", "PEAK p50", "PEAK p99", "PEAK max", "LEAKY");
}

static void print_route(FILE *out, const struct rp_route_sum *r)
{
    fprintf(out, "  %-*.*s %8llu %9.1f %9s %9s %9s %9s %9s %9s %9s %9s %5.1f%%\n", ROUTE_WIDTH, ROUTE_WIDTH,
            r->name, (ull)r->requests, rp_per_request(r->allocs, r->requests), human(r->left_sum).s,
            human((uint64_t)rp_per_request(r->left_sum, r->requests)).s, human(r->left_p50).s,
            human(r->left_p99).s, human(r->left_max).s, human(r->peak_p50).s, human(r->peak_p99).s,
            human(r->peak_max).s, 100 * rp_per_request(r->leaky, r->requests));
}

static void print_more(FILE *out, size_t shown, size_t n, const char *what)
{
    if (n > shown)
        fprintf(out, "  ... %zu more %s (reqprof-report --json lists them all)\n", n - shown, what);
}

/* Whether the top rows by peak are the top rows by left, in order. */
static int same_top(const struct rp_summary *s, size_t rows)
{
    for (size_t i = 0; i < rows && i < s->routes.n; i++)
        if (s->routes_by_peak[i] != &s->routes.v[i])
            return 0;
    return 1;
}

static void print_routes(FILE *out, const struct rp_summary *s)
{
    size_t rows = s->routes.n < ROUTE_ROWS ? s->routes.n : ROUTE_ROWS;
    if (!s->routes.n)
        return;
    print_route_head(out, "Routes by bytes left live (all processes)");
    for (size_t i = 0; i < rows; i++)
        print_route(out, &s->routes.v[i]);
    print_more(out, rows, s->routes.n, "routes");
    fprintf(out, "  LEFT: bytes a route's requests left live at their end; PEAK: the most a request had live "
                 "at once;\n  p50, p99: at most (the upper bound of a size class); LEAKY: requests that left a "
                 "block live\n");
    uint64_t unanswered = 0;
    for (size_t i = 0; i < s->routes.n; i++)
        unanswered += s->routes.v[i].unanswered;
    if (unanswered)
        fprintf(out, "  REQS includes %llu requests that got no response (the client closed first, or the "
                     "server\n  never answered)\n", (unsigned long long)unanswered);
    rows = s->routes.n < PEAK_ROWS ? s->routes.n : PEAK_ROWS;
    if (same_top(s, rows))
        return;
    print_route_head(out, "Routes by peak bytes");
    for (size_t i = 0; i < rows; i++)
        print_route(out, s->routes_by_peak[i]);
    print_more(out, rows, s->routes.n, "routes");
}

static void print_by_process(FILE *out, const struct rp_summary *s)
{
    size_t rows = s->nprocs < PROC_ROWS ? s->nprocs : PROC_ROWS;
    if (s->nprocs < 2)
        return;
    fprintf(out, "\nRequests by process\n");
    for (size_t i = 0; i < rows; i++) {
        const struct rp_proc *p = &s->procs[i];
        fprintf(out, "  pid %-7u %-*.*s %10llu requests in %zu route%s\n", p->ring->hdr.pid, ROLE_WIDTH,
                ROLE_WIDTH, role(p->ring), (ull)p->requests.ended, p->routes.n, p->routes.n == 1 ? "" : "s");
    }
    print_more(out, rows, s->nprocs, "processes");
}

static void print_standout(FILE *out, const struct rp_standout *so)
{
    const struct rp_record *r = so->ref->rec;
    fprintf(out, "  left %9s  peak %9s  %-*.*s pid %u, request %llu, %s", human(r->left_bytes).s,
            human(r->peak_bytes).s, ROUTE_WIDTH, ROUTE_WIDTH, r->route_text, so->ring->hdr.pid, (ull)r->id,
            span(r->end_ns > r->start_ns ? r->end_ns - r->start_ns : 0).s);
    if (r->status)
        fprintf(out, ", status %u", r->status);
    fputc('\n', out);
}

static void print_standouts(FILE *out, const struct rp_summary *s)
{
    size_t left = 0, peak = 0;
    if (!s->nstandouts)
        return;
    fprintf(out, "\nRequests that stand out (among the kept records)\n");
    for (size_t i = 0; i < s->nstandouts; i++) {
        size_t *shown = strcmp(s->standouts[i].why, "left") == 0 ? &left : &peak;
        if (*shown < STANDOUT_ROWS) {
            print_standout(out, &s->standouts[i]);
            ++*shown;
        }
    }
}

static void print_marks(FILE *out, const struct rp_summary *s)
{
    size_t rows = s->nmarks < MARK_ROWS ? s->nmarks : MARK_ROWS;
    if (!s->nmarks)
        return;
    fprintf(out, "\nMarks\n");
    for (size_t i = 0; i < rows; i++) {
        const struct rp_mark_ref *m = &s->marks[i];
        fprintf(out, "  %s  pid %-7u %s  (after %llu requests)\n", local_time(m->real_ns).s, m->ring->hdr.pid,
                m->mark->label, (ull)m->mark->requests);
    }
    print_more(out, rows, s->nmarks, "marks");
}

static void print_request_part(FILE *out, const struct rp_summary *s)
{
    if (!s->requests.begun && !s->requests.ended && !s->routes.n)
        print_none_seen(out, s);
    else {
        print_requests(out, s);
        print_routes(out, s);
        print_by_process(out, s);
        print_standouts(out, s);
    }
    print_marks(out, s);
}

void rp_report_text(FILE *out, const struct rp_summary *s)
{
    print_header(out, s);
    print_processes(out, s);
    print_totals(out, s);
    print_classes(out, s);
    print_series(out, s);
    print_request_part(out, s);
}
