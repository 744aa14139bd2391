/* standouts.c -- see standouts.h.
 *
 * A ring keeps up to a million records, so each list is a running top
 * ten (insertion into a sorted array of ten) rather than a sort of
 * everything: no allocation, and linear in the records.
 */
#include <string.h>
#include "standouts.h"

struct pick {
    struct rp_standout v[RP_STANDOUTS_EACH];
    size_t n;
};

static int cmp_u64_desc(uint64_t a, uint64_t b)
{
    return (a < b) - (a > b);
}

/* < 0 when a ranks before b. Both rings are in one array: their order is
 * the report's. */
static int rank(const struct rp_standout *a, const struct rp_standout *b, int by_left)
{
    const struct rp_record *x = a->ref->rec, *y = b->ref->rec;
    int c = by_left ? cmp_u64_desc(x->left_bytes, y->left_bytes) : cmp_u64_desc(x->peak_bytes, y->peak_bytes);
    if (!c)
        c = by_left ? cmp_u64_desc(x->peak_bytes, y->peak_bytes) : cmp_u64_desc(x->left_bytes, y->left_bytes);
    if (!c)
        c = (a->ring > b->ring) - (a->ring < b->ring);
    if (!c)
        c = (a->ref->index > b->ref->index) - (a->ref->index < b->ref->index);
    return c;
}

static void consider(struct pick *p, struct rp_standout c, int by_left)
{
    size_t at = p->n;
    while (at > 0 && rank(&c, &p->v[at - 1], by_left) < 0)
        at--;
    if (at == RP_STANDOUTS_EACH)
        return;
    size_t keep = p->n < RP_STANDOUTS_EACH ? p->n : RP_STANDOUTS_EACH - 1;
    memmove(&p->v[at + 1], &p->v[at], (keep - at) * sizeof p->v[0]);
    p->v[at] = c;
    if (p->n < RP_STANDOUTS_EACH)
        p->n++;
}

static int picked(const struct pick *p, const struct rp_record_ref *ref)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->v[i].ref == ref)
            return 1;
    return 0;
}

size_t rp_standouts(struct rp_standout *out, const struct rp_ring *rings, size_t n)
{
    struct pick left = { .n = 0 }, peak = { .n = 0 };
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < rings[i].nrecords; j++)
            if (rings[i].records[j].rec->left_bytes)
                consider(&left, (struct rp_standout){ &rings[i], &rings[i].records[j], "left" }, 1);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < rings[i].nrecords; j++)
            if (rings[i].records[j].rec->peak_bytes && !picked(&left, &rings[i].records[j]))
                consider(&peak, (struct rp_standout){ &rings[i], &rings[i].records[j], "peak" }, 0);
    memcpy(out, left.v, left.n * sizeof *out);
    memcpy(out + left.n, peak.v, peak.n * sizeof *out);
    return left.n + peak.n;
}
