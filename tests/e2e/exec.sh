#!/bin/bash
# exec: the new image writes a new ring under the same pid; each ring
# holds only its own image's blocks.
. "$top_srcdir/tests/e2e/lib.sh"

preloaded "$PROGS/execer"
ok $? "execer runs and execs itself under reqprof"
is "$(rings | wc -l)" 2 "two rings: one per image"
first=$(rings | grep -E '/execer\.[0-9]+\.ring$')
second=$(rings | grep -E '/execer\.[0-9]+\.2\.ring$')
is "$(jqr "$(class_of 11000).allocs" $first)" 30 "first image: its 30 blocks of 11000 bytes"
is "$(jqr "[.classes[] | select(.upper >= 13000 and .upper < 14400)] | length" $first)" 0 "first image: none of the second's"
is "$(jqr "$(class_of 13000).allocs" $second)" 40 "second image: its 40 blocks of 13000 bytes"
is "$(jqr '.processes[0].pid' $first)" "$(jqr '.processes[0].pid' $second)" "both images have the same pid"
finish
