/* http_threaded PORT -- a blocking HTTP/1.1 test server with a thread
 * per connection, for reqprof's request detection: the routes and their
 * known allocations are in http_serve.h.
 *
 * Listens on 127.0.0.1:PORT (0: any free port); prints "port N" first.
 * An accept loop starts a detached thread per connection, which reads
 * with recv(), answers each complete request (pipelined ones included)
 * with writev() and send(), and closes at EOF, on a malformed or non-HTTP
 * start, or after "Connection: close". GET /upstream makes a blocking
 * round trip to a second listening port of this program, a tiny echo
 * served by a thread of its own: the echo connection is accepted, but its
 * bytes are not HTTP. SIGTERM, SIGINT or GET /quit end the process with
 * status 0; main waits for them in sigwait(), every other thread has
 * them blocked.
 */
#include "http_serve.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include "send_all.h"

static unsigned echo_port;

/* A listening socket on 127.0.0.1:port; *bound is the port it got. */
static int listen_on(unsigned port, unsigned *bound)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof a;
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 128) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
        perror("http_threaded: listen");
        exit(1);
    }
    *bound = ntohs(a.sin_port);
    return fd;
}

/* Each of the response's writes as one call: writev() for head and body,
 * send() for the pieces of a chunked response. */
static int write_response(int fd, const struct response *r)
{
    for (int i = 0; i < r->nwrites; i++) {
        const struct iovec *v = r->w[i].iov;
        if (r->w[i].niov == 1) {
            if (send_all(fd, v[0].iov_base, v[0].iov_len) < 0)
                return -1;
            continue;
        }
        ssize_t k = writev(fd, v, 2);
        if (k < 0)
            return -1;
        size_t first = (size_t)k < v[0].iov_len ? (size_t)k : v[0].iov_len;
        if (send_all(fd, (char *)v[0].iov_base + first, v[0].iov_len - first) < 0 ||
            send_all(fd, (char *)v[1].iov_base + ((size_t)k - first), v[1].iov_len - ((size_t)k - first)) < 0)
            return -1;
    }
    return 0;
}

/* GET /upstream: ping the echo port and wait for its line. */
static int upstream(struct conn *c)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)echo_port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    char reply[64];
    size_t got = 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        send_all(fd, UPSTREAM_PING, sizeof UPSTREAM_PING - 1) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    while (got < sizeof reply && !memchr(reply, '\n', got)) {
        ssize_t k = recv(fd, reply + got, sizeof reply - got, 0);
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    if (!memchr(reply, '\n', got))
        return -1;
    route_upstream_reply(c, reply, got);
    return 0;
}

static void *serve(void *arg)
{
    int fd = (int)(intptr_t)arg;
    struct conn c;
    memset(&c, 0, sizeof c);
    for (;;) {
        ssize_t n = recv(fd, c.in + c.inlen, IN_CAP - c.inlen, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        c.inlen += (size_t)n;
        enum step s;
        while ((s = conn_step(&c)) == STEP_RESPONSE || s == STEP_UPSTREAM) {
            if ((s == STEP_UPSTREAM && upstream(&c) < 0) || write_response(fd, &c.resp) < 0)
                goto out;
            if (c.quit)
                kill(getpid(), SIGTERM);
            if (!c.keepalive)
                goto out;
        }
        if (s == STEP_BAD)
            break;
    }
out:
    free(c.upload);       /* a client that left in the middle of a request */
    free(c.upstream_ctx);
    close(fd);
    return NULL;
}

/* The echo port: one connection at a time, a line back, then EOF. */
static void *echo(void *arg)
{
    int lfd = (int)(intptr_t)arg;
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            continue;
        char line[64];
        size_t got = 0;
        ssize_t k;
        while (got < sizeof line && !memchr(line, '\n', got) &&
               (k = recvfrom(fd, line + got, sizeof line - got, 0, NULL, NULL)) > 0)
            got += (size_t)k;
        if (got && send_all(fd, line, got) == 0)
            while (recv(fd, line, sizeof line, 0) > 0)
                ;
        close(fd);
    }
    return NULL;
}

static void start(void *(*fn)(void *), int fd)
{
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, fn, (void *)(intptr_t)fd) != 0) {
        perror("http_threaded: pthread_create");
        exit(1);
    }
    pthread_attr_destroy(&attr);
}

static void *accept_loop(void *arg)
{
    int lfd = (int)(intptr_t)arg;
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd >= 0)
            start(serve, fd);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: http_threaded PORT (0: any free port)\n");
        return 2;
    }
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL); /* inherited by every thread */
    signal(SIGPIPE, SIG_IGN);

    unsigned port;
    int lfd = listen_on((unsigned)atoi(argv[1]), &port);
    int efd = listen_on(0, &echo_port);
    say_port(port);
    start(echo, efd);
    start(accept_loop, lfd);
    int sig;
    sigwait(&stop, &sig);
    return 0;
}
