/* ring_format.h -- the ring file: the one contract between libreqprof.so
 * (the writer) and reqprof-report (the reader).
 *
 * One ring file per process image, on tmpfs, mapped MAP_SHARED by the
 * writer. Every multi-byte field is little-endian (x86-64 native) and
 * naturally aligned; offsets are from the start of the file. The layout,
 * byte by byte, is documented in man/reqprof-ring.5: change one and you
 * change the other, and bump RP_RING_VERSION when a reader of the old
 * version would misread the new file.
 *
 *   offset 0             struct rp_header            (RP_HEADER_SIZE bytes)
 *   class_off            u64 class_upper[nclasses]   size-class upper bounds
 *   shard_off            nshards x shard_size bytes  per-thread counters
 *   route_off            route_cap x route_size      per-route aggregates (version 2)
 *   record_off           record_cap x struct rp_record  the latest requests (version 2)
 *   mark_off             mark_cap x struct rp_mark   process-wide marks (version 2)
 *   series_off           series_cap x struct rp_sample
 *   ...                  up to file_size
 *
 * Concurrency: the writer updates counters with plain (relaxed) stores
 * while readers copy the file. Counters are monotonic u64s, so a live
 * read is at worst a few operations stale. Two kinds of change are
 * guarded by sequence counters (odd while in progress): folding an exited
 * thread's shard (fold_seq), writing a sample into `last` or the time
 * series (series_seq), updating a route (its own seq) and writing a
 * request record or a mark (its own seq, which also says which record
 * it is). A reader that sees an odd or changed counter copies again, or
 * skips that record.
 *
 * The reader trusts nothing in here: see tools/ring_read.c.
 */
#ifndef REQPROF_RING_FORMAT_H
#define REQPROF_RING_FORMAT_H

#include <stdint.h>

#define RP_RING_MAGIC        "REQPROF\0RING\r\n\032\n" /* 16 bytes; the CR/LF/^Z catch text-mode mangling, as PNG does */
#define RP_RING_MAGIC_LEN    16
#define RP_RING_VERSION      2
#define RP_ENDIAN_CHECK      0x0102030405060708ULL
#define RP_HEADER_SIZE       4096
#define RP_NAME_LEN          64
#define RP_PATH_LEN          256

/* rp_header.state */
enum rp_state {
    RP_STATE_RUNNING = 1, /* the writer has not finished; if its pid is gone, it died */
    RP_STATE_EXITED  = 2, /* the process reached exit() (or returned from main) */
    RP_STATE_EXECED  = 3, /* the process exec()ed a new image, which has a ring of its own */
};

/* rp_header.allocator: whose malloc reqprof forwards to */
enum rp_allocator {
    RP_ALLOC_GLIBC = 1,
    RP_ALLOC_OTHER = 2,   /* something preloaded after reqprof (jemalloc, tcmalloc, ...) */
};

/* rp_header.usable_method: how the usable size of a block is learnt */
enum rp_usable_method {
    RP_USABLE_GLIBC_HEADER = 1, /* glibc's chunk size word, read in front of the block */
    RP_USABLE_CALL         = 2, /* the allocator's malloc_usable_size() */
};

/* rp_shard_head.kind */
enum rp_shard_kind {
    RP_SHARD_FREE      = 0, /* unused slot: all counters zero */
    RP_SHARD_THREAD    = 1, /* owned by one live thread (tid) */
    RP_SHARD_RETIRED   = 2, /* slot 0: sums of the threads that have exited */
    RP_SHARD_SHARED    = 3, /* slot 1: threads with no slot of their own; updated atomically */
    RP_SHARD_INHERITED = 4, /* slot 2: what was live in the parent at fork(); allocs = live blocks */
};
#define RP_SHARD_SLOT_RETIRED   0
#define RP_SHARD_SLOT_SHARED    1
#define RP_SHARD_SLOT_INHERITED 2
#define RP_SHARD_FIRST_THREAD   3

/* Counters of one size class in one shard. Allocations are classed by
 * the usable size of the block, so the same block lands in the same class
 * when it is freed: live counts and bytes per class are exact. One
 * cache line, so a malloc or free touches exactly one line of its shard. */
struct rp_class_counts {
    uint64_t allocs;        /* blocks handed out */
    uint64_t frees;         /* blocks given back */
    uint64_t req_bytes;     /* bytes the host asked for, summed over allocs */
    uint64_t usable_bytes;  /* usable bytes of the blocks handed out */
    uint64_t freed_bytes;   /* usable bytes of the blocks given back */
    uint64_t reserved[3];   /* zero in versions 1 and 2 */
};

