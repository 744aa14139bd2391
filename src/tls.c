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
 * The connection is the descriptor SSL_get_fd names. OpenSSL 3's
 * SSL_read_early_data and SSL_write_early_data go through SSL_read_ex and
 * SSL_write_ex, so TLS 1.3 early data is seen too.
 *
 * Which definition a call goes on to matters more than anything else
 * here: a wrong one breaks the host's TLS, profiler on or off. Every
 * object that imports these names binds to ours, because a preloaded
 * library comes early in the global scope; without us it would have
 * bound to the first definition in the global scope, or failing that in
 * its own dependencies. So: RTLD_NEXT's, the rest of the global scope,
 * when there is one (a program linked with libssl, as nginx is); else the
 * caller's own, looked up from the object that called (one loaded with
 * dlopen and RTLD_LOCAL, as Python's _ssl module is, which may even bring
 * its own copy of libssl). Those are kept per calling object.
 *
 * Not followed: a TLS library linked statically into the host, or one
 * that renames the functions in its headers (wolfSSL's compatibility
 * layer: SSL_read is a macro for wolfSSL_read); a host that reads through
 * memory BIOs (no descriptor: SSL_get_fd says -1); SSL_peek, which
 * consumes nothing. SSL_sendfile (kernel TLS) sends a file's plaintext
 * with sendfile, which sockets.c counts. No OpenSSL header is needed:
 * the types are opaque here, and no TLS library is linked.
 */
#include <dlfcn.h>
#include <link.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "hook.h"

typedef struct ssl_st SSL;   /* opaque, as OpenSSL declares it */

/* OpenSSL's declarations of what is defined here (ssl.h is not included). */
int SSL_read(SSL *ssl, void *buf, int num);
int SSL_read_ex(SSL *ssl, void *buf, size_t num, size_t *got);
int SSL_write(SSL *ssl, const void *buf, int num);
int SSL_write_ex(SSL *ssl, const void *buf, size_t num, size_t *written);

enum fn { F_READ, F_READ_EX, F_WRITE, F_WRITE_EX, F_GET_FD, NFN };
static const char *const fn_name[NFN] = { "SSL_read", "SSL_read_ex", "SSL_write", "SSL_write_ex", "SSL_get_fd" };
static void *const ours[NFN] = { (void *)SSL_read, (void *)SSL_read_ex, (void *)SSL_write, (void *)SSL_write_ex, NULL };

/* ---- which definition a call goes on to ----------------------------------- */

#define NOT_GLOBAL ((void *)1)
static void *global_fn[NFN];   /* RTLD_NEXT's, NOT_GLOBAL, or NULL before the first look */

/* An object that called us with no definition in the global scope: its
 * loaded segments, a handle on it, and the definitions its lookup finds. */
#define ORIGINS 32
static struct origin {
    uintptr_t lo, hi;
    void *handle;
    void *fn[NFN];
} origins[ORIGINS];
static unsigned norigins;      /* published with release: entries below it are whole */
static int origins_lock;

static int is_ours(unsigned k, const void *f)
{
    return f == ours[k] || (k == F_GET_FD && f == NULL);
}

struct span { uintptr_t base, lo, hi; };

static int span_of(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct span *s = arg;
    if (info->dlpi_addr != s->base)
        return 0;
    for (unsigned i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (!s->lo || lo < s->lo)
            s->lo = lo;
        if (hi > s->hi)
            s->hi = hi;
    }
    return 1;
}

/* The calling object's entry, made on its first call; NULL when it cannot
 * be told, or the table is full (then o, when it has a handle, serves
 * this call alone). */
static struct origin *origin_of(uintptr_t caller, struct origin *o)
{
    unsigned n = __atomic_load_n(&norigins, __ATOMIC_ACQUIRE);
    for (unsigned i = 0; i < n; i++)
        if (caller >= origins[i].lo && caller < origins[i].hi)
            return &origins[i];
    Dl_info info;
    struct span s = { 0, 0, 0 };
    if (!dladdr((void *)caller, &info) || !info.dli_fname)
        return NULL;
    s.base = (uintptr_t)info.dli_fbase;
    dl_iterate_phdr(span_of, &s);
    /* the object's own handle: dlsym on it searches the object and its
     * dependencies, which is where it found its TLS library */
    void *handle = dlopen(info.dli_fname[0] ? info.dli_fname : NULL, RTLD_LAZY | RTLD_NOLOAD);
    if (!handle || !s.hi)
        return NULL;
    *o = (struct origin){ .lo = s.lo, .hi = s.hi, .handle = handle };
    struct origin *kept = NULL;
    int inserted = 0;
    while (__atomic_exchange_n(&origins_lock, 1, __ATOMIC_ACQUIRE))
        ;
    n = norigins;
    for (unsigned i = 0; i < n && !kept; i++)     /* another thread made it meanwhile */
        if (caller >= origins[i].lo && caller < origins[i].hi)
            kept = &origins[i];
    if (!kept && n < ORIGINS) {
        origins[n] = *o;
        kept = &origins[n];
        inserted = 1;
        __atomic_store_n(&norigins, n + 1, __ATOMIC_RELEASE);
    }
    __atomic_store_n(&origins_lock, 0, __ATOMIC_RELEASE);
    if (kept && !inserted)
        dlclose(handle);        /* the other thread's entry holds its own */
    return kept;                /* NULL: the table is full, and o's handle is the caller's to close */
}

