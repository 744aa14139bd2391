/* log.h -- reqprof's one-line messages on stderr. They are built in a
 * stack buffer and written with one write(2): no malloc, no stdio lock,
 * errno preserved, safe from inside the host's malloc calls. */
#ifndef REQPROF_LOG_H
#define REQPROF_LOG_H

#include <stddef.h>
#include <stdint.h>

/* Remembers which file descriptor 2 is; later lines are written only
 * while it is still that file (see log.c). */
void rp_log_init(void);

/* Writes "reqprof[pid]: " and the NULL-terminated list of strings as one line. */
void rp_log(const char *first, ...) __attribute__((sentinel));

/* Formats v in decimal into buf (at least 21 bytes); returns buf. */
char *rp_fmt_u64(char *buf, uint64_t v);

/* Appends src to dst[cap] (always NUL-terminated); returns the new length. */
size_t rp_append(char *dst, size_t cap, const char *src);

#endif
