#!/bin/bash
# The launcher: reqprof [options] -- CMD runs CMD preloaded, with the
# settings given, exits as CMD did and says where the rings are.
. "$top_srcdir/tests/e2e/lib.sh"
unset REQPROF_DIR
dir="$WORK/launched"

# check_hint RING DIR_WORD WHAT: the launcher's last words in $WORK/err are
# exactly the command that reads RING, its directory written as DIR_WORD,
# and that command, pasted into this shell (no REQPROF_DIR), reads it
check_hint() {
    local pid read_cmd
    pid=$(jqr '.processes[0].pid' "$1")
    grep -qxF "    reqprof-report --dir $2 --pid $pid" "$WORK/err"
    ok $? "$3: the command that reads the ring is printed"
    read_cmd=$(sed -n 's/^    reqprof-report //p' "$WORK/err")
    (eval "reqprof-report -j $read_cmd") >"$WORK/read.json" 2>"$WORK/read.err"
    is "$?:$(jq -r '[.processes[].pid] | join(" ")' "$WORK/read.json")" "0:$pid" \
       "$3: that command, pasted into a shell without REQPROF_DIR, reads the ring"
}

out=$(reqprof -d "$dir" -i 50 -- "$PROGS/known_allocs" 100 2>"$WORK/err")
ok $? "reqprof -- CMD runs CMD and exits 0 with it"
is "$(kv "$out" allocs)" 1300 "CMD's own output is untouched"
r=$(ls "$dir"/*.ring)
is "$(jqr '.processes[0].interval_ms' $r)" 50 "-i sets the sampling interval"
check_hint "$r" "$dir" "with -d"
grep -q "1 ring of pid" "$WORK/err"
ok $? "it counts the rings it wrote"

odd="$WORK/it's a dir"
reqprof -d "$odd" -- true 2>"$WORK/err"
check_hint "$odd"/*.ring "'$WORK/it'\\''s a dir'" "a directory with a space and a quote, quoted"

reqprof -q -d "$dir" -- sh -c 'exit 7'
is $? 7 "CMD's exit status is reqprof's"
reqprof -q -d "$dir" -- sh -c 'kill -TERM $$'
is $? 143 "a CMD killed by a signal: 128 + the signal"
reqprof -q -d "$dir" -- /nonexistent/cmd 2>"$WORK/err"
is $? 127 "a CMD that does not exist: 127"
grep -q "cannot run /nonexistent/cmd" "$WORK/err"
ok $? "and a clear line"
reqprof -i soon -- true 2>"$WORK/err"
is $? 125 "a bad option value: 125, and CMD is not run"
grep -q "'soon' is not an interval" "$WORK/err"
ok $? "and a line that says what is wrong"
reqprof 2>/dev/null
is $? 125 "no command: 125"
REQPROF_LIB=/nonexistent.so reqprof -- true 2>"$WORK/err"
is $? 125 "a missing library: 125"
grep -q "cannot read the preload library" "$WORK/err"
ok $? "and a clear line"

for sig in INT QUIT TERM; do
    reqprof -q -d "$dir" -- "$PROGS/sleeper" 1 100 >"$WORK/ready" &
    launcher=$!
    for _ in $(seq 50); do [ -s "$WORK/ready" ] && break; sleep 0.1; done
    kill -"$sig" "$launcher"
    wait "$launcher"
    is $? $((128 + $(kill -l "$sig"))) "SIG$sig sent to reqprof alone reaches CMD, and reqprof exits as CMD did"
done

# children: a shell that forks a program shows up with it
reqprof -q -d "$dir/kids" -- sh -c "'$PROGS/known_allocs' 3 >/dev/null; '$PROGS/known_allocs' 4 >/dev/null"
n=$(ls "$dir/kids"/*.ring | wc -l)
[ "$n" -ge 3 ]
ok $? "a shell and the programs it runs each get a ring ($n)"
is "$(reqprof-report --json "$dir/kids" | jq -r '[.processes[].state | select(. != "exited" and . != "execed")] | length')" 0 \
   "none reads as died: the shell's _exit and exec are recorded"
finish
