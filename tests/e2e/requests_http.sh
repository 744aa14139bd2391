#!/bin/bash
# Automatic HTTP/1.x request boundaries, checked exactly on the two test
# servers: http_threaded (a blocking thread per connection) and
# http_epoll (one thread multiplexing every connection, an asynchronous
# upstream). Their routes allocate known blocks (see tests/progs/
# http_serve.h for the table); http_client drives them with keep-alive,
# several connections in lockstep, pipelined requests, requests written
# in pieces, Content-Length and chunked request bodies that contain a
# request line, and connections that are not HTTP.
#
# Pipelining and charging: the spec ends a pipelined request when the
# NEXT response starts, so what the server allocates for request 2
# between response 1 and response 2 is charged to request 1. Sums over a
# route stay exact when a batch pipelines one route only (/keep); its
# peaks and per-request left bytes do not, so those are checked only on
# routes that are never pipelined. The mixed batch pipelines routes that
# allocate nothing (/hello, /nope), which keeps every route exact.
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/http_lib.sh"
command -v jq >/dev/null || skip_all "jq is not installed"

# drive RESPONSES "OPTIONS" [REQUEST...]: http_client against the server;
# passes when it exits 0 with RESPONSES responses. Its output is in $DRIVEN.
drive() {
    local want=$1 opts=$2
    shift 2
    # shellcheck disable=SC2086 # OPTIONS are words
    DRIVEN=$("$PROGS/http_client" $opts "$SERVER_PORT" "$@")
    local rc=$?
    is "$rc $(kv "$DRIVEN" responses)" "0 $want" "http_client $opts $*: $want responses"
}

