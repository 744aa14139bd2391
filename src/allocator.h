/* allocator.h -- the allocator reqprof forwards to: the next definition of
 * each malloc-family symbol after libreqprof.so (glibc's, or jemalloc's,
 * tcmalloc's, mimalloc's when one is preloaded after reqprof), and the
 * cheapest exact way to learn a block's usable size from it. */
#ifndef REQPROF_ALLOCATOR_H
#define REQPROF_ALLOCATOR_H

#include <stddef.h>
#include "ring_format.h"

struct rp_next {
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void *(*memalign)(size_t, size_t);
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    void *(*valloc)(size_t);              /* may be NULL */
    void *(*pvalloc)(size_t);             /* may be NULL */
    size_t (*malloc_usable_size)(void *);
    void (*free_sized)(void *, size_t);   /* NULL before glibc 2.39 */
    void (*free_aligned_sized)(void *, size_t, size_t);
};

/* Filled by rp_next_resolve(); next.malloc is published last, so a
 * non-NULL next.malloc means every required member is set. */
extern struct rp_next rp_next;
extern int rp_next_is_glibc;

/* Looks the symbols up. Returns 0, or -1 while another call is already
 * resolving (the caller then serves from the boot pool) or when the
 * required symbols cannot be found (reported once on stderr). */
int rp_next_resolve(void);

enum rp_allocator rp_next_kind(void);
enum rp_usable_method rp_next_usable_method(void);

/* glibc keeps a chunk's size in the word before the block; bit 1 marks a
 * chunk of its own mmap, whose header is 16 bytes instead of 8. Reading
 * this word is what malloc_usable_size() does too, minus its look at the
 * next chunk's header (a cache miss on a large heap) that only a block
 * already freed would need. */
static inline size_t rp_glibc_usable(const void *p)
{
    size_t word = ((const size_t *)p)[-1];
    return (word & ~(size_t)7) - 8 - ((word & 2) << 2); /* 8 more for a mmapped chunk */
}

static inline size_t rp_usable(void *p)
{
    return __builtin_expect(rp_next_is_glibc, 1) ? rp_glibc_usable(p) : rp_next.malloc_usable_size(p);
}

#endif
