/* reqprof -- the launcher: `reqprof [options] -- CMD ARGS...` runs CMD
 * with libreqprof.so preloaded and the settings given as options, waits
 * for it, says where its rings are and exits as CMD did.
 *
 * libreqprof.so goes first in LD_PRELOAD, so an allocator the user
 * preloads (jemalloc, tcmalloc, mimalloc) comes after it and is the one
 * reqprof forwards to. Option values are checked here with the parsers
 * the library uses, so a typo fails now instead of being reported and
 * replaced by a default inside the host.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "ring_find.h"
#include "settings.h"

#define EXIT_LAUNCHER 125 /* like env(1): reqprof itself failed */

static pid_t child;

static void usage(FILE *out)
{
    fputs("usage: reqprof [options] [--] CMD [ARGS...]\n"
          "Runs CMD with libreqprof.so preloaded; its rings are read with reqprof-report.\n"
          "  -d, --dir DIR         ring directory (default $REQPROF_DIR or " RP_DEFAULT_DIR ")\n"
          "  -i, --interval MS     RSS and heap sampling interval, 0 = only at exit (default 1000)\n"
          "  -s, --ring-size SIZE  size of each ring file, K/M/G suffixes (default 4M)\n"
          "  -t, --threads N       threads with a shard of their own (default 64)\n"
          "  -r, --routes N        route table slots (default 256)\n"
          "  -n, --records N       request records kept, the newest (default 4096)\n"
          "      --no-heap-stats   do not ask the allocator for its heap statistics\n"
          "      --no-http         do not find HTTP/1.x requests on accepted connections\n"
          "      --no-paths        HTTP routes are the method only (no paths: privacy)\n"
          "  -q, --quiet           do not say where the rings are\n"
          "  -h, --help            this text\n"
          "  -V, --version         reqprof's version\n"
          "Environment: REQPROF_LIB overrides the path of libreqprof.so (default: the one\n"
          "built beside this reqprof, else the installed " REQPROF_LIBDIR "/libreqprof.so).\n", out);
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "reqprof: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(EXIT_LAUNCHER);
}

static void set_checked(const char *var, const char *value, uint64_t min, uint64_t max,
                        int (*parse)(const char *, uint64_t, uint64_t, uint64_t *), const char *want)
{
    uint64_t v;
    if (parse(value, min, max, &v) < 0) {
        fprintf(stderr, "reqprof: '%s' is not %s\n", value, want);
        exit(EXIT_LAUNCHER);
    }
    setenv(var, value, 1);
}

/* $REQPROF_LIB; else, for a launcher run from its build tree, the
 * library built beside it; else the installed one. */
static const char *library_path(void)
{
    static char path[4096];
    const char *lib = getenv("REQPROF_LIB");
    if (!lib || !*lib) {
        ssize_t n = readlink("/proc/self/exe", path, sizeof path - 32);
        char *slash = n > 0 ? memrchr(path, '/', (size_t)n) : NULL;
        if (slash) {
            strcpy(slash, "/.libs/libreqprof.so");
            lib = path;
        }
        if (!lib || access(lib, R_OK) < 0) {
            snprintf(path, sizeof path, "%s/libreqprof.so", REQPROF_LIBDIR);
            lib = path;
        }
    }
    if (access(lib, R_OK) < 0)
        die("cannot read the preload library (set REQPROF_LIB)", lib);
    if (strchr(lib, ' ') || strchr(lib, ':'))
        die("LD_PRELOAD cannot carry a path with a space or colon", lib);
    return lib;
}

static void preload(const char *lib)
{
    const char *old = getenv("LD_PRELOAD");
    size_t len = strlen(lib) + (old ? strlen(old) : 0) + 2;
    char *v = malloc(len);
    if (!v)
        die("out of memory", NULL);
    snprintf(v, len, "%s%s%s", lib, old && *old ? " " : "", old ? old : "");
    setenv("LD_PRELOAD", v, 1);
    free(v);
}

/* Signals meant for CMD. SIGINT and SIGQUIT from the terminal (the
 * kernel sends them to the whole foreground group, CMD included) are not
 * passed on, or CMD would get them twice; sent to reqprof alone by kill(1),
 * they are. */
static const int forwarded[] = { SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGWINCH, SIGINT, SIGQUIT };
#define NFORWARDED (sizeof forwarded / sizeof *forwarded)

static void forward(int sig, siginfo_t *info, void *ctx)
{
    (void)ctx;
    if ((sig == SIGINT || sig == SIGQUIT) && info->si_code == SI_KERNEL)
        return;
    if (child > 0)
        kill(child, sig);
}

static void set_forwarding(sigset_t *set)
{
    struct sigaction sa = { .sa_sigaction = forward, .sa_flags = SA_SIGINFO | SA_RESTART };
    sigemptyset(set);
    for (size_t i = 0; i < NFORWARDED; i++) {
        sigaddset(set, forwarded[i]);
        sigaction(forwarded[i], &sa, NULL);
    }
}

