/* http_serve.h -- the HTTP/1.1 side shared by the two test servers,
 * http_threaded.c (a thread per connection, blocking) and http_epoll.c
 * (one thread, epoll, nonblocking): request parsing, request bodies and
 * the routes with their KNOWN allocations. The servers only move bytes.
 *
 * The tests check reqprof's per-request charging exactly, so inside a
 * request nothing allocates except the routes below: no stdio, no
 * getaddrinfo; text is formatted with snprintf into fixed buffers (no
 * malloc for %d, %u, %s), connection state is static or on the stack.
 * Every block has a usable size that is exact on glibc: malloc(n) with
 * n % 32 == 24 gets a chunk of n + 8 bytes, a multiple of 32, of which n
 * are usable. (n % 16 == 8 is not enough: glibc hands out a free chunk
 * 16 bytes too big whole, since the 16 left over cannot be a chunk; with
 * every chunk a multiple of 32, no free chunk is ever 16 bytes too big.
 * The threaded server's only other blocks, pthread_create's 280-byte
 * DTVs, fit too.) Per request:
 *
 *   route         allocs frees bytes_alloc bytes_freed peak  left (blocks)
 *   GET|HEAD /keep    4    3     1376        1256       1376  120  (1)
 *   GET|HEAD /free    3    3     2632        2632       2576    0
 *   GET /chunked      1    1      248         248        248    0   3 chunks, 5 writes
 *   POST /upload      2    2     4144        4144       4144    0   Content-Length or chunked body
 *   GET /upstream     2    2      656         656        656    0   one allocation on each side of
 *                                                                   a round trip to the echo port
 *   GET /foreign      0    1        0         120          0    0   frees a block /keep kept
 *   GET /hello, /quit, anything else (404): nothing
 *
 * A request path is routed without its query ("/keep?x=1" is /keep).
 * Bodies are decoded as they arrive, in any pieces; a body is never
 * parsed as a request.
 */
#ifndef HTTP_SERVE_H
#define HTTP_SERVE_H

#define _GNU_SOURCE 1
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include <unistd.h>

#define IN_CAP    16384 /* request head plus whatever is pipelined behind it */
#define RESP_CAP  4096
#define MAX_WRITES 6    /* a chunked response is written in 5 pieces */
#define UPLOAD_CAP 4056 /* the /upload buffer: bodies longer than this are summed, not kept */
#define UPSTREAM_PING "\001ping\n" /* not an HTTP request line: the echo side is not HTTP */

enum step {
    STEP_MORE,      /* need more bytes */
    STEP_RESPONSE,  /* a response is ready in conn.resp */
    STEP_UPSTREAM,  /* the route needs the echo port's answer: call route_upstream_reply */
    STEP_BAD,       /* not HTTP, or malformed: close */
};

/* Request body decoder states. */
enum body_state { B_NONE, B_LENGTH, B_SIZE, B_EXT, B_DATA, B_DATA_END, B_TRAILER, B_DONE };

/* One response: up to MAX_WRITES writes, each one or two ranges of buf
 * (a head and a body go out in one writev of two iovecs). */
struct response {
    char buf[RESP_CAP];
    size_t used;
    int nwrites;
    struct { int niov; struct iovec iov[2]; } w[MAX_WRITES];
};

struct conn {
    char in[IN_CAP];
    size_t inlen;
    int in_request;              /* head parsed, body (if any) still coming */
    char method[16];
    char path[128];              /* without the query */
    int keepalive;
    int head_only;               /* HEAD: a response without its body */
    enum body_state body;
    uint64_t body_left;          /* bytes left of the Content-Length or of the chunk */
    uint64_t chunk_size;
    unsigned trailer_line;       /* bytes on the current trailer line */
    uint64_t body_bytes;
    unsigned body_sum;
    char *upload;                /* /upload's buffer, while its body arrives */
    char *upstream_ctx;          /* /upstream's context, while the echo port answers */
    int quit;                    /* /quit was served */
    struct response resp;
};

/* Blocks kept by /keep, freed one at a time by /foreign. */
static void *kept[1 << 16];
static size_t nkept;
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;

/* The compiler may drop a malloc/free pair whose block is never used:
 * each block is filled and its address published. */
