#!/bin/bash
# Requests a client gives up on, on a real nginx: the front server block
# proxies /hang/ to a location of the same nginx that holds every request
# but the first (limit_req at one a minute, on a static file: a `return`
# would answer before limit_req's phase), and curl gives up on each after
# half a second. The front then closes the upstream connection,
# frees the request's memory, closes the client's connection and frees
# the connection's: all of that is the abandoned request's clean-up. It
# must be charged to that request, which then leaves nothing live; were
# the request ended at the close, or its frees charged to no request, it
# would stand out as leaking all it allocated.
#
# Not checked here: the held requests of the upstream block. nginx gives
# those up on an epoll event alone, with no socket call on their
# connection before it frees their memory, so that clean-up is still
# charged to no request (reqprof.1, "Not followed").
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/http_lib.sh"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || skip_all "nginx is not installed (scripts/install-deps installs it)"
command -v curl >/dev/null || skip_all "curl is not installed"
command -v jq >/dev/null || skip_all "jq is not installed"

nginx_test_setup
{ nginx_conf_head "$WORK/nginx" 256; cat <<CONF
    limit_req_zone \$server_port zone=held:1m rate=1r/m;
    server {
        listen 127.0.0.1:$port;
        location /hang/ { proxy_pass http://127.0.0.1:$port2/held/; }
        location = /ret { return 200 "ret\n"; }
    }
    server {
        listen 127.0.0.1:$port2;
        location /held/ { limit_req zone=held burst=20; alias $WORK/www/static/; }
    }
}
CONF
} >"$WORK/nginx/nginx.conf"

start_test_nginx
base=http://127.0.0.1:$port
is "$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$base/hang/file.txt")" 200 \
   "the first proxied request is let through and answered"
gave_up=0
for _ in 1 2 3 4; do
    curl -s --max-time 0.5 -o /dev/null "$base/hang/file.txt"
    [ $? = 28 ] && gave_up=$((gave_up + 1))
done
is "$gave_up" 4 "curl gave up on the 4 held requests"
is "$(curl -s --max-time 10 "$base/ret")" ret "nginx still answers"
# the front gives a request up as soon as it sees the client gone; the
# last one's clean-up ends it at its worker's next turn, at the latest
# when nginx exits
sleep 0.5
stop_test_nginx
report $(rings)

hang='[.processes[].records[] | select(.route == "GET /hang/file.txt")]'
is "$(rq "$hang | length")" 5 "5 proxied requests recorded"
is "$(rq "$hang | map(select(.no_response)) | length")" 4 "4 of them without a response"
is "$(rq "$hang | map(select(.no_response) | .end_reason) | unique | join(\",\")")" close \
   "each ended by its connection's close"
is "$(rq "$hang | map(select(.no_response and .frees == 0)) | length")" 0 \
   "each given-up request is charged the frees of its clean-up"
is "$(rq "$hang | map(select(.no_response and .left_bytes * 8 > .bytes_alloc)) | length")" 0 \
   "and leaves next to nothing live (under an eighth of what it allocated)"
is "$(route_get "GET /hang/file.txt" unanswered)" 4 "the route counts 4 unanswered requests"
finish
