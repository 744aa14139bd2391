/* api.c -- the marker API behind include/reqprof.h.
 *
 * The header finds the table below with dlsym(RTLD_DEFAULT,
 * "reqprof_api_v1"), so a host needs nothing at link time. A thread has
 * at most one API request open; its pointer and id live in thread-local
 * storage, and a pthread key ends it if the thread exits first. Once the
 * host marks requests itself, HTTP detection stands down for the
 * process: one request must not be counted twice.
 */
#include <pthread.h>
#include <string.h>
#include "../include/reqprof.h"
#include "conn.h"
#include "lifecycle.h"
#include "request.h"
#include "shard.h"

static __thread struct rp_req *open_req __attribute__((tls_model("initial-exec")));
static __thread uint64_t open_id __attribute__((tls_model("initial-exec")));
static pthread_key_t exit_key;
static int have_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void on_thread_exit(void *arg)
{
    (void)arg;
    if (rp_req_is(open_req, open_id))
        rp_req_end(open_req, open_id, RP_END_THREAD);
    open_req = NULL;
}

static void make_key(void)
{
    have_key = pthread_key_create(&exit_key, on_thread_exit) == 0;
}

/* Whether reqprof runs, starting it if this is its first call. */
static int running(void)
{
    struct rp_thread *me = rp_self();
    if (me->busy)
        return 0;
    me->busy = 1;
    struct rp_ring *r = rp_active_ring();
    me->busy = 0;
    return r != NULL;
}

static int request_begin(const char *route)
{
    if (!running())
        return 0;
    rp_conn_api_used();
    if (rp_req_is(open_req, open_id)) {
        rp_req_count(offsetof(struct rp_header, req_nested));
        rp_req_end(open_req, open_id, RP_END_NESTED);
    }
    struct rp_req *q = rp_req_begin(RP_SRC_API);
    if (!q)
        return 0;
    if (route && *route)
        rp_req_set_route(q, route, strnlen(route, RP_ROUTE_LEN - 1));
    pthread_once(&key_once, make_key);
    if (have_key)   /* without one, a thread that exits mid-request leaves it to exit() */
        pthread_setspecific(exit_key, q);
    open_req = q;
    open_id = q->id;
    rp_self()->req = q;
    return 1;
}

static int request_end(void)
{
    if (!running())
        return 0;
    if (!rp_req_is(open_req, open_id)) {
        rp_req_count(offsetof(struct rp_header, req_unmatched));
        return 0;
    }
    rp_req_end(open_req, open_id, RP_END_API);
    open_req = NULL;
    if (have_key)
        pthread_setspecific(exit_key, NULL);
    return 1;
}

static int mark(const char *label)
{
    return running() && rp_req_mark(label);
}

__attribute__((visibility("default")))
const struct reqprof_api reqprof_api_v1 = {
    .size = sizeof(struct reqprof_api),
    .request_begin = request_begin,
    .request_end = request_end,
    .mark = mark,
};
