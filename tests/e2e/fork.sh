#!/bin/bash
# fork() while four threads allocate: every child gets a ring of its own,
# exact counts, the parent's live blocks as its inheritance, no deadlock.
. "$top_srcdir/tests/e2e/lib.sh"

line=$(timeout 120 env LD_PRELOAD="$REQPROF_LIB" "$PROGS/forker" 20)
ok $? "forker and its 20 children finish (no deadlock)"
parent=$(for f in $(rings); do jq -r 'select(.processes[0].fork_parent == 0) | .processes[0].pid' <(reqprof-report --json "$f"); done)
is "$(rings | wc -l)" 21 "one ring for the parent, one for each child"
c=$(class_of 7000)
bad=0
for f in $(rings); do
    j=$(reqprof-report --json "$f")
    [ "$(jq -r '.processes[0].fork_parent' <<<"$j")" = 0 ] && continue
    [ "$(jq -r '.processes[0].fork_parent' <<<"$j")" = "$parent" ] || bad=$((bad + 1))
    [ "$(jq -r "$c.allocs" <<<"$j")" = 50 ] || bad=$((bad + 1))
    [ "$(jq -r "$c.frees" <<<"$j")" = 20 ] || bad=$((bad + 1))
    [ "$(jq -r "$c.inh_blocks" <<<"$j")" = 10 ] || bad=$((bad + 1))
    [ "$(jq -r "$c.live_blocks" <<<"$j")" = 40 ] || bad=$((bad + 1))
    [ "$(jq -r '.processes[0].state' <<<"$j")" = exited ] || bad=$((bad + 1))
done
is "$bad" 0 "each child: forked from the parent, 50 allocs, 20 frees, 10 inherited, 40 live, exited"
pc=$(reqprof-report --json --pid "$parent" | jq -r '.processes | length')
is "$pc" 21 "reqprof-report --pid PARENT finds the parent and its children"
is "$(jqr "$c.allocs" $(rings))" $((20 * 50 + 10 + 20 * 10)) "merged: the parent's 10 + 200 replacements and the children's 1000 allocations"

rm -f "$REQPROF_DIR"/*.ring
preloaded "$PROGS/idle_forks"
ok $? "idle_forks runs"
is "$(rings | wc -l)" 2 "children that made no call leave no ring; the parent and the child that did keep theirs"
rm -f "$REQPROF_DIR"/*.ring
preloaded "$PROGS/raw_fork"
ok $? "raw_fork runs"
is "$(rings | wc -l)" 2 "a ring for the parent and its fork() child; none for the _Fork() child"
for f in $(rings); do
    if [ "$(jqr '.processes[0].fork_parent' "$f")" = 0 ]; then
        is "$(jqr "$c.allocs" "$f")" 10 "the parent's ring has its own 10 allocations, not the _Fork() child's 1000"
    else
        is "$(jqr "$c.allocs" "$f")" 5 "the fork() child's ring has its 5"
    fi
done
finish
