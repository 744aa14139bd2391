#!/bin/bash
# Threads: 1600 short-lived threads, 8 at a time, with cross-thread frees.
# Their shards are recycled, so 8 slots are enough and none overflows,
# and the 3000-byte class holds exactly what the threads did.
. "$top_srcdir/tests/e2e/lib.sh"

line=$(REQPROF_THREADS=16 preloaded "$PROGS/threads" 200 8 100)
ok $? "threads runs under reqprof"
r=$(rings)
c=$(class_of 3000)
is "$(jqr "$c.allocs" $r)" "$(kv "$line" allocs)" "3000-byte class: every allocation of every thread"
is "$(jqr "$c.frees" $r)" "$(kv "$line" frees)" "3000-byte class: every free, cross-thread ones too"
is "$(jqr "$c.live_blocks" $r)" 0 "3000-byte class: nothing left live"
is "$(jqr '.processes[0].shard_overflows' $r)" 0 "recycled shards: 16 slots serve 1600 threads"
seen=$(jqr '.processes[0].threads_seen' $r)
[ "$seen" -ge 1600 ]
ok $? "every thread was seen ($seen)"

# More threads at once than slots: the rest share one shard, still exact.
rm -f "$REQPROF_DIR"/*.ring
line=$(REQPROF_THREADS=2 preloaded "$PROGS/threads" 20 16 50)
r=$(rings)
is "$(jqr "$c.allocs" $r)" "$(kv "$line" allocs)" "2 slots for 16 threads: allocations still exact"
is "$(jqr "$c.frees" $r)" "$(kv "$line" frees)" "2 slots for 16 threads: frees still exact"
over=$(jqr '.processes[0].shard_overflows' $r)
[ "$over" -gt 0 ]
ok $? "threads without a slot are counted as overflows ($over)"
finish
