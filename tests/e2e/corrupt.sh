#!/bin/bash
# reqprof-report against input that is not a good ring: each must give
# exit 1 (or 2 for a usage error) and one clear line on stderr, never a
# crash or a hang. A valid ring alongside must still be reported.
# Rings are made by tests/progs/mkring (counters, routes, records and
# marks known: tests/ring_build.h).
. "$top_srcdir/tests/e2e/lib.sh"

MKRING="$PROGS/mkring"
D="$WORK/d"
mkdir -p "$D" "$WORK/empty"
"$MKRING" "$D/good.ring" || { echo "Bail out! mkring failed"; exit 1; }

run() { # run ARGS...: reqprof-report's status in $rc, its output in $WORK/out and $WORK/err
    timeout 20 reqprof-report "$@" >"$WORK/out" 2>"$WORK/err"
    rc=$?
}

put_le() { # put_le FILE OFFSET WIDTH VALUE: VALUE little-endian in WIDTH bytes at OFFSET
    local i v=$4 esc=""
    for ((i = 0; i < $3; i++)); do
        esc+=$(printf '\\%03o' $((v & 255)))
        v=$((v >> 8))
    done
    printf "$esc" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

u64_at() { # u64_at FILE OFFSET: the little-endian u64 there
    od -A n -t u8 -j "$2" -N 8 "$1" | tr -d ' '
}

damaged() { # damaged NAME OFFSET WIDTH VALUE: a copy of the good ring with one field changed
    cp "$D/good.ring" "$WORK/$1"
    put_le "$WORK/$1" "$2" "$3" "$4"
}

# expect STATUS PATTERN DESCRIPTION: the last run exited with STATUS, said
# PATTERN on a "reqprof-report: " line of stderr, and no sanitizer spoke
expect() {
    if [ "$rc" -eq "$1" ] && grep -q "^reqprof-report: .*$2" "$WORK/err" &&
       ! grep -q 'Sanitizer\|runtime error' "$WORK/err"; then
        ok 0 "$3"
    else
        ok 1 "$3 (exit $rc, stderr: $(head -c 400 "$WORK/err"))"
    fi
}

# ---- a valid ring ----
run --json "$D/good.ring"
is "$rc" 0 "a valid ring: exit 0"
is "$(jq -r '.processes[0].pid' "$WORK/out")" 4242 "its JSON parses: pid"
is "$(jq -r '.totals.allocs, .totals.frees, .totals.live_blocks' "$WORK/out" | tr '\n' ' ')" "24 15 12 " \
   "the known counts: allocs, frees, live blocks"
is "$(jq -r '.processes[0].series | length' "$WORK/out")" 10 "the series"
is "$(jq -r '.report_version, .requests.ended, .requests.records_kept, .requests.records_torn' "$WORK/out" |
      tr '\n' ' ')" "2 60 47 1 " "report version 2; requests ended, records kept and torn"
is "$(jq -r '[.routes[].route] | join(",")' "$WORK/out")" "GET /leak,POST /b,GET /a,(other routes)" \
   "routes ranked by what they leave live"
is "$(jq -r '.routes[] | select(.route == "GET /a") | [.peak_p50, .peak_p90, .peak_p99, .processes[0].pid] |
      join(" ")' "$WORK/out")" "112 1024 5000 4242" "GET /a: peak percentiles and its process"
is "$(jq -r '[(.standouts | length), .standouts[0].id, .standouts[0].why, .standouts[10].why] | join(" ")' \
      "$WORK/out")" "20 56 left peak" "standouts: 10 by left bytes, then 10 by peak"
is "$(jq -r '.processes[0] | [(.records | length), .records[0].id, (.marks | length), .marks[1].label,
      .http_detect, (.routes | length)] | join(" ")' "$WORK/out")" "47 13 3 reload true 4" \
   "per process: records oldest first, marks, http_detect, routes"
run "$D/good.ring"
[ "$rc" -eq 0 ] && grep -q '^Totals' "$WORK/out" && grep -q '^ *4242 .*testprog: worker' "$WORK/out" &&
    grep -q '^Requests: 60 ended' "$WORK/out" && grep -q '^Routes by bytes left live' "$WORK/out" &&
    grep -q '^  GET /leak  *4 ' "$WORK/out" && grep -q '^Marks' "$WORK/out"
ok $? "a valid ring as text: exit 0, totals, the process title, requests, routes and marks"

"$MKRING" -q "$WORK/quiet.ring"
run "$WORK/quiet.ring"
[ "$rc" -eq 0 ] && grep -q '^Requests: none seen.*reqprof.h' "$WORK/out" && ! grep -q '^Routes' "$WORK/out"
ok $? "no requests: one line saying so, with a hint"

# ---- damaged files ----
head -c 8192 "$D/good.ring" >"$WORK/cut.ring"
run "$WORK/cut.ring"
expect 1 "cut.ring: truncated: header says [0-9]* bytes, file has 8192" "truncated ring"

head -c 100 "$D/good.ring" >"$WORK/short.ring"
run "$WORK/short.ring"
expect 1 "short.ring: truncated" "ring cut inside its header"

