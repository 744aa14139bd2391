/* http_epoll PORT -- a single-threaded epoll HTTP/1.1 test server, the
 * shape of an nginx worker, for reqprof's request detection: the routes
 * and their known allocations are in http_serve.h.
 *
 * Listens on 127.0.0.1:PORT (0: any free port); prints "port N" first.
 * One thread multiplexes every connection, level-triggered: accept4()
 * with SOCK_NONBLOCK until EAGAIN, one read() per readiness, then every
 * complete request in the buffer is answered (so requests pipelined in
 * one read are served back to back) with writev() and write(); what a
 * socket does not take at once waits in the connection's output buffer
 * for EPOLLOUT. GET /upstream is asynchronous, as in a proxy: a
 * nonblocking connect() to a second listening port of this program (an
 * echo served by the same loop, whose bytes are not HTTP), back to
 * epoll_wait, the ping written when the socket is writable, back to
 * epoll_wait, the answer read when it is readable; only then is the
 * route's second allocation made and the client answered. Meanwhile the
 * client's input is not read. SIGTERM or SIGINT (a signalfd in the loop)
 * or GET /quit end the loop, and the process exits with status 0.
 * Connection state is static: no allocation outside the routes.
 * HTTP_EPOLL_WAIT=pwait2 in the environment makes the loop wait with
 * epoll_pwait2 instead of epoll_wait.
 */
#include "http_serve.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#define MAX_CONNS 64
#define OUT_CAP   65536

enum kind { K_LISTEN = 1, K_ECHO_LISTEN, K_SIGNAL, K_CLIENT, K_ECHO, K_UPSTREAM };

struct client {
    int fd;                 /* -1: a free slot */
    int closing;            /* close once out[] is written */
    struct conn c;
    char out[OUT_CAP];
    size_t outlen;
    int up_fd;              /* the upstream socket while /upstream waits, else -1 */
    int up_sent;
    char up_reply[64];
    size_t up_got;
};

struct echo_conn {
    int fd;                 /* -1: a free slot */
    char line[64];
    size_t got;
};

static struct client clients[MAX_CONNS];
static struct echo_conn echoes[MAX_CONNS];
static int ep, running = 1;
static unsigned echo_port;

static uint64_t tag(enum kind k, int i)
{
    return (uint64_t)k << 32 | (uint32_t)i;
}

static void watch(int op, int fd, uint32_t events, enum kind k, int i)
{
    struct epoll_event ev = { .events = events, .data.u64 = tag(k, i) };
    if (epoll_ctl(ep, op, fd, &ev) < 0) {
        perror("http_epoll: epoll_ctl");
        exit(1);
    }
}

static int listen_on(unsigned port, unsigned *bound)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof a;
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 128) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
        perror("http_epoll: listen");
        exit(1);
    }
    *bound = ntohs(a.sin_port);
    return fd;
}

/* Closes first and frees after, as nginx does with a connection's pool:
 * a request given up on is charged its clean-up all the same. */
static void close_client(struct client *cl)
{
    if (cl->up_fd >= 0)
        close(cl->up_fd);
    close(cl->fd);
    cl->fd = -1;
    free(cl->c.upload);       /* a client that left in the middle of a request */
    free(cl->c.upstream_ctx);
}

/* Which events the client waits for: its input, unless /upstream is
 * pending or it is closing; EPOLLOUT while output waits. */
static void client_events(struct client *cl)
{
    uint32_t ev = (cl->up_fd < 0 && !cl->closing ? EPOLLIN : 0) | (cl->outlen ? EPOLLOUT : 0);
    watch(EPOLL_CTL_MOD, cl->fd, ev, K_CLIENT, (int)(cl - clients));
}

static int queue(struct client *cl, const char *p, size_t n)
{
    if (n > OUT_CAP - cl->outlen)
        return -1;
    memcpy(cl->out + cl->outlen, p, n);
    cl->outlen += n;
    return 0;
}

/* Writes the response, each of its writes as one call, or queues what the
 * socket does not take. */
