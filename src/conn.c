/* conn.c -- see conn.h: the connection table and the turn-taking that
 * turns socket calls into request boundaries. */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include "conn.h"
#include "hot.h"
#include "http_parse.h"
#include "request.h"
#include "shard.h"

/* Chunks are large (4096 entries, 4 MiB of address space, of which
 * only the pages of descriptors in use are ever touched) so that their
 * index is small enough to share a page with the other hot globals
 * (hot.h): a lookup costs no page of its own. */
#define CHUNK_BITS 12
#define CHUNK_FDS (1 << CHUNK_BITS)
#define MAX_CHUNKS 256         /* descriptors up to 2^20 are followed */
#define QUEUE_MAX 32           /* pipelined requests in flight on one connection */

enum kind {
    K_NONE = 0,
    K_HTTP,                    /* accepted, HTTP/1.x so far */
    K_IGNORED,                 /* accepted, but not HTTP, upgraded, shut down or pipelining too deep */
    K_UPSTREAM,                /* connect()ed by this process */
};

struct queued {
    struct rp_req *q;
    uint64_t id;
};

struct conn {
    uint8_t kind;
    uint8_t seen_request;      /* a request line was seen: later garbage is a desync, not "not HTTP" */
    uint8_t head_done;         /* the head request's response is complete */
    uint8_t head_wrote;        /* bytes of a response were written for the head request */
    uint8_t out_bad;           /* responses could not be framed: a read after a write ends a request */
    uint8_t qhead, qlen;
    uint64_t serial;
    struct queued queue[QUEUE_MAX];
    struct queued owner;       /* K_UPSTREAM: the request it works for */
    struct rp_http_parser in, out;
} __attribute__((aligned(1024))); /* 4 to a page, none across two: a call touches one */

/* read by every socket call: not beside a written word */
RP_HOT_DATA int rp_http_on __attribute__((aligned(64)));
RP_HOT_DATA static int route_paths = 1;
RP_HOT_DATA static struct conn *chunks[MAX_CHUNKS];
static uint64_t conns_accepted;
static int fd_end;             /* 1 + the highest descriptor given an entry: scans stop there */

/* A bit for each descriptor below TRACKED_FDS whose entry is in use
 * (kind is not K_NONE), on the hot data page: a call on any other one
 * (the file nginx sends and closes, the log it writes) is passed over
 * without a look at its entry, which is on a page of its own. Set before
 * the entry is, cleared after it is, with atomic OR and AND: threads
 * share the words. Above TRACKED_FDS every entry is looked at. */
#define TRACKED_FDS 2048
RP_HOT_DATA static uint64_t tracked[TRACKED_FDS / 64] __attribute__((aligned(64)));

static void set_tracked(int fd, int on)
{
    if ((unsigned)fd >= TRACKED_FDS)
        return;
    uint64_t bit = 1ull << (fd % 64);
    if (on)
        __atomic_fetch_or(&tracked[fd / 64], bit, __ATOMIC_RELAXED);
    else
        __atomic_fetch_and(&tracked[fd / 64], ~bit, __ATOMIC_RELAXED);
}

void rp_conn_settings(int detect, int paths)
{
    route_paths = paths;
    __atomic_store_n(&rp_http_on, detect, __ATOMIC_RELEASE);
}

void rp_conn_api_used(void)
{
    if (!__atomic_load_n(&rp_http_on, __ATOMIC_RELAXED))
        return;
    __atomic_store_n(&rp_http_on, 0, __ATOMIC_RELEASE);
    rp_requests_end_http();
}

/* fd's entry, whether in use or not; NULL when its chunk is not mapped. */
static struct conn *slot(int fd)
{
    if (fd < 0 || fd >= MAX_CHUNKS * CHUNK_FDS)
        return NULL;
    struct conn *chunk = __atomic_load_n(&chunks[fd >> CHUNK_BITS], __ATOMIC_ACQUIRE);
    return chunk ? &chunk[fd & (CHUNK_FDS - 1)] : NULL;
}

/* fd's entry for a socket call: NULL, or one whose kind the caller
 * checks, as it may be K_NONE above TRACKED_FDS. Inline, as it was
 * before the bitmap: GCC would keep it out of line, and out of the hot
 * groups (hot.h), where every socket call would touch its page. */
