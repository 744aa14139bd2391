#!/bin/bash
# Requests of a real nginx from Debian's packages, found with no help
# from nginx: started under the reqprof launcher on 127.0.0.1 with a
# generated config (2 workers, keep-alive, a static file sent with
# sendfile, a `return 200` location, a location proxied to a second
# server block of the same nginx), driven with curl, and every request
# checked: counted once, under its route, in the worker that served it.
# Every response carries X-Worker: the pid of the worker that served it.
#
# The proxied request is two requests, and that is right: the front
# server block's "GET /proxy/x" (its work on the upstream socket is
# charged to it), and the upstream server block's "GET /backend/x", a
# request on a connection nginx accepted. The upstream block's responses
# carry X-Upstream-Worker, which the front passes on to the client.
#
# Then a bounded wrk run, if wrk is installed: wrk's own count can miss
# the requests in flight when it stops, so the report is compared with
# nginx's access log for that location, which logs each request once.
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/http_lib.sh"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || skip_all "nginx is not installed (scripts/install-deps installs it)"
command -v curl >/dev/null || skip_all "curl is not installed"
command -v jq >/dev/null || skip_all "jq is not installed"
curl_version=$(curl --version | sed -n '1s/^curl \([0-9.]*\).*/\1/p')
[ "$(printf '7.84.0\n%s\n' "$curl_version" | sort -V | head -1)" = 7.84.0 ] ||
    skip_all "curl $curl_version has no -w %header{} (7.84)"

nginx_test_setup
{ nginx_conf_head "$WORK/nginx" 256; cat <<CONF
    sendfile on;
    keepalive_timeout 30;
    keepalive_requests 10000;
    server {
        listen 127.0.0.1:$port;
        add_header X-Worker \$pid always;
        location /static/ { root $WORK/www; }
        location = /ret { return 200 "ret\n"; }
        location /proxy/ { proxy_pass http://127.0.0.1:$port2/backend/; }
        location = /wrk { access_log $WORK/nginx/wrk.log; return 200 "wrk\n"; }
    }
    server {
        listen 127.0.0.1:$port2;
        add_header X-Upstream-Worker \$pid always;
        location /backend/ { return 200 "backend\n"; }
    }
}
CONF
} >"$WORK/nginx/nginx.conf"

start_test_nginx

# fetch ROUTE URL...: one curl, so one keep-alive connection for all its
# URLs; each response adds "ROUTE STATUS CONNECTS WORKER UPSTREAM_WORKER"
# to the tally (CONNECTS: 1 if it opened a connection, 0 if it reused
# one; the -w text goes to stderr, the bodies nowhere).
fetch() {
    local route=$1
    shift
    curl -s --max-time 10 -o /dev/null \
        -w "%{stderr}$route %{http_code} %{num_connects} %header{x-worker} %header{x-upstream-worker}\n" \
        "$@" 2>>"$WORK/tally" >/dev/null
}
base=http://127.0.0.1:$port
: >"$WORK/tally"
urls() { for _ in $(seq "$2"); do printf '%s\n' "$1"; done; }
# shellcheck disable=SC2046 # one URL a word
for _ in 1 2; do
    fetch "GET /static/file.txt" $(urls "$base/static/file.txt" 10)
    fetch "GET /ret" $(urls "$base/ret?q=1" 10)
    fetch "GET /proxy/x" $(urls "$base/proxy/x" 5)
done
for _ in 1 2 3 4 5; do
    fetch "GET /static/file.txt" "$base/static/file.txt"
    fetch "GET /ret" "$base/ret"
    fetch "GET /proxy/x" "$base/proxy/x?n=1"
done
# HEAD: the response says Content-Length: 20000 and has no body; the GET
# after it on the same connection is a request of its own.
for _ in 1 2 3; do
    curl -s --max-time 10 -I -o /dev/null \
        -w "%{stderr}HEAD /static/file.txt %{http_code} %{num_connects} %header{x-worker}\n" \
        "$base/static/file.txt" --next -s -o /dev/null \
        -w "%{stderr}GET /ret %{http_code} %{num_connects} %header{x-worker}\n" "$base/ret" 2>>"$WORK/tally"
done
tally() { # tally AWK_CONDITION: the lines of the tally that match
    awk "$1" "$WORK/tally" | wc -l
}
is "$(tally '$3 != 200')" 0 "every curl request got a 200"
sent_static=$(tally '$1 == "GET" && $2 == "/static/file.txt"')
sent_ret=$(tally '$1 == "GET" && $2 == "/ret"')
sent_proxy=$(tally '$1 == "GET" && $2 == "/proxy/x"')
sent_head=$(tally '$1 == "HEAD"')
is "$sent_static $sent_ret $sent_proxy $sent_head" "25 28 15 3" "curl sent 25 static, 28 return, 15 proxied, 3 HEAD requests"
conns=$(awk '{ n += $4 } END { print n }' "$WORK/tally")
is "$conns" 24 "curl kept its connections alive: 71 requests on 24 connections"