static void *volatile block_sink;

static void *route_alloc(size_t n)
{
    char *p = malloc(n);
    if (!p)
        abort();
    memset(p, 0xa5, n);
    block_sink = p;
    return p;
}

static void consume(struct conn *c, size_t n)
{
    memmove(c->in, c->in + n, c->inlen - n);
    c->inlen -= n;
}

/* ---- responses ------------------------------------------------------- */

static size_t resp_put(struct response *r, const char *text, size_t n)
{
    size_t off = r->used;
    if (n > RESP_CAP - off)
        abort(); /* the routes' responses are small and fixed */
    memcpy(r->buf + off, text, n);
    r->used += n;
    return off;
}

static void resp_write(struct response *r, size_t off1, size_t len1, size_t off2, size_t len2)
{
    int i = r->nwrites++;
    r->w[i].niov = len2 ? 2 : 1;
    r->w[i].iov[0] = (struct iovec){ r->buf + off1, len1 };
    r->w[i].iov[1] = (struct iovec){ r->buf + off2, len2 };
}

/* A Content-Length response: head and body in one writev. */
static void respond(struct conn *c, int status, const char *body)
{
    struct response *r = &c->resp;
    char head[256];
    size_t blen = strlen(body);
    int hlen = snprintf(head, sizeof head,
                        "HTTP/1.1 %d %s\r\nContent-Length: %u\r\nContent-Type: text/plain\r\n%s\r\n",
                        status, status == 200 ? "OK" : "Not Found", (unsigned)blen,
                        c->keepalive ? "" : "Connection: close\r\n");
    r->used = 0;
    r->nwrites = 0;
    size_t h = resp_put(r, head, (size_t)hlen);
    if (c->head_only) {
        resp_write(r, h, (size_t)hlen, 0, 0);
    } else {
        size_t b = resp_put(r, body, blen);
        resp_write(r, h, (size_t)hlen, b, blen);
    }
}

/* ---- routes ---------------------------------------------------------- */

static int is_route(const struct conn *c, const char *method, const char *path)
{
    return strcmp(c->method, method) == 0 && strcmp(c->path, path) == 0;
}

static int is_get(const struct conn *c, const char *path)
{
    return (strcmp(c->method, "GET") == 0 || strcmp(c->method, "HEAD") == 0) && strcmp(c->path, path) == 0;
}

static void route_keep(struct conn *c)
{
    char *a = route_alloc(24), *b = route_alloc(120), *d = route_alloc(1016), *e = route_alloc(216);
    free(a);
    free(d);
    free(e);
    pthread_mutex_lock(&kept_lock);
    if (nkept < sizeof kept / sizeof *kept)
        kept[nkept++] = b;
    size_t n = nkept;
    pthread_mutex_unlock(&kept_lock);
    char body[64];
    snprintf(body, sizeof body, "kept %u\n", (unsigned)n);
    respond(c, 200, body);
}

static void route_free(struct conn *c)
{
    char *p1 = route_alloc(536), *p2 = route_alloc(2040); /* 2576 live: the peak */
    free(p1);
    char *p3 = route_alloc(56);
    free(p2);
    free(p3);
    respond(c, 200, "freed\n");
}

static void route_foreign(struct conn *c)
{
    void *p = NULL;
    pthread_mutex_lock(&kept_lock);
    if (nkept)
        p = kept[--nkept];
    pthread_mutex_unlock(&kept_lock);
    free(p);
    respond(c, 200, p ? "freed one\n" : "none kept\n");
}

/* Three chunks, each written on its own, then the last chunk. */
static void route_chunked(struct conn *c)
{
    struct response *r = &c->resp;
    char *text = route_alloc(248);
    char line[300];
    r->used = 0;
    r->nwrites = 0;
    int n = snprintf(line, sizeof line, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n%s\r\n",
                     c->keepalive ? "" : "Connection: close\r\n");
    resp_write(r, resp_put(r, line, (size_t)n), (size_t)n, 0, 0);
    for (int i = 0; i < 3; i++) {
        memset(text, 'a' + i, 88);
        n = snprintf(line, sizeof line, "%x\r\n%.88s\r\n", 88, text);
        resp_write(r, resp_put(r, line, (size_t)n), (size_t)n, 0, 0);
    }
    resp_write(r, resp_put(r, "0\r\n\r\n", 5), 5, 0, 0);
    free(text);
}

