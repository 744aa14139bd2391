#!/bin/bash
# Exact counts: a program that knows what it allocated (known_allocs), and
# the reference workload churn-logsize, which prints its own counts.
. "$top_srcdir/tests/e2e/lib.sh"

run_known() { # run_known ROUNDS: prints the program's line, leaves one ring in $REQPROF_DIR/$1
    REQPROF_DIR="$WORK/$1" preloaded "$PROGS/known_allocs" "$1"
}

base=$(run_known 0)
line=$(run_known 1000)
ok $? "known_allocs runs under reqprof"
b="$WORK/0"/*.ring
r="$WORK/1000"/*.ring
for key in allocs frees reallocs failed req_bytes usable_bytes freed_bytes live_blocks live_bytes; do
    got=$(( $(jqr ".totals.$key" $r) - $(jqr ".totals.$key" $b) ))
    is "$got" "$(kv "$line" $key)" "$key: exactly what the program made (beyond its start-up)"
done
is "$(jqr '.processes[0].state' $r)" exited "a clean exit is recorded as exited"
is "$(jqr '.processes[0].allocator' $r)" glibc "glibc is recognised as the allocator"
is "$(kv "$line" errno_changed)" 0 "errno is the allocator's: kept on success, ENOMEM on failure"

# churn-logsize prints mallocs= and frees=; its calloc'd slot table and
# stdio add the same calls at every size, so subtract a run with 0 ops.
REQPROF_DIR="$WORK/c0" preloaded "$PROGS/churn-logsize" 0 2>/dev/null
out=$(REQPROF_DIR="$WORK/c1" preloaded "$PROGS/churn-logsize" 2000000 2>&1 >/dev/null)
ok $? "churn-logsize runs under reqprof"
for key in allocs:mallocs frees:frees; do
    got=$(( $(jqr ".totals.${key%%:*}" "$WORK"/c1/*.ring) - $(jqr ".totals.${key%%:*}" "$WORK"/c0/*.ring) ))
    is "$got" "$(kv "$out" ${key##*:})" "churn-logsize: reqprof's ${key%%:*} are the ${key##*:} it printed"
done
is "$(jqr '.totals.live_blocks' "$WORK"/c1/*.ring)" "$(jqr '.totals.live_blocks' "$WORK"/c0/*.ring)" \
   "churn-logsize leaves no more live than a run with 0 ops"
finish