: >"$WORK/empty.ring"
run "$WORK/empty.ring"
expect 1 "empty.ring: empty file" "empty file"

run /dev/null
expect 1 "/dev/null: not a regular file" "/dev/null"

run /dev/zero
expect 1 "/dev/zero: not a regular file" "/dev/zero"

run "$WORK/empty"
expect 1 "no rings in $WORK/empty" "directory with no rings"

echo "I am not a ring, just a text file that is long enough to have a header" >"$WORK/x.ring"
run "$WORK/x.ring"
expect 1 "x.ring: not a reqprof ring (bad magic)" "foreign file named x.ring"

"$MKRING" -V 3 "$WORK/new.ring"
run "$WORK/new.ring"
expect 1 "new.ring: written by a newer reqprof (format 3), this reader knows 2" "newer format version"

"$MKRING" -V 1 "$WORK/old.ring"
run "$WORK/old.ring"
expect 1 "old.ring: written by an older reqprof (format 1), this reader knows 2" "older format version"

cp "$D/good.ring" "$WORK/state.ring"
printf '\011' | dd of="$WORK/state.ring" bs=1 seek=40 conv=notrunc 2>/dev/null
run "$WORK/state.ring"
expect 1 "state.ring: bad state 9" "bad state byte patched in"

# ---- format 2: the request areas (header offsets in reqprof-ring(5)) ----
damaged rec_eof.ring 704 8 1048576
run "$WORK/rec_eof.ring"
expect 1 "rec_eof.ring: record area (offset 1048576, 48 x 256 bytes) lies outside the file" "record area past EOF"

damaged route_shards.ring 688 8 "$(u64_at "$D/good.ring" 120)"
run "$WORK/route_shards.ring"
expect 1 "route_shards.ring: shards .* and route table .* overlap" "route table over the shards"

damaged mark_hdr.ring 720 8 64
run "$WORK/mark_hdr.ring"
expect 1 "mark_hdr.ring: mark area at offset 64 overlaps the header" "mark area in the header"

damaged route_size.ring 684 4 1
run "$WORK/route_size.ring"
expect 1 "route_size.ring: bad route_size 1" "bad route_size"

damaged record_cap.ring 696 4 $((1 << 21))
run "$WORK/record_cap.ring"
expect 1 "record_cap.ring: bad record_cap 2097152" "record_cap beyond its limit"

damaged routes_used.ring 728 8 100
run "$WORK/routes_used.ring"
expect 1 "routes_used.ring: routes_used 100 exceeds route_cap 8" "routes_used beyond route_cap"

# damage inside a record or a name is skipped or sanitized, not refused
rec20=$(( $(u64_at "$D/good.ring" 704) + 20 * 256 ))
damaged rec_route.ring $((rec20 + 20)) 4 9999
run --json "$WORK/rec_route.ring"
is "$rc $(jq -r '[.requests.records_kept, .requests.records_torn,
      (.processes[0].records | map(select(.id == 21)) | length)] | join(" ")' "$WORK/out")" "0 46 2 0" \
   "a record's route index beyond the table: that record skipped and counted"

cp "$D/good.ring" "$WORK/names.ring"
route1=$(( $(u64_at "$D/good.ring" 688) + 3848 ))
head -c 128 /dev/zero | tr '\0' 'A' | dd of="$WORK/names.ring" bs=1 seek="$route1" conv=notrunc 2>/dev/null
printf 'GET /\033[2J\001' | dd of="$WORK/names.ring" bs=1 seek=$((route1 + 3848)) conv=notrunc 2>/dev/null
run --json "$WORK/names.ring"
is "$rc $(jq -r '[.routes[].route | length] | sort | join(" ")' "$WORK/out") \
$(jq -r '.routes[] | select(.route | startswith("GET /?")) | .route' "$WORK/out")" "0 7 10 14 127 GET /?[2J?" \
   "a route name without NUL cut to 127 bytes, control bytes in one replaced"

truncate -s 2G "$WORK/huge.ring"
run "$WORK/huge.ring"
expect 1 "huge.ring: too large" "2 GiB file: refused before reading"

mkfifo "$WORK/fifo.ring"
run "$WORK/fifo.ring"
expect 1 "fifo.ring: not a regular file" "FIFO: refused without blocking"

run "$WORK/nonexistent.ring"
expect 1 "nonexistent.ring: No such file or directory" "nonexistent path"

REQPROF_DIR="$WORK/nodir" run
expect 1 "$WORK/nodir: cannot read directory" "default ring directory missing"

run --dir "$WORK/empty"
expect 1 "no rings in $WORK/empty" "--dir with no rings"

run --dir "$D" --pid 31999
expect 1 "no rings for pid 31999 in $D" "--pid with no ring"

# ---- a bad ring next to a good one: the good one is still reported ----
run --json "$D/good.ring" "$WORK/x.ring"
expect 1 "x.ring: not a reqprof ring" "good and bad: exit 1"
is "$(jq -r '[(.processes | length), (.errors | length)] | join(" ")' "$WORK/out")" "1 1" \
   "good and bad: the good one reported, the bad one listed in errors"

