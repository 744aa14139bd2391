/* forker CHILDREN -- while four threads allocate and free without pause,
 * the main thread forks CHILDREN children one after another. Each child
 * makes 50 allocations of 7000 bytes (a class nothing else here uses),
 * frees 20 of them and exits; a child that deadlocks is killed by the
 * parent's alarm and fails the run. The parent holds 10 live blocks of
 * 7000 bytes at each fork, and frees and replaces them as soon as fork()
 * returns: each child must still inherit exactly those 10. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIZE 7000

static volatile int stop;

static void *churn(void *arg)
{
    void *slots[64] = { 0 };
    unsigned k = (unsigned)(size_t)arg;
    while (!stop) {
        k = k * 1103515245u + 12345u;
        unsigned i = (k >> 8) % 64;
        free(slots[i]);
        slots[i] = malloc(16 + (k >> 16) % 2048);
    }
    for (int i = 0; i < 64; i++)
        free(slots[i]);
    return NULL;
}

static void child(void)
{
    void *p[50];
    alarm(20);
    for (int i = 0; i < 50; i++)
        p[i] = malloc(SIZE);
    for (int i = 0; i < 20; i++)
        free(p[i]);
    exit(0);
}

int main(int argc, char **argv)
{
    int children = argc > 1 ? atoi(argv[1]) : 20;
    pthread_t t[4];
    void *held[10];
    for (int i = 0; i < 10; i++)
        held[i] = malloc(SIZE);
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, churn, (void *)(size_t)(i + 1));
    int failed = 0;
    for (int c = 0; c < children; c++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0)
            child();
        for (int i = 0; i < 10; i++)
            free(held[i]);
        for (int i = 0; i < 10; i++)
            held[i] = malloc(SIZE);
        int status;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "child %d did not exit cleanly (status %#x)\n", (int)pid, status);
            failed = 1;
        }
    }
    stop = 1;
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 10; i++)
        free(held[i]);
    printf("children=%d child_allocs=50 child_frees=20 inherited=10 size=%d\n", children, SIZE);
    return failed;
}
