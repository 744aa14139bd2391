/* execer -- allocates 30 blocks of 11000 bytes and keeps them, then
 * execs itself as `execer again`, which allocates 40 blocks of 13000
 * bytes and exits. Two images under one pid: each must get its own ring
 * with only its own blocks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int again = argc > 1 && strcmp(argv[1], "again") == 0;
    int n = again ? 40 : 30;
    size_t size = again ? 13000 : 11000;
    for (int i = 0; i < n; i++)
        if (!malloc(size))
            return 1;
    if (again)
        return 0;
    execl("/proc/self/exe", argv[0], "again", (char *)NULL);
    perror("execl");
    return 1;
}