static inline __attribute__((always_inline)) struct conn *lookup(int fd)
{
    if ((unsigned)fd < TRACKED_FDS
        && !(__atomic_load_n(&tracked[fd / 64], __ATOMIC_RELAXED) >> (fd % 64) & 1))
        return NULL;
    return slot(fd);
}

/* fd_end, raised to cover fd. */
static void count_fd(int fd)
{
    int end = __atomic_load_n(&fd_end, __ATOMIC_RELAXED);
    while (fd >= end && !__atomic_compare_exchange_n(&fd_end, &end, fd + 1, 1,
                                                     __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

/* The entry for fd, mapping its chunk if need be (at accept and connect
 * only, never on the data path). Two threads mapping the same chunk at
 * once: one wins, the other unmaps its own. */
static struct conn *entry(int fd)
{
    struct conn *c = slot(fd);
    if (!c && fd >= 0 && fd < MAX_CHUNKS * CHUNK_FDS) {
        void *m = mmap(NULL, CHUNK_FDS * sizeof(struct conn), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            return NULL;
        struct conn *expect = NULL;
        if (!__atomic_compare_exchange_n(&chunks[fd >> CHUNK_BITS], &expect, (struct conn *)m, 0,
                                         __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            munmap(m, CHUNK_FDS * sizeof(struct conn));
        c = slot(fd);
    }
    if (c) {
        count_fd(fd);
        set_tracked(fd, 1);
    }
    return c;
}

static struct rp_req *valid(const struct queued *e)
{
    return rp_req_is(e->q, e->id) ? e->q : NULL;
}

/* An emptied queue starts again at its first entry: one that is not
 * pipelined on uses that entry alone, on the line of the fields above. */
static void advance(struct conn *c)
{
    c->qhead = --c->qlen ? (uint8_t)((c->qhead + 1) % QUEUE_MAX) : 0;
    c->head_done = 0;
    c->head_wrote = 0;
}

/* The request being served on c, or NULL. An answered head may have been
 * ended meanwhile (request.c ends it when its thread moves on): it goes. */
RP_HOT_IO static struct rp_req *head(struct conn *c)
{
    while (c->qlen) {
        struct rp_req *q = valid(&c->queue[c->qhead]);
        if (q)
            return q;
        advance(c);
    }
    return NULL;
}

/* Tells an answered head q which request is pipelined after it. */
static void link_successor(struct conn *c, struct rp_req *q)
{
    if (!q || !c->head_done || c->qlen < 2)
        return;
    const struct queued *n = &c->queue[(c->qhead + 1) % QUEUE_MAX];
    q->next = n->q;
    q->next_id = n->id;
}

/* The head request q goes without a complete response, unless its
 * response is one that ends with the connection, complete at its close. */
static void flag_if_unanswered(struct conn *c, struct rp_req *q)
{
    if (!c->head_done && !rp_http_until_close(&c->out))
        q->flags |= RP_REQ_NO_RESPONSE;
}

RP_HOT_HEAD static void pop(struct conn *c, enum rp_req_end why)
{
    struct queued *e = &c->queue[c->qhead];
    struct rp_req *q = valid(e);
    if (q) {
        flag_if_unanswered(c, q);
        rp_req_end(q, e->id, why);
    }
    advance(c);
}

static void end_all(struct conn *c, enum rp_req_end why)
{
    while (c->qlen)
        pop(c, why);
}

static struct rp_req *current(void)
{
    struct rp_req *q = rp_self()->req;
    return q && q->state == RP_REQ_OPEN ? q : NULL;
}

RP_HOT void rp_conn_accepted(int fd)
{
    struct conn *c = entry(fd);
    if (!c)
        return;
    if (c->kind == K_HTTP)      /* closed behind our back (vfork child, fclose of a FILE on it) */
        end_all(c, RP_END_CLOSE);
    memset(c, 0, sizeof *c);
    c->kind = K_HTTP;
    c->serial = __atomic_add_fetch(&conns_accepted, 1, __ATOMIC_RELAXED);
    rp_http_init(&c->in, RP_HTTP_REQUESTS);
    rp_http_init(&c->out, RP_HTTP_RESPONSES);
    rp_req_count(offsetof(struct rp_header, http_conns));
    rp_req_switch(NULL);   /* what sets up a connection is not its first request's */
}

void rp_conn_connected(int fd)
{
    struct conn *c = entry(fd);
    if (!c)
        return;
    if (c->kind == K_HTTP)
        end_all(c, RP_END_CLOSE);
    memset(c, 0, sizeof *c);
    c->kind = K_UPSTREAM;
    struct rp_req *q = current();
    if (q)
        c->owner = (struct queued){ q, q->id };
    rp_req_switch(q);
}

/* An upstream is used for its owner while the owner still waits for its
 * response; written to by the request being served once the owner is
 * answered or gone, it changes hands (a keep-alive upstream taken from
 * the pool). Several upstreams written in one turn of an event loop each
 * keep their own owner. */
RP_HOT_HEAD static void upstream_used(struct conn *c, int writing)
{
    struct rp_req *owner = valid(&c->owner), *q = current();
    if (writing && q && (!owner || owner->finished))
        c->owner = (struct queued){ q, q->id };
    if ((owner = valid(&c->owner)))
        rp_req_switch(owner);
}

RP_HOT_IO void rp_conn_before_read(int fd)
{
    struct conn *c = lookup(fd);
    if (!c || c->kind != K_HTTP || !head(c))
        return;
    if (c->head_done || (c->out_bad && c->head_wrote))
        pop(c, RP_END_READ);
}

static void request_line(struct conn *c, int fd)
{
    if (c->qlen == QUEUE_MAX) {   /* a client pipelining deeper than we follow */
        end_all(c, RP_END_CLOSE);
        c->kind = K_IGNORED;
        return;
    }
    struct rp_req *q = rp_req_begin(RP_SRC_HTTP);
    if (!q)
        return;
    size_t len = route_paths ? c->in.start_len : c->in.method_len;
    rp_req_set_route(q, c->in.start, len);
    q->fd = fd;
    q->conn = c->serial;
    q->is_head = c->in.method_len == 4 && memcmp(c->in.start, "HEAD", 4) == 0;
    c->queue[(c->qhead + c->qlen) % QUEUE_MAX] = (struct queued){ q, q->id };
    c->qlen++;
    c->seen_request = 1;
    if (c->qlen > 1)
        link_successor(c, head(c));
}

static void feed_in(struct conn *c, int fd, const char *p, size_t n)
{
    while (n && c->kind == K_HTTP) {
        enum rp_http_event ev;
        size_t used = rp_http_feed(&c->in, p, n, &ev);
        p += used;
        n -= used;
        if (ev == RP_HTTP_START_LINE) {
            request_line(c, fd);
        } else if (ev == RP_HTTP_BAD) {
            if (!c->seen_request)
                rp_req_count(offsetof(struct rp_header, http_not_http));
            c->kind = K_IGNORED;  /* requests already in flight still end at close */
        }
    }
}

/* An event of the responses on c, whose head request is q; returns the
 * head request after it. */
static struct rp_req *response_event(struct conn *c, struct rp_req *q, enum rp_http_event ev)
{
    switch (ev) {
    case RP_HTTP_BEGIN:
    case RP_HTTP_START_LINE:      /* which begins the message when no BEGIN came first */
        if (c->head_done) {       /* the next pipelined request's response */
            pop(c, RP_END_PIPELINED);
            q = head(c);
        }
        c->out.no_body = q && q->is_head;
        if (ev == RP_HTTP_START_LINE && q && !c->out.interim)
            q->status = c->out.status;
        break;
    case RP_HTTP_DONE:
        if (!q)
            break;
        c->head_done = 1;
        q->finished = 1;
        link_successor(c, q);
        break;
    default:
        break;
    }
    return q;
}

/* Response bytes for the head request q: seen (p), or only counted
 * (sendfile: p is NULL). Returns the head request after them. */
RP_HOT_IO static struct rp_req *feed_out(struct conn *c, struct rp_req *q, const char *p, size_t n)
{
    c->head_wrote = 1;
    while (n && !c->out_bad) {
        enum rp_http_event ev;
        size_t used = p ? rp_http_feed(&c->out, p, n, &ev) : rp_http_skip(&c->out, n, &ev);
        if (ev == RP_HTTP_BAD) {
            c->out_bad = 1;
            break;
        }
        if (p)
            p += used;
        n -= used;
        if (ev != RP_HTTP_NONE)
            q = response_event(c, q, ev);
    }
    return q;
}

/* The accepted connection on fd that a read or write (writing) concerns,
 * or NULL: for a descriptor that is not followed, and for an upstream,
 * whose use is dealt with here. */
static inline __attribute__((always_inline)) struct conn *client(int fd, int writing)
{
    struct conn *c = lookup(fd);
    if (!c || c->kind == K_NONE)
        return NULL;
    if (c->kind == K_UPSTREAM) {
        upstream_used(c, writing);
        return NULL;
    }
    return c;
}

RP_HOT_HEAD void rp_conn_read(int fd, const struct iovec *iov, int iovcnt, ssize_t n)
{
    struct conn *c = client(fd, 0);
    if (!c)
        return;
    size_t left = n > 0 ? (size_t)n : 0;
    for (int i = 0; i < iovcnt && left; i++) {
        size_t len = iov[i].iov_len < left ? iov[i].iov_len : left;
        feed_in(c, fd, iov[i].iov_base, len);
        left -= len;
    }
    rp_req_switch(head(c));
}

/* Requests in flight on an ignored connection still get their responses. */
RP_HOT_IO void rp_conn_wrote(int fd, const struct iovec *iov, int iovcnt, ssize_t n)
{
    struct conn *c = client(fd, 1);
    if (!c)
        return;
    struct rp_req *q = head(c);
    size_t left = n > 0 && q ? (size_t)n : 0;
    for (int i = 0; i < iovcnt && left; i++) {
        size_t len = iov[i].iov_len < left ? iov[i].iov_len : left;
        q = feed_out(c, q, iov[i].iov_base, len);
        left -= len;
    }
    rp_req_switch(q);
}

RP_HOT_IO void rp_conn_sent_file(int fd, ssize_t n)
{
    struct conn *c = lookup(fd);
    if (!c || c->kind != K_HTTP)
        return;
    struct rp_req *q = head(c);
    if (n > 0 && q)
        q = feed_out(c, q, NULL, (size_t)n);
    rp_req_switch(q);
}

/* The request a connection's thread serves when it closes it ends at the
 * thread's next turn, not now, answered or not (the client went away, and
 * the server gives up on the request): servers free a connection's memory
 * after close() (nginx destroys the connection's pool), and that is the
 * request's clean-up. Its record says when the connection closed.
 * Closing an upstream is its owner's work, as using it is: nginx closes
 * a proxied request's upstream first when it gives the request up, and
 * then frees the request's memory. */
RP_HOT_IO void rp_conn_closing(int fd)
{
    struct conn *c = lookup(fd);
    if (!c || c->kind == K_NONE)
        return;
    if (c->kind == K_UPSTREAM)
        upstream_used(c, 0);
    struct rp_req *q = head(c);
    if (q && rp_self()->req == q) {
        flag_if_unanswered(c, q);
        q->finished = 1;
        q->closed_ns = rp_req_now_ns();
        q->fd = -1;
        advance(c);
    }
    end_all(c, RP_END_CLOSE);
    c->kind = K_NONE;
    set_tracked(fd, 0);
}

void rp_conn_closing_range(unsigned first, unsigned last)
{
    unsigned end = (unsigned)__atomic_load_n(&fd_end, __ATOMIC_RELAXED);
    for (unsigned fd = first; fd < end && fd <= last; fd++)
        rp_conn_closing((int)fd);
}

RP_HOT_IO void rp_conn_shutdown(int fd, int how)
{
    struct conn *c = lookup(fd);
    if (!c || c->kind == K_NONE || c->kind == K_UPSTREAM || how == SHUT_RD)
        return;
    end_all(c, RP_END_CLOSE);
    c->kind = K_IGNORED;          /* what a lingering close still reads is not a request */
}

RP_HOT_IO void rp_conn_idle(void)
{
    rp_req_switch(NULL);
}

/* The child's pool is empty (request.c): every queue is stale. Only the
 * entries in use are written, so the child copies no more pages than it
 * must. */
void rp_conns_after_fork_child(void)
{
    for (int fd = 0; fd < fd_end; fd++) {
        struct conn *c = lookup(fd);
        if (c && (c->qlen || c->kind == K_UPSTREAM)) {
            c->qlen = 0;
            c->head_done = 0;
            c->owner = (struct queued){ NULL, 0 };
        }
    }
}
