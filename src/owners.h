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

/* Adds p; 0 when no empty slot was found (the caller stops trusting the set). */
int rp_owners_add(struct rp_owners *o, const void *p);

/* Removes p; returns whether it was there. */
int rp_owners_remove(struct rp_owners *o, const void *p);

void rp_owners_clear(struct rp_owners *o);

#endif
