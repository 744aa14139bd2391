/* log.c -- see log.h. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"

/* What descriptor 2 was when reqprof started. A daemon that closes its
 * stderr may get descriptor 2 back for a data file or a socket; a line
 * of ours must not land in it. */
static struct stat stderr_at_start;
static int stderr_known;

char *rp_fmt_u64(char *buf, uint64_t v)
{
    char tmp[21];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return buf;
}

size_t rp_append(char *dst, size_t cap, const char *src)
{
    size_t len = strnlen(dst, cap);
    while (*src && len + 1 < cap)
        dst[len++] = *src++;
    if (len < cap)
        dst[len] = '\0';
    return len;
}

void rp_log_init(void)
{
    stderr_known = fstat(STDERR_FILENO, &stderr_at_start) == 0;
}

static int stderr_unchanged(void)
{
    struct stat now;
    if (!stderr_known)
        return 1;
    return fstat(STDERR_FILENO, &now) == 0 && now.st_dev == stderr_at_start.st_dev
        && now.st_ino == stderr_at_start.st_ino;
}

void rp_log(const char *first, ...)
{
    int saved = errno;
    if (!stderr_unchanged())
        return;
    char line[512] = "reqprof[", num[21];
    rp_append(line, sizeof line, rp_fmt_u64(num, (uint64_t)getpid()));
    rp_append(line, sizeof line, "]: ");
    va_list ap;
    va_start(ap, first);
    for (const char *s = first; s; s = va_arg(ap, const char *))
        rp_append(line, sizeof line - 1, s);
    va_end(ap);
    size_t len = rp_append(line, sizeof line, "\n");
    ssize_t r = write(STDERR_FILENO, line, len);
    (void)r; /* nowhere to report a failed report */
    errno = saved;
}
