/* sizeclass.h -- size classes with jemalloc's spacing: [0,8], (8,16], then
 * four classes per power of two, (2^k, 2^k + 2^(k-2)], ... up to 2^40, and
 * one class above that. Blocks are classed by their usable size, on both
 * malloc and free, so a block leaves the class it entered.
 *
 * The writer stores the table of upper bounds in the ring header; the
 * reader uses that table and never this file's constants.
 */
#ifndef REQPROF_SIZECLASS_H
#define REQPROF_SIZECLASS_H

#include <stddef.h>
#include <stdint.h>

#define RP_CLASS_MAX_LG 40
#define RP_NCLASSES (2 + 4 * (RP_CLASS_MAX_LG - 4) + 1)

static inline unsigned rp_class_of(size_t u)
{
    if (u <= 16)
        return u > 8;
    if (u > ((size_t)1 << RP_CLASS_MAX_LG))
        return RP_NCLASSES - 1;
    size_t x = u - 1;
    unsigned k = 63u ^ (unsigned)__builtin_clzll((unsigned long long)x); /* 2^k <= x < 2^(k+1): one bsr */
    return 4 * k - 14 + ((unsigned)(x >> (k - 2)) & 3u); /* 2 + 4 * (k - 4) + quarter */
}

/* Fills upper[RP_NCLASSES] with each class's largest size; the last is UINT64_MAX. */
void rp_class_table(uint64_t *upper);

#endif
