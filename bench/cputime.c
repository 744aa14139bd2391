/* cputime: run a command, report its wall time, CPU time and peak RSS on one line.

   Usage: cputime [OPTIONS] [--] CMD [ARGS...]

   Prints on stdout, once CMD has ended:
     wall_s=W user_s=U sys_s=S cpu_s=U+S maxrss_kb=K status=ST
   where ST is CMD's exit code (0 on success) or "signal:N" when a signal killed it.

   CPU time and peak RSS come from wait4(2): they cover CMD and every descendant
   it waited for (so a launcher script's helpers count), and maxrss_kb is the
   largest single process among them, not a sum. Wall time is CLOCK_MONOTONIC
   from just before fork to just after wait4.

   --env NAME=VALUE sets a variable in CMD's environment only, so
   `cputime --env LD_PRELOAD=lib.so -- CMD` profiles CMD and not cputime itself.
   The rest of the environment passes through unchanged.

   Exit status: 0 when CMD exited 0; CMD's exit code when it exited non-zero;
   128+N when signal N killed it; 126/127 when CMD could not be executed
   (like env(1)); 2 on bad usage. The result line is printed whenever CMD ran. */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ENV 64

static const char *prog = "cputime";

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: %s [OPTIONS] [--] CMD [ARGS...]\n"
        "Run CMD, then print on stdout one line:\n"
        "  wall_s=... user_s=... sys_s=... cpu_s=... maxrss_kb=... status=...\n"
        "\n"
        "Options:\n"
        "  -e, --env NAME=VALUE  set NAME in CMD's environment only (repeatable)\n"
        "  -u, --unset NAME      remove NAME from CMD's environment only (repeatable)\n"
        "  -i, --inherit         let CMD write to cputime's stdout and stderr\n"
        "                        (default: both go to /dev/null)\n"
        "      --stdout FILE     send CMD's stdout to FILE (truncated)\n"
        "      --stderr FILE     send CMD's stderr to FILE (truncated)\n"
        "  -o, --output FILE     write the result line to FILE instead of stdout\n"
        "  -h, --help            show this help\n"
        "\n"
        "Exit status: CMD's own (0 on success, 128+N if killed by signal N),\n"
        "126/127 if CMD could not be run, 2 on bad usage.\n",
        prog);
}

static _Noreturn void die_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "%s: ", prog);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry '%s --help'.\n", prog);
    exit(2);
}

/* If argv[*i] is SHORTOPT or LONGOPT (value in the next word) or LONGOPT=VALUE,
   return the value (advancing *i as needed); otherwise NULL. */
static const char *opt_value(int argc, char **argv, int *i, const char *shortopt,
                             const char *longopt)
{
    const char *a = argv[*i];
    size_t ll = strlen(longopt);
    if ((shortopt && strcmp(a, shortopt) == 0) || strcmp(a, longopt) == 0) {
        if (*i + 1 >= argc)
            die_usage("option '%s' needs an argument", a);
        return argv[++*i];
    }
    if (strncmp(a, longopt, ll) == 0 && a[ll] == '=')
        return a + ll + 1;
    return NULL;
}

/* Child side: point fd at path (or /dev/null); on failure report through errpipe. */
static int redirect(int fd, const char *path)
{
    int f = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (f < 0)
        return -1;
    if (dup2(f, fd) < 0)
        return -1;
    if (f != fd)
        close(f);
    return 0;
}

struct child_err {
    int err;        /* errno */
    int what;       /* 0 = exec, 1 = stdout redirect, 2 = stderr redirect, 3 = env */
};

