/* ring_read.h -- loading one ring file as untrusted input.
 *
 * A ring is copied into the reader's own memory (never mapped: a file
 * truncated under us must not SIGBUS us) and every field is checked
 * before anything uses it. After a successful load, hdr holds the
 * validated header and every offset, count and size in it lies within
 * data[0 .. size), so rp_ring_sum(&ring.hdr, ring.data, ...) and the
 * accessors below are safe on any input.
 *
 * The strings of the request areas (route names, record route_text, mark
 * labels) are sanitized in place in data: printable ASCII, NUL-terminated
 * within their fields. Records and marks that were torn or make no sense
 * are left out of the lists below, never refused: one bad record must not
 * hide a ring.
 */
#ifndef REQPROF_RING_READ_H
#define REQPROF_RING_READ_H

#include <stddef.h>
#include <stdint.h>
#include "ring_format.h"

#define RP_RING_MAX_FILE   (1ULL << 30) /* larger is not a ring: refuse before allocating */
#define RP_RING_MAX_CLASSES 4096
#define RP_RING_MAX_SHARDS  65536
#define RP_PID_MAX_LIMIT    4194304     /* the kernel's PID_MAX_LIMIT on 64-bit */
#define RP_RING_MAX_ROUTES  65536
#define RP_RING_MAX_RECORDS (1u << 20)
#define RP_RING_MAX_MARKS   65536

/* What became of the writer, decided when the ring is loaded. */
enum rp_liveness {
    RP_LIVE_RUNNING, /* state RUNNING and the same process (pid and start time) is alive */
    RP_LIVE_EXITED,  /* state EXITED: it reached exit() */
    RP_LIVE_DIED,    /* state RUNNING but the process is gone or its pid reused: crash or kill -9 */
    RP_LIVE_EXECED,  /* state EXECED: the process exec'ed; the new image has a ring of its own */
};

/* A kept request record and its index (0 is the first the process wrote). */
struct rp_record_ref {
    uint64_t index;
    const struct rp_record *rec;    /* in the ring's data */
};

struct rp_ring {
    char *name;                 /* the file's path, for messages */
    unsigned char *data;        /* private copy of the whole file */
    size_t size;
    struct rp_header hdr;       /* validated; strings in it are not sanitized, use those below;
                                   records_written and marks_written of a running ring are read
                                   again with the records and marks */
    char prog[RP_NAME_LEN];     /* sanitized copies: printable ASCII only */
    char title[RP_NAME_LEN];
    char exe[RP_PATH_LEN];
    int inconsistent;           /* a live read never caught the writer between two folds, compactions
                                   or updates of one route */
    enum rp_liveness liveness;
    uint32_t nroutes;           /* route slots in use: min(routes_used, route_cap) */
    struct rp_record_ref *records; /* the valid kept records, oldest first */
    size_t nrecords;
    uint64_t records_torn;      /* kept slots skipped: being written or overwritten, or invalid */
    const struct rp_mark **marks; /* the valid kept marks, oldest first */
    size_t nmarks;
};

/* Load the ring file at path. Returns 0, or -1 with "PATH: what is wrong"
 * in err. Refuses anything but a regular file of at most RP_RING_MAX_FILE
 * bytes. */
int rp_ring_load(const char *path, struct rp_ring *out, char *err, size_t errlen);

/* Validate and copy the len bytes at buf; name is used in messages. */
int rp_ring_load_mem(const void *buf, size_t len, const char *name,
                     struct rp_ring *out, char *err, size_t errlen);

void rp_ring_free(struct rp_ring *r);

/* Read and check only the header of the ring file at path (identity and
 * pids; nothing it points to): enough to pick rings by pid before loading
 * them. Returns 0, or -1 with a message in err. */
int rp_ring_peek(const char *path, struct rp_header *h, char *err, size_t errlen);

/* The class upper bounds and the time series of a loaded ring. */
const uint64_t *rp_ring_classes(const struct rp_ring *r);
const struct rp_sample *rp_ring_series(const struct rp_ring *r);

/* Route slot i < r->nroutes, and its histogram h (RP_ROUTE_HIST_*):
 * hdr.nclasses counters, by the ring's class table. */
const struct rp_route_head *rp_ring_route(const struct rp_ring *r, uint32_t i);
const uint64_t *rp_ring_route_hist(const struct rp_ring *r, uint32_t i, int h);

/* Field 22 of /proc/PID/stat (start time in clock ticks since boot).
 * Returns 0, or -1 when the process does not exist or cannot be read. */
int rp_proc_start_ticks(uint32_t pid, uint64_t *ticks);

const char *rp_liveness_name(enum rp_liveness l);

#endif
