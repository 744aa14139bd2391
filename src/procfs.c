/* procfs.c -- see procfs.h. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "procfs.h"

size_t rp_proc_read(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, cap - 1);
    if (fd >= 0)
        close(fd);
    n = n < 0 ? 0 : n;
    buf[n] = '\0';
    return (size_t)n;
}

/* Numeric field `wanted` of /proc/self/stat. Fields are counted after
 * the last ')', because the command name may hold any character. */
static uint64_t stat_field(int wanted)
{
    char buf[1024];
    rp_proc_read("/proc/self/stat", buf, sizeof buf);
    const char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    for (int field = 2; field < wanted && *p; p++)
        if (*p == ' ')
            field++;
    uint64_t v = 0;
    for (; *p >= '0' && *p <= '9'; p++)
        v = v * 10 + (uint64_t)(*p - '0');
    return v;
}

uint64_t rp_proc_start_ticks(void)
{
    return stat_field(22);
}

void rp_proc_title(char *out, size_t cap)
{
    char buf[256];
    if (rp_proc_read("/proc/self/cmdline", buf, sizeof buf) == 0)
        return;
    size_t i = 0;
    for (; i + 1 < cap && buf[i]; i++) {
        unsigned char c = (unsigned char)buf[i];
        out[i] = (char)(c >= 0x20 && c < 0x7f ? c : '?');
    }
    out[i] = '\0';
}
