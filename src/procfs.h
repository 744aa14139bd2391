/* procfs.h -- the few facts reqprof reads from /proc/self, with open/read
 * on a stack buffer: no stdio, no malloc, safe inside the host's calls. */
#ifndef REQPROF_PROCFS_H
#define REQPROF_PROCFS_H

#include <stddef.h>
#include <stdint.h>

/* Reads up to cap-1 bytes of a small file into buf, NUL-terminated;
 * returns the length, 0 when it cannot be read. */
size_t rp_proc_read(const char *path, char *buf, size_t cap);

/* Field 22 of /proc/self/stat: the start time in clock ticks, which
 * tells this process apart from a later one that reuses its pid. */
uint64_t rp_proc_start_ticks(void);

/* The process title: the first string of /proc/self/cmdline, which
 * servers such as nginx rewrite ("nginx: worker process"). Printable
 * ASCII only; out is left alone when cmdline cannot be read. */
void rp_proc_title(char *out, size_t cap);

#endif
