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
mkdir -p "$WORK/nginx"
{ nginx_conf_head "$WORK/nginx" 64; cat <<CONF
    server {
        listen 127.0.0.1:$port;
        location /hello { return 200 "hello\n"; }
    }
}
CONF
} >"$WORK/nginx/nginx.conf"

trap 'stop_nginx "$WORK/nginx"; rm -rf "$WORK"' EXIT

start_nginx "$WORK/nginx"
ok $? "nginx starts under reqprof"
served=0
for _ in $(seq 200); do
    [ "$(curl -s --max-time 5 "http://127.0.0.1:$port/hello")" = hello ] && served=$((served + 1))
done
is "$served" 200 "nginx served 200 requests under reqprof"

j=$(reqprof-report --json --pid "$master")
is "$(jq '.processes | length' <<<"$j")" 3 "reqprof-report --pid MASTER: the master and its 2 workers"
is "$(jq -r "[.processes[] | select(.fork_parent == $master and (.title | startswith(\"nginx: worker process\")))] | length" <<<"$j")" 2 \
   "both workers: forked from the master, titled 'nginx: worker process'"
is "$(jq -r "[.processes[] | select(.pid == $master)][0].title | startswith(\"nginx: master process\")" <<<"$j")" true \
   "the master is titled 'nginx: master process'"
is "$(jq -r '[.processes[] | select(.title | startswith("nginx: worker")) | .totals.allocs > 0] | all' <<<"$j")" true \
   "the workers' own allocations are counted (their rings exist before they drop privileges)"
is "$(jq -r '[.processes[] | .state] | unique | join(",")' <<<"$j")" running "all three are running"
# (a worker that served none of them may be asleep in epoll_wait since it
# started: the kernel can wake one worker only for each connection)
is "$(jq -r '[.processes[] | select(.title | startswith("nginx: worker")) | select(.records | length > 0)
              | .series | length > 1] | (length > 0 and all)' <<<"$j")" true \
   "each worker that served requests has RSS samples over time (taken as it waits in epoll_wait)"
is "$(jq -r "[.processes[] | select(.pid == $master)][0].samples_taken" <<<"$j")" 3 \
   "the master, asleep in sigsuspend, took a sample at start and one at each fork"
reqprof-report --pid "$master" >"$WORK/text"
ok $? "the text report of the running nginx"
grep -q "nginx: worker process" "$WORK/text"
ok $? "the text report names the workers"

stop_nginx "$WORK/nginx"
is "$(reqprof-report --json --pid "$master" | jq -r '[.processes[] | .state] | unique | join(",")')" exited \
   "after nginx -s quit, all three rings say exited"
finish
