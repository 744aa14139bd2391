/* series.c -- see series.h. One writer at a time (the caller holds the
 * sample lock); readers are told by series_seq, odd while compacting. */
#include "series.h"

static struct rp_sample *series(struct rp_ring *r)
{
    return (struct rp_sample *)(r->base + r->hdr->series_off);
}

static void compact(struct rp_ring *r)
{
    struct rp_header *h = r->hdr;
    struct rp_sample *s = series(r);
    __atomic_store_n(&h->series_seq, h->series_seq + 1, __ATOMIC_RELEASE);
    for (uint64_t i = 0; 2 * i < h->series_count; i++)
        s[i] = s[2 * i];
    h->series_count = (h->series_count + 1) / 2;
    h->series_stride_ms *= 2;
    __atomic_store_n(&h->series_seq, h->series_seq + 1, __ATOMIC_RELEASE);
}

void rp_series_append(struct rp_ring *r, const struct rp_sample *s, int final)
{
    struct rp_header *h = r->hdr;
    uint64_t every = h->interval_ms ? h->series_stride_ms / h->interval_ms : 1;
    uint64_t n = h->samples_taken++;
    h->last = *s;
    if (!final && every > 1 && n % every)
        return;
    if (h->series_count == h->series_cap)
        compact(r);
    series(r)[h->series_count] = *s;
    __atomic_store_n(&h->series_count, h->series_count + 1, __ATOMIC_RELEASE);
}