# The test of one server (SERVER [NAME]: NAME, the server's by default,
# prefixes the checks): the requests below, then its report.
exact_server() {
    local srv=$1 name=${2:-$1}
    CHECK_PREFIX="$name: "
    rm -f "$REQPROF_DIR"/*.ring
    start_server "$srv"
    ok $? "$name starts under reqprof"
    drive 120 "-c 4 -n 5" "GET /keep" "GET /free" "GET /chunked" "HEAD /free" "GET /nope?x=1" "GET /hello"
    drive 18 "-c 2 -n 3 -p" "GET /keep?x=1" "GET /keep" "GET /keep"
    drive 12 "-c 2 -n 2 -p" "GET /hello" "GET /nope" "GET /hello"
    drive 4 "-c 2 -n 2 -s -b 1000" "POST /upload"
    drive 4 "-c 2 -n 2 -s -k -b 999" "POST /upload"
    drive 9 "-c 3 -n 3" "GET /upstream"
    drive 3 "-n 3 -x" "GET /foreign"
    is "$(kv "$DRIVEN" closed)" 1 "$name: Connection: close is honoured"
    drive 0 "-g 3"
    is "$(kv "$DRIVEN" closed)" 3 "$name: the 3 connections that are not HTTP are closed"
    stop_server
    is $? 0 "$name exits 0 on SIGTERM"
    report $(rings)

    # 170 requests on 4+2+2+4+3+1 = 16 connections. 28 connections were
    # accepted: those 16, the 3 garbage ones, and the 9 that /upstream made
    # to the echo port, whose bytes are not HTTP either.
    is "$(rq '.processes | length')" 1 "$name: one process"
    is "$(rq '[.routes[].requests] | add')" 170 "$name: 170 requests over the routes, each counted once"
    is "$(rq '.requests | [.begun, .ended, .records_written, .records_kept] | join(" ")')" "170 170 170 170" \
       "$name: begun, ended, records written and kept"
    is "$(rq '.requests | [.nested, .unmatched, .lost, .other_route] | join(" ")')" "0 0 0 0" \
       "$name: nothing nested, unmatched, lost or out of route slots"
    is "$(rq '.requests.http_conns')" 28 "$name: 28 connections accepted (16 HTTP, 3 garbage, 9 upstream echo)"
    is "$(rq '.requests.http_not_http')" 12 "$name: the garbage and upstream echo connections are not HTTP"
    is "$(rq '[.routes[].route] | sort | join(",")')" \
       "GET /chunked,GET /foreign,GET /free,GET /hello,GET /keep,GET /nope,GET /upstream,HEAD /free,POST /upload" \
       "$name: exactly the routes sent (queries stripped; no route from a body, none for the upstream)"

    # GET /keep: 20 plain + 18 pipelined; sums only (see the top)
    check_route "GET /keep" requests=38 allocs=152 frees=114 bytes_alloc=52288 bytes_freed=47728 \
        left_sum=4560 left_blocks=38
    check_route "GET /free" requests=20 allocs=60 frees=60 bytes_alloc=52640 bytes_freed=52640 \
        peak_sum=51520 peak_max=2576 left_sum=0 leaky=0
    check_route "HEAD /free" requests=20 allocs=60 bytes_alloc=52640 peak_max=2576 left_sum=0
    check_route "GET /chunked" requests=20 allocs=20 frees=20 bytes_alloc=4960 peak_max=248 left_sum=0
    check_route "POST /upload" requests=8 allocs=16 frees=16 bytes_alloc=33152 peak_sum=33152 peak_max=4144 \
        left_sum=0
    check_route "GET /upstream" requests=9 allocs=18 frees=18 bytes_alloc=5904 peak_sum=5904 peak_max=656 \
        left_sum=0
    check_route "GET /foreign" requests=3 allocs=0 frees=3 foreign_frees=3 foreign_bytes=360 bytes_freed=360
    is "$(rq '[.routes[] | select(.route != "GET /foreign") | .foreign_frees] | add')" 0 \
       "$name: no other route frees a block it did not allocate"
    check_route "GET /hello" requests=28 allocs=0 frees=0
    check_route "GET /nope" requests=24 allocs=0 frees=0

    # Each request of the routes never pipelined, one by one.
    is "$(records '[.[] | select(.route == "GET /free" or .route == "HEAD /free") | [.allocs, .frees, .peak_bytes, .left_bytes]] | unique')" \
       "[[3,3,2576,0]]" "$name: every /free request: 3 allocs, 3 frees, peak 2576, nothing left"
    is "$(records '[.[] | select(.route == "POST /upload") | [.allocs, .bytes_alloc, .peak_bytes, .left_bytes]] | unique')" \
       "[[2,4144,4144,0]]" "$name: every upload, body in pieces: its buffer and its digest, nothing left"
    is "$(records '[.[] | select(.route == "GET /upstream") | [.allocs, .bytes_alloc, .peak_bytes, .left_bytes]] | unique')" \
       "[[2,656,656,0]]" "$name: every /upstream request is charged its allocation after the upstream answered"
    is "$(records '[.[] | select(.route == "GET /foreign") | [.frees, .foreign_frees, .foreign_bytes]] | unique')" \
       "[[1,1,120]]" "$name: every /foreign request frees one block another request allocated"
    is "$(records '[.[] | select(.route == "GET /foreign")] | last | .end_reason')" close \
       "$name: the request answered with Connection: close ends at the close"
    is "$(records '[.[] | select(.route == "GET /nope") | .status] | unique | join(",")')" 404 "$name: 404s recorded"
    is "$(records '[.[] | select(.route != "GET /nope") | .status] | unique | join(",")')" 200 "$name: 200s recorded"
    is "$(records '[.[].source] | unique | join(",")')" http "$name: every record is from the HTTP detector"
    is "$(records '[.[] | select(.no_response or .approx)] | length')" 0 "$name: every request saw its response"
    # 2 of each 3 pipelined requests end when the next response starts:
    # 2 connections x 3 rounds x 2 for /keep, 2 x 2 x 2 for /hello /nope
    is "$(records '[.[] | select(.end_reason == "pipelined")] | length')" 20 "$name: 20 requests ended by the next pipelined response"
    is "$(records '[.[].conn] | unique | length')" 16 "$name: requests on 16 connections"
    if [ "$srv" = http_epoll ]; then
        # the loop waits before it reads a connection again, and the wait
        # ends the requests it answered; a blocking server's next read does
        is "$(records '[.[] | select(.end_reason == "read")] | length')" 0 \
           "$name: every answered request ends when the loop waits, none at its connection's next read"
    fi
}

exact_server http_threaded
exact_server http_epoll
# an event loop that waits with epoll_pwait2: its answered requests end
# there as at epoll_wait, and what it does between them is no request's
HTTP_EPOLL_WAIT=pwait2 exact_server http_epoll "http_epoll with epoll_pwait2"

# A client that gives up in the middle of a request: the server reads its
# head (the request begins, its buffer is allocated) and half its body,
# then the end of the connection, and closes it and frees the buffer:
# http_threaded before the close, http_epoll after it, as nginx frees a
# connection's pool. Either way the free is the request's clean-up, and the
# request, unanswered, ends at the close having left nothing live.
gave_up() {
    local srv=$1
    CHECK_PREFIX="$srv, a client that gives up: "
    rm -f "$REQPROF_DIR"/*.ring
    start_server "$srv"
    ok $? "$srv starts (a client that gives up)"
    drive 2 "-c 2 -n 1 -a -b 2000" "POST /upload"
    stop_server
    report $(rings)
    is "$(records '[.[] | select(.no_response)] | length')" 2 \
       "$srv: the 2 requests given up on are recorded, unanswered"
    is "$(records '[.[] | select(.no_response) | [.end_reason, .allocs, .frees, .left_bytes]] | unique')" \
       '[["close",1,1,0]]' "$srv: each ends at the close, charged its buffer and the buffer's free"
}
gave_up http_threaded
gave_up http_epoll

# REQPROF_PATHS=0: the route is the method alone.
CHECK_PREFIX="REQPROF_PATHS=0: "
rm -f "$REQPROF_DIR"/*.ring
REQPROF_PATHS=0 start_server http_threaded
ok $? "http_threaded starts with REQPROF_PATHS=0"
drive 24 "-c 2 -n 3" "GET /keep?x=1" "GET /free" "POST /upload" "HEAD /free"
stop_server
report $(rings)
is "$(proc_flag route_paths)" false "REQPROF_PATHS=0: the ring says paths are off"
is "$(rq '[.routes[].route] | sort | join(",")')" "GET,HEAD,POST" "REQPROF_PATHS=0: routes are methods only"
check_route GET requests=12 allocs=42 bytes_alloc=24048 left_sum=720
check_route POST requests=6 allocs=12 bytes_alloc=24864
check_route HEAD requests=6 allocs=18

# REQPROF_HTTP=0: no requests at all, the allocations still counted.
rm -f "$REQPROF_DIR"/*.ring
REQPROF_HTTP=0 start_server http_epoll
ok $? "http_epoll starts with REQPROF_HTTP=0"
drive 8 "-c 2 -n 2" "GET /keep" "POST /upload"
drive 0 "-g 1"
stop_server
report $(rings)
is "$(proc_flag http_detect)" false "REQPROF_HTTP=0: the ring says detection is off"
is "$(rq '.requests | [.begun, .ended, .http_conns, .http_not_http] | join(" ")')" "0 0 0 0" \
   "REQPROF_HTTP=0: no request, no connection followed"
is "$(rq '.routes | length')" 0 "REQPROF_HTTP=0: no routes"
is "$(records 'length')" 0 "REQPROF_HTTP=0: no records"
allocs=$(rq '.processes[0].totals.allocs')
[ "$allocs" -ge 24 ] 2>/dev/null
ok $? "REQPROF_HTTP=0: the routes' 24 allocations are still counted ($allocs)"
finish
