/* sockets.c -- the socket and wait calls, as the host sees them.
 *
 * Each forwards to the next definition (libc's) and tells conn.c what
 * happened. With detection off (REQPROF_HTTP=0, reqprof off, or a host
 * that marks its own requests) a call costs one load and a branch more
 * than libc's. Bookkeeping that must precede the call (ending a request
 * before the thread blocks in a read or a wait, forgetting a descriptor
 * before another thread can be given its number) comes first; the rest
 * follows the call. errno is the real call's: conn.c makes no system
 * call on the data path, and the rare ones (mapping a chunk at accept)
 * are followed by restoring it.
 */
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <linux/close_range.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include "conn.h"
#include "hot.h"
#include "lifecycle.h"
#include "shard.h"

#define EXPORT __attribute__((visibility("default")))

struct next_sockets {
    int (*accept)(int, struct sockaddr *, socklen_t *);
    int (*accept4)(int, struct sockaddr *, socklen_t *, int);
    int (*connect)(int, const struct sockaddr *, socklen_t);
    ssize_t (*read)(int, void *, size_t);
    ssize_t (*readv)(int, const struct iovec *, int);
    ssize_t (*recv)(int, void *, size_t, int);
    ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
    ssize_t (*recvmsg)(int, struct msghdr *, int);
    ssize_t (*write)(int, const void *, size_t);
    ssize_t (*writev)(int, const struct iovec *, int);
    ssize_t (*send)(int, const void *, size_t, int);
    ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
    ssize_t (*sendmsg)(int, const struct msghdr *, int);
    ssize_t (*sendfile)(int, int, off_t *, size_t);
    ssize_t (*sendfile64)(int, int, off_t *, size_t);
    int (*close)(int);
    int (*dup2)(int, int);
    int (*dup3)(int, int, int);
    int (*close_range)(unsigned, unsigned, int);
    int (*shutdown)(int, int);
    int (*epoll_wait)(int, struct epoll_event *, int, int);
    int (*epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);
    int (*epoll_pwait2)(int, struct epoll_event *, int, const struct timespec *, const sigset_t *);
    int (*poll)(struct pollfd *, nfds_t, int);
    int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
    int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
    int (*pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *);
};

RP_HOT_DATA static struct next_sockets next;

/* Looked up on first use of each: dlsym is safe to call from here (it
 * may call calloc, which the boot pool serves until malloc is known). A
 * race looks the same symbol up twice and stores the same pointer. Out
 * of line and cold: a hook carries a call for each of its uses, not
 * dlsym's set-up, and its common path is shorter for it. */
static __attribute__((noinline, cold)) void *resolve(void **slot, const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    __atomic_store_n(slot, f, __ATOMIC_RELEASE);
    return f;
}

static inline void *lookup(void **slot, const char *name)
{
    void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    return __builtin_expect(f != NULL, 1) ? f : resolve(slot, name);
}

#define NEXT(fn) ((__typeof__(next.fn))lookup((void **)&next.fn, #fn))

static int detecting(void)
{
    return __builtin_expect(__atomic_load_n(&rp_http_on, __ATOMIC_RELAXED), 0);
}

/* Reads that leave the data in the socket (MSG_PEEK), throw it away
 * unread (MSG_TRUNC on a stream, where the buffer may be NULL) or read
 * something else (MSG_ERRQUEUE) are not the connection's turn-taking. */
#define UNREAD (MSG_PEEK | MSG_TRUNC | MSG_ERRQUEUE)

/* conn.c's bookkeeping keeps errno as the real call left it. */
#define KEEP_ERRNO(stmt) do { int *errno_ = rp_errno(rp_self()), saved_ = *errno_; stmt; *errno_ = saved_; } while (0)

/* What follows a read, a write or a sendfile (r is the real call's
 * result): conn.c is told. Out of line, so that each hook is little more
 * than its two calls: the hooks are many, and what a request runs of
 * them should fit on few pages (hot.h). */