/* /upload: the buffer is allocated when the head is complete, before
 * any of the body has been read. */
static void route_upload_end(struct conn *c)
{
    char *digest = route_alloc(88);
    char body[96];
    snprintf(digest, 88, "got %lu sum %u\n", (unsigned long)c->body_bytes, c->body_sum);
    snprintf(body, sizeof body, "%s", digest);
    free(digest);
    free(c->upload);
    c->upload = NULL;
    respond(c, 200, body);
}

/* Called once the head is parsed, before the body. */
static void route_begin(struct conn *c)
{
    if (is_route(c, "POST", "/upload"))
        c->upload = route_alloc(UPLOAD_CAP);
}

static void route_body(struct conn *c, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (c->upload && c->body_bytes + i < UPLOAD_CAP)
            c->upload[c->body_bytes + i] = p[i];
        c->body_sum = c->body_sum * 31 + (unsigned char)p[i];
    }
    c->body_bytes += n;
}

/* The request is complete: answer it, or ask for the echo port. */
static enum step route_end(struct conn *c)
{
    if (is_get(c, "/keep"))
        route_keep(c);
    else if (is_get(c, "/free"))
        route_free(c);
    else if (is_route(c, "GET", "/chunked"))
        route_chunked(c);
    else if (is_route(c, "POST", "/upload"))
        route_upload_end(c);
    else if (is_route(c, "GET", "/foreign"))
        route_foreign(c);
    else if (is_route(c, "GET", "/upstream")) {
        c->upstream_ctx = route_alloc(152);
        return STEP_UPSTREAM;
    } else if (is_get(c, "/hello"))
        respond(c, 200, "hello\n");
    else if (is_route(c, "GET", "/quit")) {
        c->keepalive = 0;
        c->quit = 1;
        respond(c, 200, "bye\n");
    } else
        respond(c, 404, "not found\n");
    return STEP_RESPONSE;
}

/* The echo port answered the ping with REPLY. */
static void route_upstream_reply(struct conn *c, const char *reply, size_t n)
{
    char *copy = route_alloc(504);
    char body[64];
    memcpy(copy, reply, n < 504 ? n : 504);
    snprintf(body, sizeof body, "upstream said %u bytes\n", (unsigned)n);
    free(copy);
    free(c->upstream_ctx);
    c->upstream_ctx = NULL;
    respond(c, 200, body);
}

/* ---- parsing --------------------------------------------------------- */

/* The bytes so far cannot start a request line: the method is 1-15
 * capital letters followed by a space. Checked early, so a client that
 * sends a few random bytes and waits is closed at once. */
static int bad_start(const struct conn *c)
{
    for (size_t i = 0; i < c->inlen && i < 16; i++) {
        char ch = c->in[i];
        if (ch == ' ')
            return i == 0;
        if (ch < 'A' || ch > 'Z')
            return 1;
    }
    return c->inlen >= 16;
}

/* The header line at h (up to its CRLF, within end) holds word. */
static int line_has(const char *h, const char *end, const char *word)
{
    const char *eol = memchr(h, '\n', (size_t)(end - h));
    return memmem(h, (size_t)((eol ? eol : end) - h), word, strlen(word)) != NULL;
}

/* Parses the head ending at in[len - 1]; fills method, path, keepalive
 * and the body framing. */
