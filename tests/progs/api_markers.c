/* api_markers -- the reqprof.h marker API with known allocations, for
 * tests/e2e/requests_api.sh. Prints, as key=value words on one line,
 * what reqprof must report; each name is ROUTE_FIELD with the routes
 *
 *   keep      "api /keep"        5 requests, each leaving one 24-byte block live
 *   realloc   "api /realloc"     3 requests: malloc, realloc (a free and an alloc), free
 *   foreign   "api /foreign"     frees a block allocated before any request
 *   outer     "api /outer"       cut short by a nested begin: leaves its block to...
 *   inner     "api /inner"       ...which frees it (a foreign free)
 *   untagged  "(untagged)"       begun with NULL and with ""
 *   long      a 200-byte route   cut to 127 bytes
 *   thread    "api /thread"      40 requests, 20 on each of 2 threads
 *   texit     "api /thread-exit" left open when its thread returns
 *   pexit     "api /exit"        left open when the process exits
 *
 * and api (1: begin returned 1, so the library is there), unmatched,
 * nested, begun, ended (the exit request included), marks, mark_requests
 * (requests ended before the "reload" mark), tid1 and tid2 (the two
 * threads). Usable sizes are the allocator's own (malloc_usable_size).
 * Without the library every call returns 0 and nothing else changes.
 *
 * Output goes through write(): stdio would allocate its buffer inside a
 * request. Nothing else here allocates while a request is open.
 */
#define _GNU_SOURCE 1
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "reqprof.h"

static char out[8192];
static size_t outlen;
static int api_ok = 1;
static void *volatile sink; /* keeps the compiler from dropping malloc/free pairs */

static void put(const char *key, unsigned long long v)
{
    outlen += (size_t)snprintf(out + outlen, sizeof out - outlen, "%s%s=%llu", outlen ? " " : "", key, v);
}

static void *get(size_t n)
{
    void *p = malloc(n);
    if (!p)
        abort();
    memset(p, 0x5a, n);
    sink = p;
    return p;
}

static size_t us(void *p)
{
    return malloc_usable_size(p);
}

static void begin(const char *route)
{
    if (reqprof_request_begin(route) != 1)
        api_ok = 0;
}

static void end(void)
{
    if (reqprof_request_end() != 1)
        api_ok = 0;
}

static pid_t gettid_(void)
{
    return (pid_t)syscall(SYS_gettid);
}

/* "api /thread" 20 times; the second thread then leaves "api /thread-exit"
 * open with one block in it. */
struct worker { int leave_open; pid_t tid; size_t thread_bytes, texit_bytes; };

static void *work(void *arg)
{
    struct worker *w = arg;
    w->tid = gettid_();
    for (int i = 0; i < 20; i++) {
        begin("api /thread");
        void *p = get(56);
        w->thread_bytes += us(p);
        free(p);
        end();
    }
    if (w->leave_open) {
        begin("api /thread-exit");
        w->texit_bytes = us(get(88));
    }
    return NULL;
}

