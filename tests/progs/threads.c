/* threads WAVES PER_WAVE OPS -- starts WAVES x PER_WAVE short-lived
 * threads, PER_WAVE at a time; each makes OPS allocations of 3000 bytes
 * (a size class nothing else here uses) and frees all but one, which the
 * main thread frees after joining it. Exercises shard claiming, recycling
 * of exited threads' shards and cross-thread frees. Prints the expected
 * counts for the 3000-byte class. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define SIZE 3000

static long ops;

static void *work(void *arg)
{
    void **p = malloc(sizeof *p * (size_t)ops);
    for (long i = 0; i < ops; i++)
        p[i] = malloc(SIZE);
    for (long i = 1; i < ops; i++)
        free(p[i]);
    void *survivor = p[0];
    free(p);
    return survivor;
}

int main(int argc, char **argv)
{
    long waves = argc > 1 ? atol(argv[1]) : 200;
    long per_wave = argc > 2 ? atol(argv[2]) : 8;
    ops = argc > 3 ? atol(argv[3]) : 100;
    if (waves < 0 || per_wave < 1 || per_wave > 256 || ops < 1) {
        fprintf(stderr, "usage: threads [WAVES] [PER_WAVE 1..256] [OPS >= 1]\n");
        return 2;
    }
    pthread_t t[256];
    for (long w = 0; w < waves; w++) {
        for (long i = 0; i < per_wave; i++)
            if (pthread_create(&t[i], NULL, work, NULL)) {
                perror("pthread_create");
                return 1;
            }
        for (long i = 0; i < per_wave; i++) {
            void *survivor;
            pthread_join(t[i], &survivor);
            free(survivor);
        }
    }
    long n = waves * per_wave * ops;
    printf("size=%d threads=%ld allocs=%ld frees=%ld\n", SIZE, waves * per_wave, n, n);
    return 0;
}
