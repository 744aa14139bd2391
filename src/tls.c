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
 * calling object's own, looked up from the object the return address is
 * in (one loaded with dlopen and RTLD_LOCAL, as Python's _ssl module is);
 * else, when that object finds none (it reached us through a tail call
 * from another object), the first loaded object's that does. The last is
 * a guess only in a process that loads two different TLS libraries and
 * tail-calls into one. What is found is kept per calling object until
 * the next dlclose, which we stand in front of for that.
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
#include <string.h>
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

/* Definitions found for calls from objects outside the global scope's
 * reach, by the calling object's address range. A slot is reserved with
 * an atomic add, filled, then marked ready: no lock, so no fork or signal
 * can leave one held. An entry counts only while `unloads` is what it
 * was when the entry was made: any dlclose (ours, below) may have freed
 * the library a cached pointer points into. Slots are not reused; once
 * they are all taken, every such call looks its definition up afresh. */
#define ORIGINS 64
static struct origin {
    uintptr_t lo, hi;           /* the calling object's loaded segments */
    unsigned long unloads;
    void *fn[NFN];
    int ready;
} origins[ORIGINS];
static unsigned origins_taken;
static unsigned long unloads;   /* odd while a dlclose is under way */

static int is_ours(unsigned k, const void *f)
{
    return f == ours[k] || (k == F_GET_FD && f == NULL);
}

static int (*next_dlclose)(void *);

static int real_dlclose(void *handle)
{
    int (*f)(void *) = __atomic_load_n(&next_dlclose, __ATOMIC_ACQUIRE);
    if (!f) {
        f = (int (*)(void *))dlsym(RTLD_NEXT, "dlclose");
        __atomic_store_n(&next_dlclose, f, __ATOMIC_RELEASE);
    }
    return f ? f(handle) : -1;
}

int dlclose(void *handle);

/* An object may go: what was found for calls from it, or in it, is
 * forgotten. */
EXPORT int dlclose(void *handle)
{
    __atomic_add_fetch(&unloads, 1, __ATOMIC_ACQ_REL);
    int r = real_dlclose(handle);
    __atomic_add_fetch(&unloads, 1, __ATOMIC_ACQ_REL);
    return r;
}

/* Function k as the object `name` (the main program for "") finds it:
 * the object, then its dependencies; NULL when that is ours or none. */
static void *defined_for(const char *name, unsigned k)
{
    void *h = dlopen(name[0] ? name : NULL, RTLD_LAZY | RTLD_NOLOAD);
    if (!h)
        return NULL;
    void *f = dlsym(h, fn_name[k]);
    real_dlclose(h);
    return f && !is_ours(k, f) ? f : NULL;
}

/* One loaded object, picked by an address in it or by its place in the
 * list (dl_iterate_phdr): its name copied out and its range. Nothing is
 * looked up inside the iteration, which holds a loader lock that dlopen
 * must not be asked for in the other order. */
struct pick {
    uintptr_t at;               /* in: an address in the object, or 0 */
    unsigned index, seen;       /* in: else its place in the list */
    int found;
    uintptr_t lo, hi;
    char name[4096];
};

static int pick_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct pick *p = arg;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (unsigned i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t seg = info->dlpi_addr + ph->p_vaddr;
        if (seg < lo)
            lo = seg;
        if (seg + ph->p_memsz > hi)
            hi = seg + ph->p_memsz;
    }
    if (p->at ? !(p->at >= lo && p->at < hi) : p->seen++ != p->index)
        return 0;
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    size_t len = strnlen(name, sizeof p->name);
    if (len == sizeof p->name)
        len = 0;                /* a name this long is not looked up */
    memcpy(p->name, name, len);
    p->name[len] = '\0';
    p->lo = lo;
    p->hi = hi;
    p->found = 1;
    return 1;
}

/* Function k for a call from `caller` when the global scope has none: as
 * the calling object finds it among its dependencies (an object loaded
 * with dlopen and RTLD_LOCAL, as Python's _ssl module); else (the return
 * address is not the caller's when the caller was reached by a tail call)
 * as the first loaded object that finds one does: with one TLS library
 * in the process, the right one. Sets the calling object's range. */
static void *resolve(unsigned k, uintptr_t caller, uintptr_t *lo, uintptr_t *hi)
{
    struct pick p = { .at = caller };
    *lo = *hi = 0;
    dl_iterate_phdr(pick_object, &p);
    if (p.found) {
        *lo = p.lo;
        *hi = p.hi;
        void *f = defined_for(p.name, k);
        if (f)
            return f;
    }
    for (unsigned i = 0;; i++) {
        p = (struct pick){ .index = i };
        dl_iterate_phdr(pick_object, &p);
        if (!p.found)
            return NULL;
        void *f = p.name[0] ? defined_for(p.name, k) : NULL;
        if (f)
            return f;
    }
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
    uintptr_t at = (uintptr_t)caller;
    unsigned long gen = __atomic_load_n(&unloads, __ATOMIC_ACQUIRE);
    unsigned n = __atomic_load_n(&origins_taken, __ATOMIC_ACQUIRE);
    for (unsigned i = 0; i < n && i < ORIGINS; i++) {
        struct origin *o = &origins[i];
        if (!__atomic_load_n(&o->ready, __ATOMIC_ACQUIRE) || o->unloads != gen || at < o->lo || at >= o->hi)
            continue;
        if ((f = __atomic_load_n(&o->fn[k], __ATOMIC_ACQUIRE)))
            return f;
        break;                  /* this object's entry lacks k: looked up below */
    }
    uintptr_t lo, hi;
    f = resolve(k, at, &lo, &hi);
    if (!f || (gen & 1) || !hi || gen != __atomic_load_n(&unloads, __ATOMIC_ACQUIRE))
        return f;               /* not kept: an unload was under way */
    for (unsigned i = 0; i < n && i < ORIGINS; i++) {   /* an entry for the object: add k to it */
        struct origin *o = &origins[i];
        if (__atomic_load_n(&o->ready, __ATOMIC_ACQUIRE) && o->unloads == gen && o->lo == lo && o->hi == hi) {
            __atomic_store_n(&o->fn[k], f, __ATOMIC_RELEASE);
            return f;
        }
    }
    unsigned slot = __atomic_fetch_add(&origins_taken, 1, __ATOMIC_ACQ_REL);
    if (slot < ORIGINS) {
        struct origin *o = &origins[slot];
        o->lo = lo;
        o->hi = hi;
        o->unloads = gen;
        __atomic_store_n(&o->fn[k], f, __ATOMIC_RELEASE);
        __atomic_store_n(&o->ready, 1, __ATOMIC_RELEASE);
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
