/* http_client -- a small HTTP/1.1 client for reqprof's request tests,
 * doing what curl will not: several requests pipelined in one write, a
 * request written in pieces, connections multiplexed in lockstep.
 *
 *   http_client [options] PORT REQUEST...     REQUEST: "METHOD /path[?query]"
 *     -c N  connections to 127.0.0.1:PORT, all kept alive (default 1)
 *     -n N  rounds (default 1)
 *     -p    pipeline: each round, a connection's REQUESTs go in ONE write
 *     -s    split: each request is written in pieces with pauses between
 *           them: the head in two writes, the body in two more
 *     -b N  body bytes of each POST (default 200); the body holds the text
 *           of a request line, which the server must not take as one
 *     -k    POST bodies chunked (Transfer-Encoding: chunked, 3 chunks)
 *     -x    the last request on each connection says Connection: close,
 *           and the server's close is waited for
 *     -g N  also N connections that send 64 bytes that are not HTTP (a TLS
 *           ClientHello's first bytes, then pseudo-random ones) and expect
 *           to be closed
 *     -a    give up: after the rounds, each connection sends the first
 *           REQUEST's head and half its body, and is closed unanswered
 *
 * Without -p, a round sends request i on every connection, then reads
 * request i's response on every connection, so a server sees several
 * connections ready at once. Each response is read whole: its status line,
 * head, and a Content-Length, chunked or (HEAD, 204, 304) empty body.
 * Prints "responses=N bad=N closed=N" (closed: garbage connections the
 * server closed, plus -x connections closed after their last response),
 * then a line "METHOD /path STATUS COUNT" per route and status seen. Exits
 * 0 when every response arrived and parsed.
 */
#define _GNU_SOURCE 1
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "send_all.h"

#define MAX_CONNS 64
#define MAX_REQS  32
#define BUF_CAP   (1 << 16)

struct reader {
    int fd;
    char buf[BUF_CAP];
    size_t start, end;
};

static struct reader conns[MAX_CONNS];
static unsigned port;
static int body_len = 200, chunked_body, split, pipelined, close_last, give_up;
static long responses, bad, closed;

/* Tally of responses by route and status. */
static struct { char route[128]; int status; long n; } tally[256];
static int ntally;

static void count(const char *route, int status)
{
    int i = 0;
    while (i < ntally && (strcmp(tally[i].route, route) != 0 || tally[i].status != status))
        i++;
    if (i == ntally) {
        if (ntally == (int)(sizeof tally / sizeof *tally))
            return;
        snprintf(tally[i].route, sizeof tally[i].route, "%s", route);
        tally[i].status = status;
        ntally++;
    }
    tally[i].n++;
}

static void pause_ms(long ms)
{
    struct timespec ts = { 0, ms * 1000000L };
    nanosleep(&ts, NULL);
}

static int dial(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct timeval tv = { 5, 0 };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
        connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        perror("http_client: connect");
        exit(1);
    }
    return fd;
}

/* The text of one request; *head_len says where its head ends. The body
 * of a POST carries a request line: a server, or reqprof, that parsed a
 * body as requests would see an extra "GET /smuggled". */
static size_t build(char *out, size_t cap, const char *req, int last, size_t *head_len)
{
    static const char inner[] = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
    const char *sp = strchr(req, ' ');
    int post = sp && (size_t)(sp - req) == 4 && strncmp(req, "POST", 4) == 0;
    char body[8192];
    size_t blen = 0;
    if (post) {
        char plain[4096];
        size_t n = (size_t)body_len < sizeof plain ? (size_t)body_len : sizeof plain;
        for (size_t i = 0; i < n; i++)
            plain[i] = i < sizeof inner - 1 ? inner[i] : (char)('a' + i % 26);
        if (!chunked_body) {
            memcpy(body, plain, n);
            blen = n;
        } else { /* three chunks, then the last chunk and an empty trailer */
            size_t third = n / 3, off = 0;
            for (int c = 0; c < 3; c++) {
                size_t len = c < 2 ? third : n - 2 * third;
                blen += (size_t)snprintf(body + blen, sizeof body - blen, "%zx\r\n", len);
                memcpy(body + blen, plain + off, len);
                blen += len;
                off += len;
                memcpy(body + blen, "\r\n", 2);
                blen += 2;
            }
            memcpy(body + blen, "0\r\n\r\n", 5);
            blen += 5;
        }
    }
    char framing[64] = "";
    if (post && chunked_body)
        snprintf(framing, sizeof framing, "Transfer-Encoding: chunked\r\n");
    else if (post)
        snprintf(framing, sizeof framing, "Content-Length: %d\r\n", body_len);
    int h = snprintf(out, cap, "%s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nUser-Agent: http_client\r\n%s%s\r\n",
                     req, port, framing, last && close_last ? "Connection: close\r\n" : "");
    if (h < 0 || (size_t)h + blen > cap) {
        fprintf(stderr, "http_client: request too long\n");
        exit(2);
    }
    memcpy(out + h, body, blen);
    *head_len = (size_t)h;
    return (size_t)h + blen;
}

