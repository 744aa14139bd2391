/* summary.c -- the report model, built from validated rings.
 *
 * Each process is summed by rp_ring_sum, the code the writer uses for its
 * own samples, so a report and a sample of the same moment agree. The
 * merged histogram is keyed by class upper bound rather than by index:
 * the class table comes from each ring, and nothing here assumes two
 * rings have the same one. The route histograms are kept over the same
 * merged bounds (routes.c), the standouts are picked by standouts.c.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "summary.h"

static uint64_t now_real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t rp_rounding_bytes(const struct rp_totals *t)
{
    return t->usable_bytes > t->req_bytes ? t->usable_bytes - t->req_bytes : 0;
}

int rp_class_used(const struct rp_class_sum *c)
{
    return c->allocs || c->inh_blocks;
}

static void add_class_sum(struct rp_class_sum *d, const struct rp_class_sum *s)
{
    d->allocs += s->allocs;
    d->frees += s->frees;
    d->req_bytes += s->req_bytes;
    d->usable_bytes += s->usable_bytes;
    d->freed_bytes += s->freed_bytes;
    d->inh_blocks += s->inh_blocks;
    d->inh_bytes += s->inh_bytes;
    d->inh_req_bytes += s->inh_req_bytes;
}

static void add_totals(struct rp_totals *d, const struct rp_totals *s)
{
    d->allocs += s->allocs;
    d->frees += s->frees;
    d->req_bytes += s->req_bytes;
    d->usable_bytes += s->usable_bytes;
    d->freed_bytes += s->freed_bytes;
    d->reallocs += s->reallocs;
    d->failed += s->failed;
    d->inh_blocks += s->inh_blocks;
    d->inh_bytes += s->inh_bytes;
    d->inh_req_bytes += s->inh_req_bytes;
    d->live_blocks += s->live_blocks;
    d->live_bytes += s->live_bytes;
    d->live_req_bytes += s->live_req_bytes;
}

static uint64_t peak_rss(const struct rp_ring *r)
{
    const struct rp_sample *series = rp_ring_series(r);
    uint64_t peak = r->hdr.last.rss_bytes;
    for (uint64_t i = 0; i < r->hdr.series_count; i++)
        if (series[i].rss_bytes > peak)
            peak = series[i].rss_bytes;
    return peak;
}

static uint64_t end_time(const struct rp_ring *r, uint64_t now)
{
    const struct rp_header *h = &r->hdr;
    if (r->liveness == RP_LIVE_RUNNING)
        return now;
    if (r->liveness != RP_LIVE_DIED && h->end_real_ns)
        return h->end_real_ns;
    return h->start_real_ns + h->last.t_ns; /* died: the last moment we know it was alive */
}

static struct rp_requests requests_of(const struct rp_ring *r)
{
    const struct rp_header *h = &r->hdr;
    return (struct rp_requests){
        .begun = h->req_begun, .ended = h->req_ended, .nested = h->req_nested,
        .unmatched = h->req_unmatched, .lost = h->req_lost, .other_route = h->req_other_route,
        .http_conns = h->http_conns, .http_not_http = h->http_not_http,
        .records_written = h->records_written, .records_kept = r->nrecords, .records_torn = r->records_torn,
    };
}

static void add_requests(struct rp_requests *d, const struct rp_requests *s)
{
    d->begun += s->begun;
    d->ended += s->ended;
    d->nested += s->nested;
    d->unmatched += s->unmatched;
    d->lost += s->lost;
    d->other_route += s->other_route;
    d->http_conns += s->http_conns;
    d->http_not_http += s->http_not_http;
    d->records_written += s->records_written;
    d->records_kept += s->records_kept;
    d->records_torn += s->records_torn;
}

static int build_proc(struct rp_proc *p, const struct rp_ring *r, const struct rp_bounds *b, uint64_t now)
{
    p->ring = r;
    p->classes = calloc(r->hdr.nclasses, sizeof *p->classes);
    if (!p->classes)
        return -1;
    rp_ring_sum(&r->hdr, r->data, p->classes, &p->totals);
    p->peak_rss = peak_rss(r);
    p->end_real_ns = end_time(r, now);
    p->requests = requests_of(r);
    return rp_routes_of_ring(&p->routes, r, b);
}

