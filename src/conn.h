/* conn.h -- request boundaries found on an unmodified server's HTTP/1.x
 * connections (sockets.c calls these around the real socket calls).
 *
 * Only descriptors returned by accept/accept4 are connections: a
 * server's listening sockets, its upstream connections, pipes, files and
 * nginx's master-worker socketpair are not. Each connection has an entry
 * in a table indexed by descriptor, holding a parser per direction
 * (http_parse.h) and the queue of its requests in arrival order (more
 * than one when the client pipelines). The head of the queue is the
 * request being served:
 *
 *   - a request begins when its request line has arrived;
 *   - its response is complete when the response parser says so;
 *   - it ends when the connection is read again, the thread goes back to
 *     waiting (epoll_wait, poll, select) or on to a socket call for
 *     another request, the next pipelined response begins, or the
 *     connection is shut down; closed by its thread, at that thread's
 *     next turn. Ending late lets the server's clean-up after the
 *     response (nginx frees the request's pool after writing it, and the
 *     connection's pool after closing it) count in the request.
 *
 * A thread charges its allocations to the request of the connection it
 * last made a socket call on, and to none after it waits for events;
 * what it allocated since its previous socket call moves to the request
 * of its next one (request.c: "the gap between two socket calls"). A
 * socket it connect()s or writes to while serving a request is that
 * request's upstream until that request is answered and another one
 * writes to it (a keep-alive upstream from a pool), so a proxied
 * response's work is charged to the client's request.
 *
 * The table is shared; a connection is assumed to be served by one thread
 * at a time (so it is in every HTTP/1.x server we know of). Entries live
 * in chunks that are mapped on first use and never unmapped.
 */
#ifndef REQPROF_CONN_H
#define REQPROF_CONN_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

extern int rp_http_on;  /* detection is on: reqprof started with REQPROF_HTTP=1 */

void rp_conn_settings(int detect, int route_paths);
/* The host marks its own requests: detection stands down, and the HTTP
 * requests open now are ended, so no request is counted twice. */
void rp_conn_api_used(void);

void rp_conn_accepted(int fd);
void rp_conn_connected(int fd);
void rp_conn_before_read(int fd);
void rp_conn_read(int fd, const struct iovec *iov, int iovcnt, ssize_t n);
void rp_conn_wrote(int fd, const struct iovec *iov, int iovcnt, ssize_t n);
void rp_conn_sent_file(int fd, ssize_t n);
void rp_conn_closing(int fd);
void rp_conn_closing_range(unsigned first, unsigned last);
void rp_conn_shutdown(int fd, int how);
void rp_conn_idle(void);

/* In a fork()ed child: the parent's requests are not ours. */
void rp_conns_after_fork_child(void);

#endif
