/* tls_local_lib.c -- an object that links libssl and is loaded with
 * dlopen(RTLD_LOCAL), as Python's _ssl module is: its calls to SSL_write
 * bind to the preloaded library's, which must find this object's libssl
 * to go on to (tls.c). Built by tests/e2e/requests_tls.sh against the
 * installed libssl.so.3, with OpenSSL's declarations written out here so
 * that no -dev package is needed. */
#include <stddef.h>

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_method_st SSL_METHOD;
const SSL_METHOD *TLS_method(void);
SSL_CTX *SSL_CTX_new(const SSL_METHOD *method);
SSL *SSL_new(SSL_CTX *ctx);
void SSL_free(SSL *ssl);
void SSL_CTX_free(SSL_CTX *ctx);
int SSL_write(SSL *ssl, const void *buf, int num);
int SSL_read(SSL *ssl, void *buf, int num);
unsigned long ERR_get_error(void);

int tls_local_try(void);

/* SSL_write and SSL_read on an SSL with no connection: OpenSSL's fail and
 * leave an error on the queue. Returns how many of the two did (2 when
 * both calls reached OpenSSL). */
int tls_local_try(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    SSL *ssl = ctx ? SSL_new(ctx) : NULL;
    if (!ssl)
        return -1;
    char buf[8];
    int reached = 0;
    if (SSL_write(ssl, "x", 1) <= 0 && ERR_get_error() != 0)
        reached++;
    if (SSL_read(ssl, buf, sizeof buf) <= 0 && ERR_get_error() != 0)
        reached++;
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return reached;
}