static int parse_head(struct conn *c, size_t len)
{
    char *p = c->in, *end = c->in + len;
    char *sp1 = memchr(p, ' ', (size_t)(end - p));
    if (!sp1 || sp1 - p >= (long)sizeof c->method)
        return -1;
    char *target = sp1 + 1;
    char *sp2 = memchr(target, ' ', (size_t)(end - target));
    if (!sp2 || *target != '/')
        return -1;
    if ((size_t)(end - sp2) < 10 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0)
        return -1;
    int minor = sp2[8] - '0';
    memcpy(c->method, p, (size_t)(sp1 - p));
    c->method[sp1 - p] = 0;
    char *q = memchr(target, '?', (size_t)(sp2 - target));
    size_t plen = (size_t)((q ? q : sp2) - target);
    if (plen >= sizeof c->path)
        return -1;
    memcpy(c->path, target, plen);
    c->path[plen] = 0;
    c->keepalive = minor >= 1;
    c->head_only = strcmp(c->method, "HEAD") == 0;
    c->body = B_NONE;
    c->body_bytes = 0;
    c->body_sum = 0;
    for (char *line = memchr(sp2, '\n', (size_t)(end - sp2)); line && line + 1 < end;
         line = memchr(line + 1, '\n', (size_t)(end - line - 1))) {
        char *h = line + 1;
        size_t rest = (size_t)(end - h);
        if (rest > 15 && strncasecmp(h, "Content-Length:", 15) == 0) {
            c->body_left = strtoull(h + 15, NULL, 10);
            c->body = c->body_left ? B_LENGTH : B_NONE;
        } else if (rest > 18 && strncasecmp(h, "Transfer-Encoding:", 18) == 0) {
            if (line_has(h, end, "chunked")) {
                c->body = B_SIZE;
                c->chunk_size = 0;
            }
        } else if (rest > 11 && strncasecmp(h, "Connection:", 11) == 0) {
            if (line_has(h, end, "close"))
                c->keepalive = 0;
            else if (line_has(h, end, "keep-alive"))
                c->keepalive = 1;
        }
    }
    return 0;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch |= 0x20;
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Feeds body bytes from the front of in[]; returns how many it took, or
 * -1 on a malformed chunked body. */
static long body_feed(struct conn *c)
{
    size_t i = 0;
    while (i < c->inlen && c->body != B_DONE && c->body != B_NONE) {
        char ch = c->in[i];
        switch (c->body) {
        case B_LENGTH:
        case B_DATA: {
            size_t n = c->inlen - i < c->body_left ? c->inlen - i : (size_t)c->body_left;
            route_body(c, c->in + i, n);
            i += n;
            c->body_left -= n;
            if (!c->body_left)
                c->body = c->body == B_LENGTH ? B_DONE : B_DATA_END;
            continue;
        }
        case B_SIZE:
        case B_EXT:
            if (ch == '\n') {
                c->body_left = c->chunk_size;
                c->body = c->chunk_size ? B_DATA : B_TRAILER;
                c->trailer_line = 0;
                c->chunk_size = 0;
            } else if (c->body == B_SIZE && ch == ';') {
                c->body = B_EXT;
            } else if (c->body == B_SIZE && ch != '\r') {
                if (hexval(ch) < 0 || c->chunk_size > (1u << 24))
                    return -1;
                c->chunk_size = c->chunk_size * 16 + (uint64_t)hexval(ch);
            }
            break;
        case B_DATA_END:
            if (ch == '\n')
                c->body = B_SIZE;
            else if (ch != '\r')
                return -1;
            break;
        case B_TRAILER:
            if (ch == '\n') {
                if (!c->trailer_line)
                    c->body = B_DONE;
                c->trailer_line = 0;
            } else if (ch != '\r') {
                c->trailer_line++;
            }
            break;
        default:
            break;
        }
        i++;
    }
    return (long)i;
}

/* Advances the connection over what has arrived in in[]. */
static enum step conn_step(struct conn *c)
{
    if (!c->in_request) {
        if (bad_start(c))
            return STEP_BAD;
        char *end = memmem(c->in, c->inlen, "\r\n\r\n", 4);
        if (!end)
            return c->inlen == IN_CAP ? STEP_BAD : STEP_MORE;
        size_t hlen = (size_t)(end - c->in) + 4;
        if (parse_head(c, hlen) < 0)
            return STEP_BAD;
        consume(c, hlen);
        c->in_request = 1;
        route_begin(c);
    }
    long took = body_feed(c);
    if (took < 0)
        return STEP_BAD;
    consume(c, (size_t)took);
    if (c->body != B_NONE && c->body != B_DONE)
        return STEP_MORE;
    c->in_request = 0;
    return route_end(c);
}

/* "port N\n" on stdout, with write(): stdio would allocate. */
static void say_port(unsigned port)
{
    char line[32];
    int n = snprintf(line, sizeof line, "port %u\n", port);
    if (write(1, line, (size_t)n) != n)
        exit(1);
}

#endif