static void send_request(int fd, const char *req, int last)
{
    char text[16384];
    size_t head, n = build(text, sizeof text, req, last, &head);
    if (!split) {
        if (send_all(fd, text, n) < 0)
            bad++;
        return;
    }
    /* the head cut inside the request line, the body in two halves */
    size_t cuts[5] = { 0, 7, head, head + (n - head) / 2, n };
    for (int i = 0; i < 4; i++) {
        if (cuts[i + 1] == cuts[i])
            continue;
        if (i)
            pause_ms(20);
        if (send_all(fd, text + cuts[i], cuts[i + 1] - cuts[i]) < 0)
            bad++;
    }
}

/* -a: the head of req and half its body, then a pause for the server to
 * read them; the caller closes the connection. */
static void give_up_on(int fd, const char *req)
{
    char text[16384];
    size_t head, n = build(text, sizeof text, req, 0, &head);
    if (send_all(fd, text, head + (n - head) / 2) < 0)
        bad++;
    pause_ms(50);
}

/* Fills the reader: -1 at EOF or error (timeout included). */
static int fill(struct reader *r)
{
    if (r->start == r->end)
        r->start = r->end = 0;
    if (r->end == BUF_CAP) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    if (r->end == BUF_CAP)
        return -1;
    ssize_t k;
    do
        k = recv(r->fd, r->buf + r->end, BUF_CAP - r->end, 0);
    while (k < 0 && errno == EINTR);
    if (k <= 0)
        return -1;
    r->end += (size_t)k;
    return 0;
}

/* One line into line[] without its CRLF. */
static int read_line(struct reader *r, char *line, size_t cap)
{
    for (;;) {
        char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
        if (nl) {
            size_t n = (size_t)(nl - (r->buf + r->start));
            if (n && r->buf[r->start + n - 1] == '\r')
                n--;
            if (n >= cap)
                return -1;
            memcpy(line, r->buf + r->start, n);
            line[n] = 0;
            r->start = (size_t)(nl - r->buf) + 1;
            return 0;
        }
        if (fill(r) < 0)
            return -1;
    }
}

static int skip(struct reader *r, unsigned long n)
{
    while (n) {
        if (r->start == r->end && fill(r) < 0)
            return -1;
        size_t k = r->end - r->start < n ? r->end - r->start : n;
        r->start += k;
        n -= k;
    }
    return 0;
}

/* Reads one whole response to REQ; returns its status, or -1. */
static int read_response(struct reader *r, const char *req)
{
    char line[1024];
    int status;
    if (read_line(r, line, sizeof line) < 0 || sscanf(line, "HTTP/1.%*d %d", &status) != 1)
        return -1;
    long length = -1;
    int chunked = 0;
    for (;;) {
        if (read_line(r, line, sizeof line) < 0)
            return -1;
        if (!line[0])
            break;
        if (strncasecmp(line, "Content-Length:", 15) == 0)
            length = atol(line + 15);
        else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0 && strstr(line, "chunked"))
            chunked = 1;
    }
    if (strncmp(req, "HEAD ", 5) == 0 || status == 204 || status == 304 || status / 100 == 1)
        return status;
    if (!chunked)
        return length >= 0 && skip(r, (unsigned long)length) == 0 ? status : -1;
    for (;;) {
        unsigned long size;
        if (read_line(r, line, sizeof line) < 0 || sscanf(line, "%lx", &size) != 1)
            return -1;
        if (!size)
            break;
        if (skip(r, size) < 0 || read_line(r, line, sizeof line) < 0 || line[0])
            return -1;
    }
    do /* the trailer, up to its empty line */
        if (read_line(r, line, sizeof line) < 0)
            return -1;
    while (line[0]);
    return status;
}

