/* bootpool.h -- memory for the calls that arrive before the real
 * allocator is known: dlsym() itself calls calloc() while reqprof asks it
 * for the next malloc. A static bump pool; blocks are never reused, and
 * free() of one is a no-op, whenever it comes. */
#ifndef REQPROF_BOOTPOOL_H
#define REQPROF_BOOTPOOL_H

#include <stddef.h>

#include <stdint.h>

#define RP_BOOT_POOL_SIZE (256 * 1024)
extern unsigned char rp_boot_pool[RP_BOOT_POOL_SIZE] __attribute__((visibility("hidden")));

void *rp_boot_alloc(size_t size, size_t align); /* zeroed; NULL when the pool is spent */

/* Inline: free() asks this of every block. */
static inline int rp_boot_owns(const void *p)
{
    return (uintptr_t)p - (uintptr_t)rp_boot_pool < RP_BOOT_POOL_SIZE;
}

size_t rp_boot_size(const void *p);             /* usable size of a pool block */

#endif
