/* owners.h -- the blocks a request allocated and has not freed: a set of
 * addresses, so that a free inside the request knows whether the block
 * was the request's own (left and peak are then exact) or foreign.
 *
 * A fixed open-addressing table in the request itself (no memory of the
 * host's, nothing to grow), probed linearly, with backward-shift deletion
 * instead of tombstones: a table whose blocks were all freed is empty
 * again, so the usual request needs no clearing at its end. Probes are
 * bounded by the table's size, so a table fuller than its count says (a
 * request charged by two threads at once) costs accuracy, never a hang.
 */
#ifndef REQPROF_OWNERS_H
#define REQPROF_OWNERS_H

#include <stdint.h>

#define RP_OWNER_BITS 10
#define RP_OWNER_SLOTS (1u << RP_OWNER_BITS)

struct rp_owners {
    uint32_t n;                          /* addresses in slot[] */
    const void *slot[RP_OWNER_SLOTS];    /* NULL = empty */
};

/* Adds p; 0 when no empty slot was found (the caller stops trusting the set). */
int rp_owners_add(struct rp_owners *o, const void *p);

/* Removes p; returns whether it was there. */
int rp_owners_remove(struct rp_owners *o, const void *p);

void rp_owners_clear(struct rp_owners *o);

#endif
