# lib.sh -- sourced by the end-to-end tests: TAP output, a private ring
# directory per test, and helpers to read reports with jq.
#
# automake's test environment sets top_srcdir, top_builddir, REQPROF_LIB
# and a PATH that starts with the build directory (reqprof, reqprof-report).
set -u

TAP_N=0
TAP_FAILED=0

ok() { # ok STATUS DESCRIPTION: STATUS 0 passes
    TAP_N=$((TAP_N + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $TAP_N - $2"
    else
        echo "not ok $TAP_N - $2"
        TAP_FAILED=1
    fi
}

is() { # is GOT WANT DESCRIPTION
    if [ "$1" = "$2" ]; then
        ok 0 "$3"
    else
        ok 1 "$3 (got '$1', want '$2')"
    fi
}

skip_all() { # skip_all REASON
    echo "1..0 # SKIP $1"
    exit 0
}

finish() {
    echo "1..$TAP_N"
    exit "$TAP_FAILED"
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/reqprof-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export REQPROF_DIR="$WORK/rings"
PROGS="$top_builddir/tests/progs"

preloaded() { # preloaded CMD ARGS...: runs CMD under libreqprof.so
    LD_PRELOAD="$REQPROF_LIB" "$@"
}

kv() { # kv "a=1 b=2" KEY: the value of KEY in a line of key=value words
    printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

rings() { # rings: the ring files written so far, one per line
    ls "$REQPROF_DIR"/*.ring 2>/dev/null
}

jqr() { # jqr FILTER FILE...: one value from the JSON report of the files
    reqprof-report --json "${@:2}" | jq -r "$1"
}

# free_port: a port on 127.0.0.1 nobody listens on, below Linux's
# ephemeral range (32768-60999): a port in that range can be free of
# listeners and still be taken, as the local port of some client's
# connection, when nginx binds it (a CI run failed so, tests running
# side by side)
free_port() {
    local port
    for _ in $(seq 200); do
        port=$((20000 + RANDOM % 12000))
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
    done
    echo "no free TCP port found on 127.0.0.1" >&2
    return 1
}

# stop_nginx DIR: nginx -s quit for the nginx whose pid file is DIR/nginx.pid,
# then kill -9 if it has not gone in 10 s
stop_nginx() {
    [ -s "$1/nginx.pid" ] || return 0
    local pid
    pid=$(cat "$1/nginx.pid")
    kill -QUIT "$pid" 2>/dev/null
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null
}

# nginx_conf_head DIR CONNECTIONS: the start of an nginx.conf for a test
# nginx kept in DIR (2 workers, run as nobody when we are root), up to the
# temp paths inside "http {": the caller adds its directives, its servers
# and the closing brace.
nginx_conf_head() {
    local user=
    [ "$(id -u)" = 0 ] && user="user nobody nogroup;"
    cat <<CONF
$user
worker_processes 2;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections $2; }
http {
    access_log off;
    client_body_temp_path $1/body;
    proxy_temp_path $1/proxy;
    fastcgi_temp_path $1/fastcgi;
    uwsgi_temp_path $1/uwsgi;
    scgi_temp_path $1/scgi;
CONF
}

# start_nginx DIR: nginx with DIR/nginx.conf under reqprof (samples every
# 100 ms); returns reqprof's status once nginx has written its pid file,
# and sets master to the master's pid
start_nginx() {
    reqprof -q -i 100 -- "$NGINX" -e "$1/error.log" -p "$1" -c "$1/nginx.conf" 2>"$1/launcher.err"
    local status=$?
    for _ in $(seq 50); do [ -s "$1/nginx.pid" ] && break; sleep 0.1; done
    master=$(cat "$1/nginx.pid" 2>/dev/null)
    if [ $status -ne 0 ] || [ -z "$master" ]; then
        # why, in the test's log: a CI run says no more than that
        echo "# nginx did not start (launcher exit $status); its messages:"
        sed 's/^/#   /' "$1/launcher.err" "$1/error.log" 2>/dev/null
    fi
    return $status
}

# class_of SIZE: the jq filter for the class holding usable size SIZE
class_of() {
    echo "[.classes[] | select(.upper >= $1)][0]"
}
