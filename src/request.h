/* request.h -- requests: what a thread allocates and frees while it
 * serves one, and the record and route aggregates written at its end.
 *
 * A request is begun by the marker API (reqprof.h, api.c) or by the HTTP
 * detector (conn.c); either way it is an rp_req from a pool, and a thread
 * charges its calls to the request rp_self()->req points at. The hot path
 * (shard.h) pays a load of the thread's state and a predicted branch
 * when no request is open; inside one it also files the block in the request's
 * own-block table (owners.h), so a free knows whether the block was the
 * request's own (left and peak are then exact) or foreign. The table is
 * bounded (RP_OWNER_SLOTS); past 3/4 full it stops taking blocks and the
 * request is flagged approximate.
 *
 * An HTTP request that is finished (its response is complete, or its
 * connection was closed without one) but has not ended yet (conn.h says
 * why it ends late) is charged the frees of its own blocks, its clean-up,
 * but not new allocations: those are the server getting ready for the
 * next turn (nginx allocates the next read buffer there).
 * When a pipelined request waits behind it on the connection, the server
 * is working on that one: it takes the allocations and the other frees.
 *
 * Ending a request is the shared work: under one process-wide spin lock
 * it writes a record into the ring, adds to its route's aggregates and
 * gives the rp_req back to the pool. Objects are never unmapped, so a
 * stale pointer (a connection whose request ended meanwhile) reads a
 * recycled request, never freed memory; `id` tells them apart.
 */
#ifndef REQPROF_REQUEST_H
#define REQPROF_REQUEST_H

#include <stddef.h>
#include <stdint.h>
#include "owners.h"
#include "ring_format.h"
#include "sizeclass.h"

enum rp_req_state { RP_REQ_FREE = 0, RP_REQ_OPEN = 1 };

struct rp_req {
    uint64_t id;              /* from 1; 0 while in the pool */
    uint32_t state;           /* enum rp_req_state */
    uint32_t tid;
    uint16_t source, status, flags;
    uint8_t  is_head;         /* HTTP: a HEAD request, whose response has no body */
    uint8_t  finished;        /* HTTP: its response is complete, or its connection closed
                               * without one: what is left is its clean-up (see above) */
    uint8_t  route_len;       /* strlen(route) */
    int      fd;              /* HTTP: the connection, else -1 */
    uint64_t conn;            /* HTTP: the connection's number */
    uint64_t start_ns;
    uint64_t closed_ns;       /* HTTP: its connection was closed after its response (conn.h) */
    uint64_t allocs, frees, bytes_alloc, bytes_freed, foreign_frees, foreign_bytes;
    uint64_t own_bytes, own_blocks, peak_bytes;
    uint64_t touched[(RP_NCLASSES + 63) / 64]; /* classes with class_allocs > 0 */
    /* begin clears all above; the end of the previous request cleared class_allocs and owned */
    uint32_t class_allocs[RP_NCLASSES];
    char     route[RP_ROUTE_LEN];
    struct rp_req *next;      /* HTTP: the request pipelined after it, or NULL */
    uint64_t next_id;
    struct rp_req *next_free; /* in the pool */
    struct rp_owners owned;   /* its own blocks still live; last, as begin clears all before it */
} __attribute__((aligned(4096))); /* all but owned's large table on one page (owners.h) */

/* What request.c keeps per thread, in the thread's struct rp_thread
 * (shard.h). The gap: the allocations since the thread's last socket
 * call, which move to the request its next call turns out to serve
 * (request.c). */
#define RP_GAP_MAX 32

struct rp_gap_alloc {
    const void *p;
    size_t usable;
    unsigned cls;
};

struct rp_req_thread {        /* the small fields first: on the line of rp_thread's own */
    int lock_held;            /* the request lock: see lock() */
    int serves_http;          /* has served an HTTP request */
    uint32_t tid;             /* kernel thread id, once asked */
    uint32_t route_epoch, route_slot; /* the route of its previous request */
    struct rp_req *gap_from;  /* what the gap's allocations were charged to */
    uint64_t gap_from_id;
    unsigned gap_n;
    struct rp_gap_alloc gap[RP_GAP_MAX];
    char route_name[RP_ROUTE_LEN];
};

/* The hot path's part, called only when rp_self()->req is set; t is the
 * thread's rp_self()->rq. */
void rp_req_alloc(struct rp_req_thread *t, struct rp_req *q, const void *p, unsigned cls, size_t usable);
void rp_req_free(struct rp_req_thread *t, struct rp_req *q, const void *p, size_t usable);

/* The thread's socket call serves `to`: the gap's allocations since its
 * previous socket call move to `to` if it is another request (request.c
 * says why), and the thread charges `to`. With NULL (the call serves no
 * request, or the thread goes back to waiting) it charges no request
 * until its next socket call, but remembers what it allocates. */
void rp_req_switch(struct rp_req *to);
extern struct rp_req rp_limbo;

/* A new open request, or NULL (reqprof off, pool exhausted). The route
 * is set by the caller (rp_req_set_route). */
struct rp_req *rp_req_begin(uint16_t source);
void rp_req_set_route(struct rp_req *q, const char *route, size_t len);

/* Ends q if it is still request `id` (0: whichever it is) and open:
 * writes its record and route aggregates, returns it to the pool and
 * clears rp_self()->req if it pointed at it. */
void rp_req_end(struct rp_req *q, uint64_t id, enum rp_req_end why);

/* Whether q is still the open request `id`. */
static inline int rp_req_is(const struct rp_req *q, uint64_t id)
{
    return q && __atomic_load_n(&q->id, __ATOMIC_RELAXED) == id && q->state == RP_REQ_OPEN;
}

/* The thread exits: a request it still charges is over. */
void rp_req_thread_exit(void);

/* Counters in the ring header, bumped atomically (rare events). */
void rp_req_count(size_t header_field_offset);

/* A process-wide mark. Returns 1 if recorded. */
int rp_req_mark(const char *label);

/* The host took to marking its own requests: the HTTP requests open now
 * are recorded, with RP_END_CLOSE. */
void rp_requests_end_http(void);

/* At exit: every request still open is recorded with RP_END_EXIT. */
void rp_requests_at_exit(void);

/* fork(): the prepare handler takes the lock, the parent releases it;
 * the child gets a fresh ring, so it empties the pool (requests open in
 * the parent are the parent's) and the route index. */
void rp_requests_before_fork(void);
void rp_requests_after_fork_parent(void);
void rp_requests_after_fork_child(void);

uint64_t rp_req_now_ns(void); /* CLOCK_MONOTONIC since the ring's start */

#endif
