/* routes.c -- see routes.h.
 *
 * Folding by name sorts references to the routes by name and adds up each
 * run of one name into a new route: n log n for any number of routes and
 * processes, where a lookup per route would be quadratic in a table that
 * may hold 65536 routes. The same fold serves one ring (a name twice in
 * one table, which only a damaged ring has) and the merge over processes
 * (which also lists each route's processes).
 *
 * Percentiles come from the histograms, not from the kept records: the
 * records are only the latest requests, the histograms count every one.
 * A histogram says which class a request's bytes fell in, so a
 * percentile is an "at most": the class's upper bound, capped at the
 * route's exact max (the last class is unbounded).
 */
#include <stdlib.h>
#include <string.h>
#include "routes.h"

struct ref {
    const struct rp_route_sum *src;
    size_t proc;                    /* index into the pids of a merge; 0 for one ring */
};

static uint64_t max_u64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

double rp_per_request(uint64_t total, uint64_t requests)
{
    return requests ? (double)total / (double)requests : 0;
}

uint64_t rp_percentile(const uint64_t *hist, const struct rp_bounds *b, uint64_t max, unsigned pct)
{
    unsigned __int128 total = 0, seen = 0, rank; /* counts are untrusted: no sum may wrap */
    for (size_t c = 0; c < b->n; c++)
        total += hist[c];
    if (total == 0)
        return 0;
    rank = (total * pct + 99) / 100; /* the rank-th smallest request, from 1 */
    for (size_t c = 0; c < b->n; c++) {
        seen += hist[c];
        if (seen >= rank)  /* class 0 of a peak or left histogram is exactly 0 bytes */
            return c == 0 ? 0 : b->upper[c] < max ? b->upper[c] : max;
    }
    return max;
}

/* The index of bound upper in b; the summary's bounds hold every ring's,
 * so the first bound >= upper is it. */
static size_t bound_index(const struct rp_bounds *b, uint64_t upper)
{
    size_t lo = 0, hi = b->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (b->upper[mid] < upper)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < b->n ? lo : b->n - 1;
}

static void add_sum(struct rp_route_sum *d, const struct rp_route_sum *s, size_t nhist)
{
    d->requests += s->requests;
    d->allocs += s->allocs;
    d->frees += s->frees;
    d->bytes_alloc += s->bytes_alloc;
    d->bytes_freed += s->bytes_freed;
    d->foreign_frees += s->foreign_frees;
    d->foreign_bytes += s->foreign_bytes;
    d->peak_sum += s->peak_sum;
    d->peak_max = max_u64(d->peak_max, s->peak_max);
    d->left_sum += s->left_sum;
    d->left_max = max_u64(d->left_max, s->left_max);
    d->left_blocks += s->left_blocks;
    d->leaky += s->leaky;
    d->duration_sum_ns += s->duration_sum_ns;
    d->duration_max_ns = max_u64(d->duration_max_ns, s->duration_max_ns);
    d->approx += s->approx;
    d->unanswered += s->unanswered;
    for (size_t i = 0; i < nhist; i++)
        d->hist[i] += s->hist[i];
}

static void percentiles(struct rp_route_sum *d, const struct rp_bounds *b)
{
    const uint64_t *peak = d->hist + RP_ROUTE_HIST_PEAK * b->n, *left = d->hist + RP_ROUTE_HIST_LEFT * b->n;
    d->peak_p50 = rp_percentile(peak, b, d->peak_max, 50);
    d->peak_p90 = rp_percentile(peak, b, d->peak_max, 90);
    d->peak_p99 = rp_percentile(peak, b, d->peak_max, 99);
    d->left_p50 = rp_percentile(left, b, d->left_max, 50);
    d->left_p90 = rp_percentile(left, b, d->left_max, 90);
    d->left_p99 = rp_percentile(left, b, d->left_max, 99);
}

static int cmp_u64_desc(uint64_t a, uint64_t b)
{
    return (a < b) - (a > b);
}

static int by_rank(const void *a, const void *b)
{
    const struct rp_route_sum *x = a, *y = b;
    int c = cmp_u64_desc(x->left_sum, y->left_sum);
    if (!c)
        c = cmp_u64_desc(x->peak_max, y->peak_max);
    return c ? c : strcmp(x->name, y->name);
}

static int by_peak(const void *a, const void *b)
{
    const struct rp_route_sum *x = *(const struct rp_route_sum *const *)a;
    const struct rp_route_sum *y = *(const struct rp_route_sum *const *)b;
    int c = cmp_u64_desc(x->peak_max, y->peak_max);
    if (!c)
        c = cmp_u64_desc(x->peak_sum, y->peak_sum);
    return c ? c : strcmp(x->name, y->name);
}

static int by_name(const void *a, const void *b)
{
    const struct ref *x = a, *y = b;
    int c = strcmp(x->src->name, y->src->name);
    return c ? c : (x->proc > y->proc) - (x->proc < y->proc);
}

