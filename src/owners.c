/* owners.c -- see owners.h. */
#include <string.h>
#include "hot.h"
#include "owners.h"

#define MASK (RP_OWNER_SLOTS - 1)

/* Fibonacci hashing of the address; the low 4 bits are alignment. */
static size_t home_of(const void *p)
{
    return (size_t)(((uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ull >> (64 - RP_OWNER_BITS));
}

RP_HOT int rp_owners_add(struct rp_owners *o, const void *p)
{
    size_t i = home_of(p);
    for (unsigned probes = 0; o->slot[i]; probes++) {
        if (probes == RP_OWNER_SLOTS)
            return 0;
        i = (i + 1) & MASK;
    }
    o->slot[i] = p;
    o->n++;
    return 1;
}

/* Whether the entry at k, whose home is `home`, may stay put once the
 * hole is filled: it may if its home lies cyclically in (hole, k]. */
static int stays(size_t hole, size_t k, size_t home)
{
    return hole <= k ? (home > hole && home <= k) : (home > hole || home <= k);
}

RP_HOT int rp_owners_remove(struct rp_owners *o, const void *p)
{
    size_t i = home_of(p);
    for (unsigned probes = 0; o->slot[i] != p; probes++) {
        if (!o->slot[i] || probes == RP_OWNER_SLOTS)
            return 0;
        i = (i + 1) & MASK;
    }
    size_t hole = i, k = i;
    for (unsigned probes = 0; probes < RP_OWNER_SLOTS; probes++) {
        k = (k + 1) & MASK;
        if (!o->slot[k])
            break;
        if (stays(hole, k, home_of(o->slot[k])))
            continue;
        o->slot[hole] = o->slot[k];
        hole = k;
    }
    o->slot[hole] = NULL;
    o->n--;
    return 1;
}

void rp_owners_clear(struct rp_owners *o)
{
    memset(o, 0, sizeof *o);
}
