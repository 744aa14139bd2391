/* tls_local_lib.c -- an object that links libssl and is loaded with
 * dlopen(RTLD_LOCAL), as Python's _ssl module is: its calls to the SSL_*
 * functions bind to the preloaded library's, which must find this
 * object's libssl to go on to (tls.c). Built by tests/e2e/requests_tls.sh
 * with -O2 against the installed libssl.so.3, with OpenSSL's declarations
 * written out here so that no -dev package is needed. */
#include <stddef.h>

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_method_st SSL_METHOD;
const SSL_METHOD *TLS_method(void);
SSL_CTX *SSL_CTX_new(const SSL_METHOD *method);
SSL *SSL_new(SSL_CTX *ctx);
int SSL_write(SSL *ssl, const void *buf, int num);
int SSL_read(SSL *ssl, void *buf, int num);
int SSL_write_ex(SSL *ssl, const void *buf, size_t num, size_t *written);
int SSL_read_ex(SSL *ssl, void *buf, size_t num, size_t *got);
unsigned long ERR_get_error(void);

SSL *tls_local_new(void);
int tls_local_try(SSL *ssl);
int tls_local_write(SSL *ssl);
unsigned long tls_local_error(void);

/* An SSL with no connection: every read and write fails in OpenSSL and
 * leaves an error on its queue. */
SSL *tls_local_new(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    return ctx ? SSL_new(ctx) : NULL;
}

/* How many of the four calls reached OpenSSL (4 when all is well). */
int tls_local_try(SSL *ssl)
{
    char buf[8];
    size_t n;
    int reached = 0;
    reached += SSL_write(ssl, "x", 1) <= 0 && ERR_get_error() != 0;
    reached += SSL_read(ssl, buf, sizeof buf) <= 0 && ERR_get_error() != 0;
    reached += SSL_write_ex(ssl, "x", 1, &n) == 0 && ERR_get_error() != 0;
    reached += SSL_read_ex(ssl, buf, sizeof buf, &n) == 0 && ERR_get_error() != 0;
    return reached;
}

/* At -O2 a tail call (jmp SSL_write@plt): the return address SSL_write
 * sees is in the caller of this function, another object. */
int tls_local_write(SSL *ssl)
{
    return SSL_write(ssl, "x", 1);
}

unsigned long tls_local_error(void)
{
    return ERR_get_error();
}