/* The first 64 bytes of a shard; nclasses rp_class_counts follow. */
struct rp_shard_head {
    uint32_t kind;          /* enum rp_shard_kind */
    uint32_t tid;           /* kernel thread id of the owner (RP_SHARD_THREAD) */
    uint64_t reallocs;      /* realloc calls that moved or resized a block (each also counts a free and an alloc) */
    uint64_t failed;        /* allocation calls that returned NULL */
    uint64_t threads;       /* RETIRED: threads folded in; SHARED: threads that ever used it; else 0 */
    uint64_t reserved[4];   /* zero in versions 1 and 2 */
};

/* One point of the time series: taken at start, at each fork, at most once
 * per interval_ms between those, and at exit (lifecycle.c says when). */
struct rp_sample {
    uint64_t t_ns;          /* CLOCK_MONOTONIC nanoseconds since start_mono_ns */
    uint64_t rss_bytes;     /* resident set size (/proc/self/statm) */
    uint64_t rss_file_bytes;/* of which file-backed or shared pages */
    uint64_t live_bytes;    /* usable bytes of live blocks, all shards */
    uint64_t live_req_bytes;/* requested bytes of live blocks: estimated, see reqprof-ring(5) */
    uint64_t live_blocks;   /* live blocks, all shards */
    uint64_t allocs;        /* allocations so far (not counting inherited) */
    uint64_t frees;         /* frees so far */
    uint64_t heap_mapped;   /* allocator: bytes it holds from the OS (mallinfo2 arena + hblkhd) */
    uint64_t heap_in_use;   /* allocator: bytes in blocks it handed out (uordblks + hblkhd) */
    uint64_t heap_free;     /* allocator: free bytes it retains (fordblks) */
    uint64_t heap_releasable;/* allocator: free bytes at the top it could trim (keepcost) */
};
#define RP_HEAP_UNKNOWN UINT64_MAX /* in heap_*: the allocator offers no stats */

/* ---- requests (version 2) ------------------------------------------------
 *
 * A request is a span of one thread's work, begun and ended by the
 * marker API (reqprof.h) or by the HTTP/1.x detector. What the thread
 * allocates and frees meanwhile is charged to it. "Own" blocks are those
 * the request allocated; a free of any other block (allocated before the
 * request, or by another one) is a foreign free. Each request keeps a
 * bounded table of its own live blocks (owner_slots in the header); when
 * it overflows, frees it cannot place are taken as its own and the
 * request is flagged RP_REQ_OWNERS_APPROX.
 *
 *   peak  = the most bytes of its own blocks live at once during it
 *   left  = bytes of its own blocks still live when it ended
 */
#define RP_ROUTE_LEN 128 /* route tag, NUL-terminated: "GET /path" */

/* rp_record.source */
enum rp_req_source {
    RP_SRC_API  = 1, /* reqprof_request_begin() / _end() */
    RP_SRC_HTTP = 2, /* found on an accepted HTTP/1.x connection */
};

/* rp_record.end_reason */
enum rp_req_end {
    RP_END_API       = 1, /* reqprof_request_end() */
    RP_END_NESTED    = 2, /* cut short by a reqprof_request_begin() on the same thread */
    RP_END_READ      = 3, /* response sent, then the connection was read again */
    RP_END_IDLE      = 4, /* response sent, then the thread went back to waiting (epoll_wait, poll,
                           * select) or on to a socket call for another request */
    RP_END_CLOSE     = 5, /* the connection was closed or shut down */
    RP_END_PIPELINED = 6, /* response sent, then the next pipelined request's response began */
    RP_END_EXIT      = 7, /* the process exited with the request still open */
    RP_END_THREAD    = 8, /* the thread that began it (API) exited */
};

/* rp_record.flags */
#define RP_REQ_OWNERS_APPROX  1u /* its own-block table overflowed: left, peak and foreign frees are approximate */
#define RP_REQ_NO_RESPONSE    2u /* HTTP: no complete response was seen */

/* One ended request. Written once, at its end, into slot
 * (index % record_cap) where index counts records from 0. */
struct rp_record {
    uint64_t seq;           /*   0 2*index+1 while written, 2*index+2 when complete */
    uint64_t id;            /*   8 request id, from 1, per process */
    uint32_t tid;           /*  16 kernel thread id that began it */
    uint32_t route;         /*  20 index into the route table */
    uint16_t source;        /*  24 enum rp_req_source */
    uint16_t end_reason;    /*  26 enum rp_req_end */
    uint16_t status;        /*  28 HTTP status code, 0 if none */
    uint16_t flags;         /*  30 RP_REQ_* */
    uint64_t start_ns;      /*  32 CLOCK_MONOTONIC since start_mono_ns */
    uint64_t end_ns;        /*  40 */
    uint64_t allocs;        /*  48 allocations charged to it */
    uint64_t frees;         /*  56 frees charged to it (own and foreign) */
    uint64_t bytes_alloc;   /*  64 usable bytes allocated */
    uint64_t bytes_freed;   /*  72 usable bytes freed (own and foreign) */
    uint64_t foreign_frees; /*  80 frees of blocks it did not allocate */
    uint64_t foreign_bytes; /*  88 their usable bytes */
    uint64_t peak_bytes;    /*  96 see above */
    uint64_t left_bytes;    /* 104 */
    uint64_t left_blocks;   /* 112 */
    uint64_t conn;          /* 120 HTTP: connection number (per process, from 1); 0 for API requests */
    char     route_text[RP_ROUTE_LEN]; /* 128 the tag, even when the route table was full */
};

