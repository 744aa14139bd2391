/* bootpool.h -- memory for the calls that arrive before the real
 * allocator is known: dlsym() itself calls calloc() while reqprof asks it
 * for the next malloc. A static bump pool; blocks are never reused, and
 * free() of one is a no-op, whenever it comes. */
#ifndef REQPROF_BOOTPOOL_H
#define REQPROF_BOOTPOOL_H

#include <stddef.h>

void *rp_boot_alloc(size_t size, size_t align); /* zeroed; NULL when the pool is spent */
int rp_boot_owns(const void *p);
size_t rp_boot_size(const void *p);             /* usable size of a pool block */

#endif
