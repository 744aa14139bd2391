/* owners.c -- see owners.h. Both tables are handled by the same code,
 * given the table and its size as a power of two, inlined for each so
 * that the sizes are constants. */
#include <string.h>
#include "hot.h"
#include "owners.h"

/* Fibonacci hashing of the address; the low 4 bits are alignment. */
static size_t home_of(const void *p, unsigned bits)
{
    return (size_t)(((uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ull >> (64 - bits));
}

static inline int put(const void **t, unsigned bits, const void *p)
{
    size_t mask = ((size_t)1 << bits) - 1, i = home_of(p, bits);
    for (size_t probes = 0; t[i]; probes++) {
        if (probes == mask)
            return 0;
        i = (i + 1) & mask;
    }
    t[i] = p;
    return 1;
}

/* The first table is 3/4 full: its blocks move to the large one. */
static __attribute__((noinline, cold)) void move_to_large(struct rp_owners *o)
{
    /* what a request charged by two threads at once may have left there */
    memset(o->slot, 0, sizeof o->slot);
    for (unsigned i = 0; i < RP_OWNER_FIRST_SLOTS; i++)
        if (o->first[i])
            put(o->slot, RP_OWNER_BITS, o->first[i]);
    memset(o->first, 0, sizeof o->first);
    o->large = 1;
}

RP_HOT_ALLOC int rp_owners_add(struct rp_owners *o, const void *p)
{
    if (!o->large && o->n >= RP_OWNER_FIRST_SLOTS / 4 * 3)
        move_to_large(o);
    if (!(o->large ? put(o->slot, RP_OWNER_BITS, p) : put(o->first, RP_OWNER_FIRST_BITS, p)))
        return 0;
    o->n++;
    return 1;
}

/* Whether the entry at k, whose home is `home`, may stay put once the
 * hole is filled: it may if its home lies cyclically in (hole, k]. */
static int stays(size_t hole, size_t k, size_t home)
{
    return hole <= k ? (home > hole && home <= k) : (home > hole || home <= k);
}

static inline int take(const void **t, unsigned bits, const void *p)
{
    size_t mask = ((size_t)1 << bits) - 1, i = home_of(p, bits);
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
        if (stays(hole, k, home_of(t[k], bits)))
            continue;
        t[hole] = t[k];
        hole = k;
    }
    t[hole] = NULL;
    return 1;
}

RP_HOT_ALLOC int rp_owners_remove(struct rp_owners *o, const void *p)
{
    if (!(o->large ? take(o->slot, RP_OWNER_BITS, p) : take(o->first, RP_OWNER_FIRST_BITS, p)))
        return 0;
    if (--o->n == 0 && o->large) {
        /* both tables are empty, but for what two threads at once may have
         * left in the first: the next block goes there */
        memset(o->first, 0, sizeof o->first);
        o->large = 0;
    }
    return 1;
}

void rp_owners_clear(struct rp_owners *o)
{
    if (o->large)
        memset(o->slot, 0, sizeof o->slot);
    memset(o->first, 0, sizeof o->first);
    o->n = 0;
    o->large = 0;
}