# The curl requests, checked on the live rings once nginx has ended them
# all (each curl closed its connection; nginx reads the EOF and closes).
settle "$master"
ok $? "nginx ended every request it began (live rings)"
report --pid "$master"
cp "$WORK/report.json" "$WORK/report.json.curl"
is "$(rq '.processes | length')" 3 "the master and its 2 workers"
is "$(rq "[.processes[] | select(.pid == $master)][0].requests.begun")" 0 "the master accepts nothing: no requests"
is "$(rq '.requests.http_not_http')" 0 "every accepted connection spoke HTTP"
is "$(rq '.requests.http_conns')" $((conns + sent_proxy)) \
   "connections: curl's, and one per proxied request to the upstream block (HTTP/1.0, no keep-alive)"
is "$(rq '.requests | [.nested, .unmatched, .lost] | join(" ")')" "0 0 0" "nothing nested, unmatched or lost"
is "$(rq '.requests | [.begun, .ended] | join(" ")')" "$((sent_static + sent_ret + 2 * sent_proxy + sent_head)) $((sent_static + sent_ret + 2 * sent_proxy + sent_head))" \
   "every request begun and ended once (a proxied one twice: front and upstream block)"
is "$(rq '[.routes[].route] | sort | join(",")')" \
   "GET /backend/x,GET /proxy/x,GET /ret,GET /static/file.txt,HEAD /static/file.txt" \
   "the routes sent, and the upstream server block's own /backend/x"
check_route "GET /static/file.txt" requests="$sent_static"
check_route "GET /ret" requests="$sent_ret"
check_route "GET /proxy/x" requests="$sent_proxy"
check_route "GET /backend/x" requests="$sent_proxy"
check_route "HEAD /static/file.txt" requests="$sent_head"
is "$(records '[.[].status] | unique | join(",")')" 200 "every record says 200"
is "$(records '[.[] | select(.no_response)] | length')" 0 "every request saw its response"
is "$(records '[.[].source] | unique | join(",")')" http "every record is from the HTTP detector"

# per worker: the report's processes[] of each route against X-Worker
per_worker() { # per_worker ROUTE COLUMN: "pid:count,..." by the tally's COLUMN
    awk -v r="$1" -v col="$2" '$1 " " $2 == r { n[$col]++ } END { for (p in n) print p ":" n[p] }' "$WORK/tally" |
        sort | paste -sd,
}
for r in "GET /static/file.txt" "GET /ret" "GET /proxy/x" "HEAD /static/file.txt"; do
    is "$(rq '[.routes[] | select(.route == $r) | .processes[] | "\(.pid):\(.requests)"] | sort | join(",")' --arg r "$r")" \
       "$(per_worker "$r" 5)" "$r: requests per worker as X-Worker says"
done
is "$(rq '[.routes[] | select(.route == "GET /backend/x") | .processes[] | "\(.pid):\(.requests)"] | sort | join(",")')" \
   "$(per_worker "GET /proxy/x" 6)" "GET /backend/x: requests per worker as X-Upstream-Worker says"
is "$(rq '[.routes[] | .allocs > 0] | all')" true "each route's requests are charged nginx's allocations"
# nginx frees a request's pool after its response and before it reads or
# waits again: those frees are the request's own, and it leaves nothing.
# Not so for some of the proxied route's requests, a number that varies
# from run to run: they make a fourth allocation, of 520 usable bytes,
# that is still live when they end (idle) and is freed later, outside
# any request. Timing decides, so it is only shown below.
is "$(rq '[.routes[] | select(.route != "GET /proxy/x") | .left_sum] | add')" 0 \
   "the other routes leave nothing live: the request pool's frees are charged to its request"
rq '.routes[] | "# \(.route): \(.requests) requests, by worker \([.processes[] | "\(.pid):\(.requests)"] | join(" ")); \(.allocs) allocs, \(.foreign_frees) foreign frees, peak max \(.peak_max), left \(.left_sum) in \(.leaky) requests"'

# A bounded wrk run: the route's count against nginx's access log.
wrk_sent=
if command -v wrk >/dev/null; then
    wrk_sent=$(wrk -t1 -c4 -d1s "$base/wrk" | sed -n 's/^ *\([0-9][0-9]*\) requests in.*/\1/p')
    [ -n "$wrk_sent" ] && [ "$wrk_sent" -gt 0 ]
    ok $? "wrk ran: $wrk_sent requests"
fi
stop_test_nginx
report --pid "$master"
is "$(rq '[.processes[].state] | unique | join(",")')" exited "nginx quit: all three rings say exited"
is "$(rq '.requests.begun == .requests.ended')" true "every request ended by the time nginx quit"
others='[.routes[] | select(.route != "GET /wrk") | "\(.route):\(.requests)"] | sort | join(",")'
is "$(rq "$others")" "$(jq -r "$others" "$WORK/report.json.curl")" "the curl routes did not change after"
if [ -n "$wrk_sent" ]; then
    logged=$(wc -l <"$WORK/nginx/wrk.log")
    counted=$(route_get "GET /wrk" requests)
    is "$counted" "$logged" "GET /wrk: as many requests as nginx logged"
    [ "$counted" -ge "$wrk_sent" ] && [ "$counted" -le $((wrk_sent + 4)) ]
    ok $? "GET /wrk: $counted counted; wrk completed $wrk_sent and had at most 4 in flight"
fi
finish
