#!/bin/bash
# HTTPS: the requests of a real nginx that terminates TLS itself (listen
# ... ssl, a self-signed certificate made here), found through SSL_read
# and SSL_write (src/tls.c) with no help from nginx, beside a plain HTTP
# server block of the same nginx. curl sends known requests on kept-alive
# connections: GETs of a static file (which nginx sends with SSL_write,
# not sendfile, on a TLS connection), of a `return 200` location, and
# POSTs with a body followed by a GET on the same connection (the body
# must be framed for the GET to be found). Every request is checked:
# counted once, under its route. Then the connections that carry no
# request: a TLS handshake with nothing after it is no request and not
# "not HTTP"; a TLS connection whose plaintext is not HTTP is "not HTTP",
# which says the plaintext, not the ciphertext, is what was parsed.
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/http_lib.sh"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || skip_all "nginx is not installed (scripts/install-deps installs it)"
"$NGINX" -V 2>&1 | grep -q -- --with-http_ssl_module || skip_all "this nginx has no http_ssl_module"
command -v curl >/dev/null || skip_all "curl is not installed"
command -v jq >/dev/null || skip_all "jq is not installed"
command -v openssl >/dev/null || skip_all "openssl is not installed (scripts/install-deps installs it)"

port=$(free_port)
port2=$(free_port)
[ "$port" != "$port2" ] || port2=$((port + 1))
chmod 711 "$WORK" # the workers may run as nobody: the static file must be reachable
mkdir -p "$WORK/nginx" "$WORK/www/static"
head -c 20000 /dev/zero | tr '\0' 's' >"$WORK/www/static/file.txt"
chmod -R a+rX "$WORK/www"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -keyout "$WORK/nginx/key.pem" -out "$WORK/nginx/cert.pem" 2>"$WORK/openssl.err"
ok $? "a self-signed certificate"
{ nginx_conf_head "$WORK/nginx" 256; cat <<CONF
    sendfile on;
    keepalive_timeout 30;
    keepalive_requests 10000;
    server {
        listen 127.0.0.1:$port ssl;
        ssl_certificate $WORK/nginx/cert.pem;
        ssl_certificate_key $WORK/nginx/key.pem;
        location /static/ { root $WORK/www; }
        location = /ret { return 200 "ret\n"; }
        location = /post { return 200 "post\n"; }
    }
    server {
        listen 127.0.0.1:$port2;
        location = /plain { return 200 "plain\n"; }
    }
}
CONF
} >"$WORK/nginx/nginx.conf"

stop_test_nginx() { stop_nginx "$WORK/nginx"; }
STOPPERS=stop_test_nginx

start_nginx "$WORK/nginx"
ok $? "nginx starts under reqprof"

tls=https://127.0.0.1:$port
: >"$WORK/tally"
# fetch CURL_ARGS...: one curl, one keep-alive connection; a line "CODE
# CONNECTS" per response into the tally
tally='%{stderr}%{http_code} %{num_connects}\n'
fetch() {
    curl -sk --http1.1 --max-time 10 -w "$tally" "$@" 2>>"$WORK/tally" >/dev/null
}
gets=()
for _ in $(seq 10); do gets+=(-o /dev/null "$tls/static/file.txt" -o /dev/null "$tls/ret?q=1"); done
fetch "${gets[@]}"
fetch "${gets[@]}"
head -c 10000 /dev/zero | tr '\0' 'b' >"$WORK/body"
for _ in 1 2 3; do
    fetch -o /dev/null --data-binary "@$WORK/body" "$tls/post" --next -sk --http1.1 -w "$tally" -o /dev/null "$tls/ret"
done
for _ in 1 2 3 4 5; do fetch -o /dev/null "http://127.0.0.1:$port2/plain"; done
is "$(awk '$1 != 200' "$WORK/tally" | wc -l)" 0 "every request got a 200"
is "$(wc -l <"$WORK/tally")" 51 "curl sent 51 requests"
is "$(awk '{ n += $2 } END { print n }' "$WORK/tally")" 10 "on 10 connections: 2 + 3 kept alive over TLS, 5 plain"

settle "$master"
ok $? "nginx ended every request it began (live rings)"
report --pid "$master"
is "$(rq '.requests.http_not_http')" 0 "no connection was taken for one that is not HTTP"
is "$(rq '.requests.http_conns')" 10 "every connection was followed"
is "$(rq '.requests | [.begun, .ended] | join(" ")')" "51 51" "every request begun and ended once"
is "$(rq '.requests | [.nested, .unmatched, .lost] | join(" ")')" "0 0 0" "nothing nested, unmatched or lost"
is "$(rq '[.routes[].route] | sort | join(",")')" "GET /plain,GET /ret,GET /static/file.txt,POST /post" \
    "the routes sent, the query cut"
check_route "GET /static/file.txt" requests=20
check_route "GET /ret" requests=23
check_route "POST /post" requests=3
check_route "GET /plain" requests=5
is "$(records '[.[].status] | unique | join(",")')" 200 "every record says 200"
is "$(records '[.[] | select(.no_response)] | length')" 0 "every request saw its response"
is "$(rq '[.routes[] | .allocs > 0] | all')" true "each route's requests are charged nginx's allocations"

# A handshake and nothing more, then plaintext that is not HTTP.
timeout 10 openssl s_client -connect "127.0.0.1:$port" -quiet </dev/null >/dev/null 2>&1
printf 'hello there\r\n\r\n' | timeout 10 openssl s_client -connect "127.0.0.1:$port" -quiet >/dev/null 2>&1
settle "$master"
report --pid "$master"
is "$(rq '.requests.http_conns')" 12 "the two connections were followed"
is "$(rq '.requests | [.begun, .ended] | join(" ")')" "51 51" "neither made a request"
is "$(rq '.requests.http_not_http')" 1 "the one whose plaintext is not HTTP is counted as such"

stop_test_nginx
finish