/* The route a server sees: method and path, without the query. */
static void got_response(struct reader *r, const char *req)
{
    int status = read_response(r, req);
    char route[128];
    snprintf(route, sizeof route, "%.*s", (int)strcspn(req, "?"), req);
    if (status < 0) {
        bad++;
        return;
    }
    responses++;
    count(route, status);
}

/* After its last response the server must close the connection. */
static void expect_close(struct reader *r)
{
    if (r->start == r->end && fill(r) < 0)
        closed++;
    else
        bad++;
}

static void garbage(int n)
{
    unsigned x = 2463534242u;
    for (int i = 0; i < n; i++) {
        char bytes[64] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, (char)0xfc, 0x03, 0x03 };
        for (size_t j = 11; j < sizeof bytes; j++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            bytes[j] = (char)x;
        }
        struct reader *r = &conns[0];
        r->fd = dial();
        r->start = r->end = 0;
        if (send_all(r->fd, bytes, sizeof bytes) < 0)
            bad++;
        else
            expect_close(r);
        close(r->fd);
    }
}

int main(int argc, char **argv)
{
    int nconns = 1, rounds = 1, ngarbage = 0, opt;
    while ((opt = getopt(argc, argv, "c:n:psb:kxg:a")) != -1) {
        switch (opt) {
        case 'c': nconns = atoi(optarg); break;
        case 'n': rounds = atoi(optarg); break;
        case 'p': pipelined = 1; break;
        case 's': split = 1; break;
        case 'b': body_len = atoi(optarg); break;
        case 'k': chunked_body = 1; break;
        case 'x': close_last = 1; break;
        case 'g': ngarbage = atoi(optarg); break;
        case 'a': give_up = 1; break;
        default: goto usage;
        }
    }
    int nreqs = argc - optind - 1;
    if (nreqs < 0 || nreqs > MAX_REQS || nconns < 1 || nconns > MAX_CONNS || rounds < 0 ||
        body_len < 0 || body_len > 4096 || ngarbage < 0)
        goto usage;
    port = (unsigned)atoi(argv[optind]);
    char **reqs = argv + optind + 1;

    if (nreqs) {
        for (int c = 0; c < nconns; c++)
            conns[c].fd = dial();
        for (int round = 0; round < rounds; round++) {
            int last_round = round == rounds - 1;
            if (pipelined) {
                static char batch[MAX_REQS * 16384];
                for (int c = 0; c < nconns; c++) {
                    size_t n = 0, head;
                    for (int i = 0; i < nreqs; i++)
                        n += build(batch + n, sizeof batch - n, reqs[i], last_round && i == nreqs - 1, &head);
                    if (send_all(conns[c].fd, batch, n) < 0)
                        bad++;
                }
                for (int c = 0; c < nconns; c++)
                    for (int i = 0; i < nreqs; i++)
                        got_response(&conns[c], reqs[i]);
                continue;
            }
            for (int i = 0; i < nreqs; i++) {
                for (int c = 0; c < nconns; c++)
                    send_request(conns[c].fd, reqs[i], last_round && i == nreqs - 1);
                for (int c = 0; c < nconns; c++)
                    got_response(&conns[c], reqs[i]);
            }
        }
        for (int c = 0; c < nconns; c++) {
            if (close_last && rounds)
                expect_close(&conns[c]);
            else if (give_up)
                give_up_on(conns[c].fd, reqs[0]);
            close(conns[c].fd);
        }
    }
    garbage(ngarbage);

    printf("responses=%ld bad=%ld closed=%ld\n", responses, bad, closed);
    for (int i = 0; i < ntally; i++)
        printf("%s %d %ld\n", tally[i].route, tally[i].status, tally[i].n);
    return bad ? 1 : 0;
usage:
    fprintf(stderr, "usage: http_client [-c CONNS] [-n ROUNDS] [-p] [-s] [-b BODY] [-k] [-x] [-g GARBAGE] [-a]"
                    " PORT [\"METHOD /path\"...]\n");
    return 2;
}
