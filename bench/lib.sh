# bench/lib.sh -- what the benchmark scripts share: their messages, option
# arguments, a free port, the library to preload. Sourced by bench/run,
# bench/nginx and bench/pagewalks after they set $prog (their name in
# messages); resolve_lib also needs $repo.

die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }
note() { printf '%s: %s\n' "$prog" "$*" >&2; }
need_arg() { [[ $# -ge 2 && -n $2 ]] || die "option '$1' needs an argument (see --help)"; }

# A port nothing listens on, below Linux's ephemeral range (32768-60999) so
# that a client's own ports (wrk's, curl's) cannot take it.
free_port() {
    local p i
    for ((i = 0; i < 200; i++)); do
        p=$((20000 + RANDOM % 12000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
    done
    die "no free TCP port found on 127.0.0.1"
}

# Sets lib to the absolute path of the library to preload: $lib as given
# (--lib or REQPROF_LIB), else build/plain's; dies if it is not there.
# OTHERS: the --variants value that leaves reqprof out, for the message
# (none where reqprof cannot be left out).
resolve_lib() {  # [OTHERS]
    [[ -n $lib ]] || lib=$repo/build/plain/.libs/libreqprof.so
    [[ $lib == /* ]] || lib=$PWD/$lib
    [[ -e $lib ]] || die "reqprof library not found: $lib
  build it first (scripts/build), or point REQPROF_LIB or --lib at it${1:+,
  or leave it out with --variants $1}"
    [[ -r $lib && -f $lib ]] || die "reqprof library is not a readable file: $lib"
    lib=$(readlink -f "$lib")
}