static int send_response(struct client *cl)
{
    const struct response *r = &cl->c.resp;
    for (int i = 0; i < r->nwrites; i++) {
        const struct iovec *v = r->w[i].iov;
        size_t done = 0;
        if (!cl->outlen) {
            ssize_t k = r->w[i].niov == 2 ? writev(cl->fd, v, 2) : write(cl->fd, v[0].iov_base, v[0].iov_len);
            if (k < 0 && errno != EAGAIN)
                return -1;
            done = k > 0 ? (size_t)k : 0;
        }
        for (int j = 0; j < r->w[i].niov; j++) {
            size_t skip = done < v[j].iov_len ? done : v[j].iov_len;
            done -= skip;
            if (queue(cl, (char *)v[j].iov_base + skip, v[j].iov_len - skip) < 0)
                return -1;
        }
    }
    return 0;
}

static void start_upstream(struct client *cl)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)echo_port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS)) {
        if (fd >= 0)
            close(fd);
        close_client(cl);
        return;
    }
    cl->up_fd = fd;
    cl->up_sent = 0;
    cl->up_got = 0;
    watch(EPOLL_CTL_ADD, fd, EPOLLOUT, K_UPSTREAM, (int)(cl - clients));
    client_events(cl);
}

/* Answers every complete request in the client's buffer. */
static void serve(struct client *cl)
{
    enum step s = STEP_MORE;
    while (cl->up_fd < 0 && !cl->closing && (s = conn_step(&cl->c)) != STEP_MORE) {
        if (s == STEP_BAD) {
            close_client(cl);
            return;
        }
        if (s == STEP_UPSTREAM) {
            start_upstream(cl);
            return;
        }
        if (send_response(cl) < 0) {
            close_client(cl);
            return;
        }
        if (cl->c.quit)
            running = 0;
        if (!cl->c.keepalive)
            cl->closing = 1;
    }
    if (cl->closing && !cl->outlen)
        close_client(cl);
    else
        client_events(cl);
}

static void client_ready(struct client *cl, uint32_t events)
{
    if (events & EPOLLOUT && cl->outlen) {
        ssize_t k = write(cl->fd, cl->out, cl->outlen);
        if (k < 0 && errno != EAGAIN) {
            close_client(cl);
            return;
        }
        if (k > 0) {
            memmove(cl->out, cl->out + k, cl->outlen - (size_t)k);
            cl->outlen -= (size_t)k;
        }
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR) && cl->up_fd < 0 && !cl->closing) {
        ssize_t n = read(cl->fd, cl->c.in + cl->c.inlen, IN_CAP - cl->c.inlen);
        if (n == 0 || (n < 0 && errno != EAGAIN)) {
            close_client(cl);
            return;
        }
        if (n > 0)
            cl->c.inlen += (size_t)n;
    }
    serve(cl);
}