static RP_HOT_IO __attribute__((noinline)) ssize_t got_iov(int fd, const struct iovec *iov, int n, ssize_t r)
{
    KEEP_ERRNO(rp_conn_read(fd, iov, n, r));
    return r;
}

static RP_HOT_IO __attribute__((noinline)) ssize_t wrote_iov(int fd, const struct iovec *iov, int n, ssize_t r)
{
    KEEP_ERRNO(rp_conn_wrote(fd, iov, n, r));
    return r;
}

static RP_HOT_IO __attribute__((noinline)) ssize_t sent_file(int out, ssize_t r)
{
    KEEP_ERRNO(rp_conn_sent_file(out, r));
    return r;
}

/* After a read of one buffer. */
static ssize_t got(int fd, void *buf, size_t len, ssize_t r)
{
    struct iovec v = { buf, len };
    return got_iov(fd, &v, 1, r);
}

/* After a write of one buffer, when detecting. */
static ssize_t wrote(int fd, const void *buf, size_t len, ssize_t r)
{
    if (!detecting())
        return r;
    struct iovec v = { (void *)buf, len };
    return wrote_iov(fd, &v, 1, r);
}

RP_HOT EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    int r = NEXT(accept)(fd, addr, len);
    if (r >= 0 && detecting())
        KEEP_ERRNO(rp_conn_accepted(r));
    return r;
}

RP_HOT EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    int r = NEXT(accept4)(fd, addr, len, flags);
    if (r >= 0 && detecting())
        KEEP_ERRNO(rp_conn_accepted(r));
    return r;
}

RP_HOT EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    int r = NEXT(connect)(fd, addr, len);
    if ((r == 0 || errno == EINPROGRESS) && detecting())
        KEEP_ERRNO(rp_conn_connected(fd));
    return r;
}

RP_HOT_IO EXPORT ssize_t read(int fd, void *buf, size_t len)
{
    __typeof__(next.read) real = NEXT(read);
    if (!detecting())
        return real(fd, buf, len);
    rp_conn_before_read(fd);
    return got(fd, buf, len, real(fd, buf, len));
}

RP_HOT_IO EXPORT ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
    __typeof__(next.readv) real = NEXT(readv);
    if (!detecting())
        return real(fd, iov, iovcnt);
    rp_conn_before_read(fd);
    return got_iov(fd, iov, iovcnt, real(fd, iov, iovcnt));
}

RP_HOT_IO EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
    __typeof__(next.recv) real = NEXT(recv);
    if (!detecting() || (flags & UNREAD))
        return real(fd, buf, len, flags);
    rp_conn_before_read(fd);
    return got(fd, buf, len, real(fd, buf, len, flags));
}

RP_HOT_IO EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr, socklen_t *alen)
{
    __typeof__(next.recvfrom) real = NEXT(recvfrom);
    if (!detecting() || (flags & UNREAD))
        return real(fd, buf, len, flags, addr, alen);
    rp_conn_before_read(fd);
    return got(fd, buf, len, real(fd, buf, len, flags, addr, alen));
}

RP_HOT_IO EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    __typeof__(next.recvmsg) real = NEXT(recvmsg);
    if (!detecting() || (flags & UNREAD))
        return real(fd, msg, flags);
    rp_conn_before_read(fd);
    ssize_t r = real(fd, msg, flags);
    if (r <= 0)  /* msg is the host's to get wrong: looked at only when the call took it */
        return r;
    return got_iov(fd, msg->msg_iov, (int)msg->msg_iovlen, r);
}

RP_HOT_IO EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
    return wrote(fd, buf, len, NEXT(write)(fd, buf, len));
}

RP_HOT_IO EXPORT ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
    ssize_t r = NEXT(writev)(fd, iov, iovcnt);
    return detecting() ? wrote_iov(fd, iov, iovcnt, r) : r;
}