/* One route: the aggregates of every request recorded under its tag.
 * Never overwritten. nclasses u64 follow for each of three histograms:
 * the allocations made by its requests by size class (of usable size),
 * and the number of its requests whose peak, and whose left bytes, fall
 * in each size class's range; in those two, class 0 is exactly 0 bytes
 * and 1 to 16 bytes count in class 1, so a percentile can say 0. */
struct rp_route_head {
    char     name[RP_ROUTE_LEN]; /*   0 the tag; "" for an unused slot */
    uint64_t seq;           /* 128 odd while the route is being updated */
    uint64_t requests;      /* 136 */
    uint64_t allocs;        /* 144 */
    uint64_t frees;         /* 152 */
    uint64_t bytes_alloc;   /* 160 */
    uint64_t bytes_freed;   /* 168 */
    uint64_t foreign_frees; /* 176 */
    uint64_t foreign_bytes; /* 184 */
    uint64_t peak_sum;      /* 192 sum of per-request peaks */
    uint64_t peak_max;      /* 200 */
    uint64_t left_sum;      /* 208 sum of per-request left bytes: what the route leaves live */
    uint64_t left_max;      /* 216 */
    uint64_t left_blocks;   /* 224 */
    uint64_t leaky;         /* 232 requests that left at least one block live */
    uint64_t duration_sum_ns; /* 240 */
    uint64_t duration_max_ns; /* 248 */
    uint64_t approx;        /* 256 requests flagged RP_REQ_OWNERS_APPROX */
    uint64_t unanswered;    /* 264 requests flagged RP_REQ_NO_RESPONSE (a client that closed
                             * with pipelined requests the server never read to) */
    uint64_t reserved[6];   /* 272 zero in version 2 */
};
#define RP_ROUTE_OTHER 0 /* slot 0: "(other routes)", for tags that found the table full */
/* histogram h (0 allocs, 1 peak, 2 left) of a route starts at
 * route + RP_ROUTE_HEAD_SIZE + h * nclasses * 8 */
enum { RP_ROUTE_HIST_ALLOCS = 0, RP_ROUTE_HIST_PEAK = 1, RP_ROUTE_HIST_LEFT = 2, RP_ROUTE_NHIST = 3 };

/* A process-wide mark: reqprof_mark("reload"). */
struct rp_mark {
    uint64_t seq;           /*   0 as rp_record.seq */
    uint64_t t_ns;          /*   8 CLOCK_MONOTONIC since start_mono_ns */
    uint32_t tid;           /*  16 */
    uint32_t reserved;      /*  20 */
    uint64_t requests;      /*  24 requests ended before it */
    char     label[96];     /*  32 NUL-terminated */
};

