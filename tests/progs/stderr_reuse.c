/* stderr_reuse DIR DATA -- a daemon's mistake, on purpose: it closes
 * stderr and opens a data file, which gets descriptor 2; then it replaces
 * the ring directory DIR with a plain file and forks, so that reqprof in
 * the child has an error to report. The line must not land in DATA. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void *volatile sink;

static void empty_dir(const char *dir)
{
    char path[4096];
    struct dirent *e;
    DIR *d = opendir(dir);
    while (d && (e = readdir(d))) {
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    free(sink = malloc(10));
    close(2);
    if (open(argv[2], O_CREAT | O_TRUNC | O_WRONLY, 0600) != 2)
        return 3;
    empty_dir(argv[1]);
    if (rmdir(argv[1]) < 0)
        return 4;
    int fd = open(argv[1], O_CREAT | O_WRONLY, 0600);
    if (fd < 0)
        return 5;
    close(fd);
    pid_t child = fork();
    if (child == 0) {
        free(sink = malloc(5));
        _exit(0);
    }
    return child < 0 || waitpid(child, NULL, 0) != child;
}
