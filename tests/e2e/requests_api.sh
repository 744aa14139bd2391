#!/bin/bash
# The marker API (reqprof.h): api_markers begins and ends requests with
# known allocations, nests a begin, ends with nothing open, marks, runs
# requests on two threads, leaves one open at its thread's exit and one at
# the process's exit, and prints what the report must say (names in
# tests/progs/api_markers.c). Without the library it runs unchanged.
. "$top_srcdir/tests/e2e/lib.sh"
. "$top_srcdir/tests/e2e/http_lib.sh"
command -v jq >/dev/null || skip_all "jq is not installed"

line=$("$PROGS/api_markers")
ok $? "api_markers runs without reqprof"
is "$(kv "$line" api)" 0 "without reqprof every API call returns 0"

line=$(preloaded "$PROGS/api_markers")
ok $? "api_markers runs under reqprof"
is "$(kv "$line" api)" 1 "under reqprof, begin, end and mark return 1"
report $(rings)

declare -A W
words_into W "$line"

# check ROUTE KEY FIELD...: each FIELD of ROUTE against the printed KEY_FIELD
check() {
    local route=$1 key=$2 f wants=()
    shift 2
    for f in "$@"; do
        wants+=("$f=${W[${key}_$f]-}")
    done
    check_route "$route" "${wants[@]}"
}

is "$(rq '.requests | [.begun, .ended, .nested, .unmatched, .lost] | join(" ")')" \
   "${W[begun]-} ${W[ended]-} ${W[nested]-} ${W[unmatched]-} 0" \
   "begun, ended (the exit request too), nested, unmatched, lost"
is "$(rq '.requests | [.http_conns, .records_written, .records_kept] | join(" ")')" "0 ${W[ended]-} ${W[ended]-}" \
   "a record per ended request; no connections"

check "api /keep" keep requests allocs frees bytes_alloc bytes_freed peak_max peak_sum left_sum left_max \
    left_blocks leaky
check "api /realloc" realloc requests allocs frees bytes_alloc bytes_freed left_sum
check "api /foreign" foreign requests allocs frees foreign_frees foreign_bytes bytes_freed peak_max
check "api /outer" outer requests allocs bytes_alloc left_sum left_blocks
check "api /inner" inner requests allocs frees bytes_alloc bytes_freed foreign_frees foreign_bytes peak_max left_sum
check "(untagged)" untagged requests allocs bytes_alloc
check "api /thread" thread requests allocs frees bytes_alloc left_sum
check "api /thread-exit" texit requests allocs left_sum
check "api /exit" pexit requests allocs left_sum

long=$(rq '[.routes[].route | select(startswith("api /long/"))] | .[0]')
is "${#long}" "${W[long_length]-}" "a 200-byte route is cut to 127 bytes"
is "$(route_get "$long" requests)" "${W[long_requests]-}" "the cut route counts its request"

is "$(records '[.[].source] | unique | join(",")')" api "every record is from the API"
is "$(records '[.[].conn] | unique | join(",")')" 0 "API records have no connection"
is "$(records '[.[] | select(.route == "api /outer")][0].end_reason')" nested "the outer request was ended by the nested begin"
is "$(records '[.[] | select(.route == "api /inner")][0].end_reason')" api "the inner one by its end"
is "$(records '[.[] | select(.route == "api /thread-exit")][0] | [.end_reason, .left_bytes] | join(" ")')" \
   "thread ${W[texit_left_sum]-}" "the request open when its thread returned: ended by the thread's exit"
is "$(records '[.[] | select(.route == "api /exit")][0] | [.end_reason, .left_bytes] | join(" ")')" \
   "exit ${W[pexit_left_sum]-}" "the request open at exit: ended by the process's exit"
is "$(records '[.[] | select(.route == "api /thread") | .tid] | group_by(.) | map("\(.[0])x\(length)") | join(",")')" \
   "${W[tid1]-}x20,${W[tid2]-}x20" "api /thread: 20 requests on each thread, recorded with its tid"
is "$(records '[.[] | select(.route == "api /keep") | [.allocs, .left_bytes, .left_blocks, .end_reason]] | unique')" \
   '[[3,24,1,"api"]]' "every api /keep request: 3 allocations, one 24-byte block left"
# records are written as requests end, so two threads' records interleave
# out of id order: only distinctness is a property
is "$(records '[.[].id] | (unique | length) == length and length == '"${W[ended]-}")" true "record ids are distinct, one per ended request"

is "$(rq '[.processes[0].marks[]] | length')" "${W[marks]-}" "two marks"
is "$(rq '.processes[0].marks[0] | [.label, .requests] | join(" ")')" "reload ${W[mark_requests]-}" \
   "the reload mark, after the requests ended before it"
is "$(rq '.processes[0].marks[1].label | length')" "${W[longmark_length]-}" "a 150-byte mark label is cut to 95 bytes"
is "$(rq '.processes[0].marks[0].tid')" "$(rq '.processes[0].pid')" "the mark's thread is the main thread"
finish
