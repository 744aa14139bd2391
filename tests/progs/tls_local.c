/* tls_local.c -- loads tls_local_lib.so (argv[1]) with dlopen and
 * RTLD_LOCAL (argv[2] "global": RTLD_GLOBAL) and prints how many of its
 * two TLS calls reached OpenSSL: "reached=2" when all is well. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

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
    int (*try)(void) = (int (*)(void))dlsym(h, "tls_local_try");
    if (!try) {
        fprintf(stderr, "tls_local: %s\n", dlerror());
        return 1;
    }
    printf("reached=%d\n", try());
    return 0;
}
