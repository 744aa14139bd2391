/* send_all.h -- the test programs' one way to send a whole buffer on a
 * socket: retried after EINTR and short writes, no SIGPIPE. */
#ifndef REQPROF_TEST_SEND_ALL_H
#define REQPROF_TEST_SEND_ALL_H

#include <errno.h>
#include <sys/socket.h>

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

#endif
