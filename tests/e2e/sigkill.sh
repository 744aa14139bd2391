#!/bin/bash
# kill -9: the ring outlives the process and is read post mortem.
. "$top_srcdir/tests/e2e/lib.sh"

mkfifo "$WORK/out"
LD_PRELOAD="$REQPROF_LIB" "$PROGS/sleeper" 250 9000 >"$WORK/out" &
pid=$!
read -r ready <"$WORK/out"
is "$ready" ready "sleeper allocated and waits"
is "$(jqr '.processes[0].state' $(rings))" running "while it runs, the ring says running"
kill -9 "$pid"
wait "$pid" 2>/dev/null
r=$(rings)
is "$(jqr '.processes[0].state' $r)" died "after kill -9, the ring says died"
is "$(jqr "$(class_of 9000).allocs" $r)" 250 "after kill -9, all 250 allocations are there"
is "$(jqr "$(class_of 9000).live_blocks" $r)" 250 "after kill -9, all 250 blocks live"
finish