static void upstream_ready(struct client *cl, uint32_t events)
{
    if (!cl->up_sent) {
        int err = 0;
        socklen_t len = sizeof err;
        if (!(events & EPOLLOUT))
            return;
        if (getsockopt(cl->up_fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err ||
            write(cl->up_fd, UPSTREAM_PING, sizeof UPSTREAM_PING - 1) != sizeof UPSTREAM_PING - 1) {
            close_client(cl);
            return;
        }
        cl->up_sent = 1;
        watch(EPOLL_CTL_MOD, cl->up_fd, EPOLLIN, K_UPSTREAM, (int)(cl - clients));
        return;
    }
    ssize_t k = read(cl->up_fd, cl->up_reply + cl->up_got, sizeof cl->up_reply - cl->up_got);
    if (k < 0 && errno == EAGAIN)
        return;
    if (k <= 0) {
        close_client(cl);
        return;
    }
    cl->up_got += (size_t)k;
    if (!memchr(cl->up_reply, '\n', cl->up_got)) {
        if (cl->up_got == sizeof cl->up_reply)
            close_client(cl);
        return;
    }
    route_upstream_reply(&cl->c, cl->up_reply, cl->up_got);
    close(cl->up_fd);
    cl->up_fd = -1;
    if (send_response(cl) < 0) {
        close_client(cl);
        return;
    }
    serve(cl); /* requests pipelined behind it */
}

static void echo_ready(struct echo_conn *e)
{
    char buf[64];
    int answered = memchr(e->line, '\n', e->got) != NULL;
    ssize_t k = answered ? read(e->fd, buf, sizeof buf) : read(e->fd, e->line + e->got, sizeof e->line - e->got);
    if (k < 0 && errno == EAGAIN)
        return;
    if (k <= 0 || (!answered && e->got + (size_t)k == sizeof e->line)) {
        close(e->fd);
        e->fd = -1;
        return;
    }
    if (answered)
        return;
    e->got += (size_t)k;
    /* A few bytes into an empty socket buffer: written at once. */
    if (memchr(e->line, '\n', e->got) && write(e->fd, e->line, e->got) != (ssize_t)e->got) {
        close(e->fd);
        e->fd = -1;
    }
}

static void accept_all(int lfd, enum kind k)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        int i = 0;
        if (k == K_CLIENT) {
            while (i < MAX_CONNS && clients[i].fd >= 0)
                i++;
            if (i < MAX_CONNS) {
                memset(&clients[i].c, 0, sizeof clients[i].c);
                clients[i].fd = fd;
                clients[i].closing = 0;
                clients[i].outlen = 0;
                clients[i].up_fd = -1;
            }
        } else {
            while (i < MAX_CONNS && echoes[i].fd >= 0)
                i++;
            if (i < MAX_CONNS) {
                echoes[i].fd = fd;
                echoes[i].got = 0;
            }
        }
        if (i == MAX_CONNS)
            close(fd);
        else
            watch(EPOLL_CTL_ADD, fd, EPOLLIN, k, i);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: http_epoll PORT (0: any free port)\n");
        return 2;
    }
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigprocmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    for (int i = 0; i < MAX_CONNS; i++)
        clients[i].fd = echoes[i].fd = -1;

    unsigned port;
    int lfd = listen_on((unsigned)atoi(argv[1]), &port);
    int efd = listen_on(0, &echo_port);
    int sfd = signalfd(-1, &stop, SFD_NONBLOCK | SFD_CLOEXEC);
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (sfd < 0 || ep < 0) {
        perror("http_epoll: signalfd, epoll_create1");
        return 1;
    }
    watch(EPOLL_CTL_ADD, lfd, EPOLLIN, K_LISTEN, 0);
    watch(EPOLL_CTL_ADD, efd, EPOLLIN, K_ECHO_LISTEN, 0);
    watch(EPOLL_CTL_ADD, sfd, EPOLLIN, K_SIGNAL, 0);
    say_port(port);

    const char *wait_with = getenv("HTTP_EPOLL_WAIT");
    int pwait2 = wait_with && strcmp(wait_with, "pwait2") == 0;
    struct epoll_event evs[64];
    while (running) {
        int n = pwait2 ? epoll_pwait2(ep, evs, 64, NULL, NULL) : epoll_wait(ep, evs, 64, -1);
        if (n < 0 && errno != EINTR) {
            perror(pwait2 ? "http_epoll: epoll_pwait2" : "http_epoll: epoll_wait");
            return 1;
        }
        for (int j = 0; j < n; j++) {
            int i = (int)(uint32_t)evs[j].data.u64;
            switch ((enum kind)(evs[j].data.u64 >> 32)) {
            case K_LISTEN:
                accept_all(lfd, K_CLIENT);
                break;
            case K_ECHO_LISTEN:
                accept_all(efd, K_ECHO);
                break;
            case K_SIGNAL:
                running = 0;
                break;
            case K_CLIENT:
                if (clients[i].fd >= 0)
                    client_ready(&clients[i], evs[j].events);
                break;
            case K_UPSTREAM:
                if (clients[i].fd >= 0 && clients[i].up_fd >= 0)
                    upstream_ready(&clients[i], evs[j].events);
                break;
            case K_ECHO:
                if (echoes[i].fd >= 0)
                    echo_ready(&echoes[i]);
                break;
            }
        }
    }
    return 0;
}