static int by_upper(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The distinct upper bounds of all rings' class tables, ascending. */
static int merged_bounds(struct rp_summary *s, const struct rp_ring *rings, size_t n)
{
    size_t total = 0, k = 0;
    for (size_t i = 0; i < n; i++)
        total += rings[i].hdr.nclasses;
    uint64_t *bounds = malloc((total ? total : 1) * sizeof *bounds);
    if (!bounds)
        return -1;
    for (size_t i = 0; i < n; i++) {
        memcpy(bounds + k, rp_ring_classes(&rings[i]), rings[i].hdr.nclasses * sizeof *bounds);
        k += rings[i].hdr.nclasses;
    }
    qsort(bounds, total, sizeof *bounds, by_upper);
    s->classes = calloc(total ? total : 1, sizeof *s->classes);
    if (!s->classes) {
        free(bounds);
        return -1;
    }
    for (size_t i = 0; i < total; i++) {
        if (i && bounds[i] == bounds[i - 1])
            continue;
        s->classes[s->nclasses].upper = bounds[i];
        bounds[s->nclasses++] = bounds[i]; /* the distinct ones, in place */
    }
    s->bound_upper = bounds;
    s->bounds = (struct rp_bounds){ bounds, s->nclasses };
    return 0;
}

static struct rp_merged_class *find_class(struct rp_summary *s, uint64_t upper)
{
    return bsearch(&upper, s->classes, s->nclasses, sizeof *s->classes, by_upper);
}

static void merge_proc(struct rp_summary *s, const struct rp_proc *p)
{
    const uint64_t *upper = rp_ring_classes(p->ring);
    for (uint32_t c = 0; c < p->ring->hdr.nclasses; c++)
        add_class_sum(&find_class(s, upper[c])->sum, &p->classes[c]);
    add_totals(&s->totals, &p->totals);
    add_requests(&s->requests, &p->requests);
    if (s->nprocs == 1 || p->ring->hdr.start_real_ns < s->start_real_ns)
        s->start_real_ns = p->ring->hdr.start_real_ns;
    if (p->end_real_ns > s->end_real_ns)
        s->end_real_ns = p->end_real_ns;
}

static int merge_routes(struct rp_summary *s)
{
    struct rp_route_list *lists = calloc(s->nprocs ? s->nprocs : 1, sizeof *lists);
    uint32_t *pids = calloc(s->nprocs ? s->nprocs : 1, sizeof *pids);
    int rc = -1;
    if (lists && pids) {
        for (size_t i = 0; i < s->nprocs; i++) {
            lists[i] = s->procs[i].routes;
            pids[i] = s->procs[i].ring->hdr.pid;
        }
        rc = rp_routes_merge(&s->routes, lists, pids, s->nprocs, &s->bounds);
        if (rc == 0 && !(s->routes_by_peak = rp_routes_by_peak(&s->routes)))
            rc = -1;
    }
    free(lists);
    free(pids);
    return rc;
}

/* In time order; marks of one moment in ring order, then as written. */
static int by_time(const void *a, const void *b)
{
    const struct rp_mark_ref *x = a, *y = b;
    if (x->real_ns != y->real_ns)
        return x->real_ns < y->real_ns ? -1 : 1;
    if (x->ring != y->ring)
        return x->ring < y->ring ? -1 : 1;
    return (x->mark->seq > y->mark->seq) - (x->mark->seq < y->mark->seq);
}

static int merge_marks(struct rp_summary *s, const struct rp_ring *rings, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += rings[i].nmarks;
    if (!(s->marks = calloc(total ? total : 1, sizeof *s->marks)))
        return -1;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < rings[i].nmarks; j++)
            s->marks[s->nmarks++] = (struct rp_mark_ref){
                &rings[i], rings[i].marks[j], rings[i].hdr.start_real_ns + rings[i].marks[j]->t_ns };
    qsort(s->marks, s->nmarks, sizeof *s->marks, by_time);
    return 0;
}

int rp_summary_build(struct rp_summary *s, const struct rp_ring *rings, size_t n)
{
    uint64_t now = now_real_ns();
    memset(s, 0, sizeof *s);
    s->procs = calloc(n ? n : 1, sizeof *s->procs);
    if (!s->procs || merged_bounds(s, rings, n))
        goto oom;
    for (size_t i = 0; i < n; i++) {
        if (build_proc(&s->procs[s->nprocs++], &rings[i], &s->bounds, now))
            goto oom; /* counted: what it built is freed with the rest */
        merge_proc(s, &s->procs[s->nprocs - 1]);
    }
    if (merge_routes(s) || merge_marks(s, rings, n))
        goto oom;
    s->nstandouts = rp_standouts(s->standouts, rings, n);
    return 0;
oom:
    rp_summary_free(s);
    return -1;
}

void rp_summary_free(struct rp_summary *s)
{
    for (size_t i = 0; i < s->nprocs; i++) {
        free(s->procs[i].classes);
        rp_routes_free(&s->procs[i].routes);
    }
    free(s->procs);
    free(s->classes);
    free(s->bound_upper);
    rp_routes_free(&s->routes);
    free(s->routes_by_peak);
    free(s->marks);
    memset(s, 0, sizeof *s);
}
