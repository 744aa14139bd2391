/* owners.c -- see owners.h: what is rare (moving between the tables,
 * clearing them); adding and removing are inline in owners.h. */
#include <string.h>
#include "owners.h"

__attribute__((cold)) void rp_owners_move_to_large(struct rp_owners *o)
{
    /* what a request charged by two threads at once may have left there */
    memset(o->slot, 0, sizeof o->slot);
    for (unsigned i = 0; i < RP_OWNER_FIRST_SLOTS; i++)
        if (o->first[i])
            rp_owners_put(o->slot, RP_OWNER_BITS, o->first[i]);
    memset(o->first, 0, sizeof o->first);
    o->large = 1;
}

__attribute__((cold)) void rp_owners_back_to_first(struct rp_owners *o)
{
    memset(o->first, 0, sizeof o->first);
    o->large = 0;
}

void rp_owners_clear(struct rp_owners *o)
{
    if (o->large)
        memset(o->slot, 0, sizeof o->slot);
    memset(o->first, 0, sizeof o->first);
    o->n = 0;
    o->large = 0;
}
