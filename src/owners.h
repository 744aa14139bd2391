/* owners.h -- the blocks a request allocated and has not freed: a set of
 * addresses, so that a free inside the request knows whether the block
 * was the request's own (left and peak are then exact) or foreign.
 *
 * Open-addressing tables in the request itself (no memory of the host's),
 * probed linearly, with backward-shift deletion instead of tombstones: a
 * table whose blocks were all freed is empty again, so the usual request
 * needs no clearing at its end. Probes are bounded by the table's size,
 * so a table fuller than its count says (a request charged by two threads
 * at once) costs accuracy, never a hang.
 *
 * Two tables: a request's blocks go in the small first one, which shares
 * a page with the request's other hot fields (request.h), until it is 3/4
 * full; then they all move to the large one, which a request of a few
 * blocks never touches: an add or a remove after a system call then costs
 * no page walk of its own (hot.h says why that matters). The large table
 * is given up again when the set is empty.
 */
#ifndef REQPROF_OWNERS_H
#define REQPROF_OWNERS_H

#include <stddef.h>
#include <stdint.h>

#define RP_OWNER_BITS 10                 /* the large table */
#define RP_OWNER_SLOTS (1u << RP_OWNER_BITS)
#define RP_OWNER_FIRST_BITS 6            /* the first one */
#define RP_OWNER_FIRST_SLOTS (1u << RP_OWNER_FIRST_BITS)

struct rp_owners {
    uint32_t n;                                /* addresses in the table in use */
    uint32_t large;                            /* that is slot[], else first[] */
    const void *first[RP_OWNER_FIRST_SLOTS];   /* NULL = empty */
    const void *slot[RP_OWNER_SLOTS];
};

/* The first table is 3/4 full: its blocks move to the large one. */
void rp_owners_move_to_large(struct rp_owners *o);

/* Both tables are empty but for what two threads charging one request at
 * once may have left in the first: it is cleared, for the next block. */
void rp_owners_back_to_first(struct rp_owners *o);

/* add and remove are here, inline, because every allocation and free a
 * request is charged with runs one: a call of their own, whose registers
 * are saved and restored, cost more than their common case. Each table's
 * code is inlined with its size a constant. */

/* Fibonacci hashing of the address; the low 4 bits are alignment. */
static inline size_t rp_owners_home(const void *p, unsigned bits)
{
    return (size_t)(((uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ull >> (64 - bits));
}

static inline __attribute__((always_inline)) int rp_owners_put(const void **t, unsigned bits, const void *p)
{
    size_t mask = ((size_t)1 << bits) - 1, i = rp_owners_home(p, bits);
    for (size_t probes = 0; t[i]; probes++) {
        if (probes == mask)
            return 0;
        i = (i + 1) & mask;
    }
    t[i] = p;
    return 1;
}

/* Adds p; 0 when no empty slot was found (the caller stops trusting the set). */
static inline __attribute__((always_inline)) int rp_owners_add(struct rp_owners *o, const void *p)
{
    if (__builtin_expect(!o->large && o->n >= RP_OWNER_FIRST_SLOTS / 4 * 3, 0))
        rp_owners_move_to_large(o);
    if (!(o->large ? rp_owners_put(o->slot, RP_OWNER_BITS, p) : rp_owners_put(o->first, RP_OWNER_FIRST_BITS, p)))
        return 0;
    o->n++;
    return 1;
}

/* Whether the entry at k, whose home is `home`, may stay put once the
 * hole is filled: it may if its home lies cyclically in (hole, k]. */
static inline int rp_owners_stays(size_t hole, size_t k, size_t home)
{
    return hole <= k ? (home > hole && home <= k) : (home > hole || home <= k);
}

static inline __attribute__((always_inline)) int rp_owners_take(const void **t, unsigned bits, const void *p)
{
    size_t mask = ((size_t)1 << bits) - 1, i = rp_owners_home(p, bits);
    for (size_t probes = 0; t[i] != p; probes++) {
        if (!t[i] || probes == mask)
            return 0;
        i = (i + 1) & mask;
    }
    size_t hole = i, k = i;
    for (size_t probes = 0; probes < mask; probes++) {
        k = (k + 1) & mask;
        if (!t[k])
            break;
        if (rp_owners_stays(hole, k, rp_owners_home(t[k], bits)))
            continue;
        t[hole] = t[k];
        hole = k;
    }
    t[hole] = NULL;
    return 1;
}

/* Removes p; returns whether it was there. */
static inline __attribute__((always_inline)) int rp_owners_remove(struct rp_owners *o, const void *p)
{
    if (!(o->large ? rp_owners_take(o->slot, RP_OWNER_BITS, p) : rp_owners_take(o->first, RP_OWNER_FIRST_BITS, p)))
        return 0;
    if (--o->n == 0 && o->large)
        rp_owners_back_to_first(o);
    return 1;
}

void rp_owners_clear(struct rp_owners *o);

#endif
