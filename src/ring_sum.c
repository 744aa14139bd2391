/* ring_sum.c -- see ring_sum.h. */
#include <string.h>
#include "ring_sum.h"

static uint64_t rd(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static uint64_t sub_floor0(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

uint64_t rp_class_live_blocks(const struct rp_class_sum *c)
{
    return sub_floor0(c->allocs + c->inh_blocks, c->frees);
}

uint64_t rp_class_live_bytes(const struct rp_class_sum *c)
{
    return sub_floor0(c->usable_bytes + c->inh_bytes, c->freed_bytes);
}

uint64_t rp_class_live_req(const struct rp_class_sum *c)
{
    uint64_t req = c->req_bytes + c->inh_req_bytes;
    uint64_t usable = c->usable_bytes + c->inh_bytes;
    if (usable == 0)
        return 0;
    return (uint64_t)((unsigned __int128)rp_class_live_bytes(c) * req / usable);
}

static void add_class(struct rp_class_sum *dst, const struct rp_class_counts *src, int inherited)
{
    if (inherited) {
        dst->inh_blocks += rd(&src->allocs);
        dst->inh_bytes += rd(&src->usable_bytes);
        dst->inh_req_bytes += rd(&src->req_bytes);
        return;
    }
    dst->allocs += rd(&src->allocs);
    dst->frees += rd(&src->frees);
    dst->req_bytes += rd(&src->req_bytes);
    dst->usable_bytes += rd(&src->usable_bytes);
    dst->freed_bytes += rd(&src->freed_bytes);
}

void rp_ring_sum(const struct rp_header *h, const unsigned char *base,
                 struct rp_class_sum *per_class, struct rp_totals *t)
{
    struct rp_class_sum one;
    memset(t, 0, sizeof *t);
    if (per_class)
        memset(per_class, 0, (size_t)h->nclasses * sizeof *per_class);

    for (uint32_t c = 0; c < h->nclasses; c++) {
        memset(&one, 0, sizeof one);
        for (uint32_t s = 0; s < h->nshards; s++) {
            const unsigned char *shard = base + h->shard_off + (uint64_t)s * h->shard_size;
            uint32_t kind = __atomic_load_n(&((const struct rp_shard_head *)shard)->kind, __ATOMIC_RELAXED);
            if (kind == RP_SHARD_FREE)
                continue;
            const struct rp_class_counts *cc = (const struct rp_class_counts *)
                (shard + RP_SHARD_HEAD_SIZE + (uint64_t)c * RP_CLASS_COUNT_SIZE);
            add_class(&one, cc, kind == RP_SHARD_INHERITED);
        }
        t->allocs += one.allocs;
        t->frees += one.frees;
        t->req_bytes += one.req_bytes;
        t->usable_bytes += one.usable_bytes;
        t->freed_bytes += one.freed_bytes;
        t->inh_blocks += one.inh_blocks;
        t->inh_bytes += one.inh_bytes;
        t->inh_req_bytes += one.inh_req_bytes;
        t->live_blocks += rp_class_live_blocks(&one);
        t->live_bytes += rp_class_live_bytes(&one);
        t->live_req_bytes += rp_class_live_req(&one);
        if (per_class)
            per_class[c] = one;
    }
    for (uint32_t s = 0; s < h->nshards; s++) {
        const struct rp_shard_head *sh = (const struct rp_shard_head *)
            (base + h->shard_off + (uint64_t)s * h->shard_size);
        t->reallocs += rd(&sh->reallocs);
        t->failed += rd(&sh->failed);
    }
}
