/* sleeper N SIZE -- allocates N blocks of SIZE bytes, says "ready" on
 * stdout and waits to be killed. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100;
    long size = argc > 2 ? atol(argv[2]) : 9000;
    for (long i = 0; i < n; i++)
        if (!malloc((size_t)size))
            return 1;
    puts("ready");
    fflush(stdout);
    for (;;)
        pause();
}
