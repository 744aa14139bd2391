#!/bin/bash
# When samples are taken. reqprof starts no thread: a process takes a
# sample at start, at each fork and at exit, and in between its own
# threads take the one that is due as they allocate or wait in
# epoll_wait (nginx.sh checks the epoll_wait side and the forks).
. "$top_srcdir/tests/e2e/lib.sh"

# An allocating process is sampled as it goes, on its own thread.
REQPROF_INTERVAL_MS=20 preloaded "$PROGS/churn-logsize" 2000000 >/dev/null
r=$(rings)
taken=$(jqr '.processes[0].samples_taken' $r)
[ "${taken:-0}" -ge 10 ]
ok $? "a process that allocates takes samples as it runs ($taken, at most one per 20 ms)"
is "$(jqr '.processes[0].series | length' $r)" "$taken" "at the first stride the series keeps them all"
# the last one, taken at exit, may come sooner
gap=$(jqr '.processes[0].series | [range(1; length - 1) as $i | .[$i].t_ns - .[$i - 1].t_ns] | min' $r)
[ "${gap:-0}" -ge 10000000 ]
ok $? "kept samples are at least the stride less half an interval apart (closest: $gap ns)"
rm -f $r

# A full series is compacted: every other sample goes and the stride
# doubles; kept samples stay at least half the stride apart (series.c).
# (The smallest ring holds 42 samples: at 10 ms, the run must last 0.42 s;
# 6M operations take 2 s and more.)
REQPROF_INTERVAL_MS=10 REQPROF_RING_SIZE=64K REQPROF_THREADS=1 REQPROF_ROUTES=2 REQPROF_RECORDS=1 \
    preloaded "$PROGS/churn-logsize" 6000000 >/dev/null 2>&1
r=$(rings)
stride=$(jqr '.processes[0].series_stride_ms' $r)
[ "${stride:-0}" -ge 20 ]
ok $? "a small ring's series was compacted (stride $stride ms)"
gap=$(jqr '.processes[0].series | [range(1; length - 1) as $i | .[$i].t_ns - .[$i - 1].t_ns] | min' $r)
[ "${gap:-0}" -ge $(( stride / 2 * 1000000 )) ]
ok $? "kept samples are at least half the stride apart (closest: $gap ns, stride $stride ms)"
rm -f $r

# A sleeping process has no thread of reqprof's and takes no sample.
LD_PRELOAD="$REQPROF_LIB" REQPROF_INTERVAL_MS=20 "$PROGS/sleeper" 10 100 >"$WORK/ready" &
pid=$!    # the sleeper's own pid: not run through a function, whose $! is a subshell's
for _ in $(seq 50); do [ -s "$WORK/ready" ] && break; sleep 0.1; done
sleep 0.3
is "$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status")" 1 "reqprof adds no thread to the process"
is "$(jqr '.processes[0].samples_taken' $(rings))" 1 "asleep for 300 ms, it has taken only its sample at start"
kill "$pid"
wait "$pid" 2>/dev/null
finish
