/* raw_fork -- a child made with _Fork(), which runs no fork handlers,
 * churns 1000 blocks of 7000 bytes; then a fork() child makes 5. The
 * parent itself makes 10. Nothing here allocates behind our back (no
 * stdio), so the parent's ring must hold exactly its own 10: the _Fork
 * child stops counting rather than count into the parent's ring. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void *volatile sink;

static void churn(int n)
{
    for (int i = 0; i < n; i++)
        free(sink = malloc(7000));
}

int main(void)
{
    churn(10);
    pid_t pid = _Fork();
    if (pid == 0) {
        churn(1000);
        _exit(0);
    }
    if (pid < 0 || waitpid(pid, NULL, 0) != pid)
        return 1;
    pid = fork();
    if (pid == 0) {
        churn(5);
        exit(0);
    }
    return pid < 0 || waitpid(pid, NULL, 0) != pid;
}
