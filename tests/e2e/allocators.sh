#!/bin/bash
# Another allocator preloaded after reqprof (jemalloc, tcmalloc, mimalloc,
# from Debian's packages) is the one reqprof forwards to: the host keeps
# working, reqprof says which allocator it saw, and the counts stay exact,
# with usable sizes from that allocator's malloc_usable_size.
. "$top_srcdir/tests/e2e/lib.sh"
libdir=/usr/lib/x86_64-linux-gnu

for lib in libjemalloc.so.2 libtcmalloc_minimal.so.4 libmimalloc.so.2; do
    if [ ! -e "$libdir/$lib" ]; then
        ok 0 "# SKIP $lib is not installed (scripts/install-deps installs it)"
        continue
    fi
    for rounds in 0 500; do
        mkdir -p "$WORK/$lib/$rounds"
        line=$(REQPROF_DIR="$WORK/$lib/$rounds/rings" LD_PRELOAD="$REQPROF_LIB $libdir/$lib" \
               "$PROGS/known_allocs" "$rounds")
    done
    ok $? "known_allocs runs with reqprof in front of $lib"
    b=$(ls "$WORK/$lib/0/rings"/*.ring)
    r=$(ls "$WORK/$lib/500/rings"/*.ring)
    is "$(jqr '.processes[0].allocator + " " + .processes[0].usable_method' $r)" "other call" \
       "$lib: seen as another allocator, usable sizes asked of it"
    bad=
    for key in allocs frees reallocs failed usable_bytes freed_bytes live_blocks; do
        got=$(( $(jqr ".totals.$key" $r) - $(jqr ".totals.$key" $b) ))
        [ "$got" = "$(kv "$line" $key)" ] || bad="$bad $key=$got/$(kv "$line" $key)"
    done
    is "${bad:-none}" none "$lib: every count exact (got/want of any that is not)"
done
finish
