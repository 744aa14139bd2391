/* sizeclass.c -- the table of class upper bounds that goes into the ring. */
#include "sizeclass.h"

void rp_class_table(uint64_t *upper)
{
    upper[0] = 8;
    upper[1] = 16;
    for (unsigned i = 2; i < RP_NCLASSES - 1; i++) {
        unsigned k = 4 + (i - 2) / 4, sub = (i - 2) % 4;
        upper[i] = ((uint64_t)1 << k) + (uint64_t)(sub + 1) * ((uint64_t)1 << (k - 2));
    }
    upper[RP_NCLASSES - 1] = UINT64_MAX;
}
