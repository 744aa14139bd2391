#!/bin/bash
# A real nginx from Debian's packages, under the launcher, on 127.0.0.1:
# the master and both workers get rings (the workers' before they drop
# privileges), a bounded number of requests is served, and the report
# merges them all.
. "$top_srcdir/tests/e2e/lib.sh"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || skip_all "nginx is not installed (scripts/install-deps installs it)"
command -v curl >/dev/null || skip_all "curl is not installed"

port=$(free_port)
user=
[ "$(id -u)" = 0 ] && user="user nobody nogroup;"
mkdir -p "$WORK/nginx"
cat >"$WORK/nginx/nginx.conf" <<CONF
$user
worker_processes 2;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    server {
        listen 127.0.0.1:$port;
        location /hello { return 200 "hello\n"; }
    }
}
CONF

trap 'stop_nginx "$WORK/nginx"; rm -rf "$WORK"' EXIT

reqprof -q -i 100 -- "$NGINX" -e "$WORK/nginx/error.log" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf"
ok $? "nginx starts under reqprof"
for _ in $(seq 50); do [ -s "$WORK/nginx/nginx.pid" ] && break; sleep 0.1; done
master=$(cat "$WORK/nginx/nginx.pid")
served=0
for _ in $(seq 200); do
    [ "$(curl -s --max-time 5 "http://127.0.0.1:$port/hello")" = hello ] && served=$((served + 1))
done
is "$served" 200 "nginx served 200 requests under reqprof"
sleep 0.3 # one sample after the load

j=$(reqprof-report --json --pid "$master")
is "$(jq '.processes | length' <<<"$j")" 3 "reqprof-report --pid MASTER: the master and its 2 workers"
is "$(jq -r "[.processes[] | select(.fork_parent == $master and (.title | startswith(\"nginx: worker process\")))] | length" <<<"$j")" 2 \
   "both workers: forked from the master, titled 'nginx: worker process'"
is "$(jq -r "[.processes[] | select(.pid == $master)][0].title | startswith(\"nginx: master process\")" <<<"$j")" true \
   "the master is titled 'nginx: master process'"
is "$(jq -r '[.processes[] | select(.title | startswith("nginx: worker")) | .totals.allocs > 0] | all' <<<"$j")" true \
   "the workers' own allocations are counted (their rings exist before they drop privileges)"
is "$(jq -r '[.processes[] | .state] | unique | join(",")' <<<"$j")" running "all three are running"
is "$(jq -r '[.processes[] | .series | length > 1] | all' <<<"$j")" true "each has RSS samples over time"
reqprof-report --pid "$master" >"$WORK/text"
ok $? "the text report of the running nginx"
grep -q "nginx: worker process" "$WORK/text"
ok $? "the text report names the workers"

stop_nginx "$WORK/nginx"
is "$(reqprof-report --json --pid "$master" | jq -r '[.processes[] | .state] | unique | join(",")')" exited \
   "after nginx -s quit, all three rings say exited"
finish