/* The definition of function k that a call from `caller` would have
 * reached without us, or NULL. */
static void *next_fn(unsigned k, const void *caller)
{
    void *f = __atomic_load_n(&global_fn[k], __ATOMIC_ACQUIRE);
    if (!f) {
        f = dlsym(RTLD_NEXT, fn_name[k]);
        if (!f || is_ours(k, f))
            f = NOT_GLOBAL;
        __atomic_store_n(&global_fn[k], f, __ATOMIC_RELEASE);
    }
    if (f != NOT_GLOBAL)
        return f;
    struct origin once = { 0 }, *o = origin_of((uintptr_t)caller, &once);
    if (!o) {
        if (!once.handle)
            return NULL;
        f = dlsym(once.handle, fn_name[k]);
        dlclose(once.handle);
        return f && !is_ours(k, f) ? f : NULL;
    }
    f = __atomic_load_n(&o->fn[k], __ATOMIC_ACQUIRE);
    if (!f) {
        f = dlsym(o->handle, fn_name[k]);
        if (f && is_ours(k, f))
            f = NULL;
        __atomic_store_n(&o->fn[k], f, __ATOMIC_RELEASE);
    }
    return f;
}

/* ---- the calls ------------------------------------------------------------ */

/* The connection's descriptor, or -1 (conn.c follows no such one); asked
 * of the library the call came for. */
static int fd_of(const SSL *ssl, const void *caller)
{
    int (*get_fd)(const SSL *) = (int (*)(const SSL *))next_fn(F_GET_FD, caller);
    return get_fd && ssl ? get_fd(ssl) : -1;
}

/* Before a read: ends the request the connection answered, as a socket
 * read would. Returns the descriptor. */
static int before_read(const SSL *ssl, const void *caller)
{
    int fd = fd_of(ssl, caller);
    KEEP_ERRNO(rp_conn_before_read(fd));
    return fd;
}

/* With no definition to go on to (cannot be: the caller was linked
 * against one), the calls fail as OpenSSL's do on a broken connection. */
EXPORT int SSL_read(SSL *ssl, void *buf, int num)
{
    const void *caller = __builtin_return_address(0);
    int (*real)(SSL *, void *, int) = (int (*)(SSL *, void *, int))next_fn(F_READ, caller);
    if (!real)
        return -1;
    if (!detecting())
        return real(ssl, buf, num);
    int fd = before_read(ssl, caller);
    int r = real(ssl, buf, num);
    KEEP_ERRNO(rp_conn_tls_read(fd, buf, r));
    return r;
}

EXPORT int SSL_read_ex(SSL *ssl, void *buf, size_t num, size_t *got)
{
    const void *caller = __builtin_return_address(0);
    int (*real)(SSL *, void *, size_t, size_t *) =
        (int (*)(SSL *, void *, size_t, size_t *))next_fn(F_READ_EX, caller);
    if (!real)
        return 0;
    if (!detecting())
        return real(ssl, buf, num, got);
    int fd = before_read(ssl, caller);
    int ok = real(ssl, buf, num, got);
    KEEP_ERRNO(rp_conn_tls_read(fd, buf, ok == 1 && got ? (ssize_t)*got : 0));
    return ok;
}

EXPORT int SSL_write(SSL *ssl, const void *buf, int num)
{
    const void *caller = __builtin_return_address(0);
    int (*real)(SSL *, const void *, int) = (int (*)(SSL *, const void *, int))next_fn(F_WRITE, caller);
    if (!real)
        return -1;
    int r = real(ssl, buf, num);
    if (detecting())
        KEEP_ERRNO(rp_conn_tls_wrote(fd_of(ssl, caller), buf, r));
    return r;
}

EXPORT int SSL_write_ex(SSL *ssl, const void *buf, size_t num, size_t *written)
{
    const void *caller = __builtin_return_address(0);
    int (*real)(SSL *, const void *, size_t, size_t *) =
        (int (*)(SSL *, const void *, size_t, size_t *))next_fn(F_WRITE_EX, caller);
    if (!real)
        return 0;
    int ok = real(ssl, buf, num, written);
    if (detecting())
        KEEP_ERRNO(rp_conn_tls_wrote(fd_of(ssl, caller), buf, ok == 1 && written ? (ssize_t)*written : 0));
    return ok;
}