int main(void)
{
    unsigned long long begun = 0, ended = 0, unmatched = 0;
    void *before = get(104); /* allocated outside any request */

    /* an end with nothing open */
    unmatched += reqprof_request_end() == 0;

    /* keep: 24 + 1000 + 200 allocated, all live at once; 24 left */
    unsigned long long keep_alloc = 0, keep_freed = 0, keep_left = 0, keep_peak = 0;
    for (int i = 0; i < 5; i++) {
        begin("api /keep");
        void *a = get(24), *b = get(1000), *c = get(200);
        keep_alloc += us(a) + us(b) + us(c);
        keep_peak = us(a) + us(b) + us(c);
        keep_freed += us(b) + us(c);
        keep_left += us(a);
        free(b);
        free(c);
        end();
    }
    begun += 5;
    ended += 5;
    put("keep_requests", 5);
    put("keep_allocs", 15);
    put("keep_frees", 10);
    put("keep_bytes_alloc", keep_alloc);
    put("keep_bytes_freed", keep_freed);
    put("keep_peak_max", keep_peak);
    put("keep_peak_sum", 5 * keep_peak);
    put("keep_left_sum", keep_left);
    put("keep_left_max", keep_left / 5);
    put("keep_left_blocks", 5);
    put("keep_leaky", 5);

    /* realloc: free of the old block + allocation of the new one */
    unsigned long long re_alloc = 0;
    for (int i = 0; i < 3; i++) {
        begin("api /realloc");
        char *p = get(24);
        re_alloc += us(p);
        p = realloc(p, 1000);
        if (!p)
            abort();
        sink = p;
        re_alloc += us(p);
        free(p);
        end();
    }
    begun += 3;
    ended += 3;
    put("realloc_requests", 3);
    put("realloc_allocs", 6);
    put("realloc_frees", 6);
    put("realloc_bytes_alloc", re_alloc);
    put("realloc_bytes_freed", re_alloc);
    put("realloc_left_sum", 0);

    /* foreign: frees what no request allocated */
    begin("api /foreign");
    size_t before_size = us(before);
    free(before);
    end();
    begun++;
    ended++;
    put("foreign_requests", 1);
    put("foreign_allocs", 0);
    put("foreign_frees", 1);
    put("foreign_foreign_frees", 1);
    put("foreign_foreign_bytes", before_size);
    put("foreign_bytes_freed", before_size);
    put("foreign_peak_max", 0);

    /* nested: outer is ended by inner's begin with its block still live;
     * inner frees it (foreign to inner) and its own */
    begin("api /outer");
    void *x = get(40);
    begin("api /inner");
    void *y = get(72);
    size_t xs = us(x), ys = us(y);
    free(x);
    free(y);
    end();
    unmatched += reqprof_request_end() == 0; /* the outer one is already over */
    begun += 2;
    ended += 2;
    put("outer_requests", 1);
    put("outer_allocs", 1);
    put("outer_bytes_alloc", xs);
    put("outer_left_sum", xs);
    put("outer_left_blocks", 1);
    put("inner_requests", 1);
    put("inner_allocs", 1);
    put("inner_frees", 2);
    put("inner_bytes_alloc", ys);
    put("inner_bytes_freed", xs + ys);
    put("inner_foreign_frees", 1);
    put("inner_foreign_bytes", xs);
    put("inner_peak_max", ys);
    put("inner_left_sum", 0);

    /* untagged: NULL and "" */
    begin(NULL);
    void *u = get(24);
    size_t uss = us(u);
    free(u);
    end();
    begin("");
    end();
    begun += 2;
    ended += 2;
    put("untagged_requests", 2);
    put("untagged_allocs", 1);
    put("untagged_bytes_alloc", uss);

    /* a route longer than 127 bytes */
    char longroute[201];
    memset(longroute, 'r', 200);
    memcpy(longroute, "api /long/", 10);
    longroute[200] = 0;
    begin(longroute);
    end();
    begun++;
    ended++;
    put("long_requests", 1);
    put("long_length", 127);

    /* two threads, the second leaving a request open when it returns */
    struct worker w[2] = { { .leave_open = 0 }, { .leave_open = 1 } };
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        if (pthread_create(&t[i], NULL, work, &w[i]) != 0)
            abort();
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    begun += 41;
    ended += 41;
    put("thread_requests", 40);
    put("thread_allocs", 40);
    put("thread_frees", 40);
    put("thread_bytes_alloc", w[0].thread_bytes + w[1].thread_bytes);
    put("thread_left_sum", 0);
    put("texit_requests", 1);
    put("texit_allocs", 1);
    put("texit_left_sum", w[1].texit_bytes);
    put("tid1", (unsigned long long)w[0].tid);
    put("tid2", (unsigned long long)w[1].tid);

    /* marks: one plain, one longer than 95 bytes */
    char longmark[151];
    memset(longmark, 'm', 150);
    longmark[150] = 0;
    if (reqprof_mark("reload") != 1 || reqprof_mark(longmark) != 1)
        api_ok = 0;
    put("marks", 2);
    put("mark_requests", ended);
    put("longmark_length", 95);

    /* left open at exit: ended by reqprof at exit */
    begin("api /exit");
    size_t es = us(get(120));
    begun++;
    ended++;
    put("pexit_requests", 1);
    put("pexit_allocs", 1);
    put("pexit_left_sum", es);

    put("unmatched", unmatched);
    put("nested", 1);
    put("begun", begun);
    put("ended", ended);
    put("api", api_ok);
    out[outlen++] = '\n';
    return write(1, out, outlen) == (ssize_t)outlen ? 0 : 1;
}
