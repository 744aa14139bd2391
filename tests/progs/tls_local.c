/* tls_local.c -- loads tls_local_lib.so (argv[1]) with dlopen and
 * RTLD_LOCAL (argv[2] "global": RTLD_GLOBAL), and prints "reached=N
 * tail=M": how many of its four TLS calls reached OpenSSL, and whether
 * its SSL_write reached through a tail call did (4 and 1 when all is
 * well). */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

typedef struct ssl_st SSL;

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: tls_local LIB [global]\n");
        return 2;
    }
    int mode = argc > 2 && strcmp(argv[2], "global") == 0 ? RTLD_GLOBAL : RTLD_LOCAL;
    void *h = dlopen(argv[1], RTLD_NOW | mode);
    if (!h) {
        fprintf(stderr, "tls_local: %s\n", dlerror());
        return 1;
    }
    SSL *(*new_ssl)(void) = (SSL *(*)(void))dlsym(h, "tls_local_new");
    int (*try)(SSL *) = (int (*)(SSL *))dlsym(h, "tls_local_try");
    int (*write_tail)(SSL *) = (int (*)(SSL *))dlsym(h, "tls_local_write");
    unsigned long (*error)(void) = (unsigned long (*)(void))dlsym(h, "tls_local_error");
    SSL *ssl = new_ssl && try && write_tail && error ? new_ssl() : NULL;
    if (!ssl) {
        fprintf(stderr, "tls_local: no SSL from %s\n", argv[1]);
        return 1;
    }
    int reached = try(ssl);
    int tail = write_tail(ssl) <= 0 && error() != 0;
    printf("reached=%d tail=%d\n", reached, tail);
    return 0;
}
