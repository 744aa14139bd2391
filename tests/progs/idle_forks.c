/* idle_forks -- forks 40 children that make no allocation (half leave by
 * exit, half by _exit) and one that allocates: only the parent's ring
 * and that child's should remain. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    for (int i = 0; i < 40; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            if (i % 2)
                _exit(0);
            exit(0);
        }
        waitpid(pid, NULL, 0);
    }
    pid_t pid = fork();
    if (pid == 0) {
        void *volatile p = malloc(10);
        free(p);
        exit(0);
    }
    waitpid(pid, NULL, 0);
    return 0;
}