static void unset_forwarding(void)
{
    for (size_t i = 0; i < NFORWARDED; i++)
        signal(forwarded[i], SIG_DFL);
}

static int wait_child(void)
{
    int status;
    while (waitpid(child, &status, 0) < 0)
        if (errno != EINTR)
            die("waitpid", strerror(errno));
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

/* s as one shell word: as it is when nothing in it is special to a
 * shell, else in single quotes (each ' as '\''). */
static void put_shell_word(FILE *f, const char *s)
{
    if (s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._+,:=@%-")] == '\0') {
        fputs(s, f);
        return;
    }
    fputc('\'', f);
    for (; *s; s++)
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    fputc('\'', f);
}

/* The command that reads the rings, to be pasted into another shell:
 * it names the ring directory, as -d is reqprof's alone and that shell's
 * REQPROF_DIR, if any, may differ from this one's. */
static void tell_rings(const char *dir, pid_t pid)
{
    struct rp_pathlist l = { 0 };
    char err[512];
    if (rp_find_pid(&l, dir, (uint32_t)pid, err, sizeof err) < 0) {
        fprintf(stderr, "reqprof: no ring was written: %s\n", err);
        return;
    }
    fprintf(stderr, "reqprof: %zu ring%s of pid %d and its children in %s; read them with:\n"
            "    reqprof-report --dir ", l.n, l.n == 1 ? "" : "s", (int)pid, dir);
    put_shell_word(stderr, dir);
    fprintf(stderr, " --pid %d\n", (int)pid);
    rp_pathlist_free(&l);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "dir", required_argument, NULL, 'd' },
        { "interval", required_argument, NULL, 'i' },
        { "ring-size", required_argument, NULL, 's' },
        { "threads", required_argument, NULL, 't' },
        { "routes", required_argument, NULL, 'r' },
        { "records", required_argument, NULL, 'n' },
        { "no-heap-stats", no_argument, NULL, 'M' },
        { "no-http", no_argument, NULL, 'H' },
        { "no-paths", no_argument, NULL, 'P' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { 0 },
    };
    int c, quiet = 0;

    while ((c = getopt_long(argc, argv, "+d:i:s:t:r:n:qhV", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            if (!rp_valid_dir(optarg))
                die("--dir takes an absolute path of under 192 bytes", optarg);
            setenv("REQPROF_DIR", optarg, 1);
            break;
        case 'i':
            set_checked("REQPROF_INTERVAL_MS", optarg, 0, RP_INTERVAL_MS_MAX, rp_parse_uint,
                        "an interval in milliseconds from 0 to 3600000");
            break;
        case 's':
            set_checked("REQPROF_RING_SIZE", optarg, RP_RING_SIZE_MIN, RP_RING_SIZE_MAX, rp_parse_size,
                        "a ring size from 64K to 1G");
            break;
        case 't':
            set_checked("REQPROF_THREADS", optarg, 1, RP_THREADS_MAX, rp_parse_uint,
                        "a number of threads from 1 to 4096");
            break;
        case 'r':
            set_checked("REQPROF_ROUTES", optarg, RP_ROUTES_MIN, RP_ROUTES_MAX, rp_parse_uint,
                        "a number of routes from 2 to 65536");
            break;
        case 'n':
            set_checked("REQPROF_RECORDS", optarg, 1, RP_RECORDS_MAX, rp_parse_uint,
                        "a number of records from 1 to 1048576");
            break;
        case 'M':
            setenv("REQPROF_HEAP_STATS", "0", 1);
            break;
        case 'H':
            setenv("REQPROF_HTTP", "0", 1);
            break;
        case 'P':
            setenv("REQPROF_PATHS", "0", 1);
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            puts("reqprof " PACKAGE_VERSION);
            return 0;
        default:
            usage(stderr);
            return EXIT_LAUNCHER;
        }
    }
    if (optind >= argc) {
        fputs("reqprof: no command given (reqprof [options] -- CMD ARGS...)\n", stderr);
        return EXIT_LAUNCHER;
    }
    preload(library_path());
    const char *dir = rp_ring_dir();

    /* forwarding is in place before CMD exists, and a signal that comes
     * in between waits (blocked) until child is known */
    sigset_t set, old;
    set_forwarding(&set);
    sigprocmask(SIG_BLOCK, &set, &old);
    child = fork();
    if (child < 0)
        die("fork", strerror(errno));
    if (child == 0) {
        unset_forwarding();
        sigprocmask(SIG_SETMASK, &old, NULL);
        execvp(argv[optind], argv + optind);
        fprintf(stderr, "reqprof: cannot run %s: %s\n", argv[optind], strerror(errno));
        _exit(errno == ENOENT ? 127 : 126);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    int status = wait_child(), off = 0;
    const char *off_text = getenv("REQPROF_OFF");
    if (off_text)
        rp_parse_bool(off_text, &off);
    /* 126 and 127: CMD never ran, so there is nothing to tell */
    if (!quiet && !off && status != 126 && status != 127)
        tell_rings(dir, child);
    return status;
}
