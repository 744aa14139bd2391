/* tls.c -- HTTPS: the HTTP/1.x inside TLS, as the host's TLS library
 * hands it over.
 *
 * A server that terminates TLS itself (nginx's `listen ... ssl`) reads
 * and writes ciphertext on its sockets, which sockets.c sees and conn.c
 * sets aside: a connection whose first byte begins a TLS handshake is
 * not parsed from its socket bytes. Its requests and responses are the
 * plaintext that passes through SSL_read, SSL_read_ex, SSL_write and
 * SSL_write_ex, which the host calls through the dynamic linker like any
 * library function, so a preloaded library can stand in front of them.
 * The connection is the descriptor SSL_get_fd names.
 *
 * The calls reach the next definition unchanged: OpenSSL's, or that of
 * whatever library the host links that exports them under these names
 * and signatures (LibreSSL, BoringSSL, wolfSSL's compatibility layer). A
 * host that links its TLS library statically, or one that reads through
 * memory BIOs (no descriptor: SSL_get_fd says -1), is not followed: its
 * TLS connections count no requests, as before. Not followed either:
 * SSL_read_early_data (TLS 1.3 0-RTT, off in nginx by default) and
 * SSL_peek, which consumes nothing. SSL_sendfile (kernel TLS) sends a
 * file's plaintext with sendfile, which sockets.c counts.
 *
 * No OpenSSL header is needed: the types are opaque here, and the
 * library is never linked, only looked up with RTLD_NEXT on first use.
 */
#include <stddef.h>
#include <sys/types.h>
#include "hook.h"

typedef struct ssl_st SSL;   /* opaque, as OpenSSL declares it */

/* OpenSSL's declarations of what is defined here (ssl.h is not included). */
int SSL_read(SSL *ssl, void *buf, int num);
int SSL_read_ex(SSL *ssl, void *buf, size_t num, size_t *got);
int SSL_write(SSL *ssl, const void *buf, int num);
int SSL_write_ex(SSL *ssl, const void *buf, size_t num, size_t *written);

struct next_tls {
    int (*SSL_read)(SSL *, void *, int);
    int (*SSL_read_ex)(SSL *, void *, size_t, size_t *);
    int (*SSL_write)(SSL *, const void *, int);
    int (*SSL_write_ex)(SSL *, const void *, size_t, size_t *);
    int (*SSL_get_fd)(const SSL *);
};

static struct next_tls next;

/* The connection's descriptor, or -1 (conn.c follows no such one). */
static int fd_of(const SSL *ssl)
{
    int (*get_fd)(const SSL *) = NEXT(SSL_get_fd);
    return get_fd && ssl ? get_fd(ssl) : -1;
}

/* Before a read: ends the request the connection answered, as a socket
 * read would. Returns the descriptor. */
static int before_read(const SSL *ssl)
{
    int fd = fd_of(ssl);
    KEEP_ERRNO(rp_conn_before_read(fd));
    return fd;
}

EXPORT int SSL_read(SSL *ssl, void *buf, int num)
{
    int (*real)(SSL *, void *, int) = NEXT(SSL_read);
    if (!real)
        return -1;
    if (!detecting())
        return real(ssl, buf, num);
    int fd = before_read(ssl);
    int r = real(ssl, buf, num);
    KEEP_ERRNO(rp_conn_tls_read(fd, buf, r));
    return r;
}

EXPORT int SSL_read_ex(SSL *ssl, void *buf, size_t num, size_t *got)
{
    int (*real)(SSL *, void *, size_t, size_t *) = NEXT(SSL_read_ex);
    if (!real)
        return 0;
    if (!detecting())
        return real(ssl, buf, num, got);
    int fd = before_read(ssl);
    int ok = real(ssl, buf, num, got);
    KEEP_ERRNO(rp_conn_tls_read(fd, buf, ok == 1 && got ? (ssize_t)*got : 0));
    return ok;
}

EXPORT int SSL_write(SSL *ssl, const void *buf, int num)
{
    int (*real)(SSL *, const void *, int) = NEXT(SSL_write);
    if (!real)
        return -1;
    int r = real(ssl, buf, num);
    if (detecting())
        KEEP_ERRNO(rp_conn_tls_wrote(fd_of(ssl), buf, r));
    return r;
}

EXPORT int SSL_write_ex(SSL *ssl, const void *buf, size_t num, size_t *written)
{
    int (*real)(SSL *, const void *, size_t, size_t *) = NEXT(SSL_write_ex);
    if (!real)
        return 0;
    int ok = real(ssl, buf, num, written);
    if (detecting())
        KEEP_ERRNO(rp_conn_tls_wrote(fd_of(ssl), buf, ok == 1 && written ? (ssize_t)*written : 0));
    return ok;
}
