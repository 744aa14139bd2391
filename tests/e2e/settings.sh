#!/bin/bash
# Settings from the environment: bad values get one line on stderr and
# the default; the off switch writes nothing; an unusable directory never
# stops the host.
. "$top_srcdir/tests/e2e/lib.sh"

err=$(REQPROF_INTERVAL_MS=soon REQPROF_RING_SIZE=12Q REQPROF_THREADS=0 REQPROF_OFF=maybe \
      preloaded "$PROGS/known_allocs" 10 2>&1 >/dev/null)
ok $? "the host runs despite four bad settings"
is "$(grep -c '^reqprof\[[0-9]*\]: ' <<<"$err")" 4 "one line on stderr for each bad setting"
grep -q 'REQPROF_INTERVAL_MS=soon is not a number of milliseconds.*; using 1000' <<<"$err"
ok $? "the line names the variable, the value, what it wants and the default"
r=$(rings)
is "$(jqr '.processes[0].interval_ms' $r)" 1000 "the default interval is used"
is "$(jqr '.processes[0].totals.allocs > 0' $r)" true "the ring counts all the same"

rm -f "$REQPROF_DIR"/*.ring
line=$(REQPROF_OFF=1 preloaded "$PROGS/known_allocs" 10)
ok $? "REQPROF_OFF=1: the host runs"
is "$(rings | wc -l)" 0 "REQPROF_OFF=1: no ring"

touch "$WORK/file"
out=$(REQPROF_DIR="$WORK/file" preloaded "$PROGS/known_allocs" 10 2>"$WORK/err")
ok $? "a ring directory that is a file: the host runs"
is "$(kv "$out" allocs)" 130 "a ring directory that is a file: the host's output is intact"
grep -q 'is not a directory' "$WORK/err"
ok $? "a ring directory that is a file: one clear line"

# a directory that is not ours alone: refused, and nothing is written in it
mkdir -m 700 "$WORK/real" "$WORK/theirs"
mkdir -m 755 "$WORK/open"
ln -s "$WORK/real" "$WORK/link"
REQPROF_DIR="$WORK/link" preloaded "$PROGS/known_allocs" 1 >/dev/null 2>"$WORK/err"
ok $? "a ring directory that is a symbolic link: the host runs"
grep -q "$WORK/link is not a directory" "$WORK/err" && [ -z "$(ls "$WORK/real")" ]
ok $? "a ring directory that is a symbolic link: refused, nothing written where it points"
REQPROF_DIR="$WORK/open" preloaded "$PROGS/known_allocs" 1 >/dev/null 2>"$WORK/err"
grep -q "$WORK/open is open to other users" "$WORK/err" && [ -z "$(ls "$WORK/open")" ]
ok $? "a ring directory open to other users: refused, nothing written in it"
if [ "$(id -u)" = 0 ]; then
    chown nobody "$WORK/theirs"
    REQPROF_DIR="$WORK/theirs" preloaded "$PROGS/known_allocs" 1 >/dev/null 2>"$WORK/err"
    grep -q "$WORK/theirs belongs to uid $(id -u nobody)" "$WORK/err" && [ -z "$(ls "$WORK/theirs")" ]
    ok $? "a ring directory of another user: refused, nothing written in it"
fi

out=$(REQPROF_DIR=relative/dir preloaded "$PROGS/known_allocs" 1 2>"$WORK/err")
ok $? "a relative ring directory: the host runs"
grep -q 'REQPROF_DIR=relative/dir is not an absolute path' "$WORK/err"
ok $? "a relative ring directory is refused with a clear line"

REQPROF_RING_SIZE=64K REQPROF_THREADS=4 preloaded "$PROGS/known_allocs" 5 >/dev/null 2>"$WORK/err"
ok $? "a small ring: the host runs"
r=$(ls -t "$REQPROF_DIR"/*.ring | head -n 1)
size=$(stat -c %s "$r")
[ "$size" -gt 65536 ]
ok $? "a ring too small for its shards grows to fit them ($size bytes)"
grep -q 'cannot hold' "$WORK/err"
ok $? "and says so"
is "$(stat -c %a "$REQPROF_DIR")" 700 "the ring directory is 0700"
is "$(stat -c %a "$r")" 600 "ring files are 0600"

REQPROF_DIR="$WORK/gone" preloaded "$PROGS/stderr_reuse" "$WORK/gone" "$WORK/data" 2>"$WORK/err"
ok $? "a host that reuses descriptor 2 for a data file runs"
grep -q 'is not a directory' "$WORK/err"
[ $? -ne 0 ] && [ ! -s "$WORK/data" ]
ok $? "reqprof's line about the lost ring directory lands neither in the data file nor anywhere else"

REQPROF_HEAP_STATS=0 preloaded "$PROGS/known_allocs" 5 >/dev/null
r=$(ls -t "$REQPROF_DIR"/*.ring | head -n 1)
is "$(jqr '.processes[0].last.heap_mapped' "$r")" null "REQPROF_HEAP_STATS=0: the allocator's figures are unknown"
finish
