/* series.c -- see series.h. One writer at a time (the caller holds the
 * sample lock); readers are told by series_seq, odd while `last` or the
 * series is being written. */
#include "series.h"

static struct rp_sample *series(struct rp_ring *r)
{
    return (struct rp_sample *)(r->base + r->hdr->series_off);
}

static void compact(struct rp_ring *r)
{
    struct rp_header *h = r->hdr;
    struct rp_sample *s = series(r);
    for (uint64_t i = 0; 2 * i < h->series_count; i++)
        s[i] = s[2 * i];
    h->series_count = (h->series_count + 1) / 2;
    h->series_stride_ms *= 2;
}

static void begin_write(struct rp_header *h)
{
    __atomic_store_n(&h->series_seq, h->series_seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

static void end_write(struct rp_header *h)
{
    __atomic_store_n(&h->series_seq, h->series_seq + 1, __ATOMIC_RELEASE);
}

/* Samples come when a thread of the host finds one due (lifecycle.h):
 * at least interval_ms apart, often more; a fork adds one. A sample is
 * kept when it is at least the stride after the last one kept, less half
 * an interval for the clocks' jitter; so at the first stride every due
 * sample is kept, after a compaction about every other one, and kept
 * neighbours are always at least half the stride apart (the final sample
 * excepted). */
static int kept_at_stride(struct rp_ring *r, const struct rp_sample *s)
{
    const struct rp_header *h = r->hdr;
    if (h->series_count == 0)
        return 1;
    uint64_t last = series(r)[h->series_count - 1].t_ns;
    uint64_t gap = (h->series_stride_ms - h->interval_ms / 2) * 1000000u;
    return s->t_ns >= last + gap;
}

void rp_series_append(struct rp_ring *r, const struct rp_sample *s, int final)
{
    struct rp_header *h = r->hdr;
    h->samples_taken++;
    begin_write(h);
    h->last = *s;
    if (final || kept_at_stride(r, s)) {
        if (h->series_count == h->series_cap)
            compact(r);
        series(r)[h->series_count] = *s;
        h->series_count++;
    }
    end_write(h);
}