RP_HOT_IO EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    return wrote(fd, buf, len, NEXT(send)(fd, buf, len, flags));
}

EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *addr, socklen_t alen)
{
    return wrote(fd, buf, len, NEXT(sendto)(fd, buf, len, flags, addr, alen));
}

RP_HOT_IO EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    ssize_t r = NEXT(sendmsg)(fd, msg, flags);
    return r > 0 && detecting() ? wrote_iov(fd, msg->msg_iov, (int)msg->msg_iovlen, r) : r;
}

RP_HOT_IO EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t len)
{
    ssize_t r = NEXT(sendfile)(out, in, off, len);
    return detecting() ? sent_file(out, r) : r;
}

RP_HOT_IO EXPORT ssize_t sendfile64(int out, int in, off_t *off, size_t len)
{
    ssize_t r = NEXT(sendfile64)(out, in, off, len);
    return detecting() ? sent_file(out, r) : r;
}

RP_HOT_IO EXPORT int close(int fd)
{
    if (detecting())
        rp_conn_closing(fd);
    return NEXT(close)(fd);
}

/* dup2 and dup3 close what was at newfd; so does close_range, unless it
 * only marks the descriptors close-on-exec. */
EXPORT int dup2(int oldfd, int newfd)
{
    if (detecting() && oldfd != newfd)
        rp_conn_closing(newfd);
    return NEXT(dup2)(oldfd, newfd);
}

EXPORT int dup3(int oldfd, int newfd, int flags)
{
    if (detecting() && oldfd != newfd)
        rp_conn_closing(newfd);
    return NEXT(dup3)(oldfd, newfd, flags);
}

EXPORT int close_range(unsigned first, unsigned last, int flags)
{
    if (detecting() && !(flags & CLOSE_RANGE_CLOEXEC))
        rp_conn_closing_range(first, last);
    return NEXT(close_range)(first, last, flags);
}

RP_HOT_IO EXPORT int shutdown(int fd, int how)
{
    if (detecting())
        rp_conn_shutdown(fd, how);
    return NEXT(shutdown)(fd, how);
}

/* The thread goes back to waiting: the requests it answered are over. */
static void going_idle(void)
{
    if (detecting())
        rp_conn_idle();
}

/* An event loop's thread about to wait is where its samples are taken
 * (lifecycle.h). Not in poll or select: those are async-signal-safe, and
 * a signal handler that waits in one may have interrupted malloc. */
static void event_loop_waits(void)
{
    going_idle();
    rp_sample_if_due();
}

RP_HOT_IO EXPORT int epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
    event_loop_waits();
    return NEXT(epoll_wait)(epfd, ev, max, timeout);
}

RP_HOT_IO EXPORT int epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout, const sigset_t *mask)
{
    event_loop_waits();
    return NEXT(epoll_pwait)(epfd, ev, max, timeout, mask);
}

/* Not in the IO group (hot.h): nginx and most event loops wait with
 * epoll_wait, and the group's pages are theirs. A libc too old to have it
 * (before glibc 2.35) gives its caller what a kernel without it would. */
RP_HOT EXPORT int epoll_pwait2(int epfd, struct epoll_event *ev, int max, const struct timespec *timeout,
                               const sigset_t *mask)
{
    event_loop_waits();
    __typeof__(next.epoll_pwait2) real = NEXT(epoll_pwait2);
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    return real(epfd, ev, max, timeout, mask);
}

RP_HOT_IO EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    going_idle();
    return NEXT(poll)(fds, n, timeout);
}

EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *timeout, const sigset_t *mask)
{
    going_idle();
    return NEXT(ppoll)(fds, n, timeout, mask);
}

EXPORT int select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *timeout)
{
    going_idle();
    return NEXT(select)(n, r, w, e, timeout);
}

EXPORT int pselect(int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *timeout, const sigset_t *mask)
{
    going_idle();
    return NEXT(pselect)(n, r, w, e, timeout, mask);
}