/* One new route out of refs[0 .. n), which share a name. */
static int fold_run(struct rp_route_sum *d, const struct ref *refs, size_t n, const uint32_t *pids,
                    const struct rp_bounds *b)
{
    size_t nhist = RP_ROUTE_NHIST * b->n;
    memcpy(d->name, refs[0].src->name, sizeof d->name);
    if (!(d->hist = calloc(nhist, sizeof *d->hist)))
        return -1;
    if (pids && !(d->procs = malloc(n * sizeof *d->procs)))
        return -1;
    for (size_t i = 0; i < n; i++) {
        add_sum(d, refs[i].src, nhist);
        if (pids)
            d->procs[d->nprocs++] = (struct rp_route_proc){ pids[refs[i].proc], refs[i].src->requests };
    }
    percentiles(d, b);
    return 0;
}

/* Sorts refs by name and adds up each run of one name into a route of
 * out, then ranks out. On failure out holds what was built, to free. */
static int fold(struct rp_route_list *out, struct ref *refs, size_t n, const uint32_t *pids,
                const struct rp_bounds *b)
{
    qsort(refs, n, sizeof *refs, by_name);
    if (!(out->v = calloc(n ? n : 1, sizeof *out->v)))
        return -1;
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && strcmp(refs[j].src->name, refs[i].src->name) == 0; j++)
            ;
        if (fold_run(&out->v[out->n++], refs + i, j - i, pids, b))
            return -1;
    }
    qsort(out->v, out->n, sizeof *out->v, by_rank);
    return 0;
}

/* Route slot i of r with its histograms moved onto b (map: ring class ->
 * index in b). */
static int from_slot(struct rp_route_sum *d, const struct rp_ring *r, uint32_t i, const size_t *map,
                     const struct rp_bounds *b)
{
    const struct rp_route_head *h = rp_ring_route(r, i);
    memset(d, 0, sizeof *d);
    if (!(d->hist = calloc(RP_ROUTE_NHIST * b->n, sizeof *d->hist)))
        return -1;
    memcpy(d->name, h->name, sizeof d->name);
    d->requests = h->requests;
    d->allocs = h->allocs;
    d->frees = h->frees;
    d->bytes_alloc = h->bytes_alloc;
    d->bytes_freed = h->bytes_freed;
    d->foreign_frees = h->foreign_frees;
    d->foreign_bytes = h->foreign_bytes;
    d->peak_sum = h->peak_sum;
    d->peak_max = h->peak_max;
    d->left_sum = h->left_sum;
    d->left_max = h->left_max;
    d->left_blocks = h->left_blocks;
    d->leaky = h->leaky;
    d->duration_sum_ns = h->duration_sum_ns;
    d->duration_max_ns = h->duration_max_ns;
    d->approx = h->approx;
    d->unanswered = h->unanswered;
    for (int k = 0; k < RP_ROUTE_NHIST; k++) {
        const uint64_t *src = rp_ring_route_hist(r, i, k);
        for (uint32_t c = 0; c < r->hdr.nclasses; c++)
            d->hist[k * b->n + map[c]] += src[c];
    }
    return 0;
}

static void free_sums(struct rp_route_sum *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].hist);
        free(v[i].procs);
    }
    free(v);
}

int rp_routes_of_ring(struct rp_route_list *out, const struct rp_ring *r, const struct rp_bounds *b)
{
    const uint64_t *upper = rp_ring_classes(r);
    size_t n = 0, *map = malloc(r->hdr.nclasses * sizeof *map);
    struct rp_route_sum *slots = calloc(r->nroutes ? r->nroutes : 1, sizeof *slots);
    struct ref *refs = calloc(r->nroutes ? r->nroutes : 1, sizeof *refs);
    int rc = map && slots && refs ? 0 : -1;
    memset(out, 0, sizeof *out);
    for (uint32_t c = 0; rc == 0 && c < r->hdr.nclasses; c++)
        map[c] = bound_index(b, upper[c]);
    for (uint32_t i = 0; rc == 0 && i < r->nroutes; i++) {
        if (rp_ring_route(r, i)->requests == 0)
            continue;
        rc = from_slot(&slots[n], r, i, map, b);
        refs[n] = (struct ref){ &slots[n], 0 };
        n++; /* counted even when it failed: its hist is freed with the rest */
    }
    if (rc == 0)
        rc = fold(out, refs, n, NULL, b);
    if (rc)
        rp_routes_free(out);
    free_sums(slots, n);
    free(refs);
    free(map);
    return rc;
}

int rp_routes_merge(struct rp_route_list *out, const struct rp_route_list *lists, const uint32_t *pids,
                    size_t n, const struct rp_bounds *b)
{
    size_t total = 0, k = 0;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++)
        total += lists[i].n;
    struct ref *refs = malloc((total ? total : 1) * sizeof *refs);
    if (!refs)
        return -1;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < lists[i].n; j++)
            refs[k++] = (struct ref){ &lists[i].v[j], i };
    int rc = fold(out, refs, total, pids, b);
    if (rc)
        rp_routes_free(out);
    free(refs);
    return rc;
}

const struct rp_route_sum **rp_routes_by_peak(const struct rp_route_list *l)
{
    const struct rp_route_sum **v = malloc((l->n ? l->n : 1) * sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < l->n; i++)
        v[i] = &l->v[i];
    qsort(v, l->n, sizeof *v, by_peak);
    return v;
}

void rp_routes_free(struct rp_route_list *l)
{
    free_sums(l->v, l->n);
    memset(l, 0, sizeof *l);
}
