/* settings.h -- reqprof's settings, read once from the environment.
 *
 *   REQPROF_OFF=1            pass every call through, write no ring
 *   REQPROF_DIR=DIR          where rings go (default /dev/shm/reqprof; empty = default)
 *   REQPROF_INTERVAL_MS=N    RSS / allocator sampling interval, 0 = only at exit
 *   REQPROF_RING_SIZE=N[KMG] size of each ring file
 *   REQPROF_THREADS=N        threads counted in a shard of their own
 *   REQPROF_HEAP_STATS=0     do not ask the allocator for its heap statistics (mallinfo2)
 *   REQPROF_HTTP=0           do not look for HTTP/1.x requests on accepted connections
 *   REQPROF_PATHS=0          HTTP route tags hold the method only, no path (privacy)
 *   REQPROF_ROUTES=N         route table slots
 *   REQPROF_RECORDS=N        request records kept (the newest)
 *
 * A value that does not parse or is out of range is reported in one line
 * on stderr and the default is used: a typo must never stop the host.
 */
#ifndef REQPROF_SETTINGS_H
#define REQPROF_SETTINGS_H

#include <stdint.h>
#include "ring_format.h"

#define RP_DEFAULT_DIR          "/dev/shm/reqprof"
#define RP_DEFAULT_INTERVAL_MS  1000
#define RP_DEFAULT_RING_SIZE    (4u << 20)
#define RP_DEFAULT_THREADS      64
#define RP_DEFAULT_ROUTES       256
#define RP_DEFAULT_RECORDS      4096

/* The ranges the library accepts; the launcher refuses the same. */
#define RP_INTERVAL_MS_MAX      3600000
#define RP_RING_SIZE_MIN        (64u << 10)
#define RP_RING_SIZE_MAX        ((uint64_t)1 << 30)
#define RP_THREADS_MAX          4096
#define RP_ROUTES_MIN           2
#define RP_ROUTES_MAX           65536
#define RP_RECORDS_MAX          (1u << 20)

struct rp_settings {
    int      enabled;
    char     dir[RP_PATH_LEN];
    uint32_t interval_ms;
    uint64_t ring_size;
    uint32_t threads;
    int      heap_stats;
    int      http_detect;
    int      route_paths;
    uint32_t routes;
    uint32_t records;
};

typedef const char *(*rp_getenv_fn)(const char *name);

/* Fills s from the variables get() returns (getenv in the library, a table in tests). */
void rp_settings_load(struct rp_settings *s, rp_getenv_fn get);

/* Parsers: 0 on success, -1 on syntax or range error. */
int rp_parse_uint(const char *text, uint64_t min, uint64_t max, uint64_t *out);
int rp_parse_size(const char *text, uint64_t min, uint64_t max, uint64_t *out); /* K, M, G suffixes (x1024) */
int rp_parse_bool(const char *text, int *out);

/* A ring directory must be absolute and leave room in RP_PATH_LEN for
 * the file name; an empty REQPROF_DIR means the default. */
#define RP_DIR_MAX (RP_PATH_LEN - 64)
int rp_valid_dir(const char *dir);

#endif
