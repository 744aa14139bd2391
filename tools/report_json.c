/* report_json.c -- the report for programs: one JSON object on one line.
 *
 * Numbers are raw integers (bytes, counts, nanoseconds), never rounded or
 * scaled. Key names are stable; add keys, never rename them:
 *
 *   report_version      2: this layout (1 had no requests, routes, standouts,
 *                       records or marks)
 *   start_real_ns       earliest process start (CLOCK_REALTIME ns)
 *   end_real_ns         latest process end: exit or exec time, now while
 *                       running, the last sample of one that died
 *   totals              all processes: a totals object (below)
 *   classes[]           merged histogram: class objects (below)
 *   requests            all processes: a requests object (below)
 *   routes[]            merged over all processes by route name (nginx's
 *                       master and workers): route objects (below), ranked
 *                       by left_sum, then peak_max, descending; routes
 *                       with no requests are not listed
 *   standouts[]         up to 10 kept records of any process with the
 *                       largest left_bytes (> 0), largest first, then up
 *                       to 10 others with the largest peak_bytes (> 0):
 *                       record objects (below) with "pid" and "why"
 *                       ("left" or "peak")
 *   processes[]
 *     file              the ring file
 *     pid ppid fork_parent prog title exe proc_start_ticks
 *     start_real_ns end_real_ns interval_ms series_stride_ms
 *     samples_taken threads_seen shard_overflows nshards
 *                       as in the ring header (reqprof-ring(5)); end_real_ns
 *                       is 0 until the process exits or execs
 *     until_real_ns     the end this report assumes (see end_real_ns above)
 *     state             "running", "exited", "died" (RUNNING in the ring
 *                       but the process is gone: crash, kill -9 or _exit)
 *                       or "execed" (replaced by exec; the new image has a
 *                       ring of its own)
 *     inconsistent_read true when every copy caught the writer folding a
 *                       thread or compacting its series
 *     allocator         "glibc" or "other"
 *     usable_method     "glibc_header" or "call"
 *     peak_rss_bytes    largest rss_bytes sampled
 *     totals            a totals object
 *     classes[]         class objects of this process
 *     last              the latest sample
 *     series[]          the kept samples, oldest first
 *     requests          a requests object, for this process
 *     http_detect       true when request boundaries were found on accepted
 *                       HTTP/1.x connections (REQPROF_HTTP)
 *     route_paths       true when HTTP route tags hold the path, false for
 *                       the method only (REQPROF_PATHS)
 *     routes[]          this process's route objects, without "processes"
 *     records[]         the kept records, oldest first: record objects
 *     marks[]           the kept marks, oldest first: t_ns (since the
 *                       process started, CLOCK_MONOTONIC), tid, requests
 *                       (ended before it), label
 *   errors[]            one message per ring that could not be read
 *
 *   totals: allocs frees reallocs failed req_bytes usable_bytes freed_bytes
 *     rounding_bytes (usable_bytes - req_bytes), live_blocks live_bytes,
 *     live_req_bytes (estimated), inh_blocks inh_bytes inh_req_bytes (live
 *     in the parent at fork)
 *   class: upper (largest usable size; 18446744073709551615 for the last,
 *     unbounded class), allocs frees req_bytes usable_bytes freed_bytes
 *     inh_blocks inh_bytes inh_req_bytes live_blocks live_bytes
 *     live_req_bytes (estimated). Only classes with allocations or
 *     inherited blocks are listed.
 *   sample: t_ns rss_bytes rss_file_bytes live_bytes live_req_bytes
 *     live_blocks allocs frees heap_mapped heap_in_use heap_free
 *     heap_releasable, as struct rp_sample; a heap_* the allocator does not
 *     report is null.
 *   requests: begun ended nested unmatched lost other_route http_conns
 *     http_not_http records_written, as in the ring header; records_kept
 *     (valid records read: those listed), records_torn (kept slots skipped:
 *     being written or overwritten as they were read, or invalid)
 *   route: route (its tag), requests allocs frees bytes_alloc bytes_freed
 *     foreign_frees foreign_bytes peak_sum peak_max left_sum left_max
 *     left_blocks leaky duration_sum_ns duration_max_ns approx unanswered, as in the
 *     ring's route table; peak_p50 peak_p90 peak_p99 left_p50 left_p90
 *     left_p99, at most: the upper bound of the size class that holds the
 *     percentile, capped at the max, 0 without requests; classes[]
 *     {upper, allocs} of the allocations its requests made, only classes
 *     with allocations; processes[] {pid, requests} of the processes that
 *     served it (merged routes only)
 *   record: id route (its route_text) tid source ("api" or "http")
 *     end_reason ("api", "nested", "read", "idle", "close", "pipelined",
 *     "exit", "thread") status approx no_response (bools from its flags)
 *     start_ns end_ns allocs frees bytes_alloc bytes_freed foreign_frees
 *     foreign_bytes peak_bytes left_bytes left_blocks conn, as in the ring
 *     (reqprof-ring(5))
 *
 * Strings from rings are printable ASCII already (ring_read sanitizes
 * them); file names are escaped, and bytes that are not UTF-8 become
 * U+FFFD so the output is always valid JSON.
 */