struct rp_header {
    char     magic[RP_RING_MAGIC_LEN];   /*   0 */
    uint32_t version;                    /*  16 RP_RING_VERSION */
    uint32_t header_size;                /*  20 RP_HEADER_SIZE */
    uint64_t endian_check;               /*  24 RP_ENDIAN_CHECK */
    uint64_t file_size;                  /*  32 bytes in the file, a multiple of 4096 */
    uint32_t state;                      /*  40 enum rp_state */
    uint32_t pid;                        /*  44 */
    uint32_t ppid;                       /*  48 parent at start */
    uint32_t fork_parent;                /*  52 pid whose image this one was forked from, or 0 (started by exec) */
    uint64_t proc_start_ticks;           /*  56 field 22 of /proc/pid/stat: tells a reused pid apart */
    uint64_t start_real_ns;              /*  64 CLOCK_REALTIME at start */
    uint64_t start_mono_ns;              /*  72 CLOCK_MONOTONIC at start */
    uint64_t end_real_ns;                /*  80 CLOCK_REALTIME at exit, 0 while running */
    uint32_t allocator;                  /*  88 enum rp_allocator */
    uint32_t usable_method;              /*  92 enum rp_usable_method */
    uint32_t interval_ms;                /*  96 sampling interval, 0 = only at exit */
    uint32_t nclasses;                   /* 100 */
    uint64_t class_off;                  /* 104 */
    uint32_t nshards;                    /* 112 slots, including the three special ones */
    uint32_t shard_size;                 /* 116 64 + nclasses * 64 */
    uint64_t shard_off;                  /* 120 */
    uint32_t series_cap;                 /* 128 samples the series area holds */
    uint32_t sample_size;                /* 132 sizeof(struct rp_sample) */
    uint64_t series_off;                 /* 136 */
    uint64_t series_count;               /* 144 valid samples, oldest first, <= series_cap */
    uint64_t series_stride_ms;           /* 152 how far apart samples are kept (series.c); doubles when the series is compacted */
    uint64_t series_seq;                 /* 160 odd while `last` or the series is being written */
    uint64_t samples_taken;              /* 168 samples ever taken */
    uint64_t fold_seq;                   /* 176 odd while an exited thread's shard is being folded */
    uint64_t threads_seen;               /* 184 threads that ever allocated */
    uint64_t shard_overflows;            /* 192 threads that found no free slot */
    char     prog[RP_NAME_LEN];          /* 200 program name at start (NUL-terminated) */
    char     title[RP_NAME_LEN];         /* 264 process title, re-read at each sample (nginx: "nginx: worker process") */
    char     exe[RP_PATH_LEN];           /* 328 /proc/self/exe at start */
    struct rp_sample last;               /* 584 the latest sample, kept even when the series is compacted */
    /* version 2: requests */
    uint32_t route_cap;                  /* 680 slots in the route table, slot 0 included */
    uint32_t route_size;                 /* 684 sizeof(struct rp_route_head) + 3 * nclasses * 8 */
    uint64_t route_off;                  /* 688 */
    uint32_t record_cap;                 /* 696 slots in the record ring */
    uint32_t record_size;                /* 700 sizeof(struct rp_record) */
    uint64_t record_off;                 /* 704 */
    uint32_t mark_cap;                   /* 712 */
    uint32_t mark_size;                  /* 716 sizeof(struct rp_mark) */
    uint64_t mark_off;                   /* 720 */
    uint64_t routes_used;                /* 728 route slots in use, slot 0 included; a slot is filled before this counts it */
    uint64_t records_written;            /* 736 records ever written; the newest min(this, record_cap) are kept */
    uint64_t marks_written;              /* 744 */
    uint64_t req_begun;                  /* 752 requests begun */
    uint64_t req_ended;                  /* 760 requests ended (each writes a record) */
    uint64_t req_nested;                 /* 768 API begins while a request was open on the thread */
    uint64_t req_unmatched;              /* 776 API ends with no request open */
    uint64_t req_lost;                   /* 784 requests open at exit that could not be recorded (another thread held reqprof's lock too long) */
    uint64_t req_other_route;            /* 792 requests counted under RP_ROUTE_OTHER: the route table was full */
    uint64_t http_conns;                 /* 800 connections accepted while detection was on */
    uint64_t http_not_http;              /* 808 of which the first bytes were not an HTTP/1.x request */
    uint32_t http_detect;                /* 816 1: request boundaries are found on accepted connections */
    uint32_t route_paths;                /* 820 1: HTTP route tags hold the path; 0: the method only */
    uint32_t owner_slots;                /* 824 own-block table size per request */
    uint32_t reserved2;                  /* 828 zero */
    /* 832 .. 4095: zero in version 2 */
};

#define RP_CLASS_COUNT_SIZE ((uint32_t)sizeof(struct rp_class_counts))
#define RP_SHARD_HEAD_SIZE  ((uint32_t)sizeof(struct rp_shard_head))

_Static_assert(sizeof(struct rp_class_counts) == 64, "class counts are one cache line");
_Static_assert(sizeof(struct rp_shard_head) == 64, "shard head is one cache line");
_Static_assert(sizeof(struct rp_sample) == 96, "sample size is part of the format");
_Static_assert(sizeof(struct rp_header) <= RP_HEADER_SIZE, "header fits its page");
_Static_assert(__builtin_offsetof(struct rp_header, prog) == 200, "offsets are part of the format");
_Static_assert(__builtin_offsetof(struct rp_header, last) == 584, "offsets are part of the format");
_Static_assert(__builtin_offsetof(struct rp_header, route_cap) == 680, "offsets are part of the format");
_Static_assert(__builtin_offsetof(struct rp_header, reserved2) == 828, "offsets are part of the format");
_Static_assert(sizeof(struct rp_record) == 256, "record size is part of the format");
_Static_assert(sizeof(struct rp_route_head) == 320, "route head size is part of the format");
_Static_assert(sizeof(struct rp_mark) == 128, "mark size is part of the format");
#define RP_ROUTE_HEAD_SIZE ((uint32_t)sizeof(struct rp_route_head))

#endif