# ---- usage ----
run --bogus
expect 2 "unknown option, or an argument it does not take: '--bogus' (try 'reqprof-report --help')" "unknown option"
run -x
expect 2 "unknown option '-x'" "unknown short option"
run --pid abc
expect 2 "bad --pid 'abc'" "--pid not a number"
run --pid 0
expect 2 "bad --pid '0'" "--pid 0"
run --pid
expect 2 "option '--pid' needs an argument" "--pid without its argument"
run --dir ""
expect 2 "--dir needs a directory" "--dir empty"
run --help
[ "$rc" -eq 0 ] && grep -q '^Usage: reqprof-report' "$WORK/out"
ok $? "--help: usage on stdout, exit 0"
run --version
[ "$rc" -eq 0 ] && grep -q '^reqprof-report [0-9]' "$WORK/out"
ok $? "--version"

# ---- --pid: a process and its descendants, newest image per pid ----
# -k is the kernel's start time, which tells a parent from a reused pid
P="$WORK/p"
mkdir "$P"
"$MKRING" -p 100 -P 1 -f 0 -k 100 -t "nginx: master process" "$P/nginx.100.ring"
"$MKRING" -p 101 -P 100 -f 100 -k 110 -t "nginx: worker process" "$P/nginx.101.ring"
"$MKRING" -p 102 -P 100 -f 100 -k 110 -s execed -t "nginx: worker process" "$P/nginx.102.ring"
"$MKRING" -p 103 -P 102 -f 0 -k 120 -t "helper" "$P/helper.103.ring"
"$MKRING" -p 102 -P 100 -f 100 -k 110 -t "exec'ed worker" "$P/nginx.102.2.ring"
"$MKRING" -p 200 -P 1 -f 0 -k 100 -t "unrelated" "$P/other.200.ring"
"$MKRING" -p 300 -P 1 -f 0 -k 500 -t "a reused pid" "$P/new.300.ring"
"$MKRING" -p 301 -P 300 -f 0 -k 130 -t "child of an earlier 300" "$P/old.301.ring"
cp "$WORK/x.ring" "$P/junk.ring"
run --json --dir "$P" --pid 100
is "$rc" 0 "--pid 100: exit 0 (an unreadable ring of unknown owner is skipped)"
is "$(jq -r '[.processes[].pid] | sort | join(" ")' "$WORK/out")" "100 101 102 103" \
   "--pid 100: the master, its workers and a worker's child, though that worker exec'ed since"
is "$(jq -r '.processes[] | select(.pid == 102) | .title' "$WORK/out")" "exec'ed worker" \
   "--pid: the newest image of a pid"
is "$(jq -r '.totals.allocs' "$WORK/out")" 96 "--pid: totals merged over the four"
is "$(jq -r '.routes[] | select(.route == "GET /a") | [.requests, (.processes | length)] | join(" ")' \
      "$WORK/out")" "40 4" "--pid: a route merged over the four, each process listed"
run --dir "$P" --pid 100
grep -q '^Requests by process' "$WORK/out" && grep -q '^  pid 101 .* 60 requests in 4 routes' "$WORK/out"
ok $? "--pid as text: requests by process"
run --json --dir "$P" --pid 101 --pid 200
is "$(jq -r '[.processes[].pid] | sort | join(" ")' "$WORK/out")" "101 200" "--pid twice"
run -j -d "$P" -p 101 -p200
is "$rc:$(jq -r '[.processes[].pid] | sort | join(" ")' "$WORK/out")" "0:101 200" \
   "-j, -d and -p are --json, --dir and --pid"
run -p
expect 2 "option '-p' needs an argument" "-p without its argument"
run -jp
expect 2 "option '-p' needs an argument" "-p without its argument, after -j in one word"
run --json -xj
expect 2 "unknown option '-x'" "an unknown letter in a cluster is the one named"
run --json --dir "$P" --pid 102 "$P/helper.103.ring"
is "$(jq -r '.processes | length' "$WORK/out")" 2 "a ring named twice is reported once"
run --json --dir "$P" --pid 300
is "$(jq -r '[.processes[].pid] | join(" ")' "$WORK/out")" 300 \
   "--pid: a child of an earlier process with that pid is not taken"
run --json "$P/nginx.102.ring" "$P/nginx.102.2.ring"
is "$(jq -r '[.processes[].state] | join(" ")' "$WORK/out")" "execed exited" "an image replaced by exec: execed"

# ---- liveness ----
ticks=$(sed 's/.*) //' /proc/$$/stat | cut -d' ' -f20)
"$MKRING" -p $$ -k "$ticks" -s running "$WORK/live.ring"
"$MKRING" -p $$ -k $((ticks + 1)) -s running "$WORK/reused.ring"
run --json "$WORK/live.ring" "$WORK/reused.ring"
is "$(jq -r '[.processes[].state] | join(" ")' "$WORK/out")" "running died" \
   "RUNNING with its process alive: running; pid alive but another start time: died"
finish