#include <stdio.h>
#include "report.h"

#define REPORT_VERSION 2

typedef unsigned long long ull;

struct json {
    FILE *f;
    int comma; /* a value precedes at this level */
};

static void key(struct json *j, const char *k)
{
    if (j->comma)
        fputc(',', j->f);
    if (k)
        fprintf(j->f, "\"%s\":", k);
    j->comma = 1;
}

static void begin(struct json *j, const char *k, char c)
{
    key(j, k);
    fputc(c, j->f);
    j->comma = 0;
}

static void end(struct json *j, char c)
{
    fputc(c, j->f);
    j->comma = 1;
}

static void u64(struct json *j, const char *k, uint64_t v)
{
    key(j, k);
    fprintf(j->f, "%llu", (ull)v);
}

static void boolean(struct json *j, const char *k, int v)
{
    key(j, k);
    fputs(v ? "true" : "false", j->f);
}

static void heap_u64(struct json *j, const char *k, uint64_t v)
{
    if (v != RP_HEAP_UNKNOWN) {
        u64(j, k, v);
        return;
    }
    key(j, k);
    fputs("null", j->f);
}

/* Length of the well-formed UTF-8 sequence at s, or 0. */
static int utf8_len(const unsigned char *s)
{
    unsigned char c = s[0];
    int n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    /* second byte ranges that exclude overlongs, surrogates and > U+10FFFF */
    unsigned char lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
    unsigned char hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
    if (n == 0 || s[1] < lo || s[1] > hi)
        return 0;
    for (int i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

static void str(struct json *j, const char *k, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    key(j, k);
    fputc('"', j->f);
    while (*p) {
        int n;
        if (*p == '"' || *p == '\\')
            fprintf(j->f, "\\%c", *p++);
        else if (*p < 0x20)
            fprintf(j->f, "\\u%04x", *p++);
        else if (*p < 0x80)
            fputc(*p++, j->f);
        else if ((n = utf8_len(p))) {
            fwrite(p, 1, (size_t)n, j->f);
            p += n;
        } else {
            fputs("\\ufffd", j->f);
            p++;
        }
    }
    fputc('"', j->f);
}

static void totals(struct json *j, const char *k, const struct rp_totals *t)
{
    begin(j, k, '{');
    u64(j, "allocs", t->allocs);
    u64(j, "frees", t->frees);
    u64(j, "reallocs", t->reallocs);
    u64(j, "failed", t->failed);
    u64(j, "req_bytes", t->req_bytes);
    u64(j, "usable_bytes", t->usable_bytes);
    u64(j, "freed_bytes", t->freed_bytes);
    u64(j, "rounding_bytes", rp_rounding_bytes(t));
    u64(j, "live_blocks", t->live_blocks);
    u64(j, "live_bytes", t->live_bytes);
    u64(j, "live_req_bytes", t->live_req_bytes);
    u64(j, "inh_blocks", t->inh_blocks);
    u64(j, "inh_bytes", t->inh_bytes);
    u64(j, "inh_req_bytes", t->inh_req_bytes);
    end(j, '}');
}

static void class(struct json *j, uint64_t upper, const struct rp_class_sum *c)
{
    if (!rp_class_used(c))
        return;
    begin(j, NULL, '{');
    u64(j, "upper", upper);
    u64(j, "allocs", c->allocs);
    u64(j, "frees", c->frees);
    u64(j, "req_bytes", c->req_bytes);
    u64(j, "usable_bytes", c->usable_bytes);
    u64(j, "freed_bytes", c->freed_bytes);
    u64(j, "inh_blocks", c->inh_blocks);
    u64(j, "inh_bytes", c->inh_bytes);
    u64(j, "inh_req_bytes", c->inh_req_bytes);
    u64(j, "live_blocks", rp_class_live_blocks(c));
    u64(j, "live_bytes", rp_class_live_bytes(c));
    u64(j, "live_req_bytes", rp_class_live_req(c));
    end(j, '}');
}

static void sample(struct json *j, const char *k, const struct rp_sample *s)
{
    begin(j, k, '{');
    u64(j, "t_ns", s->t_ns);
    u64(j, "rss_bytes", s->rss_bytes);
    u64(j, "rss_file_bytes", s->rss_file_bytes);
    u64(j, "live_bytes", s->live_bytes);
    u64(j, "live_req_bytes", s->live_req_bytes);
    u64(j, "live_blocks", s->live_blocks);
    u64(j, "allocs", s->allocs);
    u64(j, "frees", s->frees);
    heap_u64(j, "heap_mapped", s->heap_mapped);
    heap_u64(j, "heap_in_use", s->heap_in_use);
    heap_u64(j, "heap_free", s->heap_free);
    heap_u64(j, "heap_releasable", s->heap_releasable);
    end(j, '}');
}

static void requests(struct json *j, const char *k, const struct rp_requests *q)
{
    begin(j, k, '{');
    u64(j, "begun", q->begun);
    u64(j, "ended", q->ended);
    u64(j, "nested", q->nested);
    u64(j, "unmatched", q->unmatched);
    u64(j, "lost", q->lost);
    u64(j, "other_route", q->other_route);
    u64(j, "http_conns", q->http_conns);
    u64(j, "http_not_http", q->http_not_http);
    u64(j, "records_written", q->records_written);
    u64(j, "records_kept", q->records_kept);
    u64(j, "records_torn", q->records_torn);
    end(j, '}');
}

static void route_classes(struct json *j, const struct rp_route_sum *r, const struct rp_bounds *b)
{
    const uint64_t *allocs = r->hist + RP_ROUTE_HIST_ALLOCS * b->n;
    begin(j, "classes", '[');
    for (size_t c = 0; c < b->n; c++) {
        if (!allocs[c])
            continue;
        begin(j, NULL, '{');
        u64(j, "upper", b->upper[c]);
        u64(j, "allocs", allocs[c]);
        end(j, '}');
    }
    end(j, ']');
}

/* with_procs: a merged route, which lists its processes. */
static void route(struct json *j, const struct rp_route_sum *r, const struct rp_bounds *b, int with_procs)
{
    begin(j, NULL, '{');
    str(j, "route", r->name);
    u64(j, "requests", r->requests);
    u64(j, "allocs", r->allocs);
    u64(j, "frees", r->frees);
    u64(j, "bytes_alloc", r->bytes_alloc);
    u64(j, "bytes_freed", r->bytes_freed);
    u64(j, "foreign_frees", r->foreign_frees);
    u64(j, "foreign_bytes", r->foreign_bytes);
    u64(j, "peak_sum", r->peak_sum);
    u64(j, "peak_max", r->peak_max);
    u64(j, "left_sum", r->left_sum);
    u64(j, "left_max", r->left_max);
    u64(j, "left_blocks", r->left_blocks);
    u64(j, "leaky", r->leaky);
    u64(j, "duration_sum_ns", r->duration_sum_ns);
    u64(j, "duration_max_ns", r->duration_max_ns);
    u64(j, "approx", r->approx);
    u64(j, "unanswered", r->unanswered);
    u64(j, "peak_p50", r->peak_p50);
    u64(j, "peak_p90", r->peak_p90);
    u64(j, "peak_p99", r->peak_p99);
    u64(j, "left_p50", r->left_p50);
    u64(j, "left_p90", r->left_p90);
    u64(j, "left_p99", r->left_p99);
    route_classes(j, r, b);
    if (with_procs) {
        begin(j, "processes", '[');
        for (size_t i = 0; i < r->nprocs; i++) {
            begin(j, NULL, '{');
            u64(j, "pid", r->procs[i].pid);
            u64(j, "requests", r->procs[i].requests);
            end(j, '}');
        }
        end(j, ']');
    }
    end(j, '}');
}

static void routes(struct json *j, const struct rp_route_list *l, const struct rp_bounds *b, int with_procs)
{
    begin(j, "routes", '[');
    for (size_t i = 0; i < l->n; i++)
        route(j, &l->v[i], b, with_procs);
    end(j, ']');
}

static const char *source_name(uint16_t s)
{
    return s == RP_SRC_HTTP ? "http" : "api"; /* the reader keeps no other */
}

static const char *end_name(uint16_t e)
{
    static const char *const name[] = {
        [RP_END_API] = "api",       [RP_END_NESTED] = "nested", [RP_END_READ] = "read",
        [RP_END_IDLE] = "idle",     [RP_END_CLOSE] = "close",   [RP_END_PIPELINED] = "pipelined",
        [RP_END_EXIT] = "exit",     [RP_END_THREAD] = "thread",
    };
    return e < sizeof name / sizeof name[0] && name[e] ? name[e] : "?"; /* the reader keeps no other */
}

/* The fields of a record object, inside an object the caller opened. */
static void record_fields(struct json *j, const struct rp_record *r)
{
    u64(j, "id", r->id);
    str(j, "route", r->route_text);
    u64(j, "tid", r->tid);
    str(j, "source", source_name(r->source));
    str(j, "end_reason", end_name(r->end_reason));
    u64(j, "status", r->status);
    boolean(j, "approx", r->flags & RP_REQ_OWNERS_APPROX);
    boolean(j, "no_response", r->flags & RP_REQ_NO_RESPONSE);
    u64(j, "start_ns", r->start_ns);
    u64(j, "end_ns", r->end_ns);
    u64(j, "allocs", r->allocs);
    u64(j, "frees", r->frees);
    u64(j, "bytes_alloc", r->bytes_alloc);
    u64(j, "bytes_freed", r->bytes_freed);
    u64(j, "foreign_frees", r->foreign_frees);
    u64(j, "foreign_bytes", r->foreign_bytes);
    u64(j, "peak_bytes", r->peak_bytes);
    u64(j, "left_bytes", r->left_bytes);
    u64(j, "left_blocks", r->left_blocks);
    u64(j, "conn", r->conn);
}

static void standouts(struct json *j, const struct rp_summary *s)
{
    begin(j, "standouts", '[');
    for (size_t i = 0; i < s->nstandouts; i++) {
        begin(j, NULL, '{');
        record_fields(j, s->standouts[i].ref->rec);
        u64(j, "pid", s->standouts[i].ring->hdr.pid);
        str(j, "why", s->standouts[i].why);
        end(j, '}');
    }
    end(j, ']');
}

static void records_and_marks(struct json *j, const struct rp_ring *r)
{
    begin(j, "records", '[');
    for (size_t i = 0; i < r->nrecords; i++) {
        begin(j, NULL, '{');
        record_fields(j, r->records[i].rec);
        end(j, '}');
    }
    end(j, ']');
    begin(j, "marks", '[');
    for (size_t i = 0; i < r->nmarks; i++) {
        begin(j, NULL, '{');
        u64(j, "t_ns", r->marks[i]->t_ns);
        u64(j, "tid", r->marks[i]->tid);
        u64(j, "requests", r->marks[i]->requests);
        str(j, "label", r->marks[i]->label);
        end(j, '}');
    }
    end(j, ']');
}

static void header_fields(struct json *j, const struct rp_header *h)
{
    u64(j, "pid", h->pid);
    u64(j, "ppid", h->ppid);
    u64(j, "fork_parent", h->fork_parent);
    u64(j, "proc_start_ticks", h->proc_start_ticks);
    u64(j, "start_real_ns", h->start_real_ns);
    u64(j, "end_real_ns", h->end_real_ns);
    u64(j, "interval_ms", h->interval_ms);
    u64(j, "series_stride_ms", h->series_stride_ms);
    u64(j, "samples_taken", h->samples_taken);
    u64(j, "threads_seen", h->threads_seen);
    u64(j, "shard_overflows", h->shard_overflows);
    u64(j, "nshards", h->nshards);
    str(j, "allocator", h->allocator == RP_ALLOC_GLIBC ? "glibc" : "other");
    str(j, "usable_method", h->usable_method == RP_USABLE_GLIBC_HEADER ? "glibc_header" : "call");
}

static void process(struct json *j, const struct rp_proc *p, const struct rp_bounds *b)
{
    const struct rp_ring *r = p->ring;
    const struct rp_sample *series = rp_ring_series(r);
    const uint64_t *upper = rp_ring_classes(r);
    begin(j, NULL, '{');
    str(j, "file", r->name);
    str(j, "prog", r->prog);
    str(j, "title", r->title);
    str(j, "exe", r->exe);
    str(j, "state", rp_liveness_name(r->liveness));
    boolean(j, "inconsistent_read", r->inconsistent);
    header_fields(j, &r->hdr);
    u64(j, "until_real_ns", p->end_real_ns);
    u64(j, "peak_rss_bytes", p->peak_rss);
    totals(j, "totals", &p->totals);
    begin(j, "classes", '[');
    for (uint32_t c = 0; c < r->hdr.nclasses; c++)
        class(j, upper[c], &p->classes[c]);
    end(j, ']');
    sample(j, "last", &r->hdr.last);
    begin(j, "series", '[');
    for (uint64_t i = 0; i < r->hdr.series_count; i++)
        sample(j, NULL, &series[i]);
    end(j, ']');
    requests(j, "requests", &p->requests);
    boolean(j, "http_detect", r->hdr.http_detect);
    boolean(j, "route_paths", r->hdr.route_paths);
    routes(j, &p->routes, b, 0);
    records_and_marks(j, r);
    end(j, '}');
}

void rp_report_json(FILE *out, const struct rp_summary *s, char *const *errors, size_t nerrors)
{
    struct json j = { out, 0 };
    begin(&j, NULL, '{');
    u64(&j, "report_version", REPORT_VERSION);
    u64(&j, "start_real_ns", s->start_real_ns);
    u64(&j, "end_real_ns", s->end_real_ns);
    totals(&j, "totals", &s->totals);
    begin(&j, "classes", '[');
    for (size_t i = 0; i < s->nclasses; i++)
        class(&j, s->classes[i].upper, &s->classes[i].sum);
    end(&j, ']');
    requests(&j, "requests", &s->requests);
    routes(&j, &s->routes, &s->bounds, 1);
    standouts(&j, s);
    begin(&j, "processes", '[');
    for (size_t i = 0; i < s->nprocs; i++)
        process(&j, &s->procs[i], &s->bounds);
    end(&j, ']');
    begin(&j, "errors", '[');
    for (size_t i = 0; i < nerrors; i++)
        str(&j, NULL, errors[i]);
    end(&j, ']');
    end(&j, '}');
    fputc('\n', out);
}
