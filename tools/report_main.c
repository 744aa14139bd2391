/* report_main.c -- reqprof-report: find rings, load them, report.
 *
 *   reqprof-report [-j] [-p PID]... [-d DIR] [PATH...]
 *
 * The steps are kept apart: ring_find names files, ring_read loads and
 * validates one, summary adds up, report_text/report_json print. This
 * file only wires them and decides the exit status:
 *
 *   0  everything named was read and reported
 *   1  a ring could not be read (the readable ones are still reported),
 *      or none was found; each problem is one line on stderr
 *   2  usage error, with a one-line hint
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"
#include "ring_find.h"
#include "ring_read.h"
#include "summary.h"

#define PROG "reqprof-report"
#define ERRLEN 1024

struct options {
    int json;
    const char *dir;     /* where --pid and the default look */
    uint32_t *pids;
    size_t npids;
    char **paths;        /* the operands */
    size_t npaths;
};

/* Problems are printed as they happen and kept for the JSON report. */
struct problems {
    char **v;
    size_t n;
};

static void problem(struct problems *p, const char *msg)
{
    char **v = realloc(p->v, (p->n + 1) * sizeof *v);
    fprintf(stderr, PROG ": %s\n", msg);
    if (!v)
        return;
    p->v = v;
    if ((v[p->n] = strdup(msg)))
        p->n++;
}

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: " PROG " [-j] [-p PID]... [-d DIR] [PATH...]\n"
        "Report what reqprof recorded: allocations, live heap, size classes, RSS,\n"
        "requests and routes of each profiled process, and all of them merged.\n"
        "\n"
        "  PATH           a ring file, or a directory of them (its *.ring files)\n"
        "  -p, --pid PID  the rings of process PID and of its descendants (nginx's\n"
        "                 master and workers); may be given more than once\n"
        "  -d, --dir DIR  where --pid and the default look (default: $REQPROF_DIR,\n"
        "                 else " RP_DEFAULT_DIR "), as reqprof's -d\n"
        "  -j, --json     print JSON instead of text\n"
        "  -h, --help     print this help\n"
        "  -V, --version  print the version\n"
        "\n"
        "With no PATH and no --pid, every ring in the ring directory is reported.\n"
        "Exit status: 0 ok; 1 a ring could not be read or none was found; 2 usage error.\n");
}

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, PROG ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (try '" PROG " --help')\n");
    return 2;
}

static int parse_pid(const char *s, uint32_t *pid)
{
    char *end;
    if (*s < '0' || *s > '9') /* strtoul would take a sign or spaces */
        return -1;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v == 0 || v > RP_PID_MAX_LIMIT)
        return -1;
    *pid = (uint32_t)v;
    return 0;
}

/* Whether the option getopt_long just refused was a long one, "--name".
 * It is argv[optind - 1] once getopt_long has moved past it (optind was
 * at before the call; operands it skipped over lie in between), and
 * argv[at] when optind has not moved: a cluster of short options ("-xj")
 * whose rest is still to be read, and so not a long option. */
static int is_long(char **argv, int at)
{
    return optind > at && strncmp(argv[optind - 1], "--", 2) == 0;
}

/* Returns -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        { "json", no_argument, NULL, 'j' },
        { "pid", required_argument, NULL, 'p' },
        { "dir", required_argument, NULL, 'd' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    int c, at;
    opterr = 0; /* our own messages, one line each */
    while ((at = optind, c = getopt_long(argc, argv, ":hVjp:d:", longopts, NULL)) != -1) {
        switch (c) {
        case 'j':
            o->json = 1;
            break;
        case 'p':
            if (parse_pid(optarg, &o->pids[o->npids]))
                return usage_error("bad --pid '%s': expected a process id from 1 to %u", optarg, RP_PID_MAX_LIMIT);
            o->npids++;
            break;
        case 'd':
            if (!*optarg)
                return usage_error("--dir needs a directory");
            o->dir = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf(PROG " " PACKAGE_VERSION "\n");
            return 0;
        case ':':
            if (is_long(argv, at))
                return usage_error("option '%s' needs an argument", argv[optind - 1]);
            return usage_error("option '-%c' needs an argument", optopt);
        default:
            /* getopt_long sets optopt to the long option's letter when it
             * refuses "--json=1": name what was written instead */
            if (is_long(argv, at))
                return usage_error("unknown option, or an argument it does not take: '%s'", argv[optind - 1]);
            return usage_error("unknown option '-%c'", optopt);
        }
    }
    o->paths = argv + optind;
    o->npaths = (size_t)(argc - optind);
    if (!o->dir)
        o->dir = rp_ring_dir();
    return -1;
}

static void find_rings(const struct options *o, struct rp_pathlist *l, struct problems *p)
{
    char err[ERRLEN];
    for (size_t i = 0; i < o->npids; i++)
        if (rp_find_pid(l, o->dir, o->pids[i], err, sizeof err))
            problem(p, err);
    for (size_t i = 0; i < o->npaths; i++)
        if (rp_find_path(l, o->paths[i], err, sizeof err))
            problem(p, err);
    if (!o->npids && !o->npaths && rp_find_dir(l, o->dir, err, sizeof err))
        problem(p, err);
}

/* Loads every listed ring that passes; returns how many did. */
static size_t load_rings(const struct rp_pathlist *l, struct rp_ring *rings, struct problems *p)
{
    char err[ERRLEN];
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (rp_ring_load(l->v[i].path, &rings[n], err, sizeof err)) {
            problem(p, err);
            continue;
        }
        if (rings[n].inconsistent)
            fprintf(stderr, PROG ": warning: %s: inconsistent live read (threads kept exiting, the series "
                            "was being compacted or a route was being updated while it was copied): one thread's "
                            "counts, or a route's last request, may be missed or counted twice\n",
                    l->v[i].path);
        n++;
    }
    return n;
}

static int report(const struct options *o, const struct rp_ring *rings, size_t n, const struct problems *p)
{
    struct rp_summary s;
    if (rp_summary_build(&s, rings, n)) {
        fprintf(stderr, PROG ": out of memory\n");
        return 1;
    }
    if (o->json)
        rp_report_json(stdout, &s, p->v, p->n);
    else
        rp_report_text(stdout, &s);
    rp_summary_free(&s);
    if (fflush(stdout) || ferror(stdout)) {
        fprintf(stderr, PROG ": write error: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct options o = { 0 };
    struct rp_pathlist paths = { 0 };
    struct problems problems = { 0 };
    struct rp_ring *rings = NULL;
    size_t nrings = 0;
    int status;

    o.pids = calloc((size_t)argc, sizeof *o.pids); /* at most one per argument */
    if (!o.pids) {
        fprintf(stderr, PROG ": out of memory\n");
        return 1;
    }
    status = parse_options(argc, argv, &o);
    if (status < 0) {
        find_rings(&o, &paths, &problems);
        rings = calloc(paths.n ? paths.n : 1, sizeof *rings);
        if (!rings) {
            fprintf(stderr, PROG ": out of memory\n");
            status = 1;
        } else {
            nrings = load_rings(&paths, rings, &problems);
            status = nrings ? report(&o, rings, nrings, &problems) : 1;
            if (status == 0 && problems.n)
                status = 1;
        }
    }
    for (size_t i = 0; i < nrings; i++)
        rp_ring_free(&rings[i]);
    free(rings);
    rp_pathlist_free(&paths);
    for (size_t i = 0; i < problems.n; i++)
        free(problems.v[i]);
    free(problems.v);
    free(o.pids);
    return status;
}
