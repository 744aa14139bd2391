#!/bin/bash
# HTTPS: the requests of a real nginx that terminates TLS itself (listen
# ... ssl, a self-signed certificate made here), found through SSL_read
# and SSL_write (src/tls.c) with no help from nginx, beside a plain HTTP
# server block of the same nginx. curl sends known requests on kept-alive
# connections: GETs of a static file (which nginx sends with SSL_write,
# not sendfile, on a TLS connection), of a `return 200` location, and
# POSTs with a body followed by a GET on the same connection (the body
# must be framed for the GET to be found). Every request is checked:
# counted once, under its route. A slow client of a large file makes
# nginx's SSL_write wait and retry: the request after it on the same
# connection must still be found. Then the connections that carry no
# request: a TLS handshake with nothing after it is no request and not
# "not HTTP"; a TLS connection whose plaintext is not HTTP is "not HTTP",
# which says the plaintext, not the ciphertext, is what was parsed; so is
# a TLS client at the plain server block, whose TLS library never sees it.
#
# Last, the calls must reach the right TLS library in a program that
# loads it with dlopen(RTLD_LOCAL), as Python does: tls_local.c loads an
# object linked with libssl.so.3 that way and checks that its SSL_write
# and SSL_read reach OpenSSL, with detection on and off.
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/http_lib.sh"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || skip_all "nginx is not installed (scripts/install-deps installs it)"
"$NGINX" -V 2>&1 | grep -q -- --with-http_ssl_module || skip_all "this nginx has no http_ssl_module"
command -v curl >/dev/null || skip_all "curl is not installed"
command -v jq >/dev/null || skip_all "jq is not installed"
command -v openssl >/dev/null || skip_all "openssl is not installed (scripts/install-deps installs it)"

nginx_test_setup
head -c 8000000 /dev/zero | tr '\0' 'L' >"$WORK/www/static/large.txt"
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

start_test_nginx

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
# 8 MB at 4 MB/s: the socket fills, and nginx's SSL_write returns
# "want write" and is called again with the same bytes
fetch -o /dev/null --limit-rate 4M "$tls/static/large.txt" --next -sk --http1.1 -w "$tally" -o /dev/null "$tls/ret"
is "$(awk '$1 != 200' "$WORK/tally" | wc -l)" 0 "every request got a 200"
is "$(wc -l <"$WORK/tally")" 53 "curl sent 53 requests"
is "$(awk '{ n += $2 } END { print n }' "$WORK/tally")" 11 "on 11 connections: 2 + 3 + 1 kept alive over TLS, 5 plain"

settle "$master"
ok $? "nginx ended every request it began (live rings)"
report --pid "$master"
is "$(rq '.requests.http_not_http')" 0 "no connection was taken for one that is not HTTP"
is "$(rq '.requests.http_conns')" 11 "every connection was followed"
is "$(rq '.requests | [.begun, .ended] | join(" ")')" "53 53" "every request begun and ended once"
is "$(rq '.requests | [.nested, .unmatched, .lost] | join(" ")')" "0 0 0" "nothing nested, unmatched or lost"
is "$(rq '[.routes[].route] | sort | join(",")')" \
    "GET /plain,GET /ret,GET /static/file.txt,GET /static/large.txt,POST /post" "the routes sent, the query cut"
check_route "GET /static/file.txt" requests=20
check_route "GET /static/large.txt" requests=1
check_route "GET /ret" requests=24
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
is "$(rq '.requests.http_conns')" 13 "the two connections were followed"
is "$(rq '.requests | [.begun, .ended] | join(" ")')" "53 53" "neither made a request"
is "$(rq '.requests.http_not_http')" 1 "the one whose plaintext is not HTTP is counted as such"

# A TLS client at the plain server block: nginx answers 400 and closes.
timeout 10 openssl s_client -connect "127.0.0.1:$port2" -quiet </dev/null >/dev/null 2>&1
for _ in $(seq 30); do
    report --pid "$master"
    [ "$(rq '.requests.http_not_http')" = 2 ] && break
    sleep 0.1
done
is "$(rq '.requests | [.http_conns, .http_not_http, .begun] | join(" ")')" "14 2 53" \
    "a TLS client at the plain server: followed, not HTTP once closed, no request"
stop_test_nginx

# dlopen(RTLD_LOCAL): the object's own libssl is where its calls go on to
libssl=$(ldconfig -p 2>/dev/null | awk '$1 == "libssl.so.3" { print $NF; exit }')
if [ -n "$libssl" ] && command -v "${CC:-cc}" >/dev/null; then
    "${CC:-cc}" -O2 -shared -fPIC -o "$WORK/tls_local_lib.so" "$top_srcdir/tests/progs/tls_local_lib.c" \
        -l:libssl.so.3 -l:libcrypto.so.3 &&
        "${CC:-cc}" -o "$WORK/tls_local" "$top_srcdir/tests/progs/tls_local.c" -ldl
    ok $? "tls_local built against $libssl"
    is "$("$WORK/tls_local" "$WORK/tls_local_lib.so")" "reached=4 tail=1" "without reqprof, the calls reach OpenSSL"
    for mode in local global; do
        is "$(preloaded "$WORK/tls_local" "$WORK/tls_local_lib.so" $mode)" "reached=4 tail=1" \
            "RTLD_${mode^^}: SSL_write, SSL_read and their _ex forms go on to OpenSSL under reqprof, from a tail call too"
        is "$(REQPROF_HTTP=0 preloaded "$WORK/tls_local" "$WORK/tls_local_lib.so" $mode)" "reached=4 tail=1" \
            "RTLD_${mode^^}: ... and with detection off"
    done
else
    echo "# no libssl.so.3 or no C compiler: the dlopen(RTLD_LOCAL) checks are not run"
fi
finish
