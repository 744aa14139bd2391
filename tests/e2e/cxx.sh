#!/bin/bash
# C++: new/delete and new[]/delete[] reach reqprof through malloc/free.
. "$top_srcdir/tests/e2e/lib.sh"

line=$(preloaded "$PROGS/cxx_prog" 100)
ok $? "cxx_prog runs under reqprof"
r=$(rings)
is "$(jqr "$(class_of 6000).allocs" $r)" 100 "operator new: 100 objects of 6000 bytes"
is "$(jqr "$(class_of 6000).frees" $r)" 50 "operator delete: 50 of them"
is "$(jqr "$(class_of 9000).allocs" $r)" 100 "operator new[]: 100 arrays of 9000 bytes"
is "$(jqr "$(class_of 9000).frees" $r)" 50 "operator delete[]: 50 of them"
is "$(jqr "$(class_of 100001).allocs" $r)" 1 "std::string's buffer of 100001 bytes"
finish
