/* mkring -- writes a valid ring file, for the shell tests of the reader.
 *
 *   mkring [-p PID] [-P PPID] [-f FORK_PARENT] [-s running|exited|execed]
 *          [-k START_TICKS] [-V VERSION] [-t TITLE] [-q] FILE
 *
 * The ring is built by tests/ring_build.h, so its counters, routes,
 * records and marks are known (see there); -q makes one that saw no
 * request. The shell tests damage copies of it with dd and truncate.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "../ring_build.h"

static uint64_t number(const char *s, uint64_t max)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s < '0' || *s > '9' || *end || errno || v > max) {
        fprintf(stderr, "mkring: not a number up to %llu: %s\n", (unsigned long long)max, s);
        exit(2);
    }
    return v;
}

static int usage(void)
{
    fprintf(stderr, "usage: mkring [-p PID] [-P PPID] [-f FORK_PARENT] [-s running|exited|execed] "
                    "[-k START_TICKS] [-V VERSION] [-t TITLE] [-q] FILE\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct rb_spec s = rb_default_spec();
    struct timespec now;
    int c;
    clock_gettime(CLOCK_REALTIME, &now);
    s.start_real_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
    while ((c = getopt(argc, argv, "p:P:f:s:k:V:t:q")) != -1) {
        switch (c) {
        case 'p': s.pid = (uint32_t)number(optarg, UINT32_MAX); break;
        case 'P': s.ppid = (uint32_t)number(optarg, UINT32_MAX); break;
        case 'f': s.fork_parent = (uint32_t)number(optarg, UINT32_MAX); break;
        case 'k': s.proc_start_ticks = number(optarg, UINT64_MAX); break;
        case 'V': s.version = (uint32_t)number(optarg, UINT32_MAX); break;
        case 't': s.title = optarg; break;
        case 'q': s.no_requests = 1; break;
        case 's':
            if (!strcmp(optarg, "running"))
                s.state = RP_STATE_RUNNING;
            else if (!strcmp(optarg, "exited"))
                s.state = RP_STATE_EXITED;
            else if (!strcmp(optarg, "execed"))
                s.state = RP_STATE_EXECED;
            else
                return usage();
            break;
        default:
            return usage();
        }
    }
    if (optind != argc - 1)
        return usage();

    size_t len;
    unsigned char *buf = rb_build(&s, &len);
    FILE *f = fopen(argv[optind], "wb");
    if (!buf || !f || fwrite(buf, 1, len, f) != len || fclose(f)) {
        perror(argv[optind]);
        return 1;
    }
    free(buf);
    return 0;
}
