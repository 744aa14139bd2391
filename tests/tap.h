/* tap.h -- the Test Anything Protocol, enough for reqprof's unit tests:
 * ok(cond, fmt, ...) prints one TAP line, done_testing() the plan, and
 * the exit status tells automake's tap-driver whether anything failed. */
#ifndef REQPROF_TAP_H
#define REQPROF_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_run, tap_failed;

__attribute__((format(printf, 2, 3), unused))
static int ok(int cond, const char *fmt, ...)
{
    va_list ap;
    tap_run++;
    if (!cond)
        tap_failed++;
    printf("%sok %d - ", cond ? "" : "not ", tap_run);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
    return cond;
}

__attribute__((unused))
static int done_testing(void)
{
    printf("1..%d\n", tap_run);
    return tap_failed ? 1 : 0;
}

#endif
