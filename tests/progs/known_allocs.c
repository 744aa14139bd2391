/* known_allocs ROUNDS -- every malloc-family call, ROUNDS times, in a
 * pattern whose counts are known; prints what reqprof must have counted
 * for them, using malloc_usable_size() as the reference for usable bytes.
 * Each round leaves one 24-byte block live. The tests subtract a run with
 * ROUNDS=0, which makes the same incidental calls (stdio, start-up). */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static long allocs, frees, reallocs, failed, errno_changed;
static unsigned long long req, usable, freed, live_bytes;
static void *keep[1 << 16];

static void *got(void *p, size_t n)
{
    if (!p) {
        fprintf(stderr, "allocation of %zu failed\n", n);
        exit(1);
    }
    allocs++;
    req += n;
    usable += malloc_usable_size(p);
    return p;
}

static void drop(void *p)
{
    frees++;
    freed += malloc_usable_size(p);
    free(p);
}

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? atol(argv[1]) : 1000;
    if (rounds < 0 || rounds > (long)(sizeof keep / sizeof *keep)) {
        fprintf(stderr, "usage: known_allocs [ROUNDS up to 65536]\n");
        return 2;
    }
    for (long r = 0; r < rounds; r++) {
        void *p[11];
        p[0] = got(malloc(24), 24);
        p[1] = got(malloc(100), 100);
        p[2] = got(malloc(5000), 5000);
        p[3] = got(calloc(10, 30), 300);
        p[4] = got(malloc(200000), 200000); /* above the mmap threshold: a chunk of its own */
        p[5] = got(malloc(0), 0);
        if (posix_memalign(&p[6], 64, 48))
            return 1;
        got(p[6], 48);
        p[7] = got(aligned_alloc(256, 512), 512);
        p[8] = got(memalign(128, 1000), 1000);
        p[9] = got(valloc(100), 100);
        p[10] = got(reallocarray(NULL, 4, 8), 32);
        /* realloc: one free of the old block, one allocation of the new */
        frees++;
        reallocs++;
        freed += malloc_usable_size(p[1]);
        p[1] = got(realloc(p[1], 2000), 2000);
        free(NULL); /* not a free */
        /* reqprof leaves errno alone: set by the allocator on failure, untouched otherwise */
        errno = 1234;
        drop(got(malloc(40), 40));
        errno_changed += errno != 1234;
        if (malloc(SIZE_MAX / 2) != NULL || errno != ENOMEM)
            errno_changed++;
        failed++;
        keep[r] = p[0];
        live_bytes += malloc_usable_size(p[0]);
        for (int i = 1; i <= 10; i++)
            drop(p[i]);
    }
    printf("allocs=%ld frees=%ld reallocs=%ld failed=%ld req_bytes=%llu usable_bytes=%llu "
           "freed_bytes=%llu live_blocks=%ld live_bytes=%llu errno_changed=%ld\n",
           allocs, frees, reallocs, failed, req, usable, freed, rounds, live_bytes, errno_changed);
    return 0;
}
