/* bootpool.c -- see bootpool.h. Each block is preceded by its size, so
 * realloc() and malloc_usable_size() of a pool block work. */
#include <stdint.h>
#include "bootpool.h"

#define HDR 16 /* keeps blocks 16-aligned, as malloc's are */

unsigned char rp_boot_pool[RP_BOOT_POOL_SIZE] __attribute__((aligned(64)));
static size_t pool_used;

void *rp_boot_alloc(size_t size, size_t align)
{
    if (align < HDR)
        align = HDR;
    if (align > 4096 || (align & (align - 1)) || size > RP_BOOT_POOL_SIZE)
        return NULL;
    size_t used = __atomic_load_n(&pool_used, __ATOMIC_RELAXED), start, end;
    do {
        start = (used + HDR + align - 1) & ~(align - 1);
        end = start + ((size + HDR - 1) & ~(size_t)(HDR - 1));
        if (end > RP_BOOT_POOL_SIZE)
            return NULL;
    } while (!__atomic_compare_exchange_n(&pool_used, &used, end, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    *(size_t *)(rp_boot_pool + start - sizeof(size_t)) = end - start;
    return rp_boot_pool + start;
}

size_t rp_boot_size(const void *p)
{
    return *(const size_t *)((const unsigned char *)p - sizeof(size_t));
}
