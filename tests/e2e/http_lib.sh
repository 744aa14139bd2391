# http_lib.sh -- sourced after lib.sh by the request tests: test servers
# started under reqprof and always stopped, free ports, and questions to
# one saved JSON report about its routes and records.

SERVER_PIDS=
STOPPERS=

# Every server a test started is stopped when it exits, pass or fail.
stop_all() {
    local p s
    for s in $STOPPERS; do "$s"; done
    for p in $SERVER_PIDS; do kill -TERM "$p" 2>/dev/null; done
    for p in $SERVER_PIDS; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap stop_all EXIT

# nginx_test_setup: two free ports (port, port2), $WORK/nginx for the
# config and logs, and $WORK/www/static/file.txt (20000 bytes) that
# workers running as nobody can read
nginx_test_setup() {
    port=$(free_port)
    port2=$(free_port)
    [ "$port" != "$port2" ] || port2=$((port + 1))
    chmod 711 "$WORK"
    mkdir -p "$WORK/nginx" "$WORK/www/static"
    head -c 20000 /dev/zero | tr '\0' 's' >"$WORK/www/static/file.txt"
    chmod -R a+rX "$WORK/www"
}

# start_test_nginx: nginx with $WORK/nginx/nginx.conf under reqprof,
# stopped when the test exits (or by stop_test_nginx); one TAP line
stop_test_nginx() { stop_nginx "$WORK/nginx"; }
start_test_nginx() {
    STOPPERS="$STOPPERS stop_test_nginx"
    start_nginx "$WORK/nginx"
    ok $? "nginx starts under reqprof"
}

# start_server PROG: runs tests/progs/PROG under reqprof on a port of its
# choosing; sets SERVER_PID and SERVER_PORT. Settings (REQPROF_PATHS=0 ...)
# go in front of the call.
start_server() {
    # not through preloaded(): a function in the background is a subshell,
    # and $! would be the subshell's pid, not the server's
    LD_PRELOAD="$REQPROF_LIB" "$PROGS/$1" 0 >"$WORK/$1.out" 2>"$WORK/$1.err" &
    SERVER_PID=$!
    SERVER_PIDS="$SERVER_PIDS $SERVER_PID"
    SERVER_PORT=
    for _ in $(seq 100); do
        SERVER_PORT=$(sed -n 's/^port //p' "$WORK/$1.out")
        [ -n "$SERVER_PORT" ] && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# stop_server: SIGTERM to the last server started; its exit status, or 124
# if it does not exit within 5 seconds (then it is killed).
stop_server() {
    kill -TERM "$SERVER_PID" 2>/dev/null
    for _ in $(seq 50); do
        kill -0 "$SERVER_PID" 2>/dev/null || { wait "$SERVER_PID"; return; }
        sleep 0.1
    done
    kill -9 "$SERVER_PID"
    wait "$SERVER_PID"
    return 124
}

# settle PID: waits (up to 3 s) until the processes PID and its children
# have ended every request they began, as a live report says
settle() {
    for _ in $(seq 30); do
        [ "$(reqprof-report --json --pid "$1" | jq '.requests.begun == .requests.ended')" = true ] && return 0
        sleep 0.1
    done
    return 1
}

# report FILES|--pid PID...: the JSON report, saved for the questions below
report() {
    reqprof-report --json "$@" >"$WORK/report.json"
}

# rq FILTER [JQ OPTIONS...]: one answer from the saved report
rq() {
    jq -r "${@:2}" "$1" "$WORK/report.json"
}

# route_get ROUTE FIELD: a field of the merged route ROUTE, or "no route"
route_get() {
    jq -r --arg r "$1" "[.routes[] | select(.route == \$r)] | if length == 1 then .[0].$2 else \"no route\" end" \
        "$WORK/report.json"
}

# words_into NAME LINE: the key=value words of LINE into the associative
# array NAME (kv without a pipeline per key)
words_into() {
    local -n into=$1
    local w
    into=()
    for w in $2; do into[${w%%=*}]=${w#*=}; done
}

# check_route ROUTE FIELD=WANT...: one TAP line per field of the merged
# route (one jq for them all)
check_route() {
    local r=$1 f
    local -A got
    shift
    words_into got "$(jq -r --arg r "$r" --arg fs "${*%%=*}" \
        '[.routes[] | select(.route == $r)] | if length == 1 then .[0] as $o
         | $fs | split(" ") | map("\(.)=\($o[.])") | join(" ") else "" end' "$WORK/report.json")"
    for f in "$@"; do
        is "${got[${f%%=*}]-no route}" "${f#*=}" "${CHECK_PREFIX-}$r: ${f%%=*}"
    done
}

# records FILTER: FILTER applied to the array of every kept record of every process
records() {
    jq -rc "[.processes[].records[]] | $1" "$WORK/report.json"
}

# proc_flag NAME: a process's http_detect or route_paths, wherever the
# reader puts it (beside "requests" or inside it)
proc_flag() {
    rq ".processes[0] | if has(\"$1\") then .$1 else .requests.$1 end"
}