static void child_fail(int pipefd, int what)
{
    struct child_err ce = { errno, what };
    ssize_t r = write(pipefd, &ce, sizeof ce);
    (void)r;
    _exit(what == 0 ? (ce.err == ENOENT ? 127 : 126) : 126);
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    const char *env_set[MAX_ENV];
    const char *env_unset[MAX_ENV];
    int n_set = 0, n_unset = 0, inherit = 0;
    const char *out_path = NULL, *err_path = NULL, *result_path = NULL;
    int i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val;
        if (strcmp(a, "--") == 0) { i++; break; }
        if (a[0] != '-' || a[1] == '\0')
            break;                           /* first non-option: CMD */
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "-i") == 0 || strcmp(a, "--inherit") == 0) {
            inherit = 1;
        } else if ((val = opt_value(argc, argv, &i, "-e", "--env"))) {
            const char *eq = strchr(val, '=');
            if (!eq || eq == val)
                die_usage("--env wants NAME=VALUE, got '%s'", val);
            if (n_set == MAX_ENV)
                die_usage("too many --env options (max %s)", "64");
            env_set[n_set++] = val;
        } else if ((val = opt_value(argc, argv, &i, "-u", "--unset"))) {
            if (!*val || strchr(val, '='))
                die_usage("--unset wants a variable NAME, got '%s'", val);
            if (n_unset == MAX_ENV)
                die_usage("too many --unset options (max %s)", "64");
            env_unset[n_unset++] = val;
        } else if ((val = opt_value(argc, argv, &i, NULL, "--stdout"))) {
            out_path = val;
        } else if ((val = opt_value(argc, argv, &i, NULL, "--stderr"))) {
            err_path = val;
        } else if ((val = opt_value(argc, argv, &i, "-o", "--output"))) {
            result_path = val;
        } else {
            die_usage("unknown option '%s'", a);
        }
    }
    if (i >= argc)
        die_usage("%s", "no command given");
    char **cmd = argv + i;

    FILE *result = stdout;
    if (result_path) {
        result = fopen(result_path, "w");
        if (!result) {
            fprintf(stderr, "%s: cannot open '%s': %s\n", prog, result_path, strerror(errno));
            return 2;
        }
    }

    /* The child reports a failed redirect or exec through this close-on-exec pipe. */
    int errpipe[2];
    if (pipe2(errpipe, O_CLOEXEC) < 0) {
        fprintf(stderr, "%s: pipe: %s\n", prog, strerror(errno));
        return 126;
    }
    fflush(NULL);

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "%s: fork: %s\n", prog, strerror(errno));
        return 126;
    }
    if (pid == 0) {
        close(errpipe[0]);
        if (!inherit || out_path)
            if (redirect(1, out_path ? out_path : "/dev/null") < 0)
                child_fail(errpipe[1], 1);
        if (!inherit || err_path)
            if (redirect(2, err_path ? err_path : "/dev/null") < 0)
                child_fail(errpipe[1], 2);
        for (int k = 0; k < n_unset; k++)
            if (unsetenv(env_unset[k]) < 0)
                child_fail(errpipe[1], 3);
        for (int k = 0; k < n_set; k++)
            if (putenv((char *)env_set[k]) != 0)
                child_fail(errpipe[1], 3);
        execvp(cmd[0], cmd);
        child_fail(errpipe[1], 0);
    }
    close(errpipe[1]);

    /* Don't let a terminal ^C kill us before the child: it gets the signal too,
       and we still report how it ended. */
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);

    int status;
    struct rusage ru;
    pid_t w;
    do {
        w = wait4(pid, &status, 0, &ru);
    } while (w < 0 && errno == EINTR);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (w < 0) {
        fprintf(stderr, "%s: wait4: %s\n", prog, strerror(errno));
        return 126;
    }

    struct child_err ce;
    ssize_t n;
    do {
        n = read(errpipe[0], &ce, sizeof ce);
    } while (n < 0 && errno == EINTR);
    close(errpipe[0]);
    if (n == (ssize_t)sizeof ce) {
        if (ce.what == 1 || ce.what == 2)
            fprintf(stderr, "%s: cannot open '%s' for %s's %s: %s\n", prog,
                    ce.what == 1 ? out_path : err_path, cmd[0],
                    ce.what == 1 ? "stdout" : "stderr", strerror(ce.err));
        else
            fprintf(stderr, "%s: cannot %s '%s': %s\n", prog,
                    ce.what == 0 ? "execute" : "set the environment for", cmd[0],
                    strerror(ce.err));
        return ce.what == 0 && ce.err == ENOENT ? 127 : 126;
    }

    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    double user = tv_s(ru.ru_utime), sys = tv_s(ru.ru_stime);
    char st[32];
    int rc;
    if (WIFEXITED(status)) {
        rc = WEXITSTATUS(status);
        snprintf(st, sizeof st, "%d", rc);
    } else if (WIFSIGNALED(status)) {
        rc = 128 + WTERMSIG(status);
        snprintf(st, sizeof st, "signal:%d", WTERMSIG(status));
    } else {
        rc = 126;
        snprintf(st, sizeof st, "unknown:%d", status);
    }
    fprintf(result, "wall_s=%.6f user_s=%.6f sys_s=%.6f cpu_s=%.6f maxrss_kb=%ld status=%s\n",
            wall, user, sys, user + sys, ru.ru_maxrss, st);
    if (fflush(result) != 0 || (result != stdout && fclose(result) != 0)) {
        fprintf(stderr, "%s: cannot write the result: %s\n", prog, strerror(errno));
        return rc ? rc : 1;
    }
    if (WIFSIGNALED(status))
        fprintf(stderr, "%s: '%s' was killed by signal %d (%s)\n", prog, cmd[0],
                WTERMSIG(status), strsignal(WTERMSIG(status)));
    else if (rc != 0)
        fprintf(stderr, "%s: '%s' exited with status %s\n", prog, cmd[0], st);
    return rc;
}
